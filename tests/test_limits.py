"""No request can take the platform down: each test replays the attack that motivated a limit (schema/cost.py, app.py).

Measured before these limits (demo data, 2 cores): the depth-12 kecamatan/kelurahan cycle took ~42 s of CPU and
1.1 GB; a 50 MB variable was accepted; variables nested 1,000 deep gave HTTP 500; an anonymous 200,000-line basket
took 8.7 s before "Sign in first"; a request kept running after its client hung up, with no time limit.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time

import httpx
import pytest
from tortoise import connections

from app import Settings, SettingsError, create_app
from models.accounts import Token
from models.orders import Order
from resolvers import registry as registry_rules
from schema import schema
from schema.cost import INPUT_LIST_MAXIMA, LIST_MAXIMA, MAX_QUERY_COST, input_lists, object_lists
from tests.conftest import PASSWORD, TEST_URL, error_codes, gid

ON_POSTGRES = TEST_URL.startswith("postgres")
GENEROUS = 2.0  # seconds: refusals take milliseconds; the attacks took tens of seconds before


def cycle(depth: int) -> str:
    """`kecamatans { kelurahans { kecamatan { kelurahans { … } } } }` `depth` levels deep (the 238-character attack)."""
    names = ["kecamatans"] + ["kelurahans" if i % 2 == 0 else "kecamatan" for i in range(depth - 1)]
    return "{ " + " { ".join(names) + " { name" + " }" * depth + " }"


def code_of(body: dict) -> str | None:
    codes = error_codes(body)
    return codes[0] if codes else None


async def timed(coro):
    started = time.perf_counter()
    result = await coro
    return result, time.perf_counter() - started


# ---------------------------------------------------------------- cost


async def test_the_depth_12_cycle_is_refused_before_anything_runs(gql):
    doc = cycle(12)
    assert len(doc) < 260 and doc.count("kelurahans") == 6
    body, took = await timed(gql(doc))
    assert code_of(body) == "QUERY_TOO_COMPLEX", body
    ext = body["errors"][0]["extensions"]
    assert ext["cost"] > ext["limit"] == MAX_QUERY_COST
    assert body.get("data") is None
    assert body["extensions"]["sqlStatements"] == 0  # nothing executed
    assert took < GENEROUS


async def test_a_cycle_costs_what_it_fetches(gql):
    """Each kelurahans level multiplies by 10 (the declared maximum), each kecamatans by 31: two levels fit, six do not."""
    small = await gql(cycle(4))
    assert "errors" not in small
    cost = small["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 1 + 31 * (1 + 10 * (1 + 1 * (1 + 10 * 1)))
    assert cost["actualQueryCost"] <= cost["requestedQueryCost"]
    assert code_of(await gql(cycle(8))) == "QUERY_TOO_COMPLEX"


async def test_allowed_requests_report_requested_and_actual_cost(gql):
    body = await gql("{ kecamatans { name kelurahans { name } } }")
    assert "errors" not in body
    kelurahans = sum(len(k["kelurahans"]) for k in body["data"]["kecamatans"])
    assert body["extensions"]["cost"] == {
        "requestedQueryCost": 1 + 31 * (1 + 1 + 10 * 1),  # the declared maxima: 31 kecamatan, 10 kelurahan each
        "actualQueryCost": 1 + 31 * 2 + kelurahans,  # what came back
        "maximumQueryCost": MAX_QUERY_COST,
    }


async def test_fragments_and_inline_fragments_count(gql):
    plain = await gql("{ kecamatans { name kelurahans { name code } } }")
    spread = await gql(
        "query { kecamatans { ...K } } fragment K on Kecamatan { name kelurahans { ... on Kelurahan { name code } } }"
    )
    assert spread["extensions"]["cost"] == plain["extensions"]["cost"]
    heavy = "kelurahans { kecamatan { kelurahans { kecamatan { kelurahans { kecamatan { kelurahans { name } } } } } } }"
    hidden = await gql(
        f"query {{ kecamatans {{ ...K }} }} fragment K on Kecamatan {{ ... on Kecamatan {{ {heavy} }} }}"
    )
    assert code_of(hidden) == "QUERY_TOO_COMPLEX"


HEAVY = cycle(4)[2:-2]  # kecamatans { kelurahans { kecamatan { kelurahans { name } } } }: 3,752


async def test_thirty_aliases_of_a_heavy_list_are_refused_and_one_is_allowed(gql, world):
    one = await gql("{ " + HEAVY + " }")
    assert "errors" not in one
    assert one["extensions"]["cost"]["requestedQueryCost"] < MAX_QUERY_COST
    many = "{ " + " ".join(f"a{i}: {HEAVY}" for i in range(30)) + " }"
    body, took = await timed(gql(many))
    assert code_of(body) == "QUERY_TOO_COMPLEX"
    assert body["extensions"]["sqlStatements"] == 0
    assert took < GENEROUS


PER_OPD = (
    "query Spread($n: Int) { products(first: $n) { edges { node { name umkm { name "
    "servedKecamatans { name kelurahans { name code } } } } } } }"
)


async def test_first_from_variables_is_priced_per_request_never_cached(gql, world):
    """The same document: small `$n` runs, large `$n` is refused, and neither verdict sticks to the document."""
    for n, allowed in ((2, True), (100, False), (2, True), (100, False)):
        body = await gql(PER_OPD, {"n": n})
        if allowed:
            assert "errors" not in body, body
            assert body["extensions"]["cost"]["requestedQueryCost"] <= MAX_QUERY_COST
        else:
            assert code_of(body) == "QUERY_TOO_COMPLEX", body
            assert body["extensions"]["sqlStatements"] == 0


async def test_the_limit_is_a_setting(settings):
    low = create_app(dataclasses.replace(settings, max_query_cost=20), manage_database=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=low), base_url="http://t") as c:
        r = await c.post("/graphql", json={"query": "{ kecamatans { name } }"})
        assert r.json()["extensions"]["cost"]["maximumQueryCost"] == 20
        assert code_of(r.json()) == "QUERY_TOO_COMPLEX"
    s = Settings.from_env({"PASAR_MAX_QUERY_COST": "1234", "PASAR_REQUEST_TIMEOUT_SECONDS": "2.5"})
    assert (s.max_query_cost, s.request_timeout_seconds) == (1234, 2.5)
    with pytest.raises(SettingsError):
        Settings.from_env({"PASAR_MAX_BODY_BYTES": "10"})


def test_every_unpaged_list_of_objects_has_a_declared_maximum():
    gql_schema = schema._schema
    pages = {name for name in object_lists(gql_schema) if name.split(".")[0].endswith("Connection")}
    missing = (
        set(object_lists(gql_schema))
        - pages
        - set(LIST_MAXIMA)
        - {n for n in object_lists(gql_schema) if n.endswith(".errors")}
    )
    assert not missing, f"declare the most items these lists return in schema/cost.py LIST_MAXIMA: {sorted(missing)}"


def test_every_list_input_has_a_declared_maximum():
    missing = set(input_lists(schema._schema)) - set(INPUT_LIST_MAXIMA)
    assert not missing, (
        f"declare the longest these inputs may be in schema/cost.py INPUT_LIST_MAXIMA: {sorted(missing)}"
    )


# ---------------------------------------------------------------- input lists and mutations

PLACE = "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { orders { id } errors { code message } } }"


def basket(world, lines: int) -> dict:
    line = {"productId": gid("Product", world.product.id), "quantity": 1}
    return {"input": {"items": [line] * lines, "neededBy": "2030-01-01", "deliveryAddress": "Jl. Pemuda 1"}}


async def test_the_200000_line_anonymous_basket_is_refused_fast_and_writes_nothing(gql, world):
    r, took = await timed(gql.raw(PLACE, basket(world, 200_000)))
    assert r.status_code == 413
    assert code_of(r.json()) == "PAYLOAD_TOO_LARGE"
    assert took < GENEROUS
    assert await Order.all().count() == 0


async def test_a_basket_over_100_lines_is_refused_before_the_resolver(gql, world):
    for token in (None, world.tokens["buyer"]):
        body = await gql(PLACE, basket(world, 101), token=token)
        assert code_of(body) == "BAD_USER_INPUT", body  # not UNAUTHENTICATED: refused before the permission check
        assert body["errors"][0]["extensions"]["limit"] == 100
        assert body["extensions"]["sqlStatements"] == 0
    assert await Order.all().count() == 0


async def test_long_list_inputs_are_refused_inline_too(gql, world):
    urls = ", ".join('"https://x.id/a.jpg"' for _ in range(500))
    doc = f'mutation {{ updateProduct(input: {{id: "{gid("Product", world.product.id)}", imageUrls: [{urls}]}}) {{ errors {{ code }} }} }}'
    body = await gql(doc, token=world.tokens["owner"])
    assert code_of(body) == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["argument"] == "updateProduct.input.imageUrls"


LOGIN = 'login(input: {email: "%s", password: "%s"}) { token errors { code } }'


async def test_two_logins_in_one_request_are_refused_and_issue_no_token(gql, world):
    email = world.users["buyer"].email
    tokens = await Token.all().count()
    body = await gql("mutation { a: " + LOGIN % (email, PASSWORD) + " b: " + LOGIN % (email, "wrong-one") + " }")
    assert code_of(body) == "TOO_MANY_MUTATIONS"
    assert body["errors"][0]["extensions"]["fields"] == ["login", "login"]
    assert await Token.all().count() == tokens
    mixed = "mutation { a: " + LOGIN % (email, PASSWORD) + ' b: createApiKey(input: {name: "x"}) { secret } }'
    assert code_of(await gql(mixed, token=world.tokens["admin"])) == "TOO_MANY_MUTATIONS"
    one = await gql("mutation { " + LOGIN % (email, PASSWORD) + " }")
    assert one["data"]["login"]["token"]
    assert one["extensions"]["cost"]["actualQueryCost"] == 3  # login, token, errors


async def test_too_many_mutation_root_fields_are_refused(gql, world):
    logout = "logout { ok }"
    body = await gql("mutation { " + " ".join(f"m{i}: {logout}" for i in range(11)) + " }", token=world.tokens["buyer"])
    assert code_of(body) == "TOO_MANY_MUTATIONS"
    assert body["errors"][0]["extensions"]["limit"] == 10
    assert await Token.filter(revoked_at__isnull=False).count() == 0  # nothing ran


# ---------------------------------------------------------------- bounded bodies and variables


async def test_a_50_mb_variable_is_refused_413_without_reading_it(http):
    big = {"query": "query($s: String) { kecamatans { name } }", "variables": {"s": "x" * 50_000_000}}
    r, took = await timed(http.post("/graphql", content=json.dumps(big), headers={"content-type": "application/json"}))
    assert r.status_code == 413
    assert r.json()["errors"][0]["extensions"] == {"code": "PAYLOAD_TOO_LARGE", "limit": 1024 * 1024}
    assert took < GENEROUS


def asgi_scope(headers: list[tuple[bytes, bytes]]) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1234),
        "server": ("test", 80),
    }


async def test_a_large_content_length_is_refused_before_a_byte_of_the_body_is_read(app):
    sent: list[dict] = []

    async def receive():
        raise AssertionError("the body was read")

    async def send(message):
        sent.append(message)

    headers = [(b"content-type", b"application/json"), (b"content-length", b"50000000")]
    await app(asgi_scope(headers), receive, send)
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_a_body_without_content_length_is_counted_as_it_streams(http):
    async def chunks():
        yield b'{"query": "{ kecamatans { name } }", "variables": {"s": "'
        for _ in range(40):
            yield b"x" * 64 * 1024
        yield b'"}}'

    r = await http.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    ok = await http.post("/graphql", json={"query": "{ kecamatans { name } }"})
    assert ok.status_code == 200


async def test_variables_nested_1000_deep_are_a_400_not_a_500(http):
    deep = "[" * 1000 + "]" * 1000
    raw = '{"query": "query($v: [Int]) { kecamatans { name } }", "variables": {"v": ' + deep + "}}"
    r = await http.post("/graphql", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert code_of(r.json()) == "VARIABLES_TOO_LARGE"
    r = await http.post(
        "/graphql", json={"query": "{ kecamatans { name } }", "variables": {"v": [[[[[[[[[[[[1]]]]]]]]]]]]}}
    )
    assert r.status_code == 400 and code_of(r.json()) == "VARIABLES_TOO_LARGE"
    r = await http.post("/graphql", json={"query": "{ kecamatans { name } }", "variables": {"v": list(range(20_000))}})
    assert r.status_code == 400 and code_of(r.json()) == "VARIABLES_TOO_LARGE"


# ---------------------------------------------------------------- time limit and disconnect


@pytest.fixture
async def tiny_timeout(settings):
    app = create_app(dataclasses.replace(settings, request_timeout_seconds=0.0001), manage_database=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c


@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")  # graphql-core's, cut short
async def test_a_request_over_its_time_limit_is_stopped_with_timeout(tiny_timeout):
    r = await tiny_timeout.post("/graphql", json={"query": "{ kecamatans { name kelurahans { name } } }"})
    assert r.status_code == 200
    body = r.json()
    assert body["data"] is None
    assert code_of(body) == "TIMEOUT"


async def _running(sql: str) -> int:
    rows = await connections.get("default").execute_query_dict(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE query = $1 AND state = 'active' AND pid <> pg_backend_pid()",
        [sql],
    )
    return rows[0]["n"]


async def _started(sql: str) -> bool:
    for _ in range(60):
        if await _running(sql) == 1:
            return True
        await asyncio.sleep(0.05)
    return False


async def _gone(sql: str) -> bool:
    for _ in range(50):
        if await _running(sql) == 0:
            return True
        await asyncio.sleep(0.1)
    return False


@pytest.fixture
def slow_kecamatans(monkeypatch):
    """`kecamatans` awaits a long statement (PostgreSQL) or a long sleep (SQLite); notes whether it was cancelled."""
    seen = {"started": asyncio.Event(), "cancelled": False, "sql": "SELECT pg_sleep(30)"}

    async def slow():
        seen["started"].set()
        try:
            if ON_POSTGRES:
                await connections.get("default").execute_query(seen["sql"])
            else:
                await asyncio.sleep(30)
        except asyncio.CancelledError:
            seen["cancelled"] = True
            raise
        return []

    monkeypatch.setattr(registry_rules, "all_kecamatans", slow)
    return seen


async def test_the_time_limit_cancels_the_running_statement(settings, slow_kecamatans):
    app = create_app(
        dataclasses.replace(settings, request_timeout_seconds=4.0 if ON_POSTGRES else 0.5), manage_database=False
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        request = asyncio.ensure_future(c.post("/graphql", json={"query": "{ kecamatans { name } }"}))
        await asyncio.wait_for(slow_kecamatans["started"].wait(), 10)
        if ON_POSTGRES:
            assert await _started(slow_kecamatans["sql"])
        r, took = await timed(request)
    assert code_of(r.json()) == "TIMEOUT"
    assert took < 15  # not the 30 s the statement asked for
    assert slow_kecamatans["cancelled"]
    if ON_POSTGRES:
        assert await _gone(slow_kecamatans["sql"]), "the statement still runs on the server"


async def test_a_client_that_hangs_up_stops_the_work(app, slow_kecamatans):
    body = json.dumps({"query": "{ kecamatans { name } }"}).encode()
    hung_up = asyncio.Event()
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict] = []

    async def receive():
        if messages:
            return messages.pop(0)
        await hung_up.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = asgi_scope([(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())])
    call = asyncio.ensure_future(app(scope, receive, send))
    await asyncio.wait_for(slow_kecamatans["started"].wait(), 10)
    if ON_POSTGRES:
        assert await _started(slow_kecamatans["sql"])
    hung_up.set()
    await asyncio.wait_for(call, 10)  # the 30 s of work were dropped
    assert slow_kecamatans["cancelled"]
    if ON_POSTGRES:
        assert await _gone(slow_kecamatans["sql"]), "the statement still runs on the server"
