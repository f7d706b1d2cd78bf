"""Opaque global IDs, the Node interface and Relay connections (first 1-100, after)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry
from tortoise.queryset import QuerySet

from models.query import Joins, keyset_page, row_key
from resolvers.common import BadUserInput, DomainError, Label, global_id, label

MAX_PAGE = 100
DEFAULT_PAGE = 20
INT32_MAX = 2**31 - 1  # ids, ranks and positions: PostgreSQL `integer`
INT64_MAX = 2**63 - 1
MAX_CURSOR_TEXT = 1_000


def to_global_id(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(global_id(type_name, pk))


def from_global_id(gid: str) -> tuple[str, int] | None:
    try:
        raw = base64.urlsafe_b64decode(gid + "=" * (-len(gid) % 4)).decode()
        type_name, _, pk = raw.partition(":")
        n = int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    # no row has an id outside 1..2^31-1: such an ID names nothing, on either engine, and never reaches the database
    return (type_name, n) if 1 <= n <= INT32_MAX else None


def decode_id(gid: str | None, type_name: str, field: str = "id") -> int:
    """An input ID of the expected type, or a user error naming the field."""
    parsed = from_global_id(gid or "")
    if parsed is None or parsed[0] != type_name:
        if label(field).lower() == type_name.lower():
            raise DomainError("INVALID_ID", "This is not the ID of a {type}.", field, type=type_name)
        raise DomainError(
            "INVALID_ID", "{label}: this is not the ID of a {type}.", field, label=Label(field), type=type_name
        )
    return parsed[1]


def decode_ids(gids: Sequence[str] | None, type_name: str, field: str) -> list[int] | None:
    return None if gids is None else [decode_id(g, type_name, field) for g in gids]


@strawberry.interface(description="An object with a global ID; `node(id:)` fetches any of them.")
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque global ID.")


@strawberry.type(description="Where a page of a connection starts and ends.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    has_previous_page: bool = strawberry.field(description="Items come before this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last edge; pass it as `after`.")


T = TypeVar("T")


@strawberry.type(description="One item of a connection with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Pass as `after` to continue after this item.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of items.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page, in order.")
    page_info: PageInfo = strawberry.field(description="Paging information.")
    _count_qs: strawberry.Private[Any] = None

    @strawberry.field(description="How many items match, across all pages.")
    async def total_count(self) -> int:
        return await self._count_qs.count() if self._count_qs is not None else len(self.edges)


def check_first(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE
    if not 1 <= first <= MAX_PAGE:
        raise BadUserInput("`first` must be between 1 and {maximum}; got {first}.", maximum=MAX_PAGE, first=str(first))
    return first


_CURSOR_JSON = json.JSONEncoder(separators=(",", ":"))  # `json.dumps(values, separators=…)`, its encoder made once


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(_CURSOR_JSON.encode(values).encode()).decode()


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if isinstance(values, list):
            return values
    except (binascii.Error, ValueError, UnicodeDecodeError):
        pass
    raise BadUserInput("`after` is not a cursor from this list.")


def decode_int_cursor(after: str | None, length: int) -> tuple[int, ...] | None:
    """A cursor of `length` whole numbers from 0 to 2^31-1 (ranks, positions), or a BAD_USER_INPUT error."""
    values = decode_cursor(after)
    if values is None:
        return None
    if len(values) != length or not all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= INT32_MAX for v in values
    ):
        raise BadUserInput("`after` is not a cursor from this list.")
    return tuple(values)


def _int_range(field: Any) -> int:
    """The largest value the column holds: 64-bit for BigIntField, 32-bit for the other integer fields."""
    return INT64_MAX if type(field).__name__ == "BigIntField" else INT32_MAX


def _cursor_fits(qs: QuerySet, order: list[tuple[str, bool]], values: list[Any]) -> bool:
    """Each cursor value has the type of its sort column, so a forged cursor never reaches the database (where
    PostgreSQL would reject, say, `created_at < 1` and the caller would see a masked server error)."""
    fields_map = qs.model._meta.fields_map
    for (name, _desc), value in zip(order, values, strict=False):
        f = fields_map.get(name)
        if f is None:
            continue  # an annotation or a related path: nothing to compare with
        if value is None:
            if not f.null:
                return False
            continue
        expected = f.field_type
        if expected is dt.datetime:
            if not (isinstance(value, dict) and isinstance(value.get("dt"), str)):
                return False
            try:
                dt.datetime.fromisoformat(value["dt"])
            except ValueError:
                return False
        elif expected in (int, str, bool):
            if isinstance(value, bool) is not (expected is bool) or not isinstance(value, expected):
                return False
            if expected is int and not -_int_range(f) <= value <= _int_range(f):
                return False  # out of the column's range: SQLite overflows, PostgreSQL refuses
            if expected is str and len(value) > MAX_CURSOR_TEXT:
                return False
    return True


def check_page(
    qs: QuerySet, order: list[tuple[str, bool]], first: int | None, after: str | None
) -> tuple[int, list[Any] | None]:
    """The page size and the decoded cursor of a page request, or BAD_USER_INPUT."""
    n = check_first(first)
    cursor = decode_cursor(after)
    if cursor is not None and not _cursor_fits(qs, order, cursor):
        raise BadUserInput("`after` is not a cursor from this list.")
    return n, cursor


async def paginate(
    qs: QuerySet,
    order: list[tuple[str, bool]],
    first: int | None,
    after: str | None,
    convert: Callable[[Any], Any],
    count_qs: QuerySet | None = None,
    joins: Joins | None = None,
) -> Connection:
    """One SQL statement for the page; `totalCount` runs its own COUNT only when asked for. With `joins`, `convert`
    gets light rows with those relations joined in (`models.query.joined_rows`) instead of model instances."""
    n, cursor = check_page(qs, order, first, after)
    try:
        rows, has_next = await keyset_page(qs, order, n, cursor, joins)
    except (ValueError, TypeError) as e:
        raise BadUserInput("`after` is not a cursor from this list.") from e
    return connection_of(rows, has_next, order, after, convert, count_qs if count_qs is not None else qs)


def connection_of(
    rows: list[Any],
    has_next: bool,
    order: list[tuple[str, bool]],
    after: str | None,
    convert: Callable[[Any], Any],
    count_qs: QuerySet | None,
) -> Connection:
    """The page as a connection: an edge per row with its cursor, and the page's info."""
    edges = [Edge(cursor=encode_cursor(row_key(r, order)), node=convert(r)) for r in rows]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        _count_qs=count_qs,
    )
