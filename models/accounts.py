"""Who may act: users, their login tokens and partner API keys."""

from __future__ import annotations

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
