"""Trusted documents (persisted queries): GraphQL documents an administrator registered, sent by their id.

The id is `sha256:` and the SHA-256 (lower-case hex) of the document's text as registered, byte for byte (UTF-8).
A document is registered only by an administrator (`registerTrustedDocument`, `pasar documents register`), never by
the request that uses it; it is kept until an administrator removes it (`removeTrustedDocument`): at once in the
process that removes it, within CACHE_SECONDS in the other server processes (each keeps the texts it read lately).
Checking that the text is a valid document of the schema is the schema's business (schema/documents.py).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import OrderedDict

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet

from models.documents import TrustedDocument
from resolvers.common import Ctx, DomainError

ID_PREFIX = "sha256:"
MAX_DOCUMENT_CHARS = 20_000  # as any text input (schema/inputs.py)
_HEX = re.compile(r"[0-9a-f]{64}")
# Registered texts this process read lately: a text never changes under its id (the id is its hash), so the one thing a
# cached entry can miss is a removal, in another process: it is seen there within CACHE_SECONDS.
CACHE_SECONDS = 60.0
CACHE_ENTRIES = 1000


class _RecentDocuments:
    def __init__(self) -> None:
        self._entries: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def get(self, digest: str) -> str | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry[1] < time.monotonic():
            del self._entries[digest]
            return None
        self._entries.move_to_end(digest)
        return entry[0]

    def put(self, digest: str, text: str) -> None:
        self._entries[digest] = (text, time.monotonic() + CACHE_SECONDS)
        self._entries.move_to_end(digest)
        while len(self._entries) > CACHE_ENTRIES:
            self._entries.popitem(last=False)

    def forget(self, digest: str) -> None:
        self._entries.pop(digest, None)


_recent = _RecentDocuments()


def forget_recent() -> None:
    """Forget every text this process read (the tests, which empty the tables between tests)."""
    _recent.__init__()


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
    """The text of the registered document with this digest, or None: one statement, unless this process read it
    in the last CACHE_SECONDS."""
    text = _recent.get(digest)
    if text is not None:
        return text
    rows = await TrustedDocument.filter(sha256=digest).limit(1).values_list("body", flat=True)
    if not rows:
        return None
    _recent.put(digest, rows[0])
    return rows[0]


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
        raise DomainError(
            "INVALID_DOCUMENT_ID", "A document id is `sha256:` and 64 lower-case hex digits.", "documentId"
        )
    _recent.forget(digest)
    if not await TrustedDocument.filter(sha256=digest).delete():
        raise DomainError("NOT_FOUND", "No document with this id is registered.", "documentId")


def documents_query(ctx: Ctx) -> QuerySet[TrustedDocument]:
    """Every registered document (the field is the administrators')."""
    return TrustedDocument.all()
