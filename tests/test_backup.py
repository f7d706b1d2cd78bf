"""`pasar backup FILE` and `pasar restore FILE` as an operator runs them, on the engine under test: every table comes
back row for row (a fingerprint of each table's rows in primary-key order), the restore ends with the omzet and
fairness drift checks, refuses the other engine's files and a database the server has open; a SQLite backup taken
while a writer keeps committing is one consistent moment of the database."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.dataset import parse_target
from tests.conftest import TEST_URL, fresh_database
from tests.test_cli import PASAR, RUN_TIMEOUT, env_for, free_port, run, stop, wait_until_serving

ROOT = Path(__file__).parent.parent
ENGINE = "postgres" if TEST_URL.startswith("postgres") else "sqlite"
DATASET = ["--preset", "XS", "--seed", "7", "--anchor", "2026-03-15"]


# ---------------------------------------------------------------- the database, straight through the driver


def _pg(url: str, work):
    async def go():
        import asyncpg

        conn = await asyncpg.connect(parse_target(url).dsn)
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(go())


def execute(url: str, *statements: str) -> None:
    target = parse_target(url)
    if target.engine == "sqlite":
        with contextlib.closing(sqlite3.connect(target.dsn)) as conn, conn:  # closed: a restore refuses open ones
            for sql in statements:
                conn.execute(sql)
        return

    async def work(conn):
        for sql in statements:
            await conn.execute(sql)

    _pg(url, work)


def _digest(rows) -> str:
    return hashlib.sha256(json.dumps([list(r) for r in rows], default=str).encode()).hexdigest()


def fingerprint(url: str) -> dict[str, tuple[int, str]]:
    """Every table: its row count and a hash of its rows in primary-key order; on PostgreSQL also every sequence's
    position (a restored database must go on numbering where the original was)."""
    target = parse_target(url)
    out: dict[str, tuple[int, str]] = {}
    if target.engine == "sqlite":
        with contextlib.closing(sqlite3.connect(target.dsn)) as conn:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            for t in tables:
                cols = conn.execute(f'PRAGMA table_info("{t}")').fetchall()  # cid, name, type, notnull, default, pk
                key = [c[1] for c in sorted(cols, key=lambda c: c[5]) if c[5]] or [c[1] for c in cols]
                order = ", ".join(f'"{k}"' for k in key)
                rows = conn.execute(f'SELECT * FROM "{t}" ORDER BY {order}').fetchall()
                out[t] = (len(rows), _digest(rows))
        return out

    async def work(conn):
        tables = [
            r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        for t in sorted(tables):
            key = await conn.fetch(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = $1::regclass AND i.indisprimary "
                "ORDER BY array_position(i.indkey::int2[], a.attnum)",
                f'"{t}"',
            )
            order = ", ".join(f'"{k["attname"]}"' for k in key) or "1"
            rows = await conn.fetch(f'SELECT * FROM "{t}" ORDER BY {order}')
            out[t] = (len(rows), _digest(rows))
        for s in await conn.fetch("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"):
            out[f"sequence {s['sequencename']}"] = (0, str(s["last_value"]))
        return out

    return _pg(url, work)


def app_tables(print_: dict[str, tuple[int, str]]) -> dict[str, tuple[int, str]]:
    """What `pasar backup` counts: the tables, without SQLite's own (sqlite_sequence, sqlite_stat1) and sequences."""
    return {t: v for t, v in print_.items() if not t.startswith(("sqlite_", "sequence "))}


def pasar(url: str, *args: str, cwd: Path, **extra: str) -> subprocess.CompletedProcess:
    return run(list(args), env_for(url, **extra), cwd)


SUMMARY = re.compile(r"^(backup|restore) \((sqlite|postgres)\) .*: (\d+) tables, ([\d,]+) rows, .* s; ", re.M)


def summary(out: str) -> tuple[str, str, int, int]:
    m = SUMMARY.search(out)
    assert m, out
    return m.group(1), m.group(2), int(m.group(3)), int(m.group(4).replace(",", ""))


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """The XS benchmark data set in a fresh database of the engine under test, with its fairness statistics
    rebuilt (a bulk load goes behind the API's back), so that the drift checks start clean."""
    folder = tmp_path_factory.mktemp("backup-src")
    with fresh_database(folder) as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PASAR_") and k != "DATABASE_URL"}
        env["PYTHONPATH"] = str(ROOT)
        r = subprocess.run(
            [sys.executable, "-m", "bench.dataset", *DATASET, "--database-url", url],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
        )
        assert r.returncode == 0, r.stderr
        r = pasar(url, "fairness", "rebuild", cwd=folder)
        assert r.returncode == 0, r.stdout + r.stderr
        yield url


@pytest.fixture
def empty_db(tmp_path):
    """Another database of the engine under test: an empty PostgreSQL database, or no SQLite file at all yet."""
    if ENGINE == "sqlite":
        yield f"sqlite://{tmp_path}/restored.sqlite3"
        return
    with fresh_database(tmp_path) as url:
        yield url


# ---------------------------------------------------------------- the round trip


def test_a_backup_restores_every_row_into_an_empty_database_and_over_a_changed_one(loaded, empty_db, tmp_path):
    before = fingerprint(loaded)
    assert app_tables(before)["order_item"][0] == 6000 and app_tables(before)["umkm_category_sales"][0] > 0
    file = tmp_path / "pasar.backup"

    r = pasar(loaded, "backup", str(file), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    action, engine, tables, rows = summary(r.stdout)
    counted = app_tables(before)
    assert (action, engine, tables, rows) == ("backup", ENGINE, len(counted), sum(n for n, _ in counted.values()))
    assert file.read_bytes().startswith(b"SQLite format 3\x00" if ENGINE == "sqlite" else b"PGDMP")

    # an existing file is kept unless --force
    stamp = file.read_bytes()
    again = pasar(loaded, "backup", str(file), cwd=tmp_path)
    assert again.returncode == 1 and "already exists" in again.stderr and "--force" in again.stderr, again.stderr
    assert "Traceback" not in again.stderr and file.read_bytes() == stamp
    forced = pasar(loaded, "backup", "--force", str(file), cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr

    # into an empty database
    r = pasar(empty_db, "restore", str(file), cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert summary(r.stdout) == ("restore", ENGINE, tables, rows)
    assert "0 differing" in r.stdout and "0 beyond tolerance" in r.stdout and "no drift" in r.stdout
    assert fingerprint(empty_db) == before

    # over the original, changed since the backup
    execute(
        loaded,
        'DELETE FROM "rating"',
        'UPDATE "product" SET "price" = "price" + 1',
        'UPDATE "umkm_monthly_sales" SET "amount" = "amount" + 5',
        'INSERT INTO "category" (name, slug, description, ranking_generation, created_at, updated_at) VALUES '
        "('Setelah backup', 'setelah-backup', '', 0, '2026-05-01 00:00:00+00:00', '2026-05-01 00:00:00+00:00')",
    )
    assert fingerprint(loaded) != before
    r = pasar(loaded, "restore", str(file), cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert fingerprint(loaded) == before
    for check in (["omzet", "rebuild", "--check"], ["fairness", "rebuild", "--check"]):
        c = pasar(loaded, *check, cwd=tmp_path)
        assert c.returncode == 0 and re.search(r" 0 (differing|beyond tolerance)", c.stdout), c.stdout + c.stderr


def test_a_restore_that_brings_back_drift_says_so_and_exits_1(loaded, empty_db, tmp_path):
    file = tmp_path / "drifted.backup"
    execute(loaded, 'UPDATE "umkm_monthly_sales" SET "amount" = "amount" + 1 WHERE "id" % 2 = 0')
    try:
        r = pasar(loaded, "backup", str(file), cwd=tmp_path)
    finally:
        execute(loaded, 'UPDATE "umkm_monthly_sales" SET "amount" = "amount" - 1 WHERE "id" % 2 = 0')
    assert r.returncode == 0, r.stderr
    r = pasar(empty_db, "restore", str(file), cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert summary(r.stdout)[0] == "restore"  # restored, then found wanting
    m = re.search(r"monthly sales rollup: (\d+) rows checked, (\d+) differing", r.stdout)
    assert m and int(m.group(1)) > int(m.group(2)) > 0, r.stdout
    assert "0 beyond tolerance" in r.stdout  # the fairness statistics were not touched
    assert "differ from the orders" in r.stderr and "Traceback" not in r.stderr


# ---------------------------------------------------------------- refusals and errors


def test_a_restore_refuses_the_other_engines_backup_and_other_files(loaded, tmp_path):
    sqlite_file = tmp_path / "sqlite.backup"
    with sqlite3.connect(sqlite_file) as conn:
        conn.execute("CREATE TABLE tortoise_migrations (id INTEGER PRIMARY KEY)")
    conn.close()
    pg_file = tmp_path / "postgres.backup"
    pg_file.write_bytes(b"PGDMP\x01\x0e\x00" + bytes(200))  # the custom-format archive's first bytes
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup\n")
    before = app_tables(fingerprint(loaded))
    other, other_name = (pg_file, "PostgreSQL") if ENGINE == "sqlite" else (sqlite_file, "SQLite")
    r = pasar(loaded, "restore", str(other), cwd=tmp_path)
    assert r.returncode == 1 and f"is a {other_name} backup" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    r = pasar(loaded, "restore", str(junk), cwd=tmp_path)
    assert r.returncode == 1 and "not a backup made by `pasar backup`" in r.stderr, r.stderr
    r = pasar(loaded, "restore", str(tmp_path / "missing.backup"), cwd=tmp_path)
    assert r.returncode == 1 and "no backup file" in r.stderr, r.stderr
    assert app_tables(fingerprint(loaded)) == before

    # SQLite files that are not backups of a Pasar database, or of one the checks cannot read (an older version)
    stranger = tmp_path / "stranger.sqlite3"
    with contextlib.closing(sqlite3.connect(stranger)) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
    target = f"sqlite://{tmp_path}/target.sqlite3"
    r = pasar(target, "restore", str(stranger), cwd=tmp_path)
    assert r.returncode == 1 and "not a Pasar one" in r.stderr and not (tmp_path / "target.sqlite3").exists()
    r = pasar(target, "restore", str(sqlite_file), cwd=tmp_path)
    assert r.returncode == 1 and summary(r.stdout)[:3] == ("restore", "sqlite", 1), r.stdout + r.stderr
    assert "restored, but the drift checks could not run: no such table" in r.stderr and "Traceback" not in r.stderr


def test_a_restore_refuses_a_database_the_server_has_open(loaded, tmp_path):
    file = tmp_path / "pasar.backup"
    assert pasar(loaded, "backup", str(file), cwd=tmp_path).returncode == 0
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*PASAR, "serve", "--port", str(port)],
            env=env_for(loaded, PASAR_FAIRNESS_REFRESH_SECONDS="0"),
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        wait_until_serving(proc, port, log)  # /healthz has queried the database: the server holds a connection
        r = pasar(loaded, "restore", str(file), cwd=tmp_path)
        assert r.returncode == 1 and "is the server running?" in r.stderr and "stop the server" in r.stderr, (
            r.stdout + r.stderr
        )
    finally:
        stop(proc)
    r = pasar(loaded, "restore", str(file), cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_postgres_tools_missing_or_failing_give_one_line_and_never_the_password(tmp_path):
    url = "postgres://pasar:s3cret-backup-pw@127.0.0.1:1/pasar"  # nothing listens on port 1
    r = pasar(url, "backup", str(tmp_path / "x.backup"), cwd=tmp_path, PATH=str(tmp_path / "no-tools"))
    assert r.returncode == 1 and "pg_dump is not installed" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    if ENGINE != "postgres":
        return  # the client tools are not needed on SQLite
    for args in (["backup", str(tmp_path / "x.backup")], ["restore", str(tmp_path / "x.backup")]):
        if args[0] == "restore":
            (tmp_path / "x.backup").write_bytes(b"PGDMP\x01\x0e\x00" + bytes(200))
        r = pasar(url, *args, cwd=tmp_path)
        assert r.returncode == 1, r.stdout + r.stderr
        lines = [ln for ln in r.stderr.strip().splitlines() if " INFO " not in ln]
        assert len(lines) == 1 and lines[0].startswith(f"pasar {args[0]}: "), r.stderr
        assert "s3cret-backup-pw" not in r.stdout + r.stderr and "Traceback" not in r.stderr
    assert [p.name for p in tmp_path.glob(".*.tmp")] == []  # no temporary file left behind


# ---------------------------------------------------------------- SQLite: a backup while a writer writes

WRITER = """
import sqlite3, sys, time, pathlib
db, stop, batch = sys.argv[1], pathlib.Path(sys.argv[2]), 10
conn = sqlite3.connect(db, timeout=5.0, isolation_level=None)  # the app's busy timeout
conn.execute("PRAGMA journal_mode = WAL")
n = conn.execute("SELECT total FROM tally").fetchone()[0]
while not stop.exists():
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO counter (n, pad) VALUES (?, randomblob(2000))", [(n + i + 1,) for i in range(batch)])
    conn.execute("UPDATE tally SET total = total + ?", (batch,))
    conn.execute("COMMIT")
    n += batch
    time.sleep(0.002)
print(n)
"""


def _sqlite_count(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as conn:
        return conn.execute("SELECT total FROM tally").fetchone()[0]


@pytest.mark.skipif(ENGINE != "sqlite", reason="SQLite's online backup; PostgreSQL's pg_dump reads one snapshot")
def test_a_sqlite_backup_while_a_writer_commits_is_one_consistent_moment(tmp_path):
    db = tmp_path / "busy.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE counter (n INTEGER PRIMARY KEY, pad BLOB NOT NULL)")
        conn.execute("CREATE TABLE tally (id INTEGER PRIMARY KEY CHECK (id = 1), total INTEGER NOT NULL)")
        # 40 MB to copy, so that the copy takes a while and the writer commits meanwhile
        conn.executemany("INSERT INTO counter (n, pad) VALUES (?, randomblob(2000))", [(i,) for i in range(1, 20001)])
        conn.execute("INSERT INTO tally VALUES (1, 20000)")
    conn.close()
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), str(stop)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    file = tmp_path / "busy.backup"
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        while _sqlite_count(db) < 20500 and writer.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert writer.poll() is None, writer.communicate(timeout=60)
        started_at = _sqlite_count(db)
        r = pasar(f"sqlite://{db}", "backup", str(file), cwd=tmp_path)
        ended_at = _sqlite_count(db)
    finally:
        stop.touch()
        _out, err = writer.communicate(timeout=RUN_TIMEOUT)
    assert writer.returncode == 0, err  # the writer was never locked out for longer than its busy timeout
    assert r.returncode == 0, r.stdout + r.stderr
    assert ended_at > started_at, "the writer made no progress while the backup ran"

    with sqlite3.connect(f"file:{file}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        total = conn.execute("SELECT total FROM tally").fetchone()[0]
        count, low, high = conn.execute("SELECT COUNT(*), MIN(n), MAX(n) FROM counter").fetchone()
    conn.close()
    # one moment: every committed batch and nothing of a batch in flight, rows 1..total without a gap
    assert (count, low, high) == (total, 1, total) and total % 10 == 0
    assert started_at <= total <= ended_at
    assert summary(r.stdout)[3] == count + 1  # the counter rows and the tally's one row


PG_WRITER = """
import asyncio, sys, pathlib
import asyncpg
async def main(dsn, stop, batch=10):
    conn = await asyncpg.connect(dsn)
    n = await conn.fetchval("SELECT total FROM tally")
    while not stop.exists():
        async with conn.transaction():
            await conn.executemany("INSERT INTO counter (n) VALUES ($1)", [(n + i + 1,) for i in range(batch)])
            await conn.execute("UPDATE tally SET total = total + $1", batch)
        n += batch
        await asyncio.sleep(0.002)
    await conn.close()
    print(n)
asyncio.run(main(sys.argv[1], pathlib.Path(sys.argv[2])))
"""


@pytest.mark.skipif(ENGINE != "postgres", reason="pg_dump's snapshot; the SQLite case is the test above")
def test_a_postgres_backup_while_a_writer_commits_is_one_snapshot_and_counts_it(empty_db, tmp_path):
    file = tmp_path / "busy.backup"
    with fresh_database(tmp_path) as url:
        assert pasar(url, "migrate", cwd=tmp_path).returncode == 0
        execute(
            url,
            "CREATE TABLE counter (n integer PRIMARY KEY)",
            "CREATE TABLE tally (id integer PRIMARY KEY CHECK (id = 1), total integer NOT NULL)",
            "INSERT INTO tally VALUES (1, 0)",
        )
        stop = tmp_path / "stop"
        writer = subprocess.Popen(
            [sys.executable, "-c", PG_WRITER, parse_target(url).dsn, str(stop)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

        def total() -> int:
            async def work(conn):
                return await conn.fetchval("SELECT total FROM tally")

            return _pg(url, work)

        try:
            deadline = time.monotonic() + RUN_TIMEOUT
            while total() < 200 and writer.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert writer.poll() is None, writer.communicate(timeout=60)
            started_at = total()
            r = pasar(url, "backup", str(file), cwd=tmp_path)
            ended_at = total()
        finally:
            stop.touch()
            _out, err = writer.communicate(timeout=RUN_TIMEOUT)
        assert writer.returncode == 0, err
    assert r.returncode == 0, r.stdout + r.stderr
    assert ended_at > started_at, "the writer made no progress while the backup ran"

    restored = pasar(empty_db, "restore", str(file), cwd=tmp_path)
    assert restored.returncode == 0, restored.stdout + restored.stderr

    async def work(conn):
        return await conn.fetchrow("SELECT COUNT(*), MIN(n), MAX(n), (SELECT total FROM tally) FROM counter")

    count, low, high, tally = _pg(empty_db, work)
    assert (count, low, high) == (tally, 1, tally) and tally % 10 == 0 and started_at <= tally <= ended_at
    # the rows the backup reported are the archive's: counted in pg_dump's own snapshot
    rows = sum(n for n, _ in app_tables(fingerprint(empty_db)).values())
    assert summary(r.stdout)[3] == rows == summary(restored.stdout)[3]
