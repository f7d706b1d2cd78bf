"""SQLite maintenance commands beside a server's writers wait for the write lock instead of failing with "database is
locked" (the busy timeout on every connection, and rebuilds that take the write lock before they read)."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from tests.conftest import TEST_URL
from tests.test_cli import ROOT, env_for, run

pytestmark = pytest.mark.skipif(TEST_URL.startswith("postgres"), reason="SQLite's write lock")
WRITERS = 16


def writers(path: str, stop: threading.Event, counts: list[int], errors: list[str]) -> list[threading.Thread]:
    """Threads that commit short write transactions in a loop, each on its own connection (as a server's requests)."""

    def write(i: int) -> None:
        conn = sqlite3.connect(path, timeout=60, isolation_level=None)
        try:
            while not stop.is_set():
                conn.execute("BEGIN IMMEDIATE")
                conn.execute('UPDATE "kecamatan" SET "name" = "name" WHERE "id" = ?', (i % 31 + 1,))
                conn.execute('UPDATE "kelurahan" SET "name" = "name" WHERE "id" = ?', (i + 1,))
                conn.execute("COMMIT")
                counts[i] += 1
        except sqlite3.Error as e:  # pragma: no cover - reported by the test
            errors.append(str(e))
        finally:
            conn.close()

    return [threading.Thread(target=write, args=(i,), daemon=True) for i in range(WRITERS)]


def test_rebuilds_beside_sixteen_writers_wait_for_the_lock_and_succeed(tmp_path):
    path = tmp_path / "busy.sqlite3"
    env = env_for(f"sqlite://{path}")
    migrated = run(["migrate"], env, ROOT)
    assert migrated.returncode == 0, migrated.stderr
    stop, counts, errors = threading.Event(), [0] * WRITERS, []
    threads = writers(str(path), stop, counts, errors)
    for t in threads:
        t.start()
    try:
        results = [run([*command, "rebuild"], env, ROOT) for command in (["fairness"], ["omzet"]) * 2]
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=120)
    assert not errors, errors
    assert all(counts), counts  # every writer committed while the rebuilds ran
    for r in results:
        assert r.returncode == 0, r.stderr
        assert "database is locked" not in r.stderr
