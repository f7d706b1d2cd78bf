"""Trusted documents (persisted queries): GraphQL operations registered by an administrator, sent by their hash."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class TrustedDocument(Model):
    """A registered document: its text and the SHA-256 of that text (hex), by which clients send it. Kept until an
    administrator removes it; a document is never registered by the request that uses it."""

    id = fields.IntField(primary_key=True)
    sha256 = fields.CharField(max_length=64, unique=True)
    body = fields.TextField()
    operation_types = fields.CharField(max_length=40)  # e.g. "query" or "mutation" or "query,mutation"
    operation_names = fields.CharField(max_length=500, default="")
    registered_by = fields.ForeignKeyField(
        "models.User", related_name="trusted_documents", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "trusted_document"
