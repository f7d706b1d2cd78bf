"""Several worker processes: refused where they cannot work, and background jobs run by one process at a time."""

from __future__ import annotations

import asyncio
import subprocess
import time

import asyncpg
import httpx
import pytest

from models.jobs import lock_key, single_runner
from tests.conftest import TEST_URL
from tests.test_cli import (
    HTTP_TIMEOUT,
    PASAR,
    READY_TIMEOUT,
    ROOT,
    RUN_TIMEOUT,
    env_for,
    free_port,
    stop,
    wait_until_serving,
)

ON_POSTGRES = TEST_URL.startswith("postgres")
postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="advisory locks and several workers need PostgreSQL")


def serve(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*PASAR, "serve", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT
    )


@pytest.mark.parametrize(
    ("url", "redis", "needs"),
    [
        ("sqlite:///tmp/pasar-workers-refused.sqlite3", "redis://127.0.0.1:6379/0", "PostgreSQL"),
        ("postgres://postgres@127.0.0.1:5432/pasar_never_opened", None, "PASAR_REDIS_URL"),
    ],
)
def test_several_workers_are_refused_on_sqlite_or_without_redis_in_one_line(url, redis, needs):
    env = env_for(url, **({"PASAR_REDIS_URL": redis} if redis else {}))
    r = serve(["--workers", "2", "--port", str(free_port())], env)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pasar serve: --workers 2 needs") and needs in lines[0], r.stderr
    assert r.stdout == ""  # refused before anything started


def test_a_redis_url_that_is_not_one_is_a_setting_error():
    r = serve(["--workers", "2"], env_for(TEST_URL or "sqlite:///tmp/x.sqlite3", PASAR_REDIS_URL="localhost:6379"))
    assert r.returncode == 2 and "PASAR_REDIS_URL" in r.stderr and len(r.stderr.strip().splitlines()) == 1


async def test_on_sqlite_the_one_process_always_runs_the_job(database):
    if ON_POSTGRES:
        pytest.skip("SQLite only")
    async with single_runner("fairness-refresh") as a, single_runner("fairness-refresh") as b:
        assert a and b


@postgres_only
async def test_two_connections_exactly_one_runs_the_job_at_a_time(database):
    """Two tasks, each on its own pooled connection (as two workers would be): one runs, the other skips; after the
    first is done the job is free again. Another job's name is another lock."""
    inside = asyncio.Event()
    leave = asyncio.Event()
    ran: list[str] = []

    async def worker(name: str) -> None:
        async with single_runner("fairness-refresh") as mine:
            if mine:
                ran.append(name)
                inside.set()
                await leave.wait()

    first = asyncio.create_task(worker("first"))
    await asyncio.wait_for(inside.wait(), timeout=60)
    await worker("second")  # the lock is held by `first`: skips without waiting
    async with single_runner("another-job") as other:
        assert other
    assert ran == ["first"]
    leave.set()
    await first
    await worker("third")
    assert ran == ["first", "third"]


@postgres_only
async def test_a_job_held_by_another_process_is_skipped_until_it_lets_go(database):
    """The lock held by another session (another worker process's connection), then released, then that session
    dying while it holds it: PostgreSQL frees it with the session."""
    other = await asyncpg.connect(TEST_URL)
    try:
        assert await other.fetchval("SELECT pg_try_advisory_lock($1)", lock_key("fairness-refresh"))
        async with single_runner("fairness-refresh") as mine:
            assert not mine
        await other.execute("SELECT pg_advisory_unlock($1)", lock_key("fairness-refresh"))
        async with single_runner("fairness-refresh") as mine:
            assert mine
        assert await other.fetchval("SELECT pg_try_advisory_lock($1)", lock_key("fairness-refresh"))
    finally:
        await other.close()  # dies holding it
    async with single_runner("fairness-refresh") as mine:
        assert mine


@postgres_only
def test_two_workers_on_postgresql_with_redis_serve_the_api(database, tmp_path):
    port = free_port()
    log = tmp_path / "serve.log"
    env = env_for(TEST_URL, PASAR_REDIS_URL="redis://127.0.0.1:6379/15")
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*PASAR, "serve", "--workers", "2", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        wait_until_serving(proc, port, log)
        # The first worker to finish its start-up answers /healthz; the second may still be starting on a busy
        # machine: wait (generously) until both said so, then ask.
        deadline = time.monotonic() + READY_TIMEOUT
        while log.read_text().count("Application startup complete") < 2:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"two workers did not both start:\n{log.read_text()}")
            time.sleep(0.5)
        assert log.read_text().count("Started server process") == 2, log.read_text()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=HTTP_TIMEOUT) as client:
            for _ in range(4):
                r = client.post("/graphql", json={"query": "{ kecamatans { code } }"})
                assert r.status_code == 200 and len(r.json()["data"]["kecamatans"]) == 31
    finally:
        stop(proc)
