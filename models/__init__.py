"""Tables, the database configuration and reference data.

`TORTOISE_ORM` is read by the `tortoise` CLI (see `[tool.tortoise]` in pyproject.toml) and by the app.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api.migrate import migrate as run_migrations

from models.registry import Kecamatan, Kelurahan

DEFAULT_SQLITE_URL = "sqlite://pasar.sqlite3"
# A SQLite connection waits this long (ms) for another connection's write lock instead of failing with "database is
# locked" at once: maintenance commands run beside the server's writers.
SQLITE_BUSY_TIMEOUT_MS = 30_000
MODEL_MODULES = [
    "models.accounts",
    "models.registry",
    "models.catalog",
    "models.orders",
    "models.omzet",
    "models.fairness",
    "models.outbox",
    "models.documents",
]
WILAYAH_CSV = Path(__file__).parent / "data" / "surabaya_wilayah.csv"


class ConfigError(ValueError):
    """A setting that cannot work; the message says what to fix."""


def normalise_database_url(url: str | None, pool_size: int = 10) -> str:
    """Turn DATABASE_URL into a Tortoise URL; unset means a SQLite file in the working folder."""
    url = url or DEFAULT_SQLITE_URL
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("postgres", "postgresql", "asyncpg", "postgresql+asyncpg"):
        if not parts.hostname and not parts.path.strip("/"):
            raise ConfigError(f"DATABASE_URL {url!r} names no PostgreSQL host or database")
        query = dict(parse_qsl(parts.query))
        query.setdefault("maxsize", str(pool_size))
        query.setdefault("minsize", "1")
        return urlunsplit(("postgres", parts.netloc, parts.path, urlencode(query), ""))
    if scheme == "sqlite":
        query = dict(parse_qsl(parts.query))
        query.setdefault("busy_timeout", str(SQLITE_BUSY_TIMEOUT_MS))  # Tortoise sets each parameter as a PRAGMA
        return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
    raise ConfigError(
        f"DATABASE_URL scheme {scheme!r} is not supported: use sqlite://FILE or postgres://USER@HOST:PORT/DB"
    )


def workers_refusal(workers: int, database_url: str | None, redis_url: str | None) -> str | None:
    """Why `workers` server processes cannot run on this set-up (one line), or None. SQLite serialises all work in
    one process; several processes share PostgreSQL, and Redis for what they must share beyond the database."""
    if workers < 1:
        return f"--workers {workers}: give at least 1"
    if workers == 1:
        return None
    if not normalise_database_url(database_url).startswith("postgres"):
        return f"--workers {workers} needs PostgreSQL (DATABASE_URL=postgres://...): SQLite serves one process"
    if not redis_url:
        return f"--workers {workers} needs Redis (PASAR_REDIS_URL=redis://HOST:6379/0) for the workers' shared state"
    return None


def connection_config(database_url: str | None = None, pool_size: int = 10) -> str | dict:
    """Tortoise's connection: SQLite as a URL; PostgreSQL with `models.pg` as its engine (Tortoise's asyncpg client,
    with a cheaper way back into the pool)."""
    url = normalise_database_url(database_url, pool_size)
    if not url.startswith("postgres"):
        return url
    return {"engine": "models.pg", "credentials": expand_db_url(url)["credentials"]}


def tortoise_config(database_url: str | None = None, pool_size: int = 10) -> dict:
    return {
        "connections": {"default": connection_config(database_url, pool_size)},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


try:
    TORTOISE_ORM = tortoise_config(os.environ.get("DATABASE_URL"), int(os.environ.get("PASAR_DB_POOL_SIZE") or 10))
except (ConfigError, ValueError):
    TORTOISE_ORM = {}  # for the `tortoise` CLI only; the app's settings report the problem in one line


def read_wilayah() -> list[dict[str, str]]:
    with WILAYAH_CSV.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


async def load_reference_data() -> tuple[int, int]:
    """Insert any missing kecamatan and kelurahan from the bundled CSV; returns what was added."""
    rows = read_wilayah()
    existing_kec = {k.code: k for k in await Kecamatan.all()}
    new_kec = []
    for row in rows:
        code = row["kode_kecamatan"]
        if code not in existing_kec:
            kec = Kecamatan(code=code, name=row["kecamatan"])
            existing_kec[code] = kec
            new_kec.append(kec)
    for kec in new_kec:
        await kec.save()
    existing_kel = set(await Kelurahan.all().values_list("code", flat=True))
    new_kel = [
        Kelurahan(code=r["kode_kelurahan"], name=r["kelurahan"], kecamatan_id=existing_kec[r["kode_kecamatan"]].id)
        for r in rows
        if r["kode_kelurahan"] not in existing_kel
    ]
    if new_kel:
        await Kelurahan.bulk_create(new_kel)
    return len(new_kec), len(new_kel)


async def migrate(config: dict) -> None:
    """Apply the committed migrations, then the reference data."""
    await run_migrations(config=config)
    # The migration API initialises Tortoise without binding models to connections: bind them for the data load.
    await Tortoise.init(config=config)
    await load_reference_data()
