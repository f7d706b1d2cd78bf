"""Test harness: one database per session (SQLite file, or PostgreSQL from PASAR_TEST_DATABASE_URL), built with
the committed migrations, emptied between tests; clients call the real ASGI app over HTTP (httpx)."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
from tortoise import Tortoise, connections

import models
from app import Settings, create_app
from models.accounts import ApiKey, Token, User
from models.base import OpdKind, Role, UmkmStatus
from models.catalog import Product
from models.query import empty_tables
from models.registry import Category, Kecamatan, Kelurahan, Opd, Umkm, UmkmStatusChange
from resolvers import accounts

TEST_URL = os.environ.get("PASAR_TEST_DATABASE_URL") or ""
SECRET = "test-secret-0123456789"
REFERENCE_TABLES = {"kecamatan", "kelurahan"}


def pytest_report_header(config):
    return (
        f"pasar database: {'PostgreSQL ' + TEST_URL if TEST_URL.startswith('postgres') else 'SQLite (temporary file)'}"
    )


@pytest.fixture(scope="session")
def database_url():
    if TEST_URL:
        yield TEST_URL
        return
    with tempfile.TemporaryDirectory(prefix="pasar-test-") as d:
        yield f"sqlite://{d}/test.sqlite3"


@pytest.fixture(scope="session")
def settings(database_url) -> Settings:
    # rate limits and admission control off: the suite's app must not throttle or queue its own tests
    # (tests/test_ratelimit.py and tests/test_admission.py build apps with them on)
    return Settings(
        database_url=database_url,
        secret=SECRET,
        count_sql=True,
        pool_size=40,
        session_check_seconds=1,
        rate_limits="off",
        admission_rate=0,
        ws_max_connections=0,
        ws_max_messages_per_second=0,
    )


@pytest.fixture(scope="session")
async def database(settings):
    config = settings.tortoise_config()
    await models.migrate(config)  # the committed migrations build the test database on both engines
    await Tortoise.close_connections()
    await Tortoise.init(config=config, _enable_global_fallback=True)
    yield config
    await Tortoise.close_connections()


def dialect() -> str:
    return connections.get("default").capabilities.dialect


async def truncate() -> None:
    tables = [m._meta.db_table for m in Tortoise.apps.get_models_iterable() if m._meta.db_table not in REFERENCE_TABLES]
    await empty_tables(tables)


@pytest.fixture
async def clean_db(database):
    await truncate()
    yield


@pytest.fixture(autouse=True)
def database_for_async_tests(request):
    """Every async test starts on an emptied test database (built with the migrations once per session). A plain
    (sync) test cannot await the database: pure tests (the SDL, the floor plan, property tests of pure functions)
    neither migrate nor empty it, unless they ask for `database` themselves."""
    if pytest_asyncio.is_async_test(request.node):  # also an async test under hypothesis' @given
        request.getfixturevalue("clean_db")


@pytest.fixture(scope="session")
def app(settings, database):
    return create_app(settings, manage_database=False)


@pytest.fixture
async def http(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


class GQL:
    """Calls /graphql like a front-end would."""

    def __init__(self, client: httpx.AsyncClient):
        self.client = client

    async def raw(self, query: str, variables: dict | None = None, token: str | None = None, **kw) -> httpx.Response:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        headers.update(kw.pop("headers", {}))
        return await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers, **kw
        )

    async def __call__(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        r = await self.raw(query, variables, token)
        assert r.status_code == 200, r.text
        return r.json()

    async def ok(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        """Data of a call that must succeed without GraphQL errors."""
        body = await self(query, variables, token)
        assert "errors" not in body, body
        return body["data"]


@pytest.fixture
def gql(http) -> GQL:
    return GQL(http)


@pytest.fixture
async def gql_from(app):
    """`gql_from("10.0.0.7")`: a client whose requests come from that address (the socket peer the server sees), one
    per address, closed after the test; the throttle counts by address."""
    clients: dict[str, httpx.AsyncClient] = {}

    def at(host: str) -> GQL:
        if host not in clients:
            transport = httpx.ASGITransport(app=app, client=(host, 40000))
            clients[host] = httpx.AsyncClient(transport=transport, base_url="http://test")
        return GQL(clients[host])

    yield at
    for client in clients.values():
        await client.aclose()


def error_codes(body: dict) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


_password_hash: str | None = None
_seq = itertools.count(1)
PASSWORD = "rahasia-123"


def password_hash() -> str:
    global _password_hash
    if _password_hash is None:
        _password_hash = accounts.hash_password(PASSWORD)
    return _password_hash


class _Ctx:
    def __init__(self, settings: Settings):
        self.settings = settings
        from resolvers.common import SystemClock

        self.clock = SystemClock()


def gid(type_name: str, pk: int) -> str:
    from schema.relay import to_global_id

    return to_global_id(type_name, pk)


@dataclass
class World:
    """A small city: one OPD with its staff, two owners with verified UMKM, pending and suspended UMKM."""

    settings: Settings
    tokens: dict[str, str] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    kecamatan: Any = None
    kecamatan2: Any = None
    kelurahan: Any = None
    opd: Any = None
    opd2: Any = None
    umkm: Any = None
    other_umkm: Any = None
    pending_umkm: Any = None
    suspended_umkm: Any = None
    batik: Any = None
    snack: Any = None
    product: Any = None
    other_product: Any = None
    suspended_product: Any = None
    partner_key: str = ""

    async def user(self, name: str, role: Role, opd: Opd | None = None) -> tuple[User, str]:
        n = next(_seq)
        user = await User.create(
            email=f"{name}{n}@test.id",
            password_hash=password_hash(),
            full_name=name.title(),
            role=role,
            opd_id=opd.id if opd else None,
        )
        token = await accounts.issue_token(_Ctx(self.settings), user)
        self.users[name], self.tokens[name] = user, token
        return user, token

    async def umkm_for(self, owner: User, name: str, status: UmkmStatus = UmkmStatus.VERIFIED, kelurahan=None) -> Umkm:
        kel = kelurahan or self.kelurahan
        n = next(_seq)
        umkm = await Umkm.create(
            owner=owner,
            name=name,
            nib=f"{9100000000000 + n}",
            owner_name=f"Pak {name}",
            phone="081234567890",
            address="Jl. Tunjungan 1",
            kelurahan_id=kel.id,
            kecamatan_id=kel.kecamatan_id,
            status=status,
            bank_name="Bank Jatim",
            bank_account="0011223344",
            bank_account_name=f"Pak {name}",
            verified_at=dt.datetime.now(dt.UTC) if status is not UmkmStatus.PENDING else None,
        )
        await UmkmStatusChange.create(umkm=umkm, to_status=status, note="test")
        return umkm

    async def product_for(self, umkm: Umkm, name: str, price: int = 150_000, category=None, **kw) -> Product:
        return await Product.create(
            umkm=umkm,
            category=category or self.batik,
            name=name,
            description=kw.pop("description", f"{name} asli Surabaya"),
            unit=kw.pop("unit", "potong"),
            price=price,
            stock=kw.pop("stock", 50),
            **kw,
        )


async def build_world(settings: Settings) -> World:
    w = World(settings=settings)
    kecs = await Kecamatan.all().order_by("code").limit(2)
    w.kecamatan, w.kecamatan2 = kecs
    w.kelurahan = await Kelurahan.filter(kecamatan_id=w.kecamatan.id).order_by("code").first()
    w.opd = await Opd.create(code="DISPENDIK", name="Dinas Pendidikan", kind=OpdKind.DINAS, kecamatan_id=w.kecamatan.id)
    w.opd2 = await Opd.create(code="DINKES", name="Dinas Kesehatan", kind=OpdKind.DINAS, kecamatan_id=w.kecamatan2.id)
    await w.user("admin", Role.ADMIN)
    await w.user("analyst", Role.ANALYST)
    await w.user("buyer", Role.OPD_BUYER, w.opd)
    await w.user("treasurer", Role.OPD_TREASURER, w.opd)
    await w.user("employee", Role.EMPLOYEE, w.opd)
    owner, _ = await w.user("owner", Role.UMKM_OWNER)
    other, _ = await w.user("other_owner", Role.UMKM_OWNER)
    w.batik = await Category.create(name="Batik", slug="batik")
    w.snack = await Category.create(name="Konsumsi rapat", slug="konsumsi-rapat")
    w.umkm = await w.umkm_for(owner, "Batik Kenongo")
    w.other_umkm = await w.umkm_for(other, "Batik Lain")
    w.pending_umkm = await w.umkm_for(other, "Baru Daftar", UmkmStatus.PENDING)
    w.suspended_umkm = await w.umkm_for(other, "Ditangguhkan", UmkmStatus.SUSPENDED)
    w.product = await w.product_for(w.umkm, "Kemeja batik tulis")
    w.other_product = await w.product_for(w.other_umkm, "Kain batik cap", 200_000)
    w.suspended_product = await w.product_for(w.suspended_umkm, "Batik suspended", 175_000)
    # tokens were issued before the owners had UMKM: the principal reads ownership per request, so they still work
    raw, _key = await accounts.create_api_key(_AdminCtx(settings, w.users["admin"].id), "Mitra", None)
    w.partner_key = raw
    w.tokens["partner"] = raw
    return w


class _AdminCtx(_Ctx):
    def __init__(self, settings: Settings, admin_id: int):
        super().__init__(settings)
        from resolvers.common import Principal

        self.principal = Principal(user_id=admin_id, role=Role.ADMIN)


@pytest.fixture
async def world(settings) -> World:
    return await build_world(settings)


__all__ = ["ApiKey", "Token"]


class FixedClock:
    """A clock a test sets: `clock.at(datetime)`."""

    def __init__(self, now: dt.datetime):
        self._now = now

    def now(self) -> dt.datetime:
        return self._now.astimezone(dt.UTC)  # in UTC, as the server's clock gives it (times are written as given)

    def at(self, when: dt.datetime) -> None:
        self._now = when


@pytest.fixture
def clock(app):
    """Freezes the server's clock for one test (the view's clock feeds every request's context)."""
    view = app.state.graphql_view
    original = view.clock
    fixed = FixedClock(dt.datetime.now(dt.UTC))
    view.clock = fixed
    yield fixed
    view.clock = original


@contextlib.contextmanager
def fresh_database(folder) -> Iterator[str]:
    """An empty database of the engine under test (a SQLite file in `folder`, or a new PostgreSQL database on the
    test server), dropped afterwards; for tests that run the CLI or the benchmarks in a subprocess."""
    if not TEST_URL.startswith("postgres"):
        yield f"sqlite://{folder}/fresh.sqlite3"
        return
    import asyncio
    import uuid

    import asyncpg

    base = TEST_URL.split("?", 1)[0].rsplit("/", 1)[0]
    name = f"pasar_fresh_{uuid.uuid4().hex[:8]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(base + "/postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
