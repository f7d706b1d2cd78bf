"""Trusted documents (persisted queries): GraphQL documents an administrator registered, sent by their id.

The id is `sha256:` and the SHA-256 (lower-case hex) of the document's text as registered, byte for byte (UTF-8).
A document is registered only by an administrator (`registerTrustedDocument`, `pasar documents register`), never by
the request that uses it; it is kept until an administrator removes it (`removeTrustedDocument`). Checking that the
text is a valid document of the schema is the schema's business (schema/documents.py); here are the rows.
"""

from __future__ import annotations

import hashlib
import re

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet

from models.documents import TrustedDocument
from resolvers.common import Ctx, DomainError

ID_PREFIX = "sha256:"
MAX_DOCUMENT_CHARS = 20_000  # as any text input (schema/inputs.py)
_HEX = re.compile(r"[0-9a-f]{64}")


def document_id(text: str) -> str:
    """The id clients send for `text`: `sha256:<hex>`."""
    return ID_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_document_id(raw: object) -> str | None:
    """The hex digest of a well-formed id (`sha256:` and 64 lower-case hex digits), else None."""
    if not isinstance(raw, str) or not raw.startswith(ID_PREFIX):
        return None
    digest = raw[len(ID_PREFIX) :]
    return digest if _HEX.fullmatch(digest) else None


async def find_document(digest: str) -> str | None:
    """The text of the registered document with this digest (one statement), or None."""
    rows = await TrustedDocument.filter(sha256=digest).limit(1).values_list("body", flat=True)
    return rows[0] if rows else None


async def register_document(
    ctx: Ctx, text: str, operation_types: list[str], operation_names: list[str]
) -> TrustedDocument:
    """Store a document the schema has checked; registering the same text again returns the row already there."""
    digest = document_id(text)[len(ID_PREFIX) :]
    existing = await TrustedDocument.get_or_none(sha256=digest)
    if existing is not None:
        return existing
    try:
        return await TrustedDocument.create(
            sha256=digest,
            body=text,
            operation_types=",".join(sorted(set(operation_types))),
            operation_names=",".join(operation_names)[:500],
            registered_by_id=ctx.principal.user_id,  # None when the command line (SYSTEM) registers it
        )
    except IntegrityError:  # the same text registered at the same moment: one row, the other's
        return await TrustedDocument.get(sha256=digest)


async def remove_document(ctx: Ctx, raw_id: str) -> None:
    """Forget a document: clients sending its id get `PERSISTED_DOCUMENT_NOT_FOUND` from now on."""
    digest = parse_document_id(raw_id)
    if digest is None:
        message = "A document id is `sha256:` and 64 lower-case hex digits."
        raise DomainError("INVALID_DOCUMENT_ID", message, "documentId")
    if not await TrustedDocument.filter(sha256=digest).delete():
        raise DomainError("NOT_FOUND", "No document with this id is registered.", "documentId")


def documents_query(ctx: Ctx) -> QuerySet[TrustedDocument]:
    """Every registered document (the field is the administrators')."""
    return TrustedDocument.all()
