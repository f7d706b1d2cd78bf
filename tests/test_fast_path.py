"""The fast path of compiled reads (schema/fast.py, `PasarGraphQL.fast_run`) answers exactly as the general path.

A document's first request goes through Strawberry's view; once its plan has answered it for a kind of caller, the
next requests of that kind skip the view's operation. Each request here is sent to the suite's app (compiled reads
on) and to an app with `compiled_reads=False`, and the two answers must have the same status, headers (but the
request id) and bytes; the access log lines must say the same. With rate limits and admission control on, with the
GraphQL-over-HTTP media type and another language, with variables the general path refuses, and over the time
limit. The plan cache's bound is checked in tests/test_plan_cache.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import graphql
import httpx
import pytest

from app import Settings, create_app
from bench.harness.scenarios import S1_PRODUCTS, S2_ORDER
from schema import compiled, schema
from schema.cost import requested_cost
from tests.test_compiled import _headers, _place, more_products, same_body  # noqa: F401 (more_products: a fixture)

pytestmark = pytest.mark.usefixtures("more_products")  # a few more products, with equal prices

CALLERS = ("anonymous", "partner", "admin", "analyst", "buyer", "treasurer", "employee", "owner", "other_owner")
HEADERS = (
    {},
    {"accept": "application/graphql-response+json"},
    {"accept-language": "id"},
    {"accept": "application/graphql-response+json, application/json", "accept-language": "id-ID,en;q=0.5"},
)


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def general(settings):
    async with _client(create_app(dataclasses.replace(settings, compiled_reads=False), manage_database=False)) as c:
        yield c


async def send(client, query: str, variables: dict | None, token: str | None, headers: dict | None = None):
    head = {**(headers or {}), **({"authorization": f"Bearer {token}"} if token else {})}
    return await client.post("/graphql", json={"query": query, "variables": variables}, headers=head)


async def pair(http, general, query, variables, token, headers=None) -> tuple[httpx.Response, httpx.Response]:
    return await send(http, query, variables, token, headers), await send(general, query, variables, token, headers)


def assert_same(a: httpx.Response, b: httpx.Response, what: object) -> None:
    """The same status, the same headers (but the request id), the same bytes (`same_body`)."""
    assert a.status_code == b.status_code and same_body(a.content, b.content), (what, a.text, b.text)
    length = a.content != b.content  # shorter column lists: another content-length
    assert _headers(a, length) == _headers(b, length), (what, _headers(a), _headers(b))


def _token(world, caller: str) -> str | None:
    return None if caller == "anonymous" else world.tokens[caller]


async def test_the_fast_path_answers_as_the_general_path_for_every_caller(http, general, gql, world):
    order_id = await _place(gql, world, world.product)
    documents = [
        (S1_PRODUCTS, {"first": 2}),
        (S1_PRODUCTS, {"first": 50}),
        (S1_PRODUCTS, None),
        ("query Two { products(first: 3, orderBy: PRICE_ASC) { edges { cursor node { __typename id } } } }", None),
        ("query A { products(first: 1) { edges { node { id } } } } query B { kecamatans { name } }", None),
        (S2_ORDER, {"id": order_id}),
        ("{ kecamatans { id name } categories { slug } }", None),
    ]
    before = compiled.plans.fast
    for caller in CALLERS:
        for query, variables in documents:
            for headers in HEADERS:
                for _ in range(2):  # the first may be the general path's, the second the fast path's
                    a, b = await pair(http, general, query, variables, _token(world, caller), headers)
                    assert_same(a, b, (caller, query, variables, headers))
    fast = compiled.plans.fast - before
    print(f"fast path: {fast} answers")
    assert fast > len(CALLERS) * len(documents) * len(HEADERS) // 2


async def test_operation_names_are_those_strawberry_runs(http, general, world):
    """A document of two operations: no name runs the first (as Strawberry resolves it), a name runs that one, an
    unknown name is refused; each answered alike by both paths, twice."""
    doc = "query A { products(first: 1) { edges { node { id } } } } query B { products(first: 2) { edges { cursor } } }"
    before = compiled.plans.fast
    for name in (None, "A", "B", "C", None, "B"):
        for _ in range(2):
            body = {"query": doc, "operationName": name}
            a, b = await http.post("/graphql", json=body), await general.post("/graphql", json=body)
            assert_same(a, b, name)
    assert compiled.plans.fast > before


async def test_requests_the_fast_path_leaves_to_the_general_path(http, general, world):
    """Variables refused (text, coercion, lists, depth), a query over the cost limit, another media type or JSON the
    standard library reads differently, and a trusted document's id: the same answers, none of them fast."""
    for _ in range(2):  # the document's plan is confirmed first
        a, b = await pair(http, general, S1_PRODUCTS, {"first": 2}, None)
        assert_same(a, b, "confirmed")
    before = compiled.plans.fast
    for variables in (
        {"first": "many"},
        {"first": 0},
        {"first": 101},
        {"first": 2, "extra": "a\x00b"},
        {"first": 2, "deep": [[[[[[[[[[[[1]]]]]]]]]]]]},
    ):
        a, b = await pair(http, general, S1_PRODUCTS, variables, None)
        assert_same(a, b, variables)
    raw = [
        b'{"query": "query S1($first: Int) { products(first: $first) { edges { cursor } } }", "variables": NaN}',
        b'{"query": 5}',
        b"[]",
        b'{"documentId": "sha256:00"}',
        b'{"query": "{ products(first: 1) { edges { cursor } } }", "extensions": {"a": 1}}',
    ]
    for body in raw:
        head = {"content-type": "application/json"}
        a = await http.post("/graphql", content=body, headers=head)
        b = await general.post("/graphql", content=body, headers=head)
        assert_same(a, b, body)
    a = await http.post("/graphql", content=b"{ products { edges { cursor } } }", headers={"content-type": "text/x"})
    b = await general.post("/graphql", content=b"{ products { edges { cursor } } }", headers={"content-type": "text/x"})
    assert (a.status_code, a.content) == (b.status_code, b.content)
    assert compiled.plans.fast == before


async def test_rate_limits_and_admission_on_the_fast_path(settings, world):
    """With rate limits on, the fast path counts every request once and answers 429 with the same headers; with
    admission control on, a query above its threshold goes to the general path, which admits it."""
    limited = dataclasses.replace(settings, rate_limits="anonymous=4/minute;user=6/minute", admission_rate=0)
    async with (
        _client(create_app(limited, manage_database=False)) as on,
        _client(create_app(dataclasses.replace(limited, compiled_reads=False), manage_database=False)) as off,
    ):
        before = compiled.plans.fast
        for caller in ("anonymous", "buyer"):
            for n in range(8):
                a, b = await pair(on, off, S1_PRODUCTS, {"first": 2}, _token(world, caller))
                assert_same(a, b, (caller, n))
                assert "ratelimit" in a.headers
            assert a.status_code == 429
        assert compiled.plans.fast > before
    gated = dataclasses.replace(settings, admission_rate=1_000, admission_threshold=50)
    async with (
        _client(create_app(gated, manage_database=False)) as on,
        _client(create_app(dataclasses.replace(gated, compiled_reads=False), manage_database=False)) as off,
    ):
        cost = {n: requested_cost(schema._schema, graphql.parse(S1_PRODUCTS), {"first": n}) for n in (1, 50)}
        assert cost[1] <= 50 < cost[50]  # a page of 1 is admitted at once (fast path), one of 50 is drawn (general)
        before = compiled.plans.fast
        for first in (1, 1, 50, 50):
            a, b = await pair(on, off, S1_PRODUCTS, {"first": first}, None)
            assert_same(a, b, first)
        assert compiled.plans.fast - before == 2  # the pages of 1 (the plan was confirmed above), not those of 50


async def test_the_log_line_says_the_same(settings, world, caplog):
    """The access line of a request the fast path answered says what the general path's says (the credential cache
    off, so that every request looks its token up and counts that statement alike)."""
    uncached = dataclasses.replace(settings, credential_cache_seconds=0)
    lines: dict[bool, list[dict]] = {True: [], False: []}
    for compiled_reads in (True, False):
        app = create_app(dataclasses.replace(uncached, compiled_reads=compiled_reads), manage_database=False)
        async with _client(app) as client:
            for caller in ("anonymous", "admin", "owner"):
                for _ in range(2):
                    caplog.clear()
                    with caplog.at_level(logging.INFO, logger="pasar.access"):
                        r = await send(client, S1_PRODUCTS, {"first": 3}, _token(world, caller))
                    assert r.status_code == 200
                    (record,) = [r for r in caplog.records if r.name == "pasar.access"]
                    fields = dict(record.fields)
                    fields.pop("request_id"), fields.pop("duration_ms")
                    lines[compiled_reads].append(fields)
    assert lines[True] == lines[False]
    assert lines[True][0]["operation"] == "S1" and lines[True][2]["role"] == "ADMIN"
    assert lines[True][3]["sql_statements"] == 2  # the token and the page


async def test_the_time_limit_holds_on_the_fast_path(settings, world, monkeypatch):
    app = create_app(dataclasses.replace(settings, request_timeout_seconds=0.2), manage_database=False)
    async with _client(app) as client:
        for _ in range(2):
            r = await send(client, S1_PRODUCTS, {"first": 2}, None)
            assert r.status_code == 200 and "errors" not in r.json()
        original = compiled.run_plan

        async def slow(*args, **kwargs):
            await asyncio.sleep(5)
            return await original(*args, **kwargs)

        monkeypatch.setattr(compiled, "run_plan", slow)
        before = compiled.plans.fast
        r = await send(client, S1_PRODUCTS, {"first": 2}, None)
        assert r.status_code == 200
        assert r.json() == {
            "data": None,
            "errors": [
                {
                    "message": "The request took longer than 0.2 s and was stopped.",
                    "extensions": {"code": "TIMEOUT", "timeoutSeconds": 0.2},
                }
            ],
        }
        assert compiled.plans.fast == before


async def test_compiled_reads_off_turns_the_fast_path_off(settings, world):
    assert Settings.from_env({"PASAR_COMPILED_READS": "0"}).compiled_reads is False
    before = (compiled.plans.fast, compiled.plans.compiled)
    async with _client(create_app(dataclasses.replace(settings, compiled_reads=False), manage_database=False)) as c:
        for _ in range(3):
            r = await send(c, S1_PRODUCTS, {"first": 2}, None)
            assert r.status_code == 200 and len(r.json()["data"]["products"]["edges"]) == 2
    assert (compiled.plans.fast, compiled.plans.compiled) == before
