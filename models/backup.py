"""Backup and restore of the whole database (`pasar backup FILE`, `pasar restore FILE`).

SQLite: SQLite's online backup API (`sqlite3.Connection.backup`) copies the database named by DATABASE_URL in one
step, inside one read transaction: in WAL mode (the app's) writers go on while it runs and the copy is the database
as it was at one moment. The copy is written next to FILE, checked with `PRAGMA integrity_check`, then renamed over
FILE. A restore copies FILE (checked first) to a temporary file next to the database and renames it over the
database, after making sure that no other connection has the database open: the server must be stopped.

PostgreSQL: `pg_dump --format=custom` and `pg_restore --clean --if-exists --no-owner --single-transaction`, run as
subprocesses. The connection comes from DATABASE_URL; a password goes to the tools in PGPASSWORD, never on their
command line. The backup's row counts are read in the transaction whose snapshot pg_dump uses (`--snapshot`), so
they are the archive's.

What a file holds is told by its first bytes: "SQLite format 3" or pg_dump's custom-format "PGDMP"; a restore refuses
a file made on the other engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import asyncpg

try:
    import fcntl
except ImportError:  # Windows has no fcntl: there the exclusive lock alone tells whether the database is in use
    fcntl = None

from models import ConfigError, normalise_database_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
# The app's SQLite connections wait this long on a locked database (aiosqlite's and sqlite3's default); so do ours.
SQLITE_BUSY_TIMEOUT = 5.0
SHM_DMS_BYTE = 128
MIGRATIONS_TABLE = "tortoise_migrations"  # every database built by `pasar migrate` has it
# Query parameters of DATABASE_URL that configure Tortoise's pool, not the connection (libpq refuses them).
TORTOISE_ONLY_PARAMS = {"minsize", "maxsize", "max_queries", "max_inactive_connection_lifetime", "pool_recycle"}


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is one line saying why."""


@dataclass(frozen=True)
class Summary:
    """What a backup or restore did."""

    action: str  # "backup" or "restore"
    engine: str  # "sqlite" or "postgres"
    database: str  # the SQLite file, or db@host:port (no password)
    file: Path
    tables: int
    rows: int
    size: int  # bytes of FILE
    seconds: float
    verified: str  # how the result was checked

    def line(self) -> str:
        arrow = f"{self.database} -> {self.file}" if self.action == "backup" else f"{self.file} -> {self.database}"
        return (
            f"{self.action} ({self.engine}) {arrow}: {self.tables} tables, {self.rows:,} rows, "
            f"{_size(self.size)}, {self.seconds:.2f} s; {self.verified}"
        )


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


# ---------------------------------------------------------------- where the database is


@dataclass(frozen=True)
class PgTarget:
    uri: str  # postgresql://user@host:port/db?… without the password: for libpq (the tools) and asyncpg
    password: str | None
    label: str  # db@host:port, for messages

    def tool_env(self) -> dict[str, str]:
        env = dict(os.environ)  # PGPASSWORD, PGSSLMODE, ~/.pgpass… set by the operator still apply
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        return env


def _engine(database_url: str | None) -> tuple[str, str]:
    try:
        url = normalise_database_url(database_url)
    except ConfigError as e:
        raise BackupError(str(e)) from None
    return ("postgres" if url.startswith("postgres:") else "sqlite"), url


def sqlite_path(url: str) -> Path:
    parts = urlsplit(url)
    path = parts.netloc + parts.path  # Tortoise reads sqlite://FILE this way
    if not path or path == ":memory:":
        raise BackupError("DATABASE_URL names an in-memory SQLite database: there is nothing to back up or restore")
    return Path(path)


def pg_target(url: str) -> PgTarget:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in TORTOISE_ONLY_PARAMS]
    host = parts.hostname or dict(query).get("host") or "localhost"
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    netloc = (quote(user, safe="") + "@" if user else "") + (parts.netloc.rpartition("@")[2])
    uri = urlunsplit(("postgresql", netloc, parts.path, urlencode(query), ""))
    label = f"{unquote(parts.path.lstrip('/'))}@{host}" + (f":{parts.port}" if parts.port else "")
    return PgTarget(uri=uri, password=password, label=label)


# ---------------------------------------------------------------- files


def _magic(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_CUSTOM_MAGIC):
        return "postgres"
    return "unknown"


def _check_backup_file(path: Path, engine: str) -> None:
    if not path.is_file():
        raise BackupError(f"no backup file {path}")
    kind = _magic(path)
    if kind == engine:
        return
    names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
    if kind == "unknown":
        raise BackupError(
            f"{path} is not a backup made by `pasar backup` (neither a SQLite database nor a pg_dump custom-format "
            "archive)"
        )
    raise BackupError(
        f"{path} is a {names[kind]} backup but DATABASE_URL names a {names[engine]} database: restore it into a "
        f"{names[kind]} database (a backup cannot move between engines)"
    )


def _refuse_existing(file: Path, force: bool) -> None:
    if file.exists() and not force:
        raise BackupError(f"{file} already exists: choose another name or pass --force to overwrite it")
    if file.exists() and not file.is_file():
        raise BackupError(f"{file} exists and is not a file")
    if not file.parent.is_dir():
        raise BackupError(f"folder {file.parent} does not exist")


@contextlib.contextmanager
def _temporary_next_to(path: Path, purpose: str) -> Iterator[Path]:
    """A temporary file name in `path`'s folder (so that a rename onto `path` is atomic), removed if still there."""
    tmp = path.parent / f".{path.name}.{purpose}-{os.getpid()}.tmp"
    _remove(tmp)
    try:
        yield tmp
    finally:
        _remove(tmp)


def _file_size(path: Path) -> int:
    return path.stat().st_size


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace(tmp: Path, path: Path) -> None:
    """Rename `tmp` onto `path` durably: the file's data first, then the rename, then the folder entry."""
    _fsync(tmp)
    os.replace(tmp, path)
    with contextlib.suppress(OSError):  # not every file system lets a folder be opened for fsync
        _fsync(path.parent)


# ---------------------------------------------------------------- SQLite


def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
    ).fetchall()
    return [r[0] for r in rows]


def _sqlite_counts(conn: sqlite3.Connection) -> tuple[int, int]:
    tables = _sqlite_tables(conn)
    rows = 0
    for t in tables:
        name = t.replace('"', '""')
        rows += conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]
    return len(tables), rows


def _integrity(conn: sqlite3.Connection) -> str:
    result = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
    return "ok" if result == ["ok"] else "; ".join(result[:3])


def _sqlite_connect(path: Path, mode: str) -> sqlite3.Connection:
    """A connection that never creates a missing file (`mode` is the URI's: ro or rw)."""
    uri = f"file:{quote(str(path.resolve()))}?mode={mode}"
    return sqlite3.connect(uri, uri=True, timeout=SQLITE_BUSY_TIMEOUT, isolation_level=None)


def _sqlite_backup(source: Path, file: Path, force: bool) -> Summary:
    started = time.perf_counter()
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source} (DATABASE_URL); nothing to back up")
    _refuse_existing(file, force)
    if file.exists() and file.resolve() == source.resolve():
        raise BackupError(f"{file} is the database itself: write the backup somewhere else")
    with _temporary_next_to(file, "backup") as tmp:
        src = _sqlite_connect(source, "rw")
        try:
            dst = sqlite3.connect(tmp, isolation_level=None)
            try:
                # pages=-1: the whole database in one step, inside one read transaction, so the copy is the
                # database at one moment; in WAL mode the writers are not held up meanwhile.
                src.backup(dst, pages=-1)
                # A self-contained file: no -wal beside it, readable where it is copied to.
                dst.execute("PRAGMA journal_mode = DELETE")
                verdict = _integrity(dst)
                if verdict != "ok":
                    raise BackupError(f"the copy failed PRAGMA integrity_check ({verdict}); {file} was not written")
                tables, rows = _sqlite_counts(dst)
            finally:
                dst.close()
        except sqlite3.Error as e:
            raise BackupError(f"SQLite backup of {source} failed: {e}") from None
        finally:
            src.close()
        _replace(tmp, file)
    return Summary(
        "backup",
        "sqlite",
        str(source),
        file,
        tables,
        rows,
        _file_size(file),
        time.perf_counter() - started,
        "integrity_check ok",
    )


def _shm_in_use(target: Path) -> bool:
    """Whether a WAL-mode connection has the database open, even idle: each one holds a shared lock on the
    "dead man switch" byte of the -shm file (byte 128 in SQLite's unix VFS) for as long as it is open, and SQLite
    itself tests it with an exclusive lock to know whether it is the last connection."""
    shm = target.with_name(target.name + "-shm")
    if fcntl is None or not shm.exists():
        return False
    fd = os.open(shm, os.O_RDWR)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, SHM_DMS_BYTE)
    except OSError:
        return True
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, SHM_DMS_BYTE)
        return False
    finally:
        os.close(fd)


def _refuse_if_in_use(target: Path) -> None:
    """Refused while any other connection (the server, even idle) has the database open: the -shm file's lock, then
    the database taken for ourselves for a moment (an exclusive lock)."""
    if _shm_in_use(target):
        raise BackupError(f"the database {target} is in use (is the server running?): stop the server, then restore")
    try:
        conn = _sqlite_connect(target, "rw")
    except sqlite3.Error as e:
        raise BackupError(f"cannot open the database {target}: {e}") from None
    try:
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError as e:
        if "locked" in str(e) or "busy" in str(e):
            raise BackupError(
                f"the database {target} is in use (is the server running?): stop the server, then restore"
            ) from None
        raise BackupError(f"cannot open the database {target}: {e}") from None
    finally:
        conn.close()  # the last connection: SQLite checkpoints the WAL into the file and removes it


def _sqlite_restore(target: Path, file: Path) -> Summary:
    started = time.perf_counter()
    _check_backup_file(file, "sqlite")
    if target.exists() and target.resolve() == file.resolve():
        raise BackupError(f"{file} is the database itself")
    if not target.parent.is_dir():
        raise BackupError(f"folder {target.parent} of the database does not exist")
    try:
        src = _sqlite_connect(file, "ro")
    except sqlite3.Error as e:
        raise BackupError(f"cannot read {file}: {e}") from None
    try:
        try:
            verdict = _integrity(src)
            tables = _sqlite_tables(src)
        except sqlite3.DatabaseError as e:
            raise BackupError(f"{file} is damaged: {e}") from None
        if verdict != "ok":
            raise BackupError(f"{file} failed PRAGMA integrity_check ({verdict}); the database was not touched")
        if MIGRATIONS_TABLE not in tables:
            raise BackupError(f"{file} is a SQLite database but not a Pasar one (it has no {MIGRATIONS_TABLE} table)")
        if target.exists():
            _refuse_if_in_use(target)
        with _temporary_next_to(target, "restore") as tmp:
            dst = sqlite3.connect(tmp, isolation_level=None)
            try:
                src.backup(dst, pages=-1)
                dst.execute("PRAGMA journal_mode = WAL")  # as the app's connections set it
                n_tables, rows = _sqlite_counts(dst)
            finally:
                dst.close()
            # Left behind by a server that did not shut down cleanly: they belong to the old file, not to ours.
            for suffix in ("-wal", "-shm", "-journal"):
                _remove(target.with_name(target.name + suffix))
            _replace(tmp, target)
    except sqlite3.Error as e:
        raise BackupError(f"SQLite restore from {file} failed: {e}") from None
    finally:
        src.close()
    return Summary(
        "restore",
        "sqlite",
        str(target),
        file,
        n_tables,
        rows,
        _file_size(file),
        time.perf_counter() - started,
        "backup passed integrity_check",
    )


# ---------------------------------------------------------------- PostgreSQL


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed or not on PATH: install the PostgreSQL client tools (e.g. the "
            "postgresql-client package) of the server's major version or newer"
        )
    return path


def _one_line(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode(errors="replace").splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error" in ln.lower() or "fatal" in ln.lower()] or lines
    return re.sub(r"\s+", " ", " / ".join(errors[:3])) or "no message"


async def _run_tool(args: list[str], target: PgTarget) -> bytes:
    """Run a client tool; its standard output, or BackupError with its error in one line."""
    proc = await asyncio.create_subprocess_exec(
        *args, env=target.tool_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        name = Path(args[0]).name
        message = _one_line(err)
        if target.password:
            message = message.replace(target.password, "***")
        raise BackupError(f"{name} failed (exit {proc.returncode}): {message}")
    return out


async def _pg_connect(target: PgTarget) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(target.uri, password=target.password, timeout=60)
    except (OSError, asyncpg.PostgresError, TimeoutError) as e:
        message = str(e) or type(e).__name__
        if target.password:
            message = message.replace(target.password, "***")
        raise BackupError(f"cannot connect to PostgreSQL database {target.label}: {message}") from None


async def _pg_counts(conn: asyncpg.Connection) -> tuple[int, int]:
    tables = await conn.fetch(
        "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') "
        "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1"
    )
    rows = 0
    for t in tables:
        rows += await conn.fetchval(f"SELECT COUNT(*) FROM {t['name']}")
    return len(tables), rows


async def _pg_list(file: Path, target: PgTarget) -> list[str]:
    """The archive's table of contents (pg_restore --list): proof that pg_restore can read it."""
    out = await _run_tool([_tool("pg_restore"), "--list", str(file)], target)
    return [ln for ln in out.decode(errors="replace").splitlines() if ln and not ln.startswith(";")]


async def _pg_backup(target: PgTarget, file: Path, force: bool) -> Summary:
    started = time.perf_counter()
    _refuse_existing(file, force)
    pg_dump = _tool("pg_dump")
    _tool("pg_restore")  # to verify the archive
    conn = await _pg_connect(target)
    try:
        with _temporary_next_to(file, "backup") as tmp:
            # The counts and pg_dump see the same snapshot: the one this transaction exports and holds.
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
                tables, rows = await _pg_counts(conn)
                args = [pg_dump, "--format=custom", "--no-password", f"--snapshot={snapshot}", f"--file={tmp}"]
                await _run_tool([*args, f"--dbname={target.uri}"], target)
            entries = sum(1 for ln in await _pg_list(tmp, target) if " TABLE DATA " in ln)
            _replace(tmp, file)
    finally:
        await conn.close()
    return Summary(
        "backup",
        "postgres",
        target.label,
        file,
        tables,
        rows,
        _file_size(file),
        time.perf_counter() - started,
        f"pg_restore reads the archive ({entries} table data entries)",
    )


async def _pg_restore(target: PgTarget, file: Path) -> Summary:
    started = time.perf_counter()
    _check_backup_file(file, "postgres")
    pg_restore = _tool("pg_restore")
    if not any(re.search(rf" TABLE \S+ {MIGRATIONS_TABLE}( |$)", ln) for ln in await _pg_list(file, target)):
        raise BackupError(f"{file} is a PostgreSQL archive but not of a Pasar database (no {MIGRATIONS_TABLE} table)")
    conn = await _pg_connect(target)
    try:
        others = await conn.fetchval(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        if others:
            raise BackupError(
                f"the database {target.label} has {others} other connection(s) (is the server running?): stop the "
                "server, then restore"
            )
        args = [pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error"]
        await _run_tool([*args, "--no-password", f"--dbname={target.uri}", str(file)], target)
        tables, rows = await _pg_counts(conn)
    finally:
        await conn.close()
    return Summary(
        "restore",
        "postgres",
        target.label,
        file,
        tables,
        rows,
        _file_size(file),
        time.perf_counter() - started,
        "pg_restore in one transaction",
    )


# ---------------------------------------------------------------- entry points


async def backup(database_url: str | None, file: Path, force: bool = False) -> Summary:
    """Copy the database named by `database_url` to `file`; refuses an existing `file` unless `force`."""
    engine, url = _engine(database_url)
    try:
        if engine == "sqlite":
            return await asyncio.to_thread(_sqlite_backup, sqlite_path(url), file, force)
        return await _pg_backup(pg_target(url), file, force)
    except OSError as e:
        raise BackupError(f"backup to {file} failed: {e}") from None


async def restore(database_url: str | None, file: Path) -> Summary:
    """Replace the database named by `database_url` with the backup `file` (the server must be stopped)."""
    engine, url = _engine(database_url)
    try:
        if engine == "sqlite":
            return await asyncio.to_thread(_sqlite_restore, sqlite_path(url), file)
        return await _pg_restore(pg_target(url), file)
    except OSError as e:
        raise BackupError(f"restore from {file} failed: {e}") from None
