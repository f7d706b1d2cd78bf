"""GraphQL shape of trusted documents (persisted queries): register, list, remove (administrators), and the check that
a text is a valid document of the schema before it is registered (`check_document`, also the command line's).

Sending one: `{"documentId": "sha256:<hex>", "variables": …}` in a POST, or
`GET /graphql?documentId=sha256:<hex>&variables=…` for a query (app.py, `PasarGraphQL`); everything a request with
the text meets (cost, depth, limits, permissions) it meets with the registered text.
"""

from __future__ import annotations

import datetime as dt

import strawberry
from graphql import GraphQLError, GraphQLSchema, OperationDefinitionNode, parse, validate
from strawberry.types import Info

from models.documents import TrustedDocument as TrustedDocumentRow
from resolvers import documents as rules
from resolvers.common import DomainError
from schema.common import jakarta
from schema.errors import UserError, UserErrors
from schema.limits import MAX_TOKENS
from schema.permissions import ADMIN_ONLY
from schema.relay import Connection, paginate, to_global_id


def check_document(text: str, graphql_schema: GraphQLSchema) -> tuple[list[str], list[str]]:
    """The operation types and names of `text`, a document valid against the schema; `INVALID_DOCUMENT` otherwise."""
    if not text.strip():
        raise DomainError("REQUIRED", "The document is empty.", "document")
    if len(text) > rules.MAX_DOCUMENT_CHARS:
        raise DomainError(
            "TOO_LONG", "A document is at most {maximum} characters.", "document", maximum=rules.MAX_DOCUMENT_CHARS
        )
    try:
        document = parse(text, max_tokens=MAX_TOKENS)
    except GraphQLError as e:
        raise DomainError(
            "INVALID_DOCUMENT", "Not a GraphQL document: {reason}", "document", reason=e.message
        ) from None
    except RecursionError:
        raise DomainError("INVALID_DOCUMENT", "The document is nested too deep.", "document") from None
    errors = validate(graphql_schema, document)
    if errors:
        raise DomainError(
            "INVALID_DOCUMENT", "Not valid against the schema: {reason}", "document", reason=errors[0].message
        )
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return [op.operation.value for op in operations], [op.name.value for op in operations if op.name]


async def register(ctx, text: str, graphql_schema: GraphQLSchema) -> TrustedDocumentRow:
    """Check `text` against the schema, then register it (the mutation's and `pasar documents register`'s path)."""
    types, names = check_document(text, graphql_schema)
    return await rules.register_document(ctx, text, types, names)


@strawberry.type(description="A registered (trusted) document: clients send its `documentId` instead of its text.")
class TrustedDocument:
    document_id: str = strawberry.field(description="`sha256:` and the SHA-256 (hex) of the text: what clients send.")
    document: str = strawberry.field(description="The text, exactly as registered.")
    operation_types: str = strawberry.field(description="The operation types it holds, e.g. `query` or `mutation`.")
    operation_names: str = strawberry.field(description="The names of its operations, comma-separated.")
    registered_at: dt.datetime = strawberry.field(description="When it was registered (Asia/Jakarta).")
    registered_by: strawberry.ID | None = strawberry.field(
        description="The administrator who registered it; null when registered from the command line."
    )

    @classmethod
    def from_row(cls, r: TrustedDocumentRow) -> TrustedDocument:
        return cls(
            document_id=rules.ID_PREFIX + r.sha256,
            document=r.body,
            operation_types=r.operation_types,
            operation_names=r.operation_names,
            registered_at=jakarta(r.created_at),
            registered_by=to_global_id("User", r.registered_by_id) if r.registered_by_id else None,
        )


@strawberry.input(description="A document to register as trusted.")
class RegisterTrustedDocumentInput:
    document: str = strawberry.field(description="The GraphQL document's text (at most 20,000 characters).")


@strawberry.type(description="Result of `registerTrustedDocument`.")
class TrustedDocumentPayload:
    document: TrustedDocument | None = strawberry.field(default=None, description="The registered document.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What was wrong, if anything.")


@strawberry.input(description="A registered document to remove.")
class RemoveTrustedDocumentInput:
    document_id: str = strawberry.field(description="Its id, `sha256:<hex>`.")


@strawberry.type(description="Result of `removeTrustedDocument`.")
class RemoveTrustedDocumentPayload:
    removed: bool = strawberry.field(default=False, description="The document is no longer registered.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What was wrong, if anything.")


@strawberry.type
class DocumentsQuery:
    @strawberry.field(description="Registered trusted documents, oldest first (admin).", permission_classes=ADMIN_ONLY)
    async def trusted_documents(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[TrustedDocument]:
        return await paginate(
            rules.documents_query(info.context), [("id", False)], first, after, TrustedDocument.from_row
        )


@strawberry.type
class DocumentsMutation:
    @strawberry.mutation(
        description="Register a GraphQL document as trusted (admin): checked against the schema, stored under "
        "`sha256:<hex of its text>`; the same text again returns the same document.",
        permission_classes=ADMIN_ONLY,
        extensions=[UserErrors()],
    )
    async def register_trusted_document(
        self, info: Info, input: RegisterTrustedDocumentInput
    ) -> TrustedDocumentPayload:
        row = await register(info.context, input.document, info.schema._schema)
        return TrustedDocumentPayload(document=TrustedDocument.from_row(row))

    @strawberry.mutation(
        description="Remove a trusted document (admin): requests sending its id fail from now on.",
        permission_classes=ADMIN_ONLY,
        extensions=[UserErrors()],
    )
    async def remove_trusted_document(
        self, info: Info, input: RemoveTrustedDocumentInput
    ) -> RemoveTrustedDocumentPayload:
        await rules.remove_document(info.context, input.document_id)
        return RemoveTrustedDocumentPayload(removed=True)
