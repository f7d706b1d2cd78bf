"""What a request may ask for, checked per request before any resolver runs: its cost, its input lists, its mutations.

Cost. Every field costs its weight (1 unless `FIELD_WEIGHTS` says more). A list of objects multiplies the cost of its
children by how many items it can return: the `first` of the connection it belongs to (`edges` of
`products(first: 50)` count 50 times), or a declared maximum for the lists without paging (`LIST_MAXIMA`:
`kecamatans` 31, a kecamatan's `kelurahans` 10, …). A list of scalars costs its weight once. So a cycle costs what
it fetches: `kecamatans { kelurahans { kecamatan { kelurahans { … } } } }` multiplies by 31, 10, 1, 10, … and is refused
long before depth 12. Fragments and inline fragments count; fields on several fragments of an abstract type all
count (an upper bound). Arguments come from the document and its variables (`first: $n`), so the cost is computed in
the execution step of every request, never in Strawberry's cached validation, which would keep the first request's
verdict for every later variable value.

The requested cost is that bound; the actual cost counts the same way over what came back. Both are reported in
`extensions.cost` of every allowed query and mutation; a request over the limit is refused with
`extensions.code: QUERY_TOO_COMPLEX` (and its cost and the limit) before anything runs.

Input lists (`placeOrder`'s lines, a product's options, …) are bounded by `INPUT_LIST_MAXIMA`, checked on the coerced
arguments before the resolver (and so before its permission check). A mutation request has at most
`max_mutation_fields` root fields, and at most one of `ONE_PER_REQUEST` (each of those hashes a password or issues a
secret: repeating them in one request multiplies the work of one HTTP request).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_input_object_type,
    is_list_type,
    is_object_type,
)
from graphql.execution import ExecutionResult as GraphQLExecutionResult
from graphql.execution.values import get_argument_values, get_variable_values
from strawberry.extensions import SchemaExtension

from resolvers.catalog import MAX_IMAGES, MAX_OPTIONS
from resolvers.orders import MAX_ITEMS
from schema.admission import SERVICE_BUSY, CostGate
from schema.relay import DEFAULT_PAGE

# Defaults of the settings that the app can change (app.Settings).
MAX_QUERY_COST = 50_000  # the heaviest query of the tests, 100 orders with their lines, costs ~25,400
MAX_MUTATION_FIELDS = 10

# Lists without paging: the most items each can return. A list of objects missing here is refused by a test.
LIST_MAXIMA: dict[str, int] = {
    "Query.kecamatans": 31,  # the kecamatan of Surabaya
    "Kecamatan.kelurahans": 10,  # 8 at most today
    "OmzetCompliance.byKecamatan": 31,
    "Umkm.servedKecamatans": 31,
    "Query.categories": 200,
    "Category.children": 50,
    "Opd.purchaseCategories": 50,  # the top-level categories
    "Opd.budgets": 20,  # one per year
    "Query.opdSpending": 200,  # one per OPD
    "Query.equityByCategory": 50,  # the top-level categories
    "Query.lowIncomeByKecamatan": 31,  # the kecamatan of Surabaya
    "Query.omzetSummary": 200,  # groups: kecamatan, category, scale or month
    "Umkm.statusHistory": 20,
    "UmkmCluster.members": 50,  # schema.registry.CLUSTER_MEMBERS_SHOWN
    "User.umkms": 20,
    "Order.items": MAX_ITEMS,
    "Order.events": 20,  # one per status change (6 at most) and the payment reminders (resolvers/clocks.py, 12 at most)
    "OmzetReport.revisions": 20,
    "BulkPlan.lines": 200,
    "PlaceOrderPayload.orders": 200,  # one per seller: of a basket (100 lines) or of a bulk plan
    "Webhook.eventTypes": 10,  # the webhook topics
    "WebhookDelivery.attempts": 20,  # the latest tries
    "Query.myFairness": 200,  # owned UMKM × top-level categories (resolvers.fairness_standing.MAX_ROWS)
    "Query.umkmFairness": 200,  # the same for one UMKM
}
# Lists that share one bound with the list around them: a basket's lines are split among its orders (one per
# seller), so `placeOrder { orders { items } }` returns at most 100 lines however many orders: each order's `items`
# counts once per order (the bound: orders × (order without items) + 100 × line).
SHARED_MAXIMA: dict[tuple[str, str], int] = {("PlaceOrderPayload.orders", "Order.items"): 1}
USER_ERRORS_MAXIMUM = 20  # `errors` of every mutation payload

# Fields that compute more than they read: a ranking, an aggregate over a category's sales or the whole city.
FIELD_WEIGHTS: dict[str, int] = {
    "Query.underSoldUmkm": 20,
    "PurchaseCategory.underSoldUmkm": 20,
    "Query.fairnessCheck": 20,
    "Query.myFairness": 20,
    "Query.umkmFairness": 20,
    "Query.equityReport": 20,
    "Query.umkmSalesRanking": 20,
    "Query.opdSpending": 20,
    "Query.omzetSummary": 20,
    "Query.omzetCompliance": 20,
    "Query.lowIncomeUmkm": 20,
    "Mutation.planBulkOrder": 20,
    "Query.__schema": 100,  # introspection: bounded by the schema, counted as one block
    "Query.__type": 20,
}
INTROSPECTION = ("__schema", "__type")

# Input lists: the longest each may be. A list input missing here is refused by a test.
INPUT_LIST_MAXIMA: dict[str, int] = {
    "PlaceOrderInput.items": MAX_ITEMS,
    "CreateProductInput.imageUrls": 2 * MAX_IMAGES,  # up to these the rule answers with a payload error per field
    "CreateProductInput.options": 2 * MAX_OPTIONS,
    "UpdateProductInput.imageUrls": 2 * MAX_IMAGES,
    "UpdateProductInput.options": 2 * MAX_OPTIONS,
    "CreateApiKeyInput.scopes": 10,
    "SetApiKeyScopesInput.scopes": 10,
    "CreateWebhookInput.eventTypes": 20,
    "UpdateWebhookInput.eventTypes": 20,
    "RegisterUmkmInput.servedKecamatanIds": 62,
    "UpdateUmkmInput.servedKecamatanIds": 62,
}

ONE_PER_REQUEST = ("login", "registerUmkm", "createUser", "createApiKey")


def _refusal(message: str, code: str, **extensions: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extensions})


class _Walk:
    """The operation's fields with their definitions and argument values (variables applied)."""

    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], variables: Any) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self._memo: dict[tuple[int, str, int | None, str | None], int] = {}
        self._plans: dict[tuple, dict] = {}

    def fields(
        self, parent: GraphQLNamedType, selection_set: SelectionSetNode
    ) -> Iterator[tuple[GraphQLNamedType, FieldNode]]:
        """Every field node under `selection_set` with the type it is selected on, through fragments."""
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                yield parent, sel
            elif isinstance(sel, InlineFragmentNode):
                on = self.schema.get_type(sel.type_condition.name.value) if sel.type_condition else parent
                yield from self.fields(on or parent, sel.selection_set)
            elif isinstance(sel, FragmentSpreadNode):
                frag = self.fragments.get(sel.name.value)
                if frag is not None:
                    on = self.schema.get_type(frag.type_condition.name.value)
                    yield from self.fields(on or parent, frag.selection_set)

    @staticmethod
    def definition(parent: GraphQLNamedType, node: FieldNode) -> GraphQLField | None:
        fields = getattr(parent, "fields", None)
        return fields.get(node.name.value) if fields else None

    def arguments(self, field: GraphQLField, node: FieldNode) -> dict[str, Any]:
        try:
            return get_argument_values(field, node, self.variables)
        except GraphQLError:
            return {}  # execution reports the bad argument; nothing of it runs

    # -------------------------------------------------------- cost

    def requested(
        self,
        parent: GraphQLNamedType,
        selection_set: SelectionSetNode,
        page: int | None = None,
        scope: str | None = None,
    ) -> int:
        """The most this selection can cost: `page` is the `first` of the connection it is in, `scope` the list."""
        total = 0
        for on, node in self.fields(parent, selection_set):
            key = (id(node), on.name, page, scope)
            cost = self._memo.get(key)
            if cost is None:
                cost = self._memo[key] = self._requested_field(on, node, page, scope)
            total += cost
        return total

    def _requested_field(self, on: GraphQLNamedType, node: FieldNode, page: int | None, scope: str | None) -> int:
        name = node.name.value
        weight = FIELD_WEIGHTS.get(f"{on.name}.{name}", 1)
        field = self.definition(on, node)
        if field is None or node.selection_set is None or name in INTROSPECTION:
            return weight
        child_page = None
        if "first" in field.args:
            first = self.arguments(field, node).get("first")
            child_page = first if isinstance(first, int) and first > 0 else DEFAULT_PAGE
        items, child_scope = 1, None
        if is_list_type(get_nullable_type(field.type)):
            child_scope = f"{on.name}.{name}"
            shared = SHARED_MAXIMA.get((scope, child_scope)) if scope else None
            items = page if page is not None else shared or list_maximum(on.name, name)
        return weight + items * self.requested(get_named_type(field.type), node.selection_set, child_page, child_scope)

    def actual(self, parent: GraphQLNamedType, selection_sets: tuple[SelectionSetNode, ...], data: dict) -> int:
        """The same count over what came back: each field present once, the fields under a list once per item."""
        return self._count(self._plan(parent, selection_sets), data)

    def _count(self, plan: dict[str, list], data: dict) -> int:
        total = 0
        for key, value in data.items():
            entry = plan.get(key)
            if entry is None:
                total += 1
                continue
            weight, child, subs, below = entry
            total += weight
            if value is None or child is None:
                continue
            if below is None:
                below = entry[3] = self._plan(child, subs)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, dict):
                        total += self._count(below, item)
            elif isinstance(value, dict):
                total += self._count(below, value)
        return total

    def _plan(self, parent: GraphQLNamedType, selection_sets: tuple[SelectionSetNode, ...]) -> dict[str, list]:
        """Per response key: [its weight, the type and selections to count under it (None: nothing below), their
        plan once made]. Made once per selection, not once per item of a list."""
        memo_key = (parent.name, *map(id, selection_sets))
        made = self._plans.get(memo_key)
        if made is not None:
            return made
        by_key: dict[str, list[tuple[GraphQLNamedType, FieldNode]]] = {}
        for selection_set in selection_sets:
            for on, node in self.fields(parent, selection_set):
                by_key.setdefault(node.alias.value if node.alias else node.name.value, []).append((on, node))
        plan = {}
        for key, nodes in by_key.items():
            on, node = nodes[0]
            name = node.name.value
            field = self.definition(on, node)
            subs = tuple(n.selection_set for _, n in nodes if n.selection_set is not None)
            below = field is not None and bool(subs) and name not in INTROSPECTION
            child = get_named_type(field.type) if below and field is not None else None
            plan[key] = [FIELD_WEIGHTS.get(f"{on.name}.{name}", 1), child, subs, None]
        self._plans[memo_key] = plan
        return plan

    # -------------------------------------------------------- input lists

    def long_input_lists(self, parent: GraphQLNamedType, selection_set: SelectionSetNode) -> Iterator[GraphQLError]:
        for on, node in self.fields(parent, selection_set):
            field = self.definition(on, node)
            if field is None:
                continue
            if node.arguments:
                args = self.arguments(field, node)
                for arg_name, arg in field.args.items():
                    if arg_name in args:
                        where = f"{node.name.value}.{arg_name}"
                        owner = f"{on.name}.{node.name.value}.{arg_name}"
                        yield from _long_lists(arg.type, args[arg_name], where, owner)
            if node.selection_set is not None:
                yield from self.long_input_lists(get_named_type(field.type), node.selection_set)


def list_maximum(type_name: str, field_name: str) -> int:
    if field_name == "errors":
        return USER_ERRORS_MAXIMUM
    return LIST_MAXIMA.get(f"{type_name}.{field_name}", MAX_ITEMS)


def _long_lists(type_: Any, value: Any, where: str, owner: str | None = None) -> Iterator[GraphQLError]:
    """Lists in a coerced input value longer than they may be (`owner` is the input type.field holding the list)."""
    if value is None:
        return
    inner = get_nullable_type(type_)
    if is_list_type(inner):
        limit = INPUT_LIST_MAXIMA.get(owner or "", MAX_ITEMS)
        if isinstance(value, list):
            if len(value) > limit:
                yield _refusal(
                    f"`{where}` has {len(value)} items; at most {limit} are accepted.",
                    "BAD_USER_INPUT",
                    argument=where,
                    items=len(value),
                    limit=limit,
                )
                return
            for item in value:
                yield from _long_lists(inner.of_type, item, where, owner)
        return
    if is_input_object_type(inner) and isinstance(value, dict):
        assert isinstance(inner, GraphQLInputObjectType)
        for name, f in inner.fields.items():
            if name in value:
                yield from _long_lists(f.type, value[name], f"{where}.{name}", f"{inner.name}.{name}")


def _operation(document: Any, name: str | None) -> OperationDefinitionNode | None:
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return ops[0] if len(ops) == 1 else None
    return next((o for o in ops if o.name is not None and o.name.value == name), None)


def _root_fields(walk: _Walk, root: GraphQLNamedType, op: OperationDefinitionNode) -> list[str]:
    return [node.name.value for _, node in walk.fields(root, op.selection_set)]


class QueryCost(SchemaExtension):
    """Refuses a request over its cost, its input list or its mutation limits before execution; reports its cost.

    Runs in `on_execute`, once per request, with that request's variables (see the module's docstring). A request
    within the limit is then admitted on its estimated cost by the process's `CostGate` (schema/admission.py): it may
    wait its turn, or be refused with `SERVICE_BUSY`."""

    async def on_execute(self) -> AsyncIterator[None]:
        ec = self.execution_context
        self._cost: dict[str, int] | None = None
        document = ec.graphql_document
        op = _operation(document, ec.operation_name) if document is not None else None
        if op is None or op.operation is OperationType.SUBSCRIPTION:
            yield
            return
        settings = getattr(ec.context, "settings", None)
        limit = getattr(settings, "max_query_cost", MAX_QUERY_COST)
        max_mutations = getattr(settings, "max_mutation_fields", MAX_MUTATION_FIELDS)
        schema: GraphQLSchema = ec.schema._schema
        coerced = get_variable_values(schema, op.variable_definitions or (), ec.variables or {})
        if isinstance(coerced, list):
            yield  # graphql-core reports the bad variables and runs nothing
            return
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        walk = _Walk(schema, fragments, coerced)
        root = schema.get_root_type(op.operation)
        assert root is not None
        refusals = list(self._refusals(walk, root, op, limit, max_mutations))
        if refusals:
            ec.result = GraphQLExecutionResult(data=None, errors=refusals)
            yield
            return
        requested = walk.requested(root, op.selection_set)
        self._cost = {"requestedQueryCost": requested, "maximumQueryCost": limit}
        if requested > limit:
            ec.result = GraphQLExecutionResult(
                data=None,
                errors=[
                    _refusal(
                        f"This request would cost {requested}; the limit is {limit}. Ask for fewer items "
                        "(smaller `first`, fewer nested lists or aliases).",
                        "QUERY_TOO_COMPLEX",
                        cost=requested,
                        limit=limit,
                    )
                ],
            )
            yield
            return
        gate: CostGate | None = getattr(ec.context, "admission", None)
        if gate is not None:
            verdict = gate.admit(requested)
            if not verdict.admitted:
                ec.result = GraphQLExecutionResult(
                    data=None,
                    errors=[
                        _refusal(
                            f"The server is busy with costly requests: try again in {verdict.retry_after} s, or ask "
                            "for fewer items.",
                            SERVICE_BUSY,
                            cost=requested,
                            retryAfter=verdict.retry_after,
                        )
                    ],
                )
                yield
                return
            if verdict.wait:
                try:
                    await asyncio.sleep(verdict.wait)
                except asyncio.CancelledError:
                    gate.give_back(requested)
                    raise
        yield
        result = ec.result
        data = getattr(result, "data", None)
        self._cost["actualQueryCost"] = walk.actual(root, (op.selection_set,), data) if isinstance(data, dict) else 0

    @staticmethod
    def _refusals(
        walk: _Walk, root: GraphQLNamedType, op: OperationDefinitionNode, limit: int, max_mutations: int
    ) -> Iterable[GraphQLError]:
        if op.operation is OperationType.MUTATION:
            names = _root_fields(walk, root, op)
            if len(names) > max_mutations:
                yield _refusal(
                    f"A request may run at most {max_mutations} mutations; this one has {len(names)}.",
                    "TOO_MANY_MUTATIONS",
                    count=len(names),
                    limit=max_mutations,
                )
                return
            sensitive = [n for n in names if n in ONE_PER_REQUEST]
            if len(sensitive) > 1:
                yield _refusal(
                    f"At most one of {', '.join(ONE_PER_REQUEST)} per request; this one has {len(sensitive)}.",
                    "TOO_MANY_MUTATIONS",
                    fields=sensitive,
                    limit=1,
                )
                return
        yield from walk.long_input_lists(root, op.selection_set)

    def get_results(self) -> dict:
        cost = getattr(self, "_cost", None)
        return {"cost": cost} if cost is not None else {}


@dataclass
class Verdict:
    """A query within its limits, as `QueryCost` would let it run (fast path of compiled reads, schema/fast.py)."""

    walk: _Walk
    root: GraphQLNamedType
    requested: int
    limit: int

    def report(self, op: OperationDefinitionNode, data: Any) -> dict[str, Any]:
        """`extensions.cost` of the answer, as `QueryCost.get_results` reports it."""
        actual = self.walk.actual(self.root, (op.selection_set,), data) if isinstance(data, dict) else 0
        cost = {"requestedQueryCost": self.requested, "maximumQueryCost": self.limit, "actualQueryCost": actual}
        return {"cost": cost}


def cheap_query(
    schema: GraphQLSchema,
    op: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    coerced: dict[str, Any],
    settings: Any,
    gate: CostGate | None,
) -> Verdict | None:
    """A query `QueryCost` lets run at once with these (coerced) variables: no refused input list, within the cost
    limit, and cheap enough for admission control to admit without drawing on its bucket. None otherwise (the
    general path then refuses it, or admits it and may make it wait: `QueryCost` decides)."""
    if op.operation is not OperationType.QUERY:
        return None
    limit = getattr(settings, "max_query_cost", MAX_QUERY_COST)
    walk = _Walk(schema, fragments, coerced)
    root = schema.query_type
    assert root is not None
    if next(iter(QueryCost._refusals(walk, root, op, limit, MAX_MUTATION_FIELDS)), None) is not None:
        return None
    requested = walk.requested(root, op.selection_set)
    if requested > limit or (gate is not None and requested > gate.threshold):
        return None
    return Verdict(walk, root, requested, limit)


def requested_cost(
    schema: GraphQLSchema, document: DocumentNode, variables: dict | None = None, operation_name: str | None = None
) -> int:
    """The estimated cost of one operation of a parsed, valid `document` with `variables`: what `QueryCost` compares
    with the limit and admission control draws (for the tests and for people who size the settings)."""
    op = _operation(document, operation_name)
    if op is None:
        raise ValueError("no such operation in the document")
    coerced = get_variable_values(schema, op.variable_definitions or (), variables or {})
    if isinstance(coerced, list):
        raise ValueError("; ".join(e.message for e in coerced))
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    root = schema.get_root_type(op.operation)
    assert root is not None
    return _Walk(schema, fragments, coerced).requested(root, op.selection_set)


def object_lists(schema: GraphQLSchema) -> Iterator[str]:
    """`Type.field` of every list of objects in the schema that is not a connection's page (for the tests)."""
    for t in schema.type_map.values():
        if not is_object_type(t) or t.name.startswith("__"):
            continue
        for name, f in t.fields.items():
            if is_list_type(get_nullable_type(f.type)) and is_object_type(get_named_type(f.type)):
                yield f"{t.name}.{name}"


def input_lists(schema: GraphQLSchema) -> Iterator[str]:
    """`Input.field` (or `Type.field.argument`) of every list input in the schema (for the tests)."""
    for t in schema.type_map.values():
        if t.name.startswith("__"):
            continue
        if is_input_object_type(t):
            for name, f in t.fields.items():
                if is_list_type(get_nullable_type(f.type)):
                    yield f"{t.name}.{name}"
        elif is_object_type(t):
            for name, f in t.fields.items():
                for arg_name, arg in f.args.items():
                    if is_list_type(get_nullable_type(arg.type)):
                        yield f"{t.name}.{name}.{arg_name}"
