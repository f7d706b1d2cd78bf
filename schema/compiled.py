"""Compiled reads: a query document whose fields all have a compiled form runs without graphql-core's executor.

Roots compiled:
- `products(filter, first, after, orderBy)`: one prepared statement per (kind of caller, order, cursor or not,
  filter shape), written by Tortoise once from the rule's own query (`resolvers.catalog.products_where`, the
  general path's keyset filter, the read shape `PRODUCT_LISTING`) with sentinel values, the request's values bound
  in their places (`models.query.PreparedRows`); kinds of caller: everyone's rows, the public's, and an owner's
  (per number of UMKM owned, their IDs bound);
- `order(id)`: the same with `resolvers.orders.order_read_query` / `items_query` (`ORDER_READ`, `ITEM_READ`), one
  statement per role and number of UMKM owned; written straight from the records (the direct writer below), the
  order and its items are read in one statement (`models.query.RowWithLines`: both statements whole, the items'
  joined beside the order's, visibility included), where the general executor runs two (the order, then the items
  through their batch loader, which batches the items of several orders);
- `kecamatans`, `categories`: read by their rule;
- `umkms`, `orders`, `omzetReports`, `underSoldUmkm`, `opds` (`RESOLVED`): answered by the field's own resolver
  (its rule's query, pagination and loaders as the general path runs them), called with the arguments Strawberry
  converts (`get_arguments`) once the field's permission classes allowed the caller; a caller they refuse gets the
  field's own error, located as graphql-core locates it;
- `underSoldUmkm` whose rows' UMKM and products are asked for with fields that have a direct form: the page read by
  the field's own rule, the UMKM and products by the statements the general path's loaders run, written straight
  from their records (`UnderSoldField`).
Below the roots: every plain field, the relations read with their object (`JOINED_RELATIONS`), `totalCount` (the
connection's own resolver, once per key), fields read by their own resolvers (batch loads: called as the answer
is written, awaited a depth at a time, so that the loaders batch as on the general path), fields guarded by
permission classes (personal data) for callers every object allows (admins), and fragments on the object's own
type. The writer turns the rows into the answer's dict, in the document's key order, through the same Strawberry
objects (`X.from_row`, the same connection and cursors) and the same GraphQL scalars. Per request only the
variables are coerced (graphql-core), the arguments checked (the general path's own checks) and the statements run
with the values and the caller bound.

Everything around execution stays as it is: parsing and validation (cached by document), the cost (computed per
request from the variables, `schema/cost.py`), the error codes, the statement count, the log line, the time limit,
the encoding. A plan does not exist for what the compiler does not know: any other root field, an argument of a
nested field, a resolver that refuses some callers with an error below the root (`REFUSING`), a fragment on another
type, a directive, a subscription or a mutation, several root fields of which one reads nested rows. Such a
document runs through the general executor; why is logged once per document at INFO (names of the schema only,
never a literal of the document). Arguments the general path would refuse (`first` out of range, a forged cursor,
an ID of another type), a caller a guarded field refuses, and a page the plan cannot write are answered by the
general executor as well, per request. `PASAR_COMPILED_READS=0` turns compiled reads off.

A page of `products` whose fields all have a direct form (`DIRECT_FIELDS`, checked against `from_row` by the tests)
is written straight from the statement's records (`_direct_connection`: no light rows, no Strawberry objects), by
a writer bound once per statement to the columns' positions; that statement selects only the columns written and
sorted by. Once the general path has answered a document with its plan for a kind of caller, the plan is confirmed
(`Plans.confirm`) and the fast path (schema/fast.py) answers that document for that kind of caller without
Strawberry's operation. Plans and confirmations live in bounded LRUs; a plan leaves both together.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import datetime as dt
import hashlib
import inspect
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    Visitor,
    get_named_type,
    get_nullable_type,
    is_input_object_type,
    is_list_type,
    type_from_ast,
    visit,
)
from graphql.error import located_error
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.utilities import get_operation_ast
from strawberry.permission import PermissionExtension
from strawberry.schema.schema_converter import get_arguments
from strawberry.utils.str_converters import to_camel_case

from models import catalog as catalog_models
from models import orders as order_models
from models import registry as registry_models
from models.query import PreparedRows, RowWithLines, after_filter, cursor_value, keyset_page, like_contains, row_key
from resolvers import catalog as rules
from resolvers import orders as order_rules
from resolvers import registry as registry_rules
from resolvers.categories import category_subtree
from resolvers.common import AccessError, BadUserInput, DomainError, Principal
from schema.catalog import Product, product_filter
from schema.catalog import ProductFilter as ProductFilterInput
from schema.common import jakarta
from schema.fairness import list_page, page_connection
from schema.logs import operation_label
from schema.orders import Order, OrderItem
from schema.registry import Category, Kecamatan
from schema.relay import Connection, check_page, connection_of, decode_id, encode_cursor, to_global_id

log = logging.getLogger("pasar.compiled")
MAX_PLANS = 256
MAX_CONFIRMED = 1024  # (document, operation, kind of caller) the fast path answers
DEFINITION = "strawberry-definition"

# Fields with a resolver whose compiled form is the relation that came joined with the row: the private attribute
# the resolver returns when it is there (else the resolver would batch-load it, which a plan does not do).
JOINED_RELATIONS = {
    ("Product", "umkm"): "_umkm",
    ("Product", "category"): "_category",
    ("Umkm", "kecamatan"): "_kecamatan",
    ("Order", "items"): "_items",  # read by the plan of `order(id)` when asked for (`OrderField`)
}


TOTAL_COUNT = Connection.total_count
COUNTED = "_compiled_total"  # where a plan keeps what `totalCount` answered (run by the plan, once per key)


def _count_keys(type_: Any, selection_set: SelectionSetNode | None) -> int:
    """How many response keys ask a connection's `totalCount` (graphql-core runs its resolver once per key); 0 for
    a type whose `totalCount` is not the connection's (its own resolver reads it)."""
    total = get_named_type(type_).fields.get("totalCount")
    definition = total is not None and (total.extensions or {}).get(DEFINITION)
    if not definition or definition.base_resolver is None or definition.base_resolver.wrapped_func is not TOTAL_COUNT:
        return 0
    nodes = selection_set.selections if selection_set is not None else ()
    return sum(1 for n in nodes if isinstance(n, FieldNode) and n.name.value == "totalCount")


class NotCompiled(Exception):
    """The document has a part without a compiled form; the message says which (schema names only)."""


class Refused(Exception):
    """A root field's permission classes refused the caller: the answer is its error, located as graphql-core
    locates it, and the data it leaves (null, or null in the field's place)."""

    def __init__(self, data: Any, error: Any) -> None:
        self.data, self.error = data, error


class Fallback(Exception):
    """This request is answered by the general executor (its arguments are refused there, or a value is missing)."""


def caller_kind(principal: Principal) -> str:
    """Callers who see the same rows: everything (admins, analysts), the public's rows (everyone else without a
    UMKM), or the public's and their own UMKM's (owners: one kind per number of UMKM, whose IDs are bound per
    request)."""
    if principal.sees_everything:
        return "all"
    if principal.umkm_ids:
        return f"owner of {len(principal.umkm_ids)}"
    return "public"


SENTINEL_OWNED = 987_654_500  # an owner's UMKM IDs: SENTINEL_OWNED + i


def owned_sentinels(p: Principal) -> tuple[frozenset[int], dict[str, int]]:
    """UMKM IDs no request has, as many as the caller owns (at least one), for finding their places, by slot name."""
    sentinels = [SENTINEL_OWNED + i for i in range(max(len(p.umkm_ids), 1))]
    return frozenset(sentinels), {f"owned{i}": v for i, v in enumerate(sentinels)}


def owned_values(p: Principal) -> dict[str, int]:
    """The caller's UMKM IDs by slot name (-1 when he owns none, as the rules read an empty list)."""
    return {f"owned{i}": v for i, v in enumerate(sorted(p.umkm_ids) or [-1])}


# ---------------------------------------------------------------- writers of selections


Writer = Callable[[Any], Any]


def _leaf_writer(type_: Any) -> Writer:
    non_null = isinstance(type_, GraphQLNonNull)
    inner = type_.of_type if non_null else type_
    if isinstance(inner, GraphQLList):
        item = _leaf_writer(inner.of_type)

        def write_list(value: Any) -> Any:
            if value is None:
                if non_null:
                    raise Fallback
                return None
            return [item(v) for v in value]

        return write_list
    if not isinstance(inner, (GraphQLScalarType, GraphQLEnumType)):
        raise NotCompiled(f"type {inner} is not a leaf")
    serialize = inner.serialize

    def write_leaf(value: Any) -> Any:
        if value is None:
            if non_null:
                raise Fallback
            return None
        out = serialize(value)
        if out is None:
            raise Fallback
        return out

    return write_leaf


def _object_writer(
    schema: GraphQLSchema, type_: Any, selection_set: SelectionSetNode | None, joins: frozenset[str]
) -> Writer:
    non_null = isinstance(type_, GraphQLNonNull)
    inner = type_.of_type if non_null else type_
    if isinstance(inner, GraphQLList):
        item = _object_writer(schema, inner.of_type, selection_set, joins)

        def write_list(value: Any) -> Any:
            if value is None:
                if non_null:
                    raise Fallback
                return None
            return [item(v) for v in value]

        return write_list
    if not isinstance(inner, GraphQLObjectType):
        raise NotCompiled(f"type {inner} is abstract")
    if selection_set is None:
        raise NotCompiled(f"type {inner.name} without a selection")
    fields = _selection(schema, inner, selection_set, joins)

    def write_object(value: Any) -> Any:
        if value is None:
            if non_null:
                raise Fallback
            return None
        return {key: write(get(value)) for key, get, write in fields}

    return write_object


def _typename(name: str) -> Callable[[Any], str]:
    return lambda _value: name


def _identity(value: Any) -> Any:
    return value


def _attribute(name: str) -> Callable[[Any], Any]:
    def get(value: Any) -> Any:
        return getattr(value, name)

    return get


def _joined(name: str) -> Callable[[Any], Any]:
    def get(value: Any) -> Any:
        related = getattr(value, name, None)
        if related is None:
            raise Fallback  # not joined: the general path batch-loads it
        return related

    return get


# Fields whose resolver refuses some callers with an error (not compiled: the plan writes no errors below the root).
REFUSING = {("Umkm", "omzetStreak"), ("Umkm", "statusHistory")}


class _Later:
    """A field's resolver still to be awaited (a batch load) and the writer of what it returns."""

    __slots__ = ("awaitable", "write")

    def __init__(self, awaitable: Any, write: Writer) -> None:
        self.awaitable, self.write = awaitable, write


_request: contextvars.ContextVar[Any] = contextvars.ContextVar("pasar_compiled_request")
_loading: list[bool] = [False]  # set while compiling when a field is loaded by its resolver


def _loaded(
    schema: GraphQLSchema,
    parent: GraphQLObjectType,
    name: str,
    definition: Any,
    gfield: Any,
    node: FieldNode,
    joins: frozenset[str],
) -> Callable[[Any], Any]:
    """A field read by its own resolver (a batch load through the request's loaders, or a computed value), called
    while the answer is written, in the document's order as graphql-core calls it; what it returns is awaited with
    the other fields of its depth together (`settle`), so that the loaders batch as they do on the general path."""
    resolver = definition.base_resolver
    if (parent.name, name) in REFUSING or resolver.arguments:
        raise NotCompiled(f"field {parent.name}.{name} has a resolver that refuses or takes arguments")
    write = (
        _leaf_writer(gfield.type)
        if node.selection_set is None
        else _object_writer(schema, gfield.type, node.selection_set, frozenset())
    )
    func, info_name = resolver.wrapped_func, resolver.info_parameter and resolver.info_parameter.name
    # the object is passed as graphql-core's resolver passes it (Strawberry's `get_arguments`): as `self`, `root`
    # or `parent`
    object_names = [p.name for p in (resolver.root_parameter, resolver.parent_parameter) if p is not None]
    with_self = resolver.self_parameter is not None
    _loading[0] = True

    def get(value: Any) -> Any:
        kwargs = dict.fromkeys(object_names, value)
        if info_name:
            kwargs[info_name] = _Info(_request.get())
        result = func(value, **kwargs) if with_self else func(**kwargs)
        if inspect.isawaitable(result):
            return _Later(result, write)
        return write(result)

    return get


class _Nobody:
    """The object a field's permission classes are asked about before a plan runs: a row no caller owns (`pk` -1)."""

    pk = id = umkm_id = -1


_guards: set[type] = set()  # the permission classes of the fields of the document being compiled


def _guarded(parent: GraphQLObjectType, name: str, definition: Any, gfield: Any, node: FieldNode) -> Callable:
    """A field its permission classes guard (personal data): compiled for the callers they allow on every object
    (asked before the plan runs, about `_Nobody`: admins); any other caller is answered by the general executor,
    which writes the null and the FORBIDDEN error. Each object is asked again while the answer is written."""
    resolver = definition.base_resolver
    if resolver is None or resolver.is_async or resolver.arguments or node.selection_set is not None:
        raise NotCompiled(f"field {parent.name}.{name} has permissions")
    if resolver.info_parameter is not None or resolver.parent_parameter or resolver.root_parameter:
        raise NotCompiled(f"field {parent.name}.{name} has permissions")
    _guards.update(definition.permission_classes)
    permissions = [c() for c in definition.permission_classes]
    func, write = resolver.wrapped_func, _leaf_writer(gfield.type)

    def get(value: Any) -> Any:
        info = _Info(_request.get())
        if not all(p.has_permission(value, info) is True for p in permissions):
            raise Fallback
        return write(func(value))

    return get


def allowed_everywhere(guards: frozenset[type], context: Any) -> bool:
    info = _Info(context)
    try:
        return all(guard().has_permission(_Nobody(), info) is True for guard in guards)
    except Exception:
        return False


def _markers(tree: Any, out: list[tuple[Any, Any, _Later]]) -> None:
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, list) else ()
    for key, value in items:
        if isinstance(value, _Later):
            out.append((tree, key, value))
        elif isinstance(value, (dict, list)):
            _markers(value, out)


async def settle(tree: Any) -> Any:
    """Await the resolvers left in an answer, one depth at a time (all of a depth together), and write what they
    return in their places."""
    while True:
        found: list[tuple[Any, Any, _Later]] = []
        _markers(tree, found)
        if not found:
            return tree
        results = await asyncio.gather(*(later.awaitable for _, _, later in found))
        for (container, key, later), result in zip(found, results, strict=True):
            container[key] = later.write(result)


def _below(joins: frozenset[str], relation: str) -> frozenset[str]:
    return frozenset(p[len(relation) + 2 :] for p in joins if p.startswith(relation + "__"))


_fragments: dict[str, FragmentDefinitionNode] = {}  # the fragments of the document being compiled
# While `underSoldUmkm` is compiled with its rows' UMKM and products written from records: their selections by field.
_presets: dict[str, list[FieldNode]] | None = None


def _fields_of(parent: GraphQLObjectType, selection_set: SelectionSetNode) -> list[FieldNode]:
    """The fields of a selection set with its fragments (named or inline) on the object's own type put in their
    place, as graphql-core collects them; a fragment on another type, or with a directive, is not compiled."""
    out: list[FieldNode] = []
    for node in selection_set.selections:
        if isinstance(node, FieldNode):
            out.append(node)
            continue
        if node.directives:
            raise NotCompiled("a directive")
        if isinstance(node, InlineFragmentNode):
            condition, inner = node.type_condition, node.selection_set
        elif isinstance(node, FragmentSpreadNode) and node.name.value in _fragments:
            fragment = _fragments[node.name.value]
            if fragment.directives:
                raise NotCompiled("a directive")
            condition, inner = fragment.type_condition, fragment.selection_set
        else:
            raise NotCompiled("a fragment")
        if condition is not None and condition.name.value != parent.name:
            raise NotCompiled("a fragment on another type")
        out.extend(_fields_of(parent, inner))
    return out


def _selection(
    schema: GraphQLSchema, parent: GraphQLObjectType, selection_set: SelectionSetNode, joins: frozenset[str]
) -> list[tuple[str, Callable[[Any], Any], Writer]]:
    """The writer of each field asked for. `joins` are the relation paths read with the object (a model's read
    shape, e.g. `PRODUCT_LISTING`): a relation field is compiled only when its rows come with the object."""
    fields = []
    seen: set[str] = set()
    leaves: set[tuple[str, str]] = set()
    for node in _fields_of(parent, selection_set):
        if node.directives:
            raise NotCompiled("a directive")
        key = node.alias.value if node.alias else node.name.value
        if key in seen:
            if node.selection_set is None and not node.arguments and (key, node.name.value) in leaves:
                continue  # the same leaf again: graphql-core merges it into the first
            raise NotCompiled("a response key asked twice")  # graphql-core merges them; the plan does not
        seen.add(key)
        name = node.name.value
        if node.selection_set is None:
            leaves.add((key, name))
        if name == "__typename":
            fields.append((key, _typename(parent.name), _identity))
            continue
        gfield = parent.fields.get(name)
        if gfield is None or name.startswith("__"):
            raise NotCompiled(f"field {parent.name}.{name}")
        if node.arguments:
            raise NotCompiled(f"arguments of {parent.name}.{name}")
        definition = (gfield.extensions or {}).get(DEFINITION)
        if definition is None or any(not isinstance(e, PermissionExtension) for e in definition.extensions):
            raise NotCompiled(f"field {parent.name}.{name} has extensions")
        if definition.permission_classes:
            fields.append((key, _guarded(parent, name, definition, gfield, node), _identity))
            continue
        if _presets is not None and (parent.name, name) in LIST_ROWS:
            # written by the root from its own statement's records before the objects are made (`UnderSoldField`)
            _presets.setdefault(name, []).append(node)
            fields.append((key, _attribute(definition.python_name), _identity))
            continue
        relation = JOINED_RELATIONS.get((parent.name, name))
        if definition.base_resolver is not None and definition.base_resolver.wrapped_func is TOTAL_COUNT:
            relation = COUNTED  # counted by the plan with the connection's own resolver (`ProductsField`)
        elif definition.base_resolver is not None and relation is None:
            fields.append((key, _loaded(schema, parent, name, definition, gfield, node, joins), _identity))
            continue
        python_name = definition.python_name
        if relation is not None and relation is not COUNTED and python_name not in joins:
            # not read with its object: its resolver loads it
            fields.append((key, _loaded(schema, parent, name, definition, gfield, node, joins), _identity))
            continue
        get = _joined(relation) if relation is not None else _attribute(python_name)
        if node.selection_set is None:
            fields.append((key, get, _leaf_writer(gfield.type)))
        else:
            # a relation descends into its own joins; a wrapper (a connection, an edge) keeps its object's
            below = _below(joins, python_name) if python_name in joins else joins
            fields.append((key, get, _object_writer(schema, gfield.type, node.selection_set, below)))
    return fields


# ---------------------------------------------------------------- direct writers (records to the answer)


class NotDirect(Exception):
    """A selection the direct writer does not write: the objects' writers (`_object_writer`) do."""


# How `X.from_row` computes a field from its row's columns, for the fields a direct writer reads straight from a
# statement's record (no light row, no Strawberry object): ("col", c) column c as Tortoise converts it, ("gid", T)
# the global ID of type T of the row's `id`, ("jakarta", c) the UTC time of column c shown in Asia/Jakarta.
# tests/test_compiled.py checks every entry against `from_row` on rows of the test database.
DIRECT_FIELDS: dict[str, dict[str, tuple[str, str]]] = {
    "Product": {
        "id": ("gid", "Product"),
        **{c: ("col", c) for c in ("name", "description", "unit", "price", "made_to_order", "stock")},
        **{c: ("col", c) for c in ("monthly_capacity", "lead_time_days", "min_order_quantity", "active")},
        "created_at": ("jakarta", "created_at"),
    },
    "Umkm": {
        "id": ("gid", "Umkm"),
        **{c: ("col", c) for c in ("name", "nib", "description", "address", "serves_city_wide")},
        "verified_at": ("jakarta", "verified_at"),
        "created_at": ("jakarta", "created_at"),
    },
    "Kecamatan": {"id": ("gid", "Kecamatan"), "code": ("col", "code"), "name": ("col", "name")},
    "Category": {"id": ("gid", "Category"), **{c: ("col", c) for c in ("name", "slug", "description")}},
    "Order": {
        "id": ("gid", "Order"),
        "number": ("or_empty", "number"),
        **{c: ("col", c) for c in ("kind", "status", "total", "needed_by", "delivery_address", "note", "source")},
        **{c: ("col", c) for c in ("source_rank", "received_by", "closed_reason")},
        **{c: ("jakarta", c) for c in ("created_at", "accepted_at", "shipped_at", "delivered_at", "paid_at")},
    },
    "OrderItem": {c: ("col", c) for c in ("name", "option", "unit", "unit_price", "quantity", "subtotal")},
    "Opd": {"id": ("gid", "Opd"), **{c: ("col", c) for c in ("code", "name", "kind", "address", "active")}},
}
# Relations a direct writer follows into the same record (the columns of relation path `p` are named `p__column`).
DIRECT_RELATIONS = {
    ("Product", "umkm"): "umkm",
    ("Product", "category"): "category",
    ("Umkm", "kecamatan"): "kecamatan",
    ("Order", "umkm"): "umkm",
    ("Order", "opd"): "opd",
    ("OrderItem", "product"): "product",
}
ITEMS = ("Order", "items")  # an order's lines: written from their columns of the order's records (`OrderField`)
ITEMS_PREFIX, ITEM_KEY = "items__", "id"  # how the items' columns are named beside the order's; their order

Binder = Callable[[dict[str, int], dict[str, Callable[[Any], Any]]], Callable[..., Any]]


def direct_value(how: tuple[str, str], value: Any) -> Any:
    """A DIRECT_FIELDS entry applied to its column's converted value."""
    kind, arg = how
    if kind == "gid":
        return to_global_id(arg, value)
    if kind == "jakarta":
        return jakarta(value)
    if kind == "or_empty":
        return value or ""
    return value


def _column(at: dict[str, int], conv: dict[str, Callable[[Any], Any]], name: str) -> Callable[[Any], Any]:
    i, f = at[name], conv.get(name)
    if f is None:
        return lambda record: record[i]
    return lambda record: f(record[i])


def _direct_object(
    schema: GraphQLSchema,
    type_: Any,
    selection_set: Any,
    prefix: str,
    joins: frozenset[str],
    item_joins: frozenset[str] | None = None,
) -> Binder:
    """A writer of one object of a record, compiled once; bound per statement to its columns' positions. An order's
    `items` (once, with `item_joins`) are written by a writer of their own (`bind.items`), over their statement's
    records, and handed to the order's writer."""
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if not isinstance(inner, GraphQLObjectType) or inner.name not in DIRECT_FIELDS or selection_set is None:
        raise NotDirect
    spec = DIRECT_FIELDS[inner.name]
    parts: list[tuple[str, str, Any]] = []
    columns: set[str] = set()  # the record's columns it reads
    lines: Binder | None = None  # the writer of an order's items
    seen: set[str] = set()
    for node in _fields_of(inner, selection_set):
        key = node.alias.value if node.alias else node.name.value
        if node.directives or node.arguments or key in seen:
            raise NotDirect
        seen.add(key)
        name = node.name.value
        if name == "__typename":
            parts.append((key, "const", inner.name))
            continue
        gfield = inner.fields.get(name)
        definition = (gfield.extensions or {}).get(DEFINITION) if gfield is not None else None
        if definition is None or definition.permission_classes or definition.extensions:
            raise NotDirect
        if (inner.name, name) == ITEMS and item_joins is not None and lines is None:
            lines = _direct_object(schema, get_named_type(gfield.type), node.selection_set, "", item_joins)
            parts.append((key, "items", None))
            continue
        relation = DIRECT_RELATIONS.get((inner.name, name))
        if relation is not None and prefix + relation in joins and node.selection_set is not None:
            below = _direct_object(schema, gfield.type, node.selection_set, f"{prefix}{relation}__", joins)
            parts.append((key, "object", below))
            columns.update(below.columns)  # type: ignore[attr-defined]
            continue
        how = spec.get(definition.python_name)
        if how is None or definition.base_resolver is not None or node.selection_set is not None:
            raise NotDirect
        column = prefix + ("id" if how[0] == "gid" else how[1])
        parts.append((key, "leaf", (how, column, _leaf_writer(gfield.type))))
        columns.add(column)

    def bind(at: dict[str, int], conv: dict[str, Callable[[Any], Any]]) -> Callable[[Any], Any]:
        # per field: (key, constant or the object's writer, column position, its conversion, the DIRECT_FIELDS
        # entry unless the column is the value, the leaf's writer); one loop per object, no call per field but these
        items: list[tuple[str, Any, int, Any, Any, Any]] = []
        for key, kind, payload in parts:
            if kind == "const":
                items.append((key, payload, -1, None, None, None))
            elif kind == "object":
                items.append((key, payload(at, conv), -2, None, None, None))
            elif kind == "items":
                items.append((key, None, -3, None, None, None))
            else:
                how, column, write = payload
                items.append((key, None, at[column], conv.get(column), None if how[0] == "col" else how, write))

        def write_object(record: Any, lines: list[Any] | None = None) -> dict[str, Any]:
            out = {}
            for key, other, i, convert, how, write in items:
                if i >= 0:
                    value = record[i]
                    if convert is not None:
                        value = convert(value)
                    out[key] = write(value if how is None else direct_value(how, value))
                else:
                    out[key] = other if i == -1 else other(record) if i == -2 else lines
            return out

        return write_object

    bind.columns = frozenset(columns)  # type: ignore[attr-defined]
    bind.items = lines  # type: ignore[attr-defined]
    return bind


def _direct_connection(schema: GraphQLSchema, type_: Any, selection_set: Any, joins: frozenset[str]) -> Binder:
    """A writer of a page of records as the connection the general path writes (`relay.connection_of`): edges with
    their cursors, `pageInfo`; no `totalCount` (its own resolver counts)."""
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if not isinstance(inner, GraphQLObjectType) or selection_set is None:
        raise NotDirect

    def fields(parent: GraphQLObjectType, sel: Any, allowed: tuple[str, ...]) -> list[tuple[str, str, FieldNode]]:
        out, seen = [], set()
        for node in _fields_of(parent, sel):
            key = node.alias.value if node.alias else node.name.value
            if node.directives or node.arguments or key in seen or node.name.value not in allowed:
                raise NotDirect
            seen.add(key)
            out.append((key, node.name.value, node))
        return out

    def leaf(parent: GraphQLObjectType, name: str) -> Writer:
        return _leaf_writer(parent.fields[name].type)

    connection = []
    columns: set[str] = set()
    for key, name, node in fields(inner, selection_set, ("__typename", "edges", "pageInfo")):
        if name == "edges":
            edge_type = get_named_type(inner.fields["edges"].type)
            edge = []
            for ekey, ename, enode in fields(edge_type, node.selection_set, ("__typename", "cursor", "node")):
                if ename == "node":
                    written = _direct_object(schema, edge_type.fields["node"].type, enode.selection_set, "", joins)
                    edge.append((ekey, "node", written))
                    columns.update(written.columns)  # type: ignore[attr-defined]
                else:
                    edge.append((ekey, ename, edge_type.name if ename == "__typename" else leaf(edge_type, ename)))
            connection.append((key, "edges", edge))
        elif name == "pageInfo":
            page_type = get_named_type(inner.fields["pageInfo"].type)
            allowed = ("__typename", "hasNextPage", "hasPreviousPage", "startCursor", "endCursor")
            page = [
                (k, n, page_type.name if n == "__typename" else leaf(page_type, n))
                for k, n, _ in fields(page_type, node.selection_set, allowed)
            ]
            connection.append((key, "pageInfo", page))
        else:
            connection.append((key, "__typename", inner.name))

    def bind(at: dict[str, int], conv: dict[str, Callable[[Any], Any]]) -> Callable[..., Any]:
        bound = []
        for key, kind, payload in connection:
            if kind == "edges":
                payload = [(k, n, p(at, conv) if n == "node" else p) for k, n, p in payload]
            bound.append((key, kind, payload))

        def write(records: list[Any], has_next: bool, after: Any, order: list[tuple[str, bool]]) -> dict[str, Any]:
            sort = [(name, _column(at, conv, name)) for name, _desc in order]
            cursors = [encode_cursor(row_key({name: read(r) for name, read in sort}, order)) for r in records]
            out: dict[str, Any] = {}
            for key, kind, payload in bound:
                if kind == "__typename":
                    out[key] = payload
                elif kind == "edges":
                    edges = []
                    for record, cursor in zip(records, cursors, strict=True):
                        edge: dict[str, Any] = {}
                        for k, n, p in payload:
                            edge[k] = p(record) if n == "node" else p if n == "__typename" else p(cursor)
                        edges.append(edge)
                    out[key] = edges
                else:
                    values = {
                        "hasNextPage": has_next,
                        "hasPreviousPage": after is not None,
                        "startCursor": cursors[0] if cursors else None,
                        "endCursor": cursors[-1] if cursors else None,
                    }
                    out[key] = {k: p if n == "__typename" else p(values[n]) for k, n, p in payload}
            return out

        return write

    bind.columns = frozenset(columns)  # type: ignore[attr-defined]  # and the order's, per statement
    return bind


# ---------------------------------------------------------------- root fields


def _sentinel_cursor(order: list[tuple[str, bool]]) -> list[Any]:
    """Cursor values no request uses, one per sort column, for finding their places in the statement."""
    out: list[Any] = []
    for i, (name, _desc) in enumerate(order):
        column = catalog_models.Product._meta.fields_map[name]
        if column.field_type is dt.datetime:
            out.append({"dt": dt.datetime(2001, 2, 3, 4, 5, 6, 789000 + i, tzinfo=dt.UTC).isoformat()})
        elif column.field_type is int:
            out.append(-987_654_321 - i)
        else:
            raise NotCompiled(f"sort column {name}")
    return out


SENTINEL_LIMIT = 987_654_3
SENTINEL_FILTER = 987_654_400  # the filter's IDs and prices: SENTINEL_FILTER + i, one per place
SENTINEL_WORD = "qzxcompiledword{}q"  # a search word (letters and digits only: LIKE escapes nothing in it)
MAX_STATEMENTS = 64  # prepared statements per `products` field (filter shapes), least recently used dropped


def _filter_shape(f: rules.ProductFilter, search: list[str], subtree: list[int] | None) -> tuple:
    """What makes a filter's statement differ from another's: which filters are set, how many search words and
    category IDs (never their values)."""
    return (
        len(search),
        None if subtree is None else len(subtree) or 1,
        f.umkm_id is not None,
        f.kecamatan_id is not None,
        f.serves_kecamatan_id is not None,
        f.min_price is not None,
        f.max_price is not None,
        f.in_stock,
    )


def _filter_values(f: rules.ProductFilter, search: list[str], subtree: list[int] | None) -> dict[str, Any]:
    """The values of a filter by slot name (the same names as `_sentinel_filter`'s)."""
    values: dict[str, Any] = {f"word{i}": like_contains(w) for i, w in enumerate(search)}
    if subtree is not None:
        values.update({f"category{i}": c for i, c in enumerate(subtree or [-1])})
    for name in ("umkm_id", "kecamatan_id", "serves_kecamatan_id", "min_price", "max_price"):
        if getattr(f, name) is not None:
            values[name] = getattr(f, name)
    return values


def _sentinel_filter(shape: tuple) -> tuple[rules.ProductFilter, list[str], list[int] | None]:
    """A filter of this shape with values no request uses, for finding their places in the statement."""
    n_words, n_categories, umkm, kecamatan, serves, min_price, max_price, in_stock = shape
    numbers = iter(range(SENTINEL_FILTER, SENTINEL_FILTER + 100))
    subtree = None if n_categories is None else [next(numbers) for _ in range(n_categories)]
    f = rules.ProductFilter(
        umkm_id=next(numbers) if umkm else None,
        kecamatan_id=next(numbers) if kecamatan else None,
        serves_kecamatan_id=next(numbers) if serves else None,
        min_price=next(numbers) if min_price else None,
        max_price=next(numbers) if max_price else None,
        in_stock=in_stock,
    )
    return f, [SENTINEL_WORD.format(i) for i in range(n_words)], subtree


FILTER_FIELDS = {f.name: to_camel_case(f.name) for f in dataclasses.fields(rules.ProductFilter)}
NOT_PREPARED = object()  # the statement of a shape cannot be prepared: the rule's own query runs


@dataclass
class ProductsField:
    """`products(filter, first, after, orderBy)`: one prepared statement per (caller kind, order, cursor or not,
    filter shape), built on first use from the rule's own query (`resolvers.catalog.products_where`) with sentinel
    values; per request the filter is decoded as the general path decodes it (`schema.catalog.product_filter`), the
    category's subtree read by the rule's own function when the filter names a category (the same statement the
    general path runs), and the values put in their places."""

    key: str
    gfield: Any
    node: FieldNode
    write: Writer
    counts: int = 0  # response keys asking `totalCount`
    statements: OrderedDict[tuple, Any] = field(default_factory=OrderedDict)
    direct: Binder | None = None  # writes the page straight from the statement's records, when it can

    async def connection(self, rows: list[Any], has_next: bool, order: Any, after: Any, count_qs: Any) -> Any:
        """The page as the general path's connection, with `totalCount` run by its own resolver when asked for (one
        COUNT per key, after the page's statement, as graphql-core runs it)."""
        conn = connection_of(rows, has_next, order, after, Product.from_row, count_qs)
        for _ in range(self.counts):
            setattr(conn, COUNTED, await TOTAL_COUNT(conn))
        return self.write(conn)

    def statement(self, p: Principal, kind: str, order_name: str, with_cursor: bool, shape: tuple) -> Any:
        k = (kind, order_name, with_cursor, shape)
        found = self.statements.get(k)
        if found is not None:
            self.statements.move_to_end(k)
            return found
        order = rules.ORDERINGS[order_name]
        f, search, subtree = _sentinel_filter(shape)
        slots: dict[str, Any] = {"limit": SENTINEL_LIMIT + 1, **_filter_values(f, search, subtree)}
        if p.umkm_ids and not p.sees_everything:
            owned, owned_slots = owned_sentinels(p)
            p = dataclasses.replace(p, umkm_ids=owned)
            slots.update(owned_slots)
        qs = rules.products_where(p, f, search, subtree)
        if with_cursor:
            sentinel = _sentinel_cursor(order)
            qs = qs.filter(after_filter(order, sentinel))  # the general path's keyset filter
            slots.update({f"after{i}": cursor_value(v) for i, v in enumerate(sentinel)})
        qs = qs.order_by(*[("-" if desc else "") + name for name, desc in order]).limit(SENTINEL_LIMIT + 1)
        # a page written straight from the records reads only the columns it writes and sorts by
        columns = None if self.direct is None else {*self.direct.columns, *(name for name, _desc in order)}  # type: ignore[attr-defined]
        try:
            found = PreparedRows(qs, catalog_models.PRODUCT_LISTING, slots, columns=columns)
        except ValueError as e:
            log.info("compiled reads: a filter of `products` runs its rule's query each time: %s", e)
            found = NOT_PREPARED
        self.statements[k] = found
        if len(self.statements) > MAX_STATEMENTS:
            self.statements.popitem(last=False)
        return found

    async def prepare(self, ctx: Any, variables: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
        p = ctx.principal
        kind = caller_kind(p)
        args = get_argument_values(self.gfield, self.node, variables)
        order_by = args.get("orderBy")
        order_name = getattr(order_by, "value", order_by) or "NEWEST"
        if order_name not in rules.ORDERINGS:
            raise Fallback
        order = rules.ORDERINGS[order_name]
        raw = args.get("filter")
        after = args.get("after")
        try:
            f = product_filter(
                None if raw is None else ProductFilterInput(**{k: raw.get(v) for k, v in FILTER_FIELDS.items()})
            )
            search = rules.words(f.search)
            n, cursor = check_page(catalog_models.Product.all(), order, args.get("first"), after)
        except (BadUserInput, DomainError):
            raise Fallback from None  # the general path answers the error
        if cursor is not None and len(cursor) != len(order):
            raise Fallback  # refused by the general path's `keyset_page`

        async def run() -> Any:
            subtree = await category_subtree(f.category_id) if f.category_id is not None else None
            shape = _filter_shape(f, search, subtree)
            statement = self.statement(p, kind, order_name, cursor is not None, shape)
            if statement is NOT_PREPARED:
                qs = rules.products_where(p, f, search, subtree)
                rows, has_next = await keyset_page(qs, order, n, cursor, catalog_models.PRODUCT_LISTING)
                return await self.connection(rows, has_next, order, after, qs)
            values: dict[str, Any] = {"limit": n + 1, **_filter_values(f, search, subtree), **owned_values(p)}
            if cursor is not None:
                values.update({f"after{i}": cursor_value(v) for i, v in enumerate(cursor)})
            if self.direct is not None and not self.counts:
                try:
                    records = await statement.records(values)
                except (ValueError, TypeError):
                    raise Fallback from None  # the general path answers a cursor the database refuses
                if records:
                    if statement.direct is None:
                        at = {name: i for i, name in enumerate(records[0].keys())}
                        statement.direct = self.direct(at, statement.converters)
                    return statement.direct(records[:n], len(records) > n, after, order)
                return self.write(connection_of([], False, order, after, Product.from_row, None))
            try:
                rows = await statement.run(values)
            except (ValueError, TypeError):
                raise Fallback from None  # the general path answers a cursor the database refuses
            count_qs = rules.products_where(p, f, search, subtree) if self.counts else None
            return await self.connection(rows[:n], len(rows) > n, order, after, count_qs)

        return run


SENTINEL_ORDER, SENTINEL_USER, SENTINEL_OPD = 987_654_301, 987_654_302, 987_654_303


class _SentinelContext:
    """The caller's context with his user and OPD replaced by values no request has, for finding their places."""

    def __init__(self, ctx: Any) -> None:
        p = ctx.principal
        self.settings, self.clock = ctx.settings, ctx.clock
        self.principal = Principal(
            user_id=SENTINEL_USER if p.user_id is not None else None,
            role=p.role,
            opd_id=SENTINEL_OPD if p.opd_id is not None else None,
            umkm_ids=owned_sentinels(p)[0],
            api_key_id=p.api_key_id,
            scopes=p.scopes,
        )


NO_ORDERS = object()  # the caller sees no order at all: null without a statement, as the general path answers


@dataclass
class OrderField:
    """`order(id)`: the order with its UMKM and OPD in one prepared statement (`resolvers.orders.order_read_query`,
    `ORDER_READ`), its items with their products and the products' UMKM (`items_query`, `ITEM_READ`) when asked for:
    joined to it in the same statement when the direct writer writes the answer (`RowWithLines`: a record per item,
    the order's columns repeated), else in one more; one statement per role (and number of UMKM owned), built on
    first use."""

    key: str
    gfield: Any
    node: FieldNode
    write: Writer
    with_items: bool
    statements: dict[str, Any] = field(default_factory=dict)
    items: PreparedRows | None = None
    direct: Binder | None = None  # writes the order (and its items) straight from the records, when it can
    joined: dict[PreparedRows, RowWithLines] = field(default_factory=dict)  # the order's statement with the items'

    def statement(self, ctx: Any, kind: str) -> Any:
        if kind not in self.statements:
            qs = order_rules.order_read_query(_SentinelContext(ctx), SENTINEL_ORDER)
            try:
                self.statements[kind] = (
                    NO_ORDERS
                    if qs is None
                    else PreparedRows(
                        qs,
                        order_models.ORDER_READ,
                        {"id": SENTINEL_ORDER},
                        {"user": SENTINEL_USER, "opd": SENTINEL_OPD, **owned_sentinels(ctx.principal)[1]},
                        columns=None if self.direct is None else self.direct.columns,  # type: ignore[attr-defined]
                    )
                )
            except ValueError as e:
                raise Fallback(str(e)) from None
        return self.statements[kind]

    async def prepare(self, ctx: Any, variables: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
        p = ctx.principal
        args = get_argument_values(self.gfield, self.node, variables)
        try:
            order_id = decode_id(args.get("id"), "Order")
        except DomainError:
            raise Fallback from None
        kind = p.role.value if p.role is not None else ("partner" if p.is_partner else "anonymous")
        statement = self.statement(ctx, f"{kind}, {max(len(p.umkm_ids), 1)} UMKM")
        if statement is NO_ORDERS:
            return _constant(self.write(None))
        values = {"id": order_id, "user": p.user_id, "opd": p.opd_id, **owned_values(p)}
        if any(values[name] is None for name in statement.places):
            raise Fallback  # the general path's query would test for NULL: another statement
        if self.with_items and self.items is None:
            try:
                lines = None if self.direct is None else self.direct.items  # type: ignore[attr-defined]
                self.items = PreparedRows(
                    order_rules.items_query([SENTINEL_ORDER]),
                    order_models.ITEM_READ,
                    {"id": SENTINEL_ORDER},
                    columns=None if lines is None else {*lines.columns, ITEM_KEY},
                )
            except ValueError as e:
                raise Fallback(str(e)) from None
        items = self.items if self.with_items else None
        if self.direct is not None and items is not None:
            joined = self.joined.get(statement)
            if joined is None:
                try:
                    joined = self.joined[statement] = RowWithLines(statement, items, ITEMS_PREFIX, ITEM_KEY)
                except ValueError as e:
                    raise Fallback(str(e)) from None
            return lambda: self.run_joined(joined, values)

        async def run() -> Any:
            if self.direct is not None:
                return await self.run_direct(statement, values)
            rows = await statement.run(values)
            if not rows:
                return self.write(None)
            order = Order.from_row(rows[0])
            if items is not None:
                order._items = [OrderItem.from_row(r) for r in await items.run({"id": order_id})]  # type: ignore[attr-defined]
            return self.write(order)

        return run

    async def run_direct(self, statement: PreparedRows, values: dict) -> Any:
        """The order without its items, written straight from the record."""
        records = await statement.records(values)
        if not records:
            return self.write(None)
        if statement.direct is None:
            statement.direct = self.direct(_positions(records), statement.converters)  # type: ignore[misc]
        return statement.direct(records[0])

    async def run_joined(self, joined: RowWithLines, values: dict) -> Any:
        """The order and its items in one statement (`RowWithLines`: a record per item, the order's columns repeated),
        written straight from the records."""
        records = await joined.records(values)
        if not records:
            return self.write(None)
        if joined.direct is None:
            at = _positions(records)
            prefix = joined.prefix
            line_at = {name[len(prefix) :]: i for name, i in at.items() if name.startswith(prefix)}
            line_conv = {name[len(prefix) :]: f for name, f in joined.converters.items() if name.startswith(prefix)}
            write_line = self.direct.items(line_at, line_conv)  # type: ignore[union-attr]
            joined.direct = (self.direct(at, joined.converters), write_line, line_at[ITEM_KEY])  # type: ignore[misc]
        write_order, write_line, key = joined.direct
        if records[0][key] is None:  # no item: the one record has the items' columns NULL
            return write_order(records[0], [])
        return write_order(records[0], [write_line(r) for r in records])


def _positions(records: list[Any]) -> dict[str, int]:
    return {name: i for i, name in enumerate(records[0].keys())}


@dataclass
class TableField:
    """A whole reference table in its order (`kecamatans`, `categories`): the rule itself reads it (looked up when
    the request runs), the plan only writes the answer."""

    key: str
    write: Writer
    rule: str
    convert: Callable[[Any], Any]

    async def prepare(self, ctx: Any, variables: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
        async def run() -> Any:
            return self.write([self.convert(r) for r in await getattr(registry_rules, self.rule)()])

        return run


def _constant(value: Any) -> Callable[[], Awaitable[Any]]:
    async def run() -> Any:
        return value

    return run


class _Info:
    """What the roots' resolvers and permission classes read of `info`: the context (anything else they read makes
    the plan fail, and the general executor answers)."""

    __slots__ = ("context",)

    def __init__(self, context: Any) -> None:
        self.context = context


@dataclass
class ResolverField:
    """A root field answered by its own resolver (`RESOLVED`: the rule's query, its pagination, its loaders, all as
    the general path runs them), called with the arguments Strawberry converts (`get_arguments`, its own code) after
    the field's permission classes allowed the caller; the plan writes the answer (and runs `totalCount` by the
    connection's own resolver). A caller a permission class refuses, or arguments the resolver refuses before it
    reads anything, are answered by the general executor."""

    key: str
    gfield: Any
    node: FieldNode
    definition: Any
    write: Writer
    counts: int
    config: Any
    scalars: Any

    async def prepare(self, ctx: Any, variables: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
        info = _Info(ctx)
        raw = get_argument_values(self.gfield, self.node, variables)
        args, kwargs = get_arguments(
            field=self.definition, source=None, info=info, kwargs=raw, config=self.config, scalar_registry=self.scalars
        )
        for permission_class in self.definition.permission_classes:
            permission = permission_class()
            try:
                allowed = permission.has_permission(None, info, **raw)
                if allowed is False:
                    permission.on_unauthorized()  # raises the field's error, as Strawberry's permission extension
            except Exception as e:
                error = located_error(e, [self.node], [self.key])
                raise Refused(
                    None if isinstance(self.gfield.type, GraphQLNonNull) else {self.key: None}, error
                ) from None
            if allowed is not True:
                raise Fallback
        call = self.call(args, kwargs)

        async def run() -> Any:
            try:
                value = await call()
            except (DomainError, AccessError):
                raise Fallback from None  # the general path answers the error
            for _ in range(self.counts):
                setattr(value, COUNTED, await TOTAL_COUNT(value))
            return self.write(value)

        return run

    def call(self, args: list[Any], kwargs: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
        """What answers the field: its resolver, with the converted arguments."""
        resolver = self.definition.base_resolver.wrapped_func
        return lambda: resolver(*args, **kwargs)


# The fields of `underSoldUmkm`'s rows written from their own statement's records, and the table each reads.
LIST_ROWS = {
    ("UnderSoldUmkmEdge", "umkm"): registry_models.Umkm,
    ("UnderSoldUmkmEdge", "cheapestEligibleProduct"): catalog_models.Product,
}
LIST_IDS = {"umkm": "umkm_id", "cheapestEligibleProduct": "cheapest_product_id"}  # the row's ID of each
MAX_LIST_STATEMENTS = 128  # prepared `WHERE id IN (…)` statements kept, shared by every plan (least recently used out)
_list_statements: OrderedDict[tuple[str, frozenset[str], int], PreparedRows] = OrderedDict()


def list_rows_statement(model: Any, columns: frozenset[str], n: int) -> PreparedRows:
    """The statement that reads `n` rows of `model` by their IDs as the general path's loader does (`WHERE id IN`),
    selecting `columns`, prepared once and kept in a bounded LRU shared by every plan; its column order depends on
    the columns only, never on `n`."""
    key = (model.__name__, columns, n)
    found = _list_statements.get(key)
    if found is None:
        sentinels = {f"id{i}": SENTINEL_FILTER + i for i in range(n)}
        try:
            qs = model.filter(id__in=list(sentinels.values()))
            found = PreparedRows(qs, {"": model}, sentinels, columns=columns)
        except ValueError as e:
            raise Fallback(str(e)) from None
        _list_statements[key] = found
        if len(_list_statements) > MAX_LIST_STATEMENTS:
            _list_statements.popitem(last=False)
    else:
        _list_statements.move_to_end(key)
    return found


@dataclass
class UnderSoldField(ResolverField):
    """`underSoldUmkm` with its rows' UMKM and products written straight from records: the page is read by the
    field's own rule (`schema.fairness.list_page`: the snapshot, the buyer's filters, the exposure log, privacy, as
    the general path reads it); the UMKM and the products are read as the general path's loaders read them (one
    statement each, `WHERE id IN (…)` on the page's IDs, even when the document does not ask for them: the same
    statements), from a statement prepared once per page length that selects only the columns written
    (`list_rows_statement`); each is written by its direct writer (`_direct_object`, `DIRECT_FIELDS`) and handed to
    the page's connection (`schema.fairness.page_connection`) in place of its Strawberry object. Compiled only when
    both selections have a direct form and each is asked for at most once."""

    rows: dict[str, Binder | None] = field(default_factory=dict)  # the writer of each field (None: not asked for)
    bound: dict[str, tuple[int, Any]] = field(default_factory=dict)  # each one's ID position and bound writer

    def call(self, args: list[Any], kwargs: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
        info = kwargs["info"]
        names = ("category_id", "opd_id", "quantity", "first", "after", "as_of")

        async def answer() -> Any:
            page = await list_page(info, *(kwargs.get(n) for n in names))
            written = [await self.written(name, [getattr(r, LIST_IDS[name]) for r in page.rows]) for name in LIST_IDS]
            return page_connection(info, page, *written)

        return answer

    async def written(self, name: str, ids: list[int]) -> list[Any]:
        """The rows of these IDs, written, in their order (None for a field not asked for)."""
        if not ids:
            return []
        write = self.rows.get(name)
        columns = frozenset({"id", *(write.columns if write is not None else ())})  # type: ignore[attr-defined]
        statement = list_rows_statement(LIST_ROWS["UnderSoldUmkmEdge", name], columns, len(ids))
        records = await statement.records({f"id{i}": v for i, v in enumerate(ids)})
        if not records:
            raise Fallback  # a row went missing: the general path answers
        if name not in self.bound:
            at = _positions(records)
            self.bound[name] = (at["id"], None if write is None else write(at, statement.converters))
        key, bound = self.bound[name]
        found = {record[key]: record for record in records}
        if any(i not in found for i in ids):
            raise Fallback
        return [None if bound is None else bound(found[i]) for i in ids]


def _under_sold(schema: GraphQLSchema, gfield: Any, node: FieldNode) -> tuple[Writer, dict[str, Binder | None]]:
    """The writer of `underSoldUmkm` whose rows' UMKM and products come written (`UnderSoldField`), and their direct
    writers; NotDirect when a selection of theirs has no direct form or is asked for twice."""
    global _presets
    _presets = {}
    try:
        write = _object_writer(schema, gfield.type, node.selection_set, frozenset())
        found = _presets
    finally:
        _presets = None
    edge = schema.get_type("UnderSoldUmkmEdge")
    rows: dict[str, Binder | None] = {}
    for name in LIST_IDS:
        nodes = found.get(name, [])
        if len(nodes) > 1:
            raise NotDirect
        rows[name] = (
            _direct_object(schema, edge.fields[name].type, nodes[0].selection_set, "", frozenset()) if nodes else None
        )
    return write, rows


TABLES = {"kecamatans": ("all_kecamatans", Kecamatan.from_row), "categories": ("all_categories", Category.from_row)}
RESOLVED = ("umkms", "orders", "omzetReports", "underSoldUmkm", "opds")
ROOTS = ("products", "order", *TABLES, *RESOLVED)
ARGUMENTS = {"products": ("filter", "first", "after", "orderBy"), "order": ("id",), "kecamatans": (), "categories": ()}


def _compile_root(
    schema: GraphQLSchema, root: GraphQLObjectType, node: FieldNode
) -> ProductsField | OrderField | TableField | ResolverField:
    name = node.name.value
    if name not in ROOTS:
        raise NotCompiled(f"field {root.name}.{name}")
    if node.directives:
        raise NotCompiled("a directive")
    gfield = root.fields[name]
    definition = (gfield.extensions or {}).get(DEFINITION)
    key = node.alias.value if node.alias else name
    if name in RESOLVED:
        if definition is None or not definition.base_resolver or not definition.base_resolver.is_async:
            raise NotCompiled(f"field {root.name}.{name} has no resolver of its own")
        if any(not isinstance(e, PermissionExtension) for e in definition.extensions):
            raise NotCompiled(f"field {root.name}.{name} has extensions")
        strawberry_schema = schema._strawberry_schema  # type: ignore[attr-defined]
        parts = (
            _count_keys(gfield.type, node.selection_set),
            strawberry_schema.config,
            strawberry_schema.schema_converter.scalar_registry,
        )
        if name == "underSoldUmkm":
            try:
                write, rows = _under_sold(schema, gfield, node)
                return UnderSoldField(key, gfield, node, definition, write, *parts, rows=rows)
            except NotDirect:
                pass  # the rows' UMKM and products written through their objects, by the field's resolver
        write = _object_writer(schema, gfield.type, node.selection_set, frozenset())
        return ResolverField(key, gfield, node, definition, write, *parts)
    for argument in node.arguments or ():
        if argument.name.value not in ARGUMENTS[name]:
            raise NotCompiled(f"argument {name}({argument.name.value})")
    if definition is None or definition.permission_classes:
        raise NotCompiled(f"field {root.name}.{name} has permissions")
    if name == "order":
        joins = (
            _read_shape(order_models.ORDER_READ)
            | {"items"}
            | {f"items__{p}" for p in _read_shape(order_models.ITEM_READ)}
        )
        write = _object_writer(schema, gfield.type, node.selection_set, joins)
        selections = node.selection_set.selections if node.selection_set else ()
        with_items = any(isinstance(n, FieldNode) and n.name.value == "items" for n in selections)
        try:
            direct = _direct_object(
                schema,
                gfield.type,
                node.selection_set,
                "",
                _read_shape(order_models.ORDER_READ),
                item_joins=_read_shape(order_models.ITEM_READ),
            )
            if with_items != (direct.items is not None):  # type: ignore[attr-defined]
                raise NotDirect  # items asked for through a fragment: the objects write them
        except NotDirect:
            direct = None
        return OrderField(key, gfield, node, write, with_items, direct=direct)
    if name in TABLES:
        rule, convert = TABLES[name]
        return TableField(key, _object_writer(schema, gfield.type, node.selection_set, frozenset()), rule, convert)
    joins = _read_shape(catalog_models.PRODUCT_LISTING)
    write = _object_writer(schema, gfield.type, node.selection_set, joins)
    try:
        direct = _direct_connection(schema, gfield.type, node.selection_set, joins)
    except NotDirect:
        direct = None
    return ProductsField(key, gfield, node, write, _count_keys(gfield.type, node.selection_set), direct=direct)


def _read_shape(joins: Any) -> frozenset[str]:
    return frozenset(p for p in joins if p)


@dataclass
class Plan:
    operation: OperationDefinitionNode
    roots: list[ProductsField | OrderField | TableField | ResolverField]
    loading: bool = False  # some field is read by its resolver: the answer is settled after it is written
    guards: frozenset[type] = frozenset()  # permission classes of the fields: every object must allow the caller
    key: tuple[bytes, str | None] | None = None  # (document digest, operation name) in the plan cache
    fragments: dict[str, FragmentDefinitionNode] = field(default_factory=dict)  # the document's, for its cost
    first: bool = False  # the document's first operation: what a request that names none runs (Strawberry)
    labels: dict[str | None, tuple[str, str]] = field(default_factory=dict)  # log line's (operation, type)
    confirmed_keys: set[tuple[bytes, str | None, str]] = field(default_factory=set)  # its entries in `confirmed`
    cost_variables: tuple[str, ...] = ()  # the variables the cost and the input lists can depend on (schema/fast.py)
    fixed_shape: bool = False  # the answer's keys and objects are known once its lists' lengths are
    memo: dict[str, Any] = field(default_factory=dict)  # the fast path's per-plan memos (schema/fast.py)


def _direct_root(root: Any) -> bool:
    """A root written straight from records: every key of its objects is always there, and its objects are never
    null, so the shape of its answer is known from whether it is null and the lengths of its lists."""
    if isinstance(root, ProductsField):
        return root.direct is not None and not root.counts
    return isinstance(root, OrderField) and root.direct is not None


def _cost_variables(
    schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> tuple[str, ...]:
    """The variables a request's cost or its input-list check can read (`schema/cost.py`): those passed to a
    `first` argument, and those of a list or input-object type (a list can be in them). Any other variable (an ID, a
    word, a number) changes neither."""
    names = set()
    for definition in operation.variable_definitions or ():
        type_ = type_from_ast(schema, definition.type)
        if type_ is None or is_list_type(get_nullable_type(type_)) or is_input_object_type(get_named_type(type_)):
            names.add(definition.variable.name.value)

    class Firsts(Visitor):
        def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
            if node.name.value == "first" and isinstance(node.value, VariableNode):
                names.add(node.value.name.value)

    for node in (operation, *fragments.values()):
        visit(node, Firsts())
    return tuple(sorted(names))


def compile_document(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> Plan:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        raise NotCompiled("no single operation")
    if operation.operation is not OperationType.QUERY:
        raise NotCompiled(f"a {operation.operation.value}")
    if operation.directives:
        raise NotCompiled("a directive")
    root = schema.query_type
    assert root is not None
    _loading[0] = False
    _guards.clear()
    _fragments.clear()
    _fragments.update({d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)})
    roots = []
    keys = set()
    for node in _fields_of(root, operation.selection_set):
        compiled = _compile_root(schema, root, node)
        if compiled.key in keys:
            raise NotCompiled("a response key asked twice")
        keys.add(compiled.key)
        roots.append(compiled)
    if len(roots) > 1 and any(
        isinstance(r, ResolverField) or (isinstance(r, OrderField) and r.with_items) for r in roots
    ):
        # graphql-core runs root fields side by side and batches the items after them all; a plan runs them one
        # after the other, so the statements would come in another order
        raise NotCompiled("several root fields and a nested read")
    if _loading[0] and len(roots) > 1:
        raise NotCompiled("several root fields and a nested read")
    return Plan(
        operation,
        roots,
        _loading[0],
        frozenset(_guards),
        fragments=dict(_fragments),
        first=next((d for d in document.definitions if isinstance(d, OperationDefinitionNode)), None) is operation,
        cost_variables=_cost_variables(schema, operation, _fragments),
        fixed_shape=not _loading[0] and all(_direct_root(r) for r in roots),
        labels={None: operation_label(document, None), operation_name: operation_label(document, operation_name)},
    )


# ---------------------------------------------------------------- the executor


def document_digest(text: str) -> bytes:
    """The key of a document's text in the plan cache (the text itself is not kept as a key)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def caller_key(principal: Principal) -> str:
    """Callers whose statements are the same (`caller_kind`, and the role and partner flag that `order(id)`'s
    statement depends on): the fast path keys what it confirmed on it."""
    role = principal.role.value if principal.role is not None else ("partner" if principal.is_partner else "anonymous")
    return f"{role}, {caller_kind(principal)}"


class Plans:
    """Plans (or why there is none) by (document digest, operation name), a bounded LRU; and, a bounded LRU as well,
    the (document digest, operation name, kind of caller) whose plan the general path has answered without an error:
    the document parsed and passed validation and the document's own limits (depth, aliases, tokens, literal text),
    so the fast path (schema/fast.py) answers it again without parsing or validating it. A plan leaves the second
    when it leaves the first: at most `size` plans (each holding its document) are alive, whatever was sent."""

    def __init__(self, size: int = MAX_PLANS, confirmed_size: int = MAX_CONFIRMED) -> None:
        self.size = size
        self.confirmed_size = confirmed_size
        self._plans: OrderedDict[tuple[bytes, str | None], Plan | NotCompiled] = OrderedDict()
        self._confirmed: OrderedDict[tuple[bytes, str | None, str], Plan] = OrderedDict()
        self.compiled = 0  # requests answered by a plan (tests read these)
        self.general = 0
        self.fast = 0  # of `compiled`: answered by the fast path

    def get(self, schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> Plan | None:
        text = document.loc.source.body if document.loc is not None else None
        if text is None:
            return None
        key = (document_digest(text), operation_name)
        plan = self._plans.get(key)
        if plan is None:
            try:
                plan = compile_document(schema, document, operation_name)
                plan.key = key
            except NotCompiled as e:
                plan = e
                log.info("compiled reads: a document falls back to the general executor: %s", e)
            except Exception as e:  # a compiler bug must cost speed, not answers
                plan = NotCompiled(f"the compiler failed ({type(e).__name__})")
                log.warning("compiled reads: %s; the general executor answers the document", plan, exc_info=True)
            self._plans[key] = plan
            if len(self._plans) > self.size:
                _key, evicted = self._plans.popitem(last=False)
                for confirmed in getattr(evicted, "confirmed_keys", ()):  # no plan outlives its place here
                    self._confirmed.pop(confirmed, None)
        else:
            self._plans.move_to_end(key)
        return plan if isinstance(plan, Plan) else None

    def confirm(self, plan: Plan, principal: Principal) -> None:
        """The general path answered this plan for this kind of caller without an error."""
        if plan.key is None:
            return
        digest, name = plan.key
        kind = caller_key(principal)
        # a request that names no operation runs the first one (Strawberry resolves the name before execution)
        for key in {(digest, name, kind), *([(digest, None, kind)] if plan.first else [])}:
            self._confirmed[key] = plan
            self._confirmed.move_to_end(key)
            plan.confirmed_keys.add(key)
        while len(self._confirmed) > self.confirmed_size:
            key, dropped = self._confirmed.popitem(last=False)
            dropped.confirmed_keys.discard(key)

    def confirmed(self, digest: bytes, operation_name: str | None, principal: Principal) -> Plan | None:
        key = (digest, operation_name, caller_key(principal))
        plan = self._confirmed.get(key)
        if plan is not None:
            self._confirmed.move_to_end(key)
            if plan.key in self._plans:
                self._plans.move_to_end(plan.key)  # used: kept in both caches
        return plan

    def __len__(self) -> int:
        return len(self._plans)

    def clear(self) -> None:
        self._plans.clear()
        self._confirmed.clear()


plans = Plans()


def compiled_execute(general: Callable[..., Any]) -> Callable[..., Any]:
    """graphql-core's `execute`, answered by a plan when the document has one (Strawberry awaits what it returns)."""

    def execute(schema: GraphQLSchema, document: DocumentNode, *args: Any, **kwargs: Any) -> Any:
        context = kwargs.get("context_value")
        settings = getattr(context, "settings", None)
        principal = getattr(context, "principal", None)
        if not getattr(settings, "compiled_reads", False) or principal is None or args:
            return general(schema, document, *args, **kwargs)
        plan = plans.get(schema, document, kwargs.get("operation_name"))
        if plan is None:
            plans.general += 1
            return general(schema, document, **kwargs)
        return _run(plan, general, schema, document, kwargs)

    return execute


async def run_plan(plan: Plan, context: Any, coerced: dict[str, Any]) -> dict[str, Any]:
    """The answer's `data`: every root checks its arguments and its caller before any statement runs (a fallback
    then costs no statement twice), then the statements run and the answer is written. Raises `Fallback` (the
    general executor answers), `Refused` (a root's permission classes refused the caller) or anything a statement
    raises."""
    if plan.guards and not allowed_everywhere(plan.guards, context):
        raise Fallback
    try:
        runs = [(root.key, await root.prepare(context, coerced)) for root in plan.roots]
    except Refused:
        if len(plan.roots) > 1:
            raise Fallback from None
        raise
    data = {}
    token = _request.set(context)
    try:
        for key, run in runs:
            data[key] = await run()
        if plan.loading:
            await settle(data)
    finally:
        _request.reset(token)
    return data


async def _run(
    plan: Plan, general: Callable[..., Any], schema: GraphQLSchema, document: DocumentNode, kwargs: dict
) -> Any:
    context = kwargs.get("context_value")
    coerced = get_variable_values(
        schema, plan.operation.variable_definitions or (), kwargs.get("variable_values") or {}
    )
    if not isinstance(coerced, list):
        try:
            data = await run_plan(plan, context, coerced)
        except Refused as refused:
            plans.compiled += 1
            return ExecutionResult(data=refused.data, errors=[refused.error])
        except Fallback:
            pass
        except Exception:
            log.debug("compiled reads: a plan failed; the general executor answers", exc_info=True)
        else:
            plans.compiled += 1
            plans.confirm(plan, context.principal)
            return ExecutionResult(data=data)
    plans.general += 1
    result = general(schema, document, **kwargs)
    return await result if hasattr(result, "__await__") else result
