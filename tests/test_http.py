"""GraphQL over HTTP: media types, status codes, GraphiQL, health, masking and limits."""

from __future__ import annotations

import logging

import pytest
from tortoise.backends.base.client import BaseDBAsyncClient

from tests.conftest import error_codes, gid

GQL_RESPONSE = "application/graphql-response+json"


async def test_graphiql_is_served_to_a_browser(http):
    r = await http.get("/graphql", headers={"accept": "text/html"})
    assert r.status_code == 200
    assert "graphiql" in r.text.lower()


async def test_queries_work_over_get(http):
    r = await http.get("/graphql", params={"query": "{ kecamatans { code } }"}, headers={"accept": "application/json"})
    assert r.status_code == 200
    assert len(r.json()["data"]["kecamatans"]) == 31


async def test_mutations_are_refused_over_get(http):
    r = await http.get(
        "/graphql",
        params={"query": 'mutation { login(input: {email: "a@b.c", password: "x"}) { token } }'},
        headers={"accept": "application/json"},
    )
    assert r.status_code in (400, 405)


async def test_parse_error_is_400_without_data_for_graphql_response_json(http):
    r = await http.post("/graphql", json={"query": "{ kecamatans { "}, headers={"accept": GQL_RESPONSE})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith(GQL_RESPONSE)
    body = r.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_validation_error_is_400_without_data_for_graphql_response_json(http):
    r = await http.post("/graphql", json={"query": "{ noSuchField }"}, headers={"accept": GQL_RESPONSE})
    assert r.status_code == 400
    assert "data" not in r.json()


async def test_legacy_json_clients_get_200_for_request_errors(http):
    r = await http.post("/graphql", json={"query": "{ noSuchField }"}, headers={"accept": "application/json"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["errors"]


async def test_field_errors_are_200_with_data_and_a_code(http, world):
    r = await http.post(
        "/graphql", json={"query": "{ me { email } users { totalCount } }"}, headers={"accept": GQL_RESPONSE}
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(GQL_RESPONSE)
    body = r.json()
    assert "data" in body
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_depth_limit_refuses_deep_documents(gql, world):
    deep = "{ categories { " + "children { " * 14 + "name" + " }" * 14 + " } }"
    body = await gql(deep)
    assert body["errors"]
    assert "depth" in body["errors"][0]["message"].lower()


async def test_alias_limit_refuses_many_aliases(gql):
    many = "{ " + " ".join(f"a{i}: kecamatans {{ code }}" for i in range(40)) + " }"
    body = await gql(many)
    assert body["errors"]
    assert "alias" in body["errors"][0]["message"].lower()


async def test_a_repeated_document_is_validated_once_and_the_limits_still_apply(gql, world):
    """The validation cache hits for the same document (its key holds the depth and alias rule classes, so they must
    be the same classes on every request), and a cached answer still refuses a document over a limit. A document
    with a compiled plan is validated once and then answered by the fast path, which validates nothing again."""
    from strawberry.extensions.validation_cache import _get_validate_cache

    from schema import compiled
    from schema.limits import CACHE_SIZE

    cache = _get_validate_cache(CACHE_SIZE)
    for doc in ('query RepeatedForTheCache { node(id: "eA") { id } }', "query RepeatedFast { kecamatans { code } }"):
        before, fast = cache.cache_info(), compiled.plans.fast
        for _ in range(5):
            assert "errors" not in await gql(doc)
        after = cache.cache_info()
        fast = compiled.plans.fast - fast
        assert (after.misses - before.misses, after.hits - before.hits + fast) == (1, 4), (doc, fast)
        assert fast == (4 if "Fast" in doc else 0)

    deep = "query DeepTwice { categories { " + "children { " * 14 + "name" + " }" * 14 + " } }"
    many = "query ManyTwice { " + " ".join(f"a{i}: kecamatans {{ code }}" for i in range(40)) + " }"
    for _ in range(2):
        assert "depth" in (await gql(deep))["errors"][0]["message"].lower()
        assert "alias" in (await gql(many))["errors"][0]["message"].lower()
    assert cache.cache_info().hits - after.hits == 2


async def test_healthz_reports_the_database(http):
    r = await http.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}


def _stop_database(monkeypatch) -> None:
    """Every statement fails as when the database server stops."""

    async def refuse(self, *args, **kwargs):
        raise ConnectionRefusedError("connection refused (database stopped)")

    for name in ("execute_query", "execute_query_dict", "execute_insert", "execute_many", "execute_script"):
        monkeypatch.setattr(BaseDBAsyncClient, name, refuse, raising=False)
    from tortoise import connections

    conn_cls = type(connections.get("default"))
    for name in ("execute_query", "execute_query_dict", "execute_insert", "execute_many", "execute_script"):
        monkeypatch.setattr(conn_cls, name, refuse)


@pytest.fixture
def database_down(monkeypatch):
    _stop_database(monkeypatch)
    yield


async def test_a_stopped_database_gives_503_health_and_masked_errors_with_request_id(http, database_down, caplog):
    r = await http.get("/healthz")
    assert r.status_code == 503
    assert r.json()["database"] == "unreachable"

    caplog.set_level(logging.WARNING, logger="pasar.errors")
    r = await http.post("/graphql", json={"query": "{ kecamatans { name } }"}, headers={"x-request-id": "req-42"})
    assert r.status_code == 503
    body = r.json()
    err = body["errors"][0]
    assert err["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert err["extensions"]["requestId"] == "req-42" and "req-42" in err["message"]
    assert "refused" not in err["message"] and "Traceback" not in r.text
    assert any("req-42" in rec.getMessage() for rec in caplog.records)


UNAVAILABLE_CALLERS = ["anonymous", "admin", "buyer", "partner"]


@pytest.mark.parametrize("caller", UNAVAILABLE_CALLERS)
async def test_a_stopped_database_is_503_for_every_caller_never_sign_in_first_and_recovers(
    http, world, monkeypatch, caller
):
    query = {"query": "{ kecamatans { name } }"}
    headers = {} if caller == "anonymous" else {"authorization": f"Bearer {world.tokens[caller]}"}
    assert (await http.post("/graphql", json=query, headers=headers)).status_code == 200
    with monkeypatch.context() as m:
        _stop_database(m)
        r = await http.post("/graphql", json=query, headers={**headers, "x-request-id": "req-7"})
        assert r.status_code == 503, r.text
        assert error_codes(r.json()) == ["SERVICE_UNAVAILABLE"]
        assert r.json()["errors"][0]["extensions"]["requestId"] == "req-7"
        mutation = 'mutation { login(input: {email: "a@b.c", password: "rahasia-123"}) { token errors { code } } }'
        r = await http.post("/graphql", json={"query": mutation}, headers=headers)
        assert r.status_code == 503 and error_codes(r.json()) == ["SERVICE_UNAVAILABLE"], r.text
    r = await http.post("/graphql", json=query, headers=headers)  # the database is back: no restart needed
    assert r.status_code == 200 and "errors" not in r.json()


async def test_a_statement_error_that_is_not_connectivity_stays_internal_server_error(http, monkeypatch):
    async def broken(self, *args, **kwargs):
        raise RuntimeError("syntax error at or near SELEC")

    from tortoise import connections

    monkeypatch.setattr(type(connections.get("default")), "execute_query", broken)
    r = await http.post("/graphql", json={"query": "{ kecamatans { name } }"})
    assert r.status_code == 200 and error_codes(r.json()) == ["INTERNAL_SERVER_ERROR"]


async def test_unexpected_failure_in_a_mutation_is_masked_and_logged(http, world, monkeypatch, caplog):
    from resolvers import registry

    async def boom(*args, **kwargs):
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(registry, "create_opd", boom)
    caplog.set_level(logging.ERROR, logger="pasar.errors")
    kec = gid("Kecamatan", world.kecamatan.id)
    r = await http.post(
        "/graphql",
        json={
            "query": 'mutation($k: ID!) { createOpd(input: {code: "X", name: "X", kind: DINAS, kecamatanId: $k}) '
            "{ errors { code } } }",
            "variables": {"k": kec},
        },
        headers={"authorization": f"Bearer {world.tokens['admin']}"},
    )
    body = r.json()
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "hunter2" not in r.text
    rid = body["errors"][0]["extensions"]["requestId"]
    assert rid and any(rid in rec.getMessage() for rec in caplog.records)


async def test_cors_allows_configured_origins_only():
    import httpx

    from app import Settings, create_app

    app = create_app(Settings(cors_origins=("https://pasar.surabaya.go.id",)), manage_database=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        ok = await c.options(
            "/graphql",
            headers={"origin": "https://pasar.surabaya.go.id", "access-control-request-method": "POST"},
        )
        bad = await c.options(
            "/graphql", headers={"origin": "https://evil.example", "access-control-request-method": "POST"}
        )
    assert ok.headers.get("access-control-allow-origin") == "https://pasar.surabaya.go.id"
    assert "access-control-allow-origin" not in bad.headers


async def test_start_up_objects_are_frozen_out_of_the_garbage_collector_while_serving(settings):
    import gc

    from app import create_app

    app = create_app(settings, manage_database=False)
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 10_000
    assert gc.get_freeze_count() == 0


async def test_a_credential_check_that_fails_otherwise_is_a_masked_500_not_sign_in_first(http, world, monkeypatch):
    import app

    async def broken(*args, **kwargs):
        raise RuntimeError("secret internals: token table")

    monkeypatch.setattr(app, "authenticate", broken)
    headers = {"authorization": f"Bearer {world.tokens['buyer']}", "x-request-id": "req-9"}
    r = await http.post("/graphql", json={"query": "{ kecamatans { name } }"}, headers=headers)
    assert r.status_code == 500 and error_codes(r.json()) == ["INTERNAL_SERVER_ERROR"], r.text
    assert r.json()["errors"][0]["extensions"]["requestId"] == "req-9" and "internals" not in r.text


async def test_a_post_to_graphql_takes_the_short_way_unless_cors_has_work_to_do(settings, database):
    """A POST to /graphql goes through `PasarApp.graphql_post` (the 500 guard, the log line, the body limit, the
    route) without the router and the CORS middleware, unless it has an `Origin` (CORS answers for it) or another
    path: the answer is the same either way, and a browser's request keeps its CORS headers."""
    import dataclasses

    import httpx

    from app import create_app

    origin = "https://pasar.surabaya.go.id"
    app = create_app(dataclasses.replace(settings, cors_origins=(origin,)), manage_database=False)
    short, taken = app.graphql_post, []

    async def counted(scope, receive, send):
        taken.append(scope["path"])
        await short(scope, receive, send)

    app.graphql_post = counted
    body = {"query": "{ kecamatans { code name } }"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        plain = await c.post("/graphql", json=body)
        assert taken == ["/graphql"] and plain.status_code == 200
        assert "access-control-allow-origin" not in plain.headers and plain.headers["x-request-id"]
        browser = await c.post("/graphql", json=body, headers={"origin": origin})
        assert taken == ["/graphql"]  # the long way
        assert browser.headers["access-control-allow-origin"] == origin
        assert browser.json() == plain.json() and len(browser.json()["data"]["kecamatans"]) > 10
        too_big = await c.post("/graphql", content=b"x" * (settings.max_body_bytes + 1))
        assert too_big.status_code == 413 and taken == ["/graphql"] * 2  # the body limit holds on the short way
        other = await c.post("/graphql/", json=body)
        assert taken == ["/graphql"] * 2 and other.status_code != 200  # not the route: the long way answers
