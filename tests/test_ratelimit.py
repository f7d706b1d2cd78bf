"""Rate limits per caller (schema/ratelimit.py), the client address (schema/client.py) and the WebSocket limits.

Each test builds its own app with tight limits (the suite's app has them off). Windows are an hour long, so that no
window ends in the middle of a test however slow the machine is. Redis tests use a key prefix of their own and
delete their keys; Redis is expected at PASAR_TEST_REDIS_URL (default redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace

import httpx
import pytest
import redis.asyncio as aioredis
from httpx_ws import WebSocketDisconnect, aconnect_ws
from starlette.applications import Starlette
from starlette.datastructures import Headers

from app import Settings, SettingsError, create_app
from schema.client import client_address
from schema.ratelimit import DEFAULT_RATE_LIMITS, parse_rate_limits
from tests.conftest import SECRET
from tests.test_subscriptions import PROTOCOL, ROOT, free_port, init, receive, wait_healthy, ws_client

REDIS_URL = os.environ.get("PASAR_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"
QUERY = "{ __typename }"
WAIT = 30.0


def limited(settings: Settings, rate_limits: str, **changes) -> Starlette:
    return create_app(dataclasses.replace(settings, rate_limits=rate_limits, **changes), manage_database=False)


@contextlib.asynccontextmanager
async def client_of(app, host: str = "203.0.113.5") -> AsyncIterator[httpx.AsyncClient]:
    """A client whose socket peer is `host` (what the server sees as `request.client`)."""
    transport = httpx.ASGITransport(app=app, client=(host, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def ask(client: httpx.AsyncClient, token: str | None = None, **headers: str) -> httpx.Response:
    if token:
        headers["authorization"] = f"Bearer {token}"
    return await client.post("/graphql", json={"query": QUERY}, headers=headers)


async def allowed_of(client: httpx.AsyncClient, n: int, token: str | None = None, **headers: str) -> list[int]:
    return [(await ask(client, token, **headers)).status_code for _ in range(n)]


def assert_refused(r: httpx.Response, policy: str, limit: int, window: int) -> None:
    assert r.status_code == 429, r.text
    body = r.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED", body
    assert error["extensions"]["policy"] == policy and error["extensions"]["limit"] == limit
    retry_after = int(r.headers["retry-after"])
    assert 1 <= retry_after <= window
    assert error["extensions"]["retryAfter"] == retry_after
    assert r.headers["ratelimit-policy"] == f'"{policy}";q={limit};w={window}'
    assert r.headers["ratelimit"] == f'"{policy}";r=0;t={retry_after}'  # t and Retry-After name the same moment


# ---------------------------------------------------------------- over the limit


async def test_over_the_limit_a_caller_gets_429_retry_after_ratelimit_headers_and_rate_limited(settings):
    app = limited(settings, "anonymous=3/hour")
    async with client_of(app) as client:
        for remaining in (2, 1, 0):
            r = await ask(client)
            assert r.status_code == 200 and r.json()["data"] == {"__typename": "Query"}, r.text
            assert r.headers["ratelimit-policy"] == '"anonymous";q=3;w=3600'
            r_param, t_param = r.headers["ratelimit"].split(";")[1:]
            assert r_param == f"r={remaining}" and 0 < int(t_param.removeprefix("t=")) <= 3600
            assert "retry-after" not in r.headers
        refused = await ask(client)
        assert_refused(refused, "anonymous", 3, 3600)
        # a refused request is not run: the next one is refused as well
        assert_refused(await ask(client), "anonymous", 3, 3600)


async def test_the_default_limits_are_on_without_a_setting(settings):
    """Settings() without PASAR_RATE_LIMITS limits anonymous callers to 60 a minute (the documented default)."""
    app = create_app(dataclasses.replace(settings, rate_limits=Settings().rate_limits), manage_database=False)
    async with client_of(app) as client:
        r = await ask(client)
        assert r.headers["ratelimit-policy"] == '"anonymous";q=60;w=60'
        statuses = await allowed_of(client, 60)
    assert statuses == [200] * 59 + [429]


async def test_limits_differ_per_role_and_each_user_has_their_own_count(settings, world):
    app = limited(settings, "anonymous=1/hour;user=2/hour;ADMIN=4/hour;partner=3/hour")
    async with client_of(app) as client:
        # an owner (UMKM_OWNER has no entry: the users' limit), the admin, a partner key: one address, three counts
        assert await allowed_of(client, 3, world.tokens["owner"]) == [200, 200, 429]
        assert await allowed_of(client, 5, world.tokens["admin"]) == [200] * 4 + [429]
        assert await allowed_of(client, 4, world.partner_key) == [200] * 3 + [429]
        assert_refused(await ask(client, world.tokens["owner"]), "user", 2, 3600)
        assert_refused(await ask(client, world.tokens["admin"]), "ADMIN", 4, 3600)
        assert_refused(await ask(client, world.partner_key), "partner", 3, 3600)
        # another user from the same address still has a full count
        r = await ask(client, world.tokens["buyer"])
        assert r.status_code == 200 and r.headers["ratelimit"].startswith('"user";r=1;')
        # and the address's anonymous count is its own
        assert await allowed_of(client, 2) == [200, 429]


async def test_a_rejected_token_is_counted_as_its_address_not_as_a_new_caller(settings, world):
    app = limited(settings, "anonymous=2/hour;user=100/hour")
    async with client_of(app) as client:
        statuses = [(await ask(client, f"made-up-token-{i}")).status_code for i in range(3)]
    assert statuses == [200, 200, 429]


async def test_anonymous_callers_are_limited_per_address(settings):
    app = limited(settings, "anonymous=2/hour")
    async with client_of(app, "203.0.113.10") as one, client_of(app, "203.0.113.11") as other:
        assert await allowed_of(one, 3) == [200, 200, 429]
        assert await allowed_of(other, 3) == [200, 200, 429]


async def test_a_browser_page_on_an_allowed_origin_can_read_the_rate_limit_headers(settings):
    app = limited(settings, "anonymous=1/hour", cors_origins=("https://pasar.surabaya.go.id",))
    async with client_of(app) as client:
        origin = {"origin": "https://pasar.surabaya.go.id"}
        for status in (200, 429):
            r = await ask(client, **origin)
            assert r.status_code == status and r.headers["access-control-allow-origin"] == origin["origin"]
            exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
            assert {"ratelimit", "ratelimit-policy", "retry-after"} <= exposed


async def test_healthz_is_not_limited(settings):
    app = limited(settings, "anonymous=1/hour")
    async with client_of(app) as client:
        assert await allowed_of(client, 2) == [200, 429]
        for _ in range(3):
            r = await client.get("/healthz")
            assert r.status_code == 200 and "ratelimit" not in r.headers


# ---------------------------------------------------------------- the client address


async def test_a_trusted_proxys_forwarded_address_is_the_caller(settings):
    app = limited(settings, "anonymous=2/hour", trusted_proxies=("10.0.0.0/8",))
    async with client_of(app, "10.0.0.2") as proxy:
        assert await allowed_of(proxy, 3, **{"x-forwarded-for": "198.51.100.7"}) == [200, 200, 429]
        # another client behind the same proxy has its own count
        assert await allowed_of(proxy, 1, **{"x-forwarded-for": "198.51.100.8"}) == [200]
        # a client that writes an address of its own into the header: the proxy appends the real one, which counts
        spoofed = {"x-forwarded-for": "192.0.2.99, 198.51.100.7"}
        assert await allowed_of(proxy, 1, **spoofed) == [429]
        # two trusted proxies in a row: the hop before them is the client
        assert await allowed_of(proxy, 1, **{"x-forwarded-for": "198.51.100.7, 10.0.0.9"}) == [429]


async def test_an_untrusted_peer_cannot_choose_its_address_with_forwarded_for(settings):
    app = limited(settings, "anonymous=2/hour", trusted_proxies=("10.0.0.0/8",))
    async with client_of(app, "203.0.113.20") as client:
        statuses = [
            (await ask(client, **{"x-forwarded-for": f"198.51.100.{i}"})).status_code for i in range(1, 4)
        ]  # a new address each time: ignored, the peer is not a trusted proxy
    assert statuses == [200, 200, 429]


def connection(peer: str | None, *forwarded: str) -> SimpleNamespace:
    headers = Headers(raw=[(b"x-forwarded-for", f.encode()) for f in forwarded])
    return SimpleNamespace(client=SimpleNamespace(host=peer, port=1) if peer else None, headers=headers)


def test_client_address_reads_forwarded_for_from_the_right_and_only_behind_trusted_proxies():
    trusting = SimpleNamespace(trusted_proxies=("10.0.0.0/8", "2001:db8::/32", "127.0.0.1"))
    nobody = SimpleNamespace(trusted_proxies=())
    assert client_address(connection("203.0.113.1", "198.51.100.1"), nobody) == "203.0.113.1"
    assert client_address(connection("203.0.113.1", "198.51.100.1"), trusting) == "203.0.113.1"
    assert client_address(connection("10.1.2.3", "198.51.100.1"), trusting) == "198.51.100.1"
    assert client_address(connection("10.1.2.3", "1.1.1.1, 198.51.100.1, 10.0.0.5"), trusting) == "198.51.100.1"
    # several headers are one list, in order
    assert client_address(connection("10.1.2.3", "1.1.1.1", "198.51.100.2"), trusting) == "198.51.100.2"
    # ports and brackets as proxies write them; IPv6 proxies; an IPv4-mapped peer
    assert client_address(connection("10.1.2.3", "198.51.100.3:5000"), trusting) == "198.51.100.3"
    assert client_address(connection("2001:db8::1", "[2001:db9::7]:443"), trusting) == "2001:db9::7"
    assert client_address(connection("::ffff:10.1.2.3", "198.51.100.4"), trusting) == "198.51.100.4"
    # a hop that is no address ends the walk at the last trusted proxy; no header: the proxy itself
    assert client_address(connection("10.1.2.3", "evil, junk"), trusting) == "10.1.2.3"
    assert client_address(connection("10.1.2.3", "198.51.100.5, 10.0.0.7"), trusting) == "198.51.100.5"
    assert client_address(connection("10.1.2.3"), trusting) == "10.1.2.3"
    assert client_address(connection("127.0.0.1", "10.0.0.1"), trusting) == "10.0.0.1"  # all trusted: the farthest
    assert client_address(connection(None), trusting) == "unknown"


# ---------------------------------------------------------------- settings


def test_rate_limit_settings_are_checked_at_start_up():
    assert Settings.from_env({}).rate_limits == DEFAULT_RATE_LIMITS
    defaults = parse_rate_limits(DEFAULT_RATE_LIMITS)
    assert (defaults["anonymous"].amount, defaults["anonymous"].get_expiry()) == (60, 60)
    assert "OPD_BUYER" not in defaults and defaults["user"].amount == 300 and defaults["ADMIN"].amount == 1200
    over = parse_rate_limits("anonymous=10/second; admin=off")
    assert over["anonymous"].amount == 10 and over["ADMIN"] is None and over["partner"].amount == 600
    assert set(parse_rate_limits("off").values()) == {None}
    env = {"PASAR_TRUSTED_PROXIES": "10.0.0.1, 172.16.0.0/12", "PASAR_REDIS_URL": "redis://127.0.0.1:6379/3"}
    s = Settings.from_env(env)
    assert s.trusted_proxies == ("10.0.0.1", "172.16.0.0/12") and s.redis_url.endswith("/3") and s.workers == 1
    for bad in (
        {"PASAR_RATE_LIMITS": "anonymous=lots"},
        {"PASAR_RATE_LIMITS": "visitors=10/minute"},
        {"PASAR_RATE_LIMITS": "anonymous"},
        {"PASAR_TRUSTED_PROXIES": "10.0.0.1, proxy.local"},
        {"PASAR_REDIS_URL": "http://127.0.0.1:6379"},
        {"PASAR_WORKERS": "0"},
    ):
        with pytest.raises(SettingsError):
            Settings.from_env(bad)


# ---------------------------------------------------------------- shared through Redis


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"pasar-test-{uuid.uuid4().hex[:12]}"
    client = aioredis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as e:
        await client.aclose()
        pytest.fail(f"these tests need Redis at {REDIS_URL} (PASAR_TEST_REDIS_URL): {e}")
    try:
        yield prefix
    finally:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def redis_keys(prefix: str) -> list[bytes]:
    client = aioredis.from_url(REDIS_URL)
    try:
        return [k async for k in client.scan_iter(match=f"{prefix}*")]
    finally:
        await client.aclose()


async def test_two_apps_sharing_a_redis_share_one_limit(settings, redis_prefix):
    shared = {"redis_url": REDIS_URL, "redis_prefix": redis_prefix}
    one, other = (limited(settings, "anonymous=4/hour", **shared) for _ in range(2))
    async with client_of(one) as a, client_of(other) as b:
        statuses = [(await ask(c)).status_code for c in (a, b, a, b, a, b)]
        remaining = (await ask(b)).headers["ratelimit"]
    assert statuses == [200, 200, 200, 200, 429, 429]
    assert remaining.startswith('"anonymous";r=0;')
    assert await redis_keys(redis_prefix)  # the count is in Redis
    # the same two apps without Redis: each counts alone
    alone = [limited(settings, "anonymous=4/hour") for _ in range(2)]
    async with client_of(alone[0]) as a, client_of(alone[1]) as b:
        assert [(await ask(c)).status_code for c in (a, b, a, b, a, b)] == [200] * 6


async def test_two_server_processes_sharing_a_redis_share_one_limit(settings, redis_prefix):
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "PASAR_SECRET": SECRET,
        "PYTHONPATH": str(ROOT),
        "PASAR_FAIRNESS_REFRESH_SECONDS": "0",
        "PASAR_RATE_LIMITS": "anonymous=5/hour",
        "PASAR_REDIS_URL": REDIS_URL,
        "PASAR_REDIS_PREFIX": redis_prefix,
        "PASAR_WORKERS": "2",
    }
    for name in ("PASAR_HOST", "PASAR_PORT"):
        env.pop(name, None)
    ports = [free_port(), free_port()]
    logs = [tempfile.TemporaryFile(), tempfile.TemporaryFile()]  # files, not pipes: a full pipe would stall a server
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app", "serve", "--port", str(port),
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        for port, log in zip(ports, logs, strict=True)
    ]  # fmt: skip
    try:
        async with httpx.AsyncClient() as client:
            for port, proc in zip(ports, procs, strict=True):
                await wait_healthy(client, f"http://127.0.0.1:{port}", proc)
            statuses = []
            for i in range(8):
                r = await client.post(f"http://127.0.0.1:{ports[i % 2]}/graphql", json={"query": QUERY}, timeout=WAIT)
                statuses.append(r.status_code)
        assert statuses == [200] * 5 + [429] * 3
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 10)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
        for log in logs:
            log.seek(0)
            output = log.read().decode(errors="replace")
            log.close()
            if "Traceback" in output or "WARNING" in output:
                print(output[-4000:], file=sys.stderr)  # shown by pytest when the test fails


async def test_without_redis_a_process_counts_alone_with_its_share_and_warns_once(settings, caplog):
    caplog.set_level(logging.INFO, logger="pasar.ratelimit")
    closed = free_port()  # nothing listens there
    app = limited(settings, "anonymous=4/hour", redis_url=f"redis://127.0.0.1:{closed}/0", workers=2)
    app.state.graphql_view.rate_limits.retry_seconds = 0  # every request tries Redis again, and fails: still one log
    async with client_of(app) as client:
        responses = [await ask(client) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 429, 429]  # 4 / 2 workers
    assert responses[0].headers["ratelimit-policy"] == '"anonymous";q=2;w=3600'
    assert_refused(responses[2], "anonymous", 2, 3600)
    warnings = [r for r in caplog.records if r.name == "pasar.ratelimit" and r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert f"127.0.0.1:{closed}" in warnings[0].getMessage() and "PASAR_WORKERS = 2" in warnings[0].getMessage()


class Cuttable:
    """A TCP proxy to Redis that a test cuts (every connection dropped, nothing listening) and restores."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for w in self.writers:
            w.close()
        self.writers.clear()
        await self.server.wait_closed()
        self.server = None

    async def close(self) -> None:
        if self.server is not None:
            await self.cut()


async def test_when_redis_comes_back_the_limit_is_shared_again_and_logged_once(settings, redis_prefix, caplog):
    caplog.set_level(logging.INFO, logger="pasar.ratelimit")
    host, port = httpx.URL(REDIS_URL).host, httpx.URL(REDIS_URL).port or 6379
    proxy = Cuttable((host, port))
    await proxy.start()
    url = f"redis://127.0.0.1:{proxy.port}/{httpx.URL(REDIS_URL).path.strip('/') or 0}"
    app = limited(settings, "anonymous=100/hour", redis_url=url, redis_prefix=redis_prefix, workers=4)
    limits = app.state.graphql_view.rate_limits

    def logged(level: int) -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "pasar.ratelimit" and r.levelno == level]

    try:
        async with client_of(app) as client:
            r = await ask(client)
            assert r.headers["ratelimit-policy"] == '"anonymous";q=100;w=3600' and await redis_keys(redis_prefix)
            await proxy.cut()
            for _ in range(3):
                r = await ask(client)
                assert r.status_code == 200 and r.headers["ratelimit-policy"] == '"anonymous";q=25;w=3600'
            assert len(logged(logging.WARNING)) == 1 and logged(logging.INFO) == []
            await proxy.start()
            limits.retry_seconds = 0.05  # try Redis again soon (5 s in a server)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + WAIT
            while (await ask(client)).headers["ratelimit-policy"] != '"anonymous";q=100;w=3600':
                assert loop.time() < deadline, "the limiter did not go back to Redis"
                await asyncio.sleep(0.1)
            r = await ask(client)
            assert r.headers["ratelimit"].startswith('"anonymous";r=')
            assert 100 - int(r.headers["ratelimit"].split(";")[1].removeprefix("r=")) >= 3  # Redis kept counting
        assert len(logged(logging.WARNING)) == 1
        assert len(logged(logging.INFO)) == 1 and "again" in logged(logging.INFO)[0]
    finally:
        await limits.close()
        await proxy.close()


# ---------------------------------------------------------------- WebSocket


async def test_too_many_websockets_of_one_caller_are_refused(settings, world):
    app = limited(settings, "off", ws_max_connections=2)
    owner = world.tokens["owner"]
    async with ws_client(app) as client, contextlib.AsyncExitStack() as stack:
        for _ in range(2):
            await init(
                await stack.enter_async_context(aconnect_ws("http://test/graphql", client, subprotocols=[PROTOCOL])),
                owner,
            )
        async with aconnect_ws("http://test/graphql", client, subprotocols=[PROTOCOL]) as third:
            await third.send_json({"type": "connection_init", "payload": {"token": owner}})
            with pytest.raises(WebSocketDisconnect) as closed:
                msg = await receive(third)
                pytest.fail(f"expected the third connection to be closed, got {msg}")
            assert closed.value.code == 4429, closed.value
        # another caller is not counted with the owner
        async with aconnect_ws("http://test/graphql", client, subprotocols=[PROTOCOL]) as buyer:
            await init(buyer, world.tokens["buyer"])
    # when the owner's sockets have closed, the owner may open new ones
    async with ws_client(app) as client, aconnect_ws("http://test/graphql", client, subprotocols=[PROTOCOL]) as again:
        await init(again, owner)
    assert app.state.graphql_view.ws_limits.open == {}


async def test_too_many_anonymous_websockets_from_one_address_are_refused(settings):
    app = limited(settings, "off", ws_max_connections=1)
    async with ws_client(app) as client:
        async with aconnect_ws("http://test/graphql", client, subprotocols=[PROTOCOL]) as first:
            await init(first, None)
            async with aconnect_ws("http://test/graphql", client, subprotocols=[PROTOCOL]) as second:
                await second.send_json({"type": "connection_init", "payload": {}})
                with pytest.raises(WebSocketDisconnect) as closed:
                    await receive(second)
                assert closed.value.code == 4429


async def test_a_websocket_flooding_messages_is_closed(settings):
    app = limited(settings, "off", ws_max_messages_per_second=5)
    async with ws_client(app) as client:
        async with aconnect_ws("http://test/graphql", client, subprotocols=[PROTOCOL]) as calm:
            await init(calm, None)
            for _ in range(3):  # fewer than the limit in any second
                await calm.send_json({"type": "ping"})
                assert (await asyncio.wait_for(calm.receive_json(), WAIT))["type"] == "pong"
        async with aconnect_ws("http://test/graphql", client, subprotocols=[PROTOCOL]) as flood:
            await init(flood, None)
            with pytest.raises(WebSocketDisconnect) as closed:
                for _ in range(1000):  # as fast as it can: more than 5 within one second
                    for _ in range(20):
                        await flood.send_json({"type": "ping"})
                    for _ in range(20):
                        assert (await asyncio.wait_for(flood.receive_json(), WAIT))["type"] == "pong"
            assert closed.value.code == 4429, closed.value
            assert "Too many messages" in (closed.value.reason or "")


async def test_the_local_windows_count_as_the_limits_library_s_fixed_window_in_memory(monkeypatch):
    """`LocalWindows` (the count of one process, without Redis) against `limits`' own fixed window over its memory
    storage, on the same clock and the same hits of a few callers: the same count and the same end of window at
    every hit."""
    import random

    from limits.aio.storage import MemoryStorage
    from limits.aio.storage import memory as limits_memory

    from schema import ratelimit

    now = [1_764_460_800.0]
    clock = SimpleNamespace(time=lambda: now[0], monotonic=lambda: now[0])
    monkeypatch.setattr(ratelimit, "time", clock)
    monkeypatch.setattr(limits_memory, "time", clock)
    ours, theirs = ratelimit.LocalWindows(), MemoryStorage()
    rng = random.Random(16)
    for _ in range(2_000):
        now[0] += rng.choice([0.0, 0.1, 0.7, 3.0, 9.5])
        key, expiry = rng.choice(["anonymous/1.2.3.4", "user/7", "partner/3"]), rng.choice([10, 60])
        expected = await theirs.incr(key, expiry), await theirs.get_expiry(key)
        assert ours.incr(key, expiry) == expected, (now[0], key)


def test_the_local_windows_stay_within_their_bound(monkeypatch):
    from schema import ratelimit

    now = [1000.0]
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: now[0]))
    windows = ratelimit.LocalWindows(max_keys=4)
    for caller in "abcd":
        assert windows.incr(caller, 60) == (1, 1060.0)
    now[0] = 1030.0
    assert windows.incr("a", 60) == (2, 1060.0) and windows.incr("e", 10) == (1, 1040.0)  # full: the oldest half went
    assert len(windows) == 3 and windows.incr("d", 60) == (2, 1060.0) and windows.incr("b", 60) == (1, 1090.0)
    now[0] = 1061.0  # a, c, d have ended: dropped when the next new key finds the table full
    assert windows.incr("f", 60) == (1, 1121.0) and windows.incr("g", 60) == (1, 1121.0)
    assert len(windows) <= 4 and windows.incr("b", 60) == (2, 1090.0)
    for n in range(1_000):
        windows.incr(f"caller-{n}", 60)
        assert len(windows) <= 4
