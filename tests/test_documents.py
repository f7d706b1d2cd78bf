"""Trusted documents (persisted queries): registered by administrators, sent by id over POST and GET (queries only),
required of partner keys with PASAR_PARTNER_TRUSTED_ONLY; on both engines."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import subprocess

import httpx
import pytest
from httpx_ws import WebSocketDisconnect, aconnect_ws

from app import create_app
from models.documents import TrustedDocument
from resolvers.documents import forget_recent
from tests.conftest import GQL, error_codes
from tests.test_cli import PASAR, ROOT, RUN_TIMEOUT, env_for
from tests.test_subscriptions import PROTOCOL, receive, ws_client

REGISTER = """mutation($input: RegisterTrustedDocumentInput!) {
  registerTrustedDocument(input: $input) { document { documentId operationTypes operationNames registeredBy }
    errors { field code message } } }"""
REMOVE = """mutation($input: RemoveTrustedDocumentInput!) {
  removeTrustedDocument(input: $input) { removed errors { field code message } } }"""
LIST = """query($first: Int, $after: String) { trustedDocuments(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { documentId document } } } }"""
KECAMATANS = "query Kecamatans { kecamatans { code } }"
PRODUCTS = "query Products($first: Int) { products(first: $first) { edges { node { name } } } }"
LOGOUT = "mutation Logout { logout { ok errors { code } } }"


def sha(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


async def register(gql: GQL, world, text: str) -> str:
    payload = (await gql.ok(REGISTER, {"input": {"document": text}}, world.tokens["admin"]))["registerTrustedDocument"]
    assert payload["errors"] == [], payload
    return payload["document"]["documentId"]


def bearer(token: str | None) -> dict:
    return {"authorization": f"Bearer {token}"} if token else {}


@pytest.fixture(autouse=True)
def no_recent_documents():
    """Each test starts with an empty table (conftest) and so with no document this process remembers."""
    forget_recent()


@pytest.fixture
def app_with(settings, database):
    """An app with some settings changed (the suite's app keeps its own)."""

    def make(**changes):
        return create_app(dataclasses.replace(settings, **changes), manage_database=False)

    return make


@pytest.fixture
async def client_for():
    clients = []

    async def make(app) -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def test_a_registered_query_runs_by_its_id_over_post_and_get(gql, http, world):
    doc_id = await register(gql, world, PRODUCTS)
    assert doc_id == sha(PRODUCTS)
    r = await http.post("/graphql", json={"documentId": doc_id, "variables": {"first": 2}})
    assert r.status_code == 200 and "errors" not in r.json(), r.text
    assert len(r.json()["data"]["products"]["edges"]) == 2
    r = await http.get(
        "/graphql",
        params={"documentId": doc_id, "variables": json.dumps({"first": 1})},
        headers={"accept": "application/json"},
    )
    assert r.status_code == 200 and "errors" not in r.json(), r.text
    assert len(r.json()["data"]["products"]["edges"]) == 1
    r = await http.get("/graphql", params={"documentId": doc_id})  # a client's default Accept: */*, not GraphiQL
    assert r.status_code == 200 and r.json()["data"]["products"]["edges"], r.text


async def test_an_unknown_or_malformed_document_id_is_a_clear_error(http, world):
    for doc_id in (sha("{ nothing }"), "sha256:XYZ", "md5:abc", 42):
        r = await http.post("/graphql", json={"documentId": doc_id})
        assert error_codes(r.json()) == ["PERSISTED_DOCUMENT_NOT_FOUND"], (doc_id, r.text)
        assert "data" not in r.json() or r.json()["data"] is None
    r = await http.get("/graphql", params={"documentId": sha("{ nothing }")}, headers={"accept": "application/json"})
    assert error_codes(r.json()) == ["PERSISTED_DOCUMENT_NOT_FOUND"]
    r = await http.post(
        "/graphql",
        json={"documentId": sha("{ nothing }")},
        headers={"accept": "application/graphql-response+json"},
    )
    assert r.status_code == 400 and error_codes(r.json()) == ["PERSISTED_DOCUMENT_NOT_FOUND"]


async def test_a_registered_mutation_is_refused_over_get_and_runs_over_post(gql, http, world):
    doc_id = await register(gql, world, LOGOUT)
    token = world.tokens["buyer"]
    r = await http.get(
        "/graphql", params={"documentId": doc_id}, headers=bearer(token) | {"accept": "application/json"}
    )
    assert r.status_code in (400, 405), r.text
    assert "mutation" in r.text.lower()
    assert (await gql.ok("{ me { email } }", token=token))["me"]  # the GET changed nothing: still signed in
    r = await http.post("/graphql", json={"documentId": doc_id}, headers=bearer(token))
    assert r.json()["data"]["logout"] == {"ok": True, "errors": []}


async def test_partner_keys_may_send_text_while_the_setting_is_off(gql, world):
    body = await gql(KECAMATANS, token=world.partner_key)
    assert "errors" not in body and len(body["data"]["kecamatans"]) == 31


async def test_partner_keys_send_registered_documents_only_while_the_setting_is_on(gql, world, app_with, client_for):
    client = await client_for(app_with(partner_trusted_only=True))
    doc_id = await register(gql, world, KECAMATANS)
    r = await client.post("/graphql", json={"query": KECAMATANS}, headers=bearer(world.partner_key))
    assert error_codes(r.json()) == ["TRUSTED_DOCUMENT_REQUIRED"] and r.json().get("data") is None, r.text
    r = await client.get("/graphql", params={"query": KECAMATANS}, headers=bearer(world.partner_key))
    assert error_codes(r.json()) == ["TRUSTED_DOCUMENT_REQUIRED"], r.text
    r = await client.post("/graphql", json={"documentId": doc_id}, headers=bearer(world.partner_key))
    assert "errors" not in r.json() and len(r.json()["data"]["kecamatans"]) == 31, r.text
    # people and anonymous callers still send text
    for token in (world.tokens["buyer"], None):
        r = await client.post("/graphql", json={"query": KECAMATANS}, headers=bearer(token))
        assert "errors" not in r.json(), r.text


async def test_partner_keys_cannot_send_texts_over_a_websocket_while_the_setting_is_on(world, app_with):
    app = app_with(partner_trusted_only=True)
    async with ws_client(app) as client, aconnect_ws("http://test/graphql", client, subprotocols=[PROTOCOL]) as ws:
        await ws.send_json({"type": "connection_init", "payload": {"token": world.partner_key}})
        with pytest.raises(WebSocketDisconnect) as closed:
            msg = await receive(ws)
            pytest.fail(f"expected the connection to be closed, got {msg}")
        assert closed.value.code == 4403, closed.value


async def test_the_cost_limit_applies_to_a_trusted_document(gql, world, app_with, client_for):
    doc_id = await register(gql, world, PRODUCTS)
    client = await client_for(app_with(max_query_cost=50))
    r = await client.post("/graphql", json={"documentId": doc_id, "variables": {"first": 100}})
    assert error_codes(r.json()) == ["QUERY_TOO_COMPLEX"], r.text
    r = await client.post("/graphql", json={"documentId": doc_id, "variables": {"first": 1}})
    assert "errors" not in r.json(), r.text


async def test_only_an_admin_registers_lists_and_removes_documents(gql, world):
    for role in ("owner", "buyer", "analyst", "partner"):
        body = await gql(REGISTER, {"input": {"document": KECAMATANS}}, world.tokens[role])
        assert error_codes(body) == ["FORBIDDEN"], role
        assert error_codes(await gql(LIST, {}, world.tokens[role])) == ["FORBIDDEN"]
    assert error_codes(await gql(REGISTER, {"input": {"document": KECAMATANS}})) == ["UNAUTHENTICATED"]
    assert await TrustedDocument.all().count() == 0


async def test_a_request_never_registers_its_own_document(http, world):
    r = await http.post("/graphql", json={"query": KECAMATANS})
    assert "errors" not in r.json()
    r = await http.post("/graphql", json={"documentId": sha(KECAMATANS)})
    assert error_codes(r.json()) == ["PERSISTED_DOCUMENT_NOT_FOUND"]
    assert await TrustedDocument.all().count() == 0


async def test_registering_checks_the_document_against_the_schema_and_is_idempotent(gql, world):
    admin = world.tokens["admin"]
    for bad in ("{ kecamatans { code ", "{ noSuchField }", "   ", "{" * 6000 + "}" * 6000):
        payload = (await gql.ok(REGISTER, {"input": {"document": bad}}, admin))["registerTrustedDocument"]
        assert payload["document"] is None and payload["errors"][0]["field"] == "document", bad
        assert payload["errors"][0]["code"] in ("INVALID_DOCUMENT", "REQUIRED")
    first = (await gql.ok(REGISTER, {"input": {"document": KECAMATANS}}, admin))["registerTrustedDocument"]
    again = (await gql.ok(REGISTER, {"input": {"document": KECAMATANS}}, admin))["registerTrustedDocument"]
    assert first == again and first["document"]["operationTypes"] == "query"
    assert first["document"]["operationNames"] == "Kecamatans" and first["document"]["registeredBy"]
    assert await TrustedDocument.all().count() == 1


async def test_admins_page_through_documents_and_a_removed_one_stops_working(gql, http, world):
    admin = world.tokens["admin"]
    ids = [await register(gql, world, f"query Q{n} {{ kecamatans {{ code }} }}") for n in range(3)]
    r = await http.post("/graphql", json={"documentId": ids[0]})
    assert "errors" not in r.json()  # read once: this process remembers it
    page = (await gql.ok(LIST, {"first": 2}, admin))["trustedDocuments"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"]
    rest = (await gql.ok(LIST, {"first": 2, "after": page["pageInfo"]["endCursor"]}, admin))["trustedDocuments"]
    assert [e["node"]["documentId"] for e in page["edges"] + rest["edges"]] == ids
    removed = (await gql.ok(REMOVE, {"input": {"documentId": ids[0]}}, admin))["removeTrustedDocument"]
    assert removed == {"removed": True, "errors": []}
    r = await http.post("/graphql", json={"documentId": ids[0]})
    assert error_codes(r.json()) == ["PERSISTED_DOCUMENT_NOT_FOUND"]
    again = (await gql.ok(REMOVE, {"input": {"documentId": ids[0]}}, admin))["removeTrustedDocument"]
    assert [e["code"] for e in again["errors"]] == ["NOT_FOUND"]


async def test_pasar_documents_register_prints_the_ids_that_then_work(http, settings, tmp_path):
    files = [tmp_path / "kecamatans.graphql", tmp_path / "products.graphql"]
    files[0].write_text(KECAMATANS, encoding="utf-8")
    files[1].write_text(PRODUCTS, encoding="utf-8")
    r = await asyncio.to_thread(
        subprocess.run,
        [*PASAR, "documents", "register", *map(str, files)],
        env=env_for(settings.database_url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [f"{sha(KECAMATANS)} {files[0]}", f"{sha(PRODUCTS)} {files[1]}"]
    r = await http.post("/graphql", json={"documentId": sha(KECAMATANS)})
    assert len(r.json()["data"]["kecamatans"]) == 31
    bad = tmp_path / "bad.graphql"
    bad.write_text("{ noSuchField }", encoding="utf-8")
    r = await asyncio.to_thread(
        subprocess.run,
        [*PASAR, "documents", "register", str(bad)],
        env=env_for(settings.database_url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    assert r.returncode == 1 and "bad.graphql" in r.stderr and "noSuchField" in r.stderr
