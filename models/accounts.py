"""Who may act: users, their login tokens and partner API keys."""

from __future__ import annotations

from enum import Enum

from tortoise import fields
from tortoise.models import Model

from models.base import Role, TimestampedModel


class User(TimestampedModel):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    password_hash = fields.CharField(max_length=255)
    full_name = fields.CharField(max_length=200)
    role = fields.CharEnumField(Role, max_length=20, db_index=True)
    opd: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Opd", related_name="users", null=True, on_delete=fields.RESTRICT
    )
    active = fields.BooleanField(default=True)
    email_opt_out = fields.BooleanField(default=False, db_default=False)  # no notification e-mails

    class Meta:
        table = "user"


class Token(Model):
    """A login token, stored only as its HMAC-SHA-256."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="tokens", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "token"


class ApiKey(Model):
    """A partner API key, stored as a hash and shown by prefix and last four characters."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    prefix = fields.CharField(max_length=16, unique=True)
    key_hash = fields.CharField(max_length=64, unique=True)
    last_four = fields.CharField(max_length=4)
    scopes = fields.JSONField(default=list)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="api_keys", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"


class SignInFailureReason(str, Enum):
    WRONG_PASSWORD = "WRONG_PASSWORD"
    UNKNOWN_ACCOUNT = "UNKNOWN_ACCOUNT"
    THROTTLED = "THROTTLED"
    INACTIVE = "INACTIVE"
    BAD_API_KEY = "BAD_API_KEY"


class SignInFailure(Model):
    """A refused sign-in or partner key, kept for the throttle (every server process counts the same rows) and for
    admins (which account was attacked, from where). The e-mail as typed, normalised (stripped, lower case), also when
    no account has it; never the password or the key. Rows older than the retention are deleted by the inserts."""

    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, null=True)  # null for a partner key
    address = fields.CharField(max_length=64)
    reason = fields.CharEnumField(SignInFailureReason, max_length=16)
    at = fields.DatetimeField(db_index=True)  # the retention's delete

    class Meta:
        table = "sign_in_failure"
        indexes = (("email", "address", "at"), ("address", "at"))
        ordering = ["-id"]


class SignUp(Model):
    """An anonymous `registerUmkm` that created an account, by client address: sign-ups per address are bounded."""

    id = fields.IntField(primary_key=True)
    address = fields.CharField(max_length=64)
    at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "sign_up"
        indexes = (("address", "at"),)
