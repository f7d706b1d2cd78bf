"""A credential checked recently is not looked up again (resolvers.accounts.CredentialCache), and sessions still end:
at once in the process that ends them (logout, a revoked key, any mutation), within PASAR_CREDENTIAL_CACHE_SECONDS
in the others (simulated here by changing the database directly, as another process or the command line would), or
at once with Redis, where a mutation tells every process (Redis database 14 unless PASAR_TEST_REDIS_URL names one)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import uuid

import httpx
import pytest
import redis.asyncio as aioredis

from app import create_app
from models.accounts import Token
from resolvers.common import SESSION_ENDED
from schema.sessions import signal_for
from tests.conftest import GQL, error_codes, gid

ORDERS = "{ orders(first: 1) { edges { node { id } } } }"  # users only: a partner key is FORBIDDEN, a bad one not


@pytest.fixture
async def gql_with_cache(settings):
    """`gql_with_cache(seconds)`: a client of an app whose credentials are cached that long."""
    clients = []

    def make(seconds: float) -> GQL:
        app = create_app(dataclasses.replace(settings, credential_cache_seconds=seconds), manage_database=False)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        clients.append(client)
        return GQL(client)

    yield make
    for client in clients:
        await client.aclose()


def ended(body: dict) -> bool:
    return error_codes(body) == ["UNAUTHENTICATED"] and body["errors"][0]["message"] == SESSION_ENDED


async def revoke_directly(user_id: int) -> None:
    """What another server process (or the command line) does: the database changes, this process hears nothing."""
    await Token.filter(user_id=user_id).update(revoked_at=dt.datetime.now(dt.UTC))


async def test_a_cached_token_is_refused_at_once_after_logout(gql_with_cache, world):
    gql = gql_with_cache(60)
    token = world.tokens["buyer"]
    assert "errors" not in await gql(ORDERS, token=token)  # checked, and kept for 60 s
    assert (await gql.ok("mutation { logout { ok } }", token=token))["logout"]["ok"]
    assert ended(await gql(ORDERS, token=token))


async def test_a_cached_partner_key_is_refused_at_once_after_it_is_revoked(gql_with_cache, world):
    gql = gql_with_cache(60)
    key = world.tokens["partner"]
    assert error_codes(await gql(ORDERS, token=key)) == ["FORBIDDEN"]  # a good key, kept for 60 s
    keys = await gql.ok("{ apiKeys(first: 5) { edges { node { id name } } } }", token=world.tokens["admin"])
    key_id = keys["apiKeys"]["edges"][0]["node"]["id"]
    done = await gql.ok(
        "mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { errors { code } } }",
        {"input": {"id": key_id}},
        world.tokens["admin"],
    )
    assert done["revokeApiKey"]["errors"] == []
    assert ended(await gql(ORDERS, token=key))


async def test_a_credential_is_looked_up_once_for_its_short_life_and_forgotten_after_any_mutation(
    gql_with_cache, world
):
    gql = gql_with_cache(60)
    token = world.tokens["analyst"]
    assert "errors" not in await gql(ORDERS, token=token)
    await revoke_directly(world.users["analyst"].id)
    assert "errors" not in await gql(ORDERS, token=token)  # the cached credential: no lookup
    # any mutation in this process may have changed what a credential stands for: the cache is emptied
    assert (await gql.ok("mutation { logout { ok } }", token=world.tokens["employee"]))["logout"]["ok"]
    assert ended(await gql(ORDERS, token=token))


async def test_another_processs_revocation_is_seen_within_the_cache_seconds(gql_with_cache, world):
    gql = gql_with_cache(0.5)
    token = world.tokens["treasurer"]
    assert "errors" not in await gql(ORDERS, token=token)
    await revoke_directly(world.users["treasurer"].id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60  # generous: a loaded machine; the entry lives half a second
    while not ended(body := await gql(ORDERS, token=token)):
        assert "errors" not in body, body
        assert loop.time() < deadline, "the revoked token was still accepted after 60 s"
        await asyncio.sleep(0.1)


async def test_without_the_cache_every_request_looks_the_credential_up(gql_with_cache, world):
    gql = gql_with_cache(0)
    token = world.tokens["buyer"]
    assert "errors" not in await gql(ORDERS, token=token)
    await revoke_directly(world.users["buyer"].id)
    assert ended(await gql(ORDERS, token=token))


async def test_an_owner_sees_a_new_umkm_of_his_at_once_though_his_token_is_cached(gql_with_cache, world):
    """The owner's UMKM are read per request, cached token or not: the phone of a UMKM given to him (personal data,
    owner and admins only) shows at once."""
    gql = gql_with_cache(60)
    token = world.tokens["owner"]
    assert "errors" not in await gql(ORDERS, token=token)  # checked, and kept for 60 s
    umkm = await world.umkm_for(world.users["owner"], "Usaha Baru")
    phone = "query($id: ID!) { node(id: $id) { ... on Umkm { name phone } } }"
    data = await gql.ok(phone, {"id": gid("Umkm", umkm.id)}, token)
    assert data["node"] == {"name": "Usaha Baru", "phone": "081234567890"}


# ---------------------------------------------------------------- with Redis: every process forgets at once

REDIS_URL = os.environ.get("PASAR_TEST_REDIS_URL") or "redis://127.0.0.1:6379/14"


@pytest.fixture
async def redis_app(settings):
    """An app of its own with Redis and a prefix of its own, credentials cached 60 s; its signal is closed after."""
    prefix = f"pasar-test-{uuid.uuid4().hex[:8]}"
    app_settings = dataclasses.replace(settings, credential_cache_seconds=60, redis_url=REDIS_URL, redis_prefix=prefix)
    app = create_app(app_settings, manage_database=False)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    yield GQL(client), signal_for(app_settings)
    await client.aclose()
    await signal_for(app_settings).close()


async def wait_for(condition, what: str, seconds: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds  # generous: a loaded machine
    while not await condition():
        assert loop.time() < deadline, what
        await asyncio.sleep(0.05)


async def test_a_mutation_in_another_process_ends_cached_sessions_here_at_once(redis_app, world):
    """Another process's mutation (here: its message on the channel) empties this process's cache: a token revoked
    elsewhere is refused before its 60 s are up."""
    gql, signal = redis_app
    token = world.tokens["buyer"]
    assert "errors" not in await gql(ORDERS, token=token)  # cached for 60 s; the listener starts

    async def subscribed() -> bool:
        return signal.subscribed

    await wait_for(subscribed, "the credential signal never subscribed")
    assert "errors" not in await gql(ORDERS, token=token)  # cached again (subscribing empties the cache)
    await revoke_directly(world.users["buyer"].id)
    assert "errors" not in await gql(ORDERS, token=token)  # still the cached credential
    other = aioredis.from_url(REDIS_URL)
    try:
        await other.publish(signal.channel, b"forget")  # what the other process's mutation sends
    finally:
        await other.aclose()

    async def refused() -> bool:
        return ended(await gql(ORDERS, token=token))

    await wait_for(refused, "the revoked token was still accepted after the signal")


async def test_a_mutation_here_tells_the_other_processes(redis_app, world):
    gql, signal = redis_app
    listener = aioredis.from_url(REDIS_URL)
    try:
        async with listener.pubsub() as pubsub:
            await pubsub.subscribe(signal.channel)
            assert (await gql.ok("mutation { logout { ok } }", token=world.tokens["employee"]))["logout"]["ok"]
            heard = None
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 60
            while heard is None or heard.get("type") != "message":
                assert loop.time() < deadline, "no message on the channel after a mutation"
                heard = await pubsub.get_message(timeout=1.0)
    finally:
        await listener.aclose()
