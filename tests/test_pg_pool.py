"""The PostgreSQL pool (models/pg.py): a connection with nothing to undo goes back at once, without asyncpg's task and
reset statement; one left in a transaction, or marked as holding session state, goes back as asyncpg returns it (rolled
back, reset); and no statement in the app leaves session state on a pooled connection unmarked."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import asyncpg
import pytest
from asyncpg.pool import Pool
from tortoise import connections

from models import pg
from models.jobs import lock_key, single_runner
from tests.conftest import TEST_URL

ROOT = Path(__file__).resolve().parent.parent
ON_POSTGRES = TEST_URL.startswith("postgres")
postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="the PostgreSQL pool")


@pytest.fixture
async def one_connection_pool():
    """A pool of one connection: every acquire gets the connection the last release put back."""
    pool = await pg.create_pool(TEST_URL, min_size=1, max_size=1)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
def asyncpg_releases(monkeypatch) -> list[str]:
    """Each time a connection goes back by asyncpg's own release (a task, the reset), the connection's state then."""
    seen: list[str] = []
    original = Pool.release

    async def release(self, connection, *, timeout=None):  # noqa: ASYNC109 (asyncpg's signature)
        seen.append("in transaction" if connection.is_in_transaction() else "idle")
        return await original(self, connection, timeout=timeout)

    monkeypatch.setattr(Pool, "release", release)
    return seen


@postgres_only
async def test_the_app_uses_the_pool_and_a_read_goes_back_without_asyncpg_release(database, asyncpg_releases):
    client = connections.get("default")
    assert isinstance(client, pg.PasarAsyncpgClient)
    assert await client.execute_query_dict("SELECT 1 AS one") == [{"one": 1}]
    assert isinstance(client._pool, pg.PasarPool)
    assert asyncpg_releases == []  # the statement's connection went straight back
    free = client._pool._queue.qsize()
    for _ in range(20):
        await client.execute_query_dict("SELECT 1 AS one")
    assert client._pool._queue.qsize() == free and asyncpg_releases == []


@postgres_only
async def test_a_statement_that_fails_or_is_cancelled_goes_back_by_asyncpg_s_release(database, asyncpg_releases):
    """A statement cut short (cancelled while the server runs it) or refused: its connection goes back by asyncpg's
    release, which waits for the cancellation and resets the connection (or drops it), never at once; afterwards
    every connection of the pool answers."""
    client = connections.get("default")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(client.execute_query("SELECT pg_sleep(30)"), timeout=0.5)
    assert asyncpg_releases == ["idle"]
    with pytest.raises(Exception, match="syntax"):
        await client.execute_query("SELEC 1")
    assert asyncpg_releases == ["idle", "idle"]
    answers = await asyncio.gather(*(client.execute_query_dict("SELECT 1 AS one") for _ in range(30)))
    assert answers == [[{"one": 1}]] * 30 and len(asyncpg_releases) == 2


@postgres_only
async def test_a_connection_left_in_a_transaction_is_not_put_back_at_once(one_connection_pool):
    pool = one_connection_pool
    conn = await pool.acquire()
    await conn.execute("BEGIN")
    await conn.execute("CREATE TEMP TABLE left_behind (x int)")
    assert not pool.put_back(conn)
    await pool.release(conn)  # asyncpg's: rolled back
    async with pool.acquire() as conn:
        assert not conn.is_in_transaction()
        assert await conn.fetchval("SELECT to_regclass('pg_temp.left_behind')") is None


@postgres_only
async def test_a_marked_connection_is_reset_and_an_unmarked_one_would_keep_its_lock(one_connection_pool):
    """The mark is what stands between a session-level lock and the next user of the connection: without it the
    lock stays on the pooled connection (which is why the app marks it, and the code check below looks for it)."""
    pool = one_connection_pool
    key = lock_key("test-pool-reset")
    other = await asyncpg.connect(TEST_URL)
    try:
        for marked in (True, False):
            conn = await pool.acquire()
            if marked:
                conn.mark_session_state()
            assert await conn.fetchval("SELECT pg_try_advisory_lock($1)", key)
            assert pool.put_back(conn) is not marked
            if marked:
                await pool.release(conn)  # asyncpg's, with its reset
            taken = await other.fetchval("SELECT pg_try_advisory_lock($1)", key)
            assert taken is marked, marked
            if taken:
                await other.execute("SELECT pg_advisory_unlock($1)", key)
        async with pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_unlock_all()")
    finally:
        await other.close()


@postgres_only
async def test_a_job_lock_goes_with_its_run_even_when_the_run_is_cancelled(database):
    entered = asyncio.Event()

    async def job() -> None:
        async with single_runner("test-pool-job") as mine:
            assert mine
            entered.set()
            await asyncio.sleep(3600)

    task = asyncio.create_task(job())
    await asyncio.wait_for(entered.wait(), timeout=60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    other = await asyncpg.connect(TEST_URL)
    try:
        assert await other.fetchval("SELECT pg_try_advisory_lock($1)", lock_key("test-pool-job"))
    finally:
        await other.close()
    async with single_runner("test-pool-job") as mine:
        assert mine  # and the app's own pool can take it again


SESSION_STATE = [
    (re.compile(r"pg_(try_)?advisory_lock(_shared)?\s*\("), "a session-level advisory lock"),
    (re.compile(r"\bLISTEN\b"), "LISTEN"),
    (re.compile(r"\(\s*f?[\"']{1,3}\s*(SET|RESET)\s+(?!LOCAL\b)"), "a session setting"),  # a statement's start
    (re.compile(r"\bset_config\s*\("), "a session setting"),
    (re.compile(r"\bCREATE\s+(TEMP|TEMPORARY)\b", re.I), "a temporary table"),
    (re.compile(r"\bDECLARE\s+\w+\s+.*CURSOR\b", re.I), "a cursor"),
    (re.compile(r"\(\s*f?[\"']{1,3}\s*PREPARE\s"), "a prepared statement"),
]
# where each may appear: the job lock marks its connection; LISTEN runs on a connection of the events' own
ALLOWED = {"a session-level advisory lock": {"models/jobs.py"}, "LISTEN": {"resolvers/events.py"}}


def test_no_statement_of_the_app_leaves_session_state_on_a_pooled_connection_unmarked():
    files = [ROOT / "app.py"]
    for folder in ("models", "resolvers", "schema", "exports", "demo", "dasbor"):
        files += sorted((ROOT / folder).rglob("*.py"))
    assert len(files) > 50
    found: dict[str, set[str]] = {}
    for path in files:
        name = path.relative_to(ROOT).as_posix()
        if name == "models/pg.py":
            continue  # its docstring names them
        text = path.read_text(encoding="utf-8")
        for pattern, what in SESSION_STATE:
            if pattern.search(text):
                found.setdefault(what, set()).add(name)
    unexpected = {what: names - ALLOWED.get(what, set()) for what, names in found.items()}
    assert not any(unexpected.values()), unexpected
    assert found.get("a session-level advisory lock") == {"models/jobs.py"}  # the check does see one
    assert "mark_session_state" in (ROOT / "models/jobs.py").read_text(encoding="utf-8")
