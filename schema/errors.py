"""How errors reach clients.

- `DomainError` in a mutation becomes payload `errors { field code message }` (the `UserErrors` field extension).
- `AccessError` and its kin become GraphQL errors with `extensions.code` (FORBIDDEN, UNAUTHENTICATED, ...).
- A database that cannot be reached (models.query.database_unreachable) is SERVICE_UNAVAILABLE, masked, with a
  request id (the HTTP view answers it with status 503).
- Anything unexpected is masked as INTERNAL_SERVER_ERROR with a request id, and logged with that id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.types.field import StrawberryField
from tortoise.exceptions import IntegrityError

from models.query import database_unreachable
from resolvers.common import AccessError, DomainError, TooManyAttempts
from schema.i18n import CONFLICT_MESSAGE, ENGLISH, localized, message_of, translate

log = logging.getLogger("pasar.errors")
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


def unavailable_message(request_id: str | None) -> str:
    return f"The service cannot reach its database right now: try again shortly (request id {request_id})."


@strawberry.type(description="A mistake in the input or a state that does not allow the change.")
class UserError:
    field: str | None = strawberry.field(description="The input field at fault (camelCase), if one is.")
    code: str = strawberry.field(description="Machine-readable code, e.g. DUPLICATE_NIB, INVALID_TRANSITION.")
    message: str = strawberry.field(description="A sentence for a person.")


class UserErrors(FieldExtension):
    """Turns a `DomainError` raised by a rule into the payload's `errors` list (one instance per field)."""

    def apply(self, field: StrawberryField) -> None:
        self.payload_type = field.type
        # a payload with `retryAfter` (login, registerUmkm) says when a throttled caller may try again
        self.tells_retry_after = "retry_after" in getattr(field.type, "__dataclass_fields__", {})

    async def resolve_async(self, next_, source, info, **kwargs):
        try:
            return await next_(source, info, **kwargs)
        except DomainError as e:
            language = getattr(info.context, "language", ENGLISH)
            errors = [UserError(field=x.field, code=x.code, message=message_of(x, language)) for x in e.errors]
            if self.tells_retry_after and isinstance(e, TooManyAttempts):
                return self.payload_type(errors=errors, retry_after=e.retry_after)
            return self.payload_type(errors=errors)
        except IntegrityError:
            # A unique key or a reference that a concurrent request changed between the rule's checks and its write:
            # the transaction was rolled back; the caller may simply try again. (Rules turn the races they know into
            # their own codes first: DUPLICATE_NIB, DUPLICATE_EMAIL, ALREADY_RATED, an idempotent replay.)
            log.info("request %s: CONFLICT (a concurrent change)", getattr(info.context, "request_id", None))
            language = getattr(info.context, "language", ENGLISH)
            message = translate(CONFLICT_MESSAGE, {}, CONFLICT_MESSAGE, "CONFLICT", language)
            return self.payload_type(errors=[UserError(field=None, code="CONFLICT", message=message)])


def _code_for(original: BaseException | None, language: str) -> tuple[str | None, str | None]:
    """(code, public message in `language`) for errors we expect; (None, None) for those to mask."""
    if isinstance(original, AccessError):
        return original.code, localized(original.template, original.params, str(original), language)
    if isinstance(original, DomainError):
        first = original.errors[0]
        return ("NOT_FOUND" if first.code == "NOT_FOUND" else "BAD_USER_INPUT"), message_of(first, language)
    return None, None


def _log_expected(code: str, error: GraphQLError, request_id: str | None) -> None:
    """An expected error in the log: its code and where, at INFO, never its message (a validation message quotes
    the caller's values) nor a traceback."""
    where = ".".join(str(p) for p in error.path) if error.path else "document"
    log.info("request %s: %s at %s", request_id, code, where)


class ErrorCodes(SchemaExtension):
    """Gives every error an `extensions.code` and masks unexpected ones (never their traceback)."""

    def on_operation(self) -> Iterator[None]:
        self._streamed = False
        yield
        if not self._streamed:
            self._process_result(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Each result of a subscription goes through the same codes and masking before it reaches the client."""
        self._streamed = True
        self._process_result(result)
        yield None

    def _process_result(self, result: Any) -> None:
        if result is None or not getattr(result, "errors", None):
            return
        request_id = getattr(self.execution_context.context, "request_id", None)
        result.errors = [self._process(e, request_id) for e in result.errors]

    def _process(self, error: GraphQLError, request_id: str | None) -> GraphQLError:
        original = error.original_error
        ext: dict[str, Any] = dict(error.extensions or {})
        if original is None:
            ext.setdefault("code", "GRAPHQL_VALIDATION_FAILED" if error.path is None else "BAD_USER_INPUT")
            return self._expected(error, error.message, ext, request_id)
        if "code" in ext:  # a permission class already named its code, and its message (a template, no parameters)
            _log_expected(ext["code"], error, request_id)
            language = getattr(self.execution_context.context, "language", ENGLISH)
            message = localized(error.message, {}, error.message, language)
            return error if message == error.message else self._copy(error, message, ext)
        code, message = _code_for(original, getattr(self.execution_context.context, "language", ENGLISH))
        if code is not None:
            ext["code"] = code
            return self._expected(error, message or error.message, ext, request_id)
        if isinstance(original, GraphQLError) or type(original).__module__.startswith(("strawberry", "graphql")):
            # Strawberry's own input-coercion errors (e.g. a Rupiah that is not an integer) are the caller's.
            ext["code"] = "BAD_USER_INPUT"
            return self._expected(error, error.message, ext, request_id)
        if error.path is None and error.nodes:
            # Document validation wraps a scalar's own ValueError (e.g. a literal `amount: 3.5` for a Rupiah):
            # a request error located in the caller's document, not a server failure.
            ext["code"] = "GRAPHQL_VALIDATION_FAILED"
            return self._expected(error, error.message, ext, request_id)
        if database_unreachable(original):
            # Expected while the database is down: one line, no traceback, no statement (it may quote values).
            log.warning("request %s: database unreachable (%s)", request_id, type(original).__name__)
            return GraphQLError(
                unavailable_message(request_id),
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions={"code": SERVICE_UNAVAILABLE, "requestId": request_id},
            )
        log.error("unexpected error, request %s: %s", request_id, error.message, exc_info=original)
        return GraphQLError(
            f"Unexpected error. Quote request id {request_id} when reporting it.",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )

    @classmethod
    def _expected(cls, error: GraphQLError, message: str, ext: dict[str, Any], request_id: str | None) -> GraphQLError:
        _log_expected(ext["code"], error, request_id)
        return cls._copy(error, message, ext)

    @staticmethod
    def _copy(error: GraphQLError, message: str, ext: dict[str, Any]) -> GraphQLError:
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions=ext,
        )
