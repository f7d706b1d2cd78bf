"""The fast path of compiled reads: a request whose document the general path has already answered with a plan
(schema/compiled.py) is answered again by that plan without Strawberry's operation: no parsing, no validation, no
extensions, no `ExecutionResult`.

The HTTP view (app.py, `PasarGraphQL.fast_run`) takes it for a POST with a JSON body, after the caller has been
authenticated and rate-limited by the view's own `get_context`; it looks the plan up by (the digest of the document's
text, the operation name, the kind of caller) among those the general path confirmed (`Plans.confirm`: the document
parsed, passed validation, the depth, alias and token limits and the literal text check, and the plan answered it
for this kind of caller without an error). What depends on the request is done here with the general path's own
code: the variables' text (`schema.inputs.bad_variable`), their coercion (graphql-core), the cost from the variables
and admission control (`schema.cost.cheap_query`: the limit, the input lists, and only requests admission control
admits at once), the statement count (`schema.sqlcount.counting`), the plan (`compiled.run_plan`) and the answer's
`extensions` (cost, statements). The view adds the log line's operation, the time limit, the encoding and the
headers as the general path does. Anything else — a variable refused, a cost over the limit or above the admission
threshold, a root that refuses the caller, a plan that falls back — returns None before any statement runs where it
can, and the general path answers the request.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from graphql import GraphQLSchema
from graphql.execution.values import get_variable_values

from schema import compiled, sqlcount
from schema.cost import Verdict, cheap_query
from schema.inputs import bad_variable

log = logging.getLogger("pasar.compiled")


def parse_body(body: bytes) -> tuple[str, dict[str, Any] | None, str | None] | None:
    """(query, variables, operation name) of a JSON body as Strawberry reads it, or None for anything the fast path
    leaves to the view (not a JSON object, no query text, `extensions`, a trusted document's id, a value orjson reads
    differently from the standard library or refuses: the view then parses it as it always does)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    query, variables, name = data.get("query"), data.get("variables"), data.get("operationName")
    if not isinstance(query, str) or not isinstance(variables, (dict, type(None))):
        return None
    if not isinstance(name, (str, type(None))) or data.get("extensions") is not None or "documentId" in data:
        return None
    return query, variables, name


def find(query: str, operation_name: str | None, principal: Any) -> compiled.Plan | None:
    """The plan the general path confirmed for this document, operation and kind of caller."""
    return compiled.plans.confirmed(compiled.document_digest(query), operation_name, principal)


async def answer(
    schema: GraphQLSchema, plan: compiled.Plan, context: Any, variables: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The response body (`data`, `extensions`) the general path would write, or None: the general path answers."""
    try:
        return await _answer(schema, plan, context, variables)
    except (compiled.Fallback, compiled.Refused):
        return None
    except Exception:  # a bug here must cost speed, not answers: the general path answers (and reports) it
        log.debug("compiled reads: the fast path failed; the general path answers", exc_info=True)
        return None


async def _answer(
    schema: GraphQLSchema, plan: compiled.Plan, context: Any, variables: dict[str, Any] | None
) -> dict[str, Any] | None:
    variables = variables or {}
    if bad_variable(variables, "variables") is not None:
        return None
    coerced = get_variable_values(schema, plan.operation.variable_definitions or (), variables)
    if isinstance(coerced, list):
        return None
    verdict = _verdict(schema, plan, coerced, context)
    if verdict is None:
        return None
    with sqlcount.counting(context.settings) as bucket:
        data = await compiled.run_plan(plan, context, coerced)
    compiled.plans.compiled += 1
    compiled.plans.fast += 1
    return {"data": data, "extensions": {**_report(plan, verdict, data), **sqlcount.results(bucket)}}


MEMO = 64  # verdicts and actual costs kept per plan


def _verdict(schema: GraphQLSchema, plan: compiled.Plan, coerced: Any, context: Any) -> Verdict | None:
    """`cheap_query`'s verdict, kept per plan for the values of the variables it can depend on (`cost_variables`:
    those a `first` argument or a list can take; an ID or a name changes neither the cost nor the input lists) and
    the settings it reads."""
    gate, values = context.admission, coerced.coerced
    key = (
        tuple(repr(values[name]) if name in values else None for name in plan.cost_variables),
        getattr(context.settings, "max_query_cost", None),
        None if gate is None else gate.threshold,
    )
    memo = plan.memo.setdefault("verdict", {})
    if key not in memo:
        if len(memo) >= MEMO:
            memo.clear()
        memo[key] = cheap_query(schema, plan.operation, plan.fragments, coerced, context.settings, gate)
    return memo[key]


def _report(plan: compiled.Plan, verdict: Verdict, data: dict[str, Any]) -> dict[str, Any]:
    """`extensions.cost`: the actual cost counted over the answer (`Verdict.report`), kept per shape for a plan whose
    answer's shape is known from each root's being null and the lengths of its lists (`Plan.fixed_shape`: roots
    written straight from the records, every key and object always there)."""
    if not plan.fixed_shape:
        return verdict.report(plan.operation, data)
    lengths = tuple(
        None if root is None else tuple(len(v) for v in root.values() if isinstance(v, list)) for root in data.values()
    )
    memo = plan.memo.setdefault("report", {})
    key = (verdict.requested, verdict.limit, lengths)
    if key not in memo:
        if len(memo) >= MEMO:
            memo.clear()
        memo[key] = verdict.report(plan.operation, data)
    return memo[key]
