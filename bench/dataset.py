"""A seeded, believable Surabaya data set at benchmark scale, loaded fast into SQLite or PostgreSQL.

    python -m bench.dataset --preset S|L|XS --database-url URL [--seed N] [--anchor YYYY-MM-DD] [--fresh]

The target is migrated with the committed migrations (Tortoise); the rows are then bulk-loaded through the raw
driver in one transaction: PostgreSQL with asyncpg `COPY` (binary), SQLite with `executemany` (synchronous=OFF,
foreign keys checked once at the end with `PRAGMA foreign_key_check`). Ids are explicit (1..n per table); the
PostgreSQL sequences are moved past them afterwards, so the app can insert as usual.

What is generated (one `random.Random(seed)`; the same seed and anchor give the same rows):

* the category tree, ~45 OPD with budgets and staff (buyers, a treasurer, employees), an admin and an analyst;
* `preset.umkm` UMKM, one owner account each, spread over the kelurahan; ~90% VERIFIED, the rest PENDING,
  SUSPENDED or REJECTED, with their status history; names, products and prices from the demo's trade templates;
* `preset.products` products (5 per UMKM);
* orders of 1-5 lines adding up to exactly `preset.lines` order lines, from 70% of the verified UMKM with a heavy
  tail (Zipf over a shuffled ranking): ~89% counted (DELIVERED or PAID, delivered over the last 24 months with
  growth as sellers join, a few early-morning deliveries so the Jakarta month differs from the UTC month), the rest
  rejected, cancelled or still open; every order with its full event trail, payments for PAID orders, ratings
  for a quarter of the counted ones, capacity use of made-to-order products;
* the `umkm_monthly_sales` rollup, filled with the same GROUP BY as `resolvers.sales.recompute_monthly_sales`.

Every account shares the password `BENCH_PASSWORD` (hashed once), so later HTTP benchmarks can log in.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import random
import sqlite3
import sys
import time
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from itertools import accumulate
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import models
from demo.tables import (
    ADDRESS_PREFIXES,
    BANKS,
    CANCEL_REASONS,
    CATEGORY_TREE,
    FEMALE_FIRST,
    FEMALE_LAST,
    MALE_FIRST,
    MALE_LAST,
    OPD_ROWS,
    PHONE_PREFIXES,
    QTY_BY_CATEGORY,
    RATING_COMMENTS,
    REJECT_REASONS,
    STREET_SUFFIX,
    SUSPEND_NOTES,
    TRADES,
    VERIFY_NOTES,
    slugify,
)
from models.base import OpdKind, Role, Scale, ScaleSource, UmkmStatus
from models.orders import COUNTED_STATUSES, OrderKind, OrderSource, OrderStatus

# ---------------------------------------------------------------- presets and knobs


@dataclasses.dataclass(frozen=True)
class Preset:
    name: str
    umkm: int
    products: int
    lines: int  # order lines (order_item rows)


PRESETS = {
    p.name: p
    for p in (
        Preset("XS", 300, 1_500, 6_000),
        Preset("S", 10_000, 50_000, 200_000),
        Preset("L", 100_000, 500_000, 1_000_000),
    )
}

BENCH_PASSWORD = "pasar-bench-2026"
EMAIL_DOMAIN = "bench.pasar.id"
OPD_COUNT = 45
STAFF_PER_OPD = ((Role.OPD_BUYER, 2), (Role.OPD_TREASURER, 1), (Role.EMPLOYEE, 3))
HISTORY_DAYS = 730  # deliveries over the last 24 months
UMKM_AGE_DAYS = (20, 1100)  # registered this long before the anchor
STATUS_SHARES = (
    (UmkmStatus.VERIFIED, 0.90),
    (UmkmStatus.PENDING, 0.05),
    (UmkmStatus.SUSPENDED, 0.03),
    (UmkmStatus.REJECTED, 0.02),
)
SCALE_SHARES = ((Scale.MIKRO, 0.80), (Scale.KECIL, 0.15), (Scale.MENENGAH, 0.05))
SELLER_SHARE = 0.70  # of the verified UMKM ever get an order
ZIPF_S = 0.75  # popularity by rank: 1 / rank ** ZIPF_S
LINE_WEIGHTS = (40, 25, 17, 10, 8)  # orders of 1..5 lines (mean ~2.2)
PERSONAL_SHARE = 0.05
RATED_SHARE = 0.25
# what becomes of an order: counted (DELIVERED, or PAID once the payment date has passed), rejected, cancelled, open
FATE_SHARES = (("counted", 0.89), ("rejected", 0.04), ("cancelled", 0.04), ("open", 0.03))
SOURCE_SHARES = ((OrderSource.SEARCH, 0.85), (OrderSource.UNDER_SOLD_LIST, 0.10), (OrderSource.BULK_PLAN, 0.05))
CHUNK = 10_000  # UMKM or orders generated and loaded per batch

DAY = 86_400
WIB = 7 * 3_600  # Asia/Jakarta is UTC+7 all year
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
UTC = dt.UTC

# ---------------------------------------------------------------- tables (column order of the generated tuples)

COLUMNS: dict[str, tuple[str, ...]] = {
    "user": ("id", "email", "password_hash", "full_name", "role", "opd_id", "active", "created_at", "updated_at"),
    "opd": ("id", "code", "name", "kind", "kecamatan_id", "address", "active", "created_at", "updated_at"),
    "opd_budget": ("id", "opd_id", "year", "amount", "created_at", "updated_at"),
    "category": ("id", "name", "slug", "description", "parent_id", "created_at", "updated_at", "ranking_generation"),
    "umkm": (
        "id", "owner_id", "name", "nib", "description", "owner_name", "phone", "address", "kelurahan_id",
        "kecamatan_id", "serves_city_wide", "scale", "scale_source", "status", "verified_at", "bank_name",
        "bank_account", "bank_account_name", "created_at", "updated_at",
    ),
    "umkm_served_kecamatan": ("id", "umkm_id", "kecamatan_id"),
    "umkm_status_change": ("id", "umkm_id", "from_status", "to_status", "actor_id", "note", "created_at"),
    "product": (
        "id", "umkm_id", "category_id", "name", "description", "unit", "price", "image_urls", "options",
        "made_to_order", "stock", "monthly_capacity", "lead_time_days", "min_order_quantity", "active",
        "created_at", "updated_at",
    ),
    "order": (
        "id", "number", "kind", "opd_id", "buyer_id", "umkm_id", "placement_id", "status", "total", "needed_by",
        "delivery_address", "note", "source", "source_rank", "accepted_at", "shipped_at", "delivered_at",
        "received_by", "paid_at", "closed_reason", "created_at", "updated_at",
    ),
    "order_item": (
        "id", "order_id", "product_id", "category_id", "option", "name", "unit", "unit_price", "quantity",
        "subtotal", "capacity_period",
    ),
    "order_event": ("id", "order_id", "from_status", "to_status", "actor_id", "note", "created_at"),
    "payment": ("id", "order_id", "amount", "reference", "paid_on", "recorded_by_id", "created_at"),
    "rating": ("id", "order_id", "umkm_id", "score", "comment", "rated_by_id", "created_at"),
    "capacity_use": ("id", "product_id", "period", "used"),
}  # fmt: skip
# tables this module fills (loading order respects the foreign keys), and the rollup filled in SQL
LOADED_TABLES = (*COLUMNS, "umkm_monthly_sales")
REFERENCE_TABLES = ("kecamatan", "kelurahan")


# ---------------------------------------------------------------- target database


@dataclasses.dataclass(frozen=True)
class Target:
    engine: str  # "postgres" or "sqlite"
    url: str  # for Tortoise
    dsn: str  # for asyncpg, or the SQLite file


TORTOISE_ONLY_PARAMS = {"minsize", "maxsize", "max_queries", "max_inactive_connection_lifetime", "pool_recycle"}


def parse_target(url: str) -> Target:
    """The engine and raw-driver address of a DATABASE_URL (the same forms the app accepts)."""
    tortoise_url = models.normalise_database_url(url)
    parts = urlsplit(tortoise_url)
    if parts.scheme == "postgres":
        query = [(k, v) for k, v in parse_qsl(parts.query) if k not in TORTOISE_ONLY_PARAMS]
        return Target("postgres", url, urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(query), "")))
    path = parts.netloc + parts.path  # Tortoise reads sqlite://FILE this way
    if not path or path == ":memory:":
        raise models.ConfigError("the benchmark needs a database file: sqlite://FILE")
    return Target("sqlite", url, path)


# ---------------------------------------------------------------- progress on stderr


class Progress:
    """A one-line progress bar with rows/s on a terminal; one summary line per stage otherwise."""

    def __init__(self, label: str, total: int, unit: str = "rows", stream=None):
        self.label, self.total, self.done, self.unit = label, max(total, 1), 0, unit
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.start = self.last = time.perf_counter()

    def _line(self, now: float) -> str:
        elapsed = max(now - self.start, 1e-9)
        frac = min(self.done / self.total, 1.0)
        bar = "#" * int(frac * 30)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if rate and self.done < self.total else 0.0
        return (
            f"{self.label:<24} [{bar:<30}] {frac * 100:5.1f}% {self.done:>11,}/{self.total:,} "
            f"{rate:>10,.0f} {self.unit}/s {elapsed:6.1f}s" + (f" ETA {eta:4.0f}s" if eta else "")
        )

    def advance(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if self.tty and now - self.last >= 0.2:
            self.last = now
            self.stream.write("\r" + self._line(now))
            self.stream.flush()

    def close(self) -> float:
        now = time.perf_counter()
        self.stream.write(("\r" if self.tty else "") + self._line(now) + "\n")
        self.stream.flush()
        return now - self.start


# ---------------------------------------------------------------- sinks: raw bulk loading per engine


class PgSink:
    """asyncpg on its own connection; `COPY ... FROM STDIN (FORMAT binary)` per batch, all in one transaction.

    Like pg_dump's restore, the foreign keys of the loaded tables are dropped for the load and added back (same
    name and definition) before the commit: each is then validated in one join instead of a trigger per row.
    """

    engine = "postgres"

    def __init__(self, conn):
        self.conn = conn
        self._tr = None
        self._foreign_keys: list[tuple[str, str, str]] = []  # table, name, definition

    @classmethod
    async def open(cls, dsn: str) -> PgSink:
        import asyncpg

        conn = await asyncpg.connect(dsn)
        await conn.execute("SET synchronous_commit = off")
        return cls(conn)

    @staticmethod
    def ts(seconds: int | None) -> dt.datetime | None:
        return None if seconds is None else dt.datetime.fromtimestamp(seconds, UTC)

    @staticmethod
    def day(d: dt.date) -> dt.date:
        return d

    async def begin(self) -> None:
        self._tr = self.conn.transaction()
        await self._tr.start()
        rows = await self.conn.fetch(
            "SELECT c.relname AS tbl, k.conname AS name, pg_get_constraintdef(k.oid) AS def "
            "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
            "WHERE k.contype = 'f' AND c.relnamespace = current_schema()::regnamespace "
            "AND c.relname = ANY($1::text[]) ORDER BY c.relname, k.conname",
            list(LOADED_TABLES),
        )
        self._foreign_keys = [(r["tbl"], r["name"], r["def"]) for r in rows]
        for table, name, _ in self._foreign_keys:
            await self.conn.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')

    async def commit(self) -> None:
        for table, name, definition in self._foreign_keys:
            await self.conn.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        await self._tr.commit()

    async def rollback(self) -> None:
        if self._tr is not None:
            await self._tr.rollback()

    async def copy(self, table: str, rows: Sequence[tuple]) -> None:
        if rows:
            await self.conn.copy_records_to_table(table, records=rows, columns=COLUMNS[table])

    async def execute(self, sql: str) -> None:
        await self.conn.execute(sql)

    async def scalar(self, sql: str) -> Any:
        return await self.conn.fetchval(sql)

    async def finish(self) -> None:
        for table in LOADED_TABLES:
            await self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), COALESCE(MAX(\"id\"), 0) + 1, false) "
                f'FROM "{table}"'
            )
        await self.conn.execute("ANALYZE")

    async def close(self) -> None:
        await self.conn.close()


class SqliteSink:
    """The stdlib driver: `executemany` per batch in one transaction, synchronous=OFF and WAL while loading;
    foreign keys off during the load and checked once (`PRAGMA foreign_key_check`) before the commit."""

    engine = "sqlite"

    def __init__(self, path: str):
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.journal_mode = self.conn.execute("PRAGMA journal_mode").fetchone()[0]
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = OFF")
        self.conn.execute("PRAGMA foreign_keys = OFF")  # checked once at the end
        self.conn.execute("PRAGMA cache_size = -262144")  # 256 MiB

    @classmethod
    async def open(cls, path: str) -> SqliteSink:
        return cls(path)

    @staticmethod
    def ts(seconds: int | None) -> str | None:
        # the text Tortoise writes for an aware UTC datetime: isoformat(" ")
        return None if seconds is None else dt.datetime.fromtimestamp(seconds, UTC).isoformat(" ")

    @staticmethod
    def day(d: dt.date) -> str:
        return d.isoformat()

    async def begin(self) -> None:
        self.conn.execute("BEGIN")

    async def commit(self) -> None:
        bad = self.conn.execute("PRAGMA foreign_key_check").fetchall()
        if bad:
            raise RuntimeError(f"{len(bad)} rows break a foreign key, e.g. {bad[:5]}")
        self.conn.execute("COMMIT")

    async def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    async def copy(self, table: str, rows: Sequence[tuple]) -> None:
        if rows:
            cols = COLUMNS[table]
            names = ", ".join(f'"{c}"' for c in cols)
            marks = ", ".join("?" * len(cols))
            self.conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)

    async def execute(self, sql: str) -> None:
        self.conn.execute(sql)

    async def scalar(self, sql: str) -> Any:
        return self.conn.execute(sql).fetchone()[0]

    async def finish(self) -> None:
        self.conn.execute("ANALYZE")
        self.conn.execute("PRAGMA synchronous = FULL")
        self.conn.execute(f"PRAGMA journal_mode = {self.journal_mode}")

    async def close(self) -> None:
        self.conn.close()


Sink = PgSink | SqliteSink


# ---------------------------------------------------------------- the generator


def _pick(shares: Sequence[tuple[Any, float]]) -> tuple[list[Any], list[float]]:
    return [v for v, _ in shares], list(accumulate(w for _, w in shares))


def draw(cum: list[float], r: float) -> int:
    """The index picked by r in [0, 1) from cumulative weights."""
    i = bisect_right(cum, r * cum[-1])
    return i if i < len(cum) else len(cum) - 1


def jakarta_day(seconds: int) -> int:
    """Days since 1970-01-01 of the Asia/Jakarta date of a UTC instant."""
    return (seconds + WIB) // DAY


def day_date(day: int) -> dt.date:
    return dt.date.fromordinal(EPOCH_ORDINAL + day)


def at_wib(day: int, hours: float) -> int:
    """The UTC instant (seconds) of a Jakarta wall-clock time on a Jakarta day."""
    return day * DAY - WIB + int(hours * 3600)


class Generator:
    """Rows as tuples in `COLUMNS` order, with timestamps already in the sink's format."""

    def __init__(
        self,
        preset: Preset,
        seed: int,
        anchor: dt.datetime,
        sink: Sink,
        kecamatans: list[dict],
        kelurahans: list[dict],
        password_hash: str,
    ):
        self.preset, self.seed = preset, seed
        self.rng = random.Random(seed)
        self.now = int(anchor.timestamp())
        self.today = jakarta_day(self.now)
        self.ts, self.day = sink.ts, sink.day
        self.kecamatans, self.kelurahans = kecamatans, kelurahans
        self.password_hash = password_hash
        self.category_ids: dict[str, int] = {}
        # filled as we go, read by later stages
        self.opds: list[dict] = []
        self.users = 0
        self.umkm_status: list[UmkmStatus | None] = [None]
        self.umkm_verified: list[int] = [0]  # seconds, 0 if never verified
        self.umkm_trade: list[int] = [0]
        self.umkm_created: list[int] = [0]
        self.owner_base = 0  # owner of UMKM u is user owner_base + u
        self.p_first: list[int] = [0]  # first product id of UMKM u
        self.p_count: list[int] = [0]
        self.products: list[tuple] = [()]  # per product id: what an order line copies
        self.capacity: dict[tuple[int, str], int] = {}

    # ------------------------------------------------------------ small helpers

    def person(self, female: bool | None = None) -> tuple[str, str, bool]:
        rng = self.rng
        if female is None:
            female = rng.random() < 0.5
        first = rng.choice(FEMALE_FIRST if female else MALE_FIRST)
        return first, rng.choice(FEMALE_LAST if female else MALE_LAST), female

    def user_row(self, email: str, full_name: str, role: Role, opd_id: int | None, created: int) -> tuple:
        self.users += 1
        t = self.ts(created)
        return (self.users, email, self.password_hash, full_name, role.value, opd_id, True, t, t)

    # ------------------------------------------------------------ categories, OPD, staff

    def categories(self) -> list[tuple]:
        t = self.ts(self.now - 1200 * DAY)
        rows: list[tuple] = []
        for name, desc, _ in CATEGORY_TREE:
            cid = len(rows) + 1
            self.category_ids[slugify(name)] = cid
            rows.append((cid, name, slugify(name), desc, None, t, t, 0))
        for name, _, kids in CATEGORY_TREE:
            for kid, desc in kids:
                cid = len(rows) + 1
                self.category_ids[slugify(kid)] = cid
                rows.append((cid, kid, slugify(kid), desc, self.category_ids[slugify(name)], t, t, 0))
        return rows

    def opd_rows(self) -> tuple[list[tuple], list[tuple], list[tuple]]:
        """OPD (the demo's list, topped up with kecamatan offices), two years of budget, staff accounts."""
        rng = self.rng
        kec_by_name = {k["name"].lower(): k for k in self.kecamatans}
        plan = []
        for code, name, kind, kec_name, _kel, address, pagu in OPD_ROWS:
            kec = kec_by_name.get(kec_name.lower(), self.kecamatans[0])
            plan.append((code, name, kind, kec["id"], address, pagu))
        codes = {p[0] for p in plan}
        for kec in self.kecamatans:
            if len(plan) >= OPD_COUNT:
                break
            code = "KEC-" + slugify(kec["name"]).upper()
            if code not in codes:
                codes.add(code)
                plan.append(
                    (
                        code,
                        f"Kecamatan {kec['name']}",
                        OpdKind.KECAMATAN,
                        kec["id"],
                        f"Kantor Kecamatan {kec['name']}",
                        (1_000, 4_000),
                    )
                )
        t = self.ts(self.now - 1200 * DAY)
        year = day_date(self.today).year
        opds, budgets, users = [], [], []
        users.append(self.user_row(f"admin@{EMAIL_DOMAIN}", "Admin Pasar", Role.ADMIN, None, self.now - 1200 * DAY))
        users.append(
            self.user_row(f"analis@{EMAIL_DOMAIN}", "Analis Dinkopumdag", Role.ANALYST, None, self.now - 1200 * DAY)
        )
        self.admin_id = 1
        for i, (code, name, kind, kec_id, address, (lo, hi)) in enumerate(plan, start=1):
            opds.append((i, code, name, kind.value, kec_id, address, True, t, t))
            for y in (year - 1, year):
                budgets.append((len(budgets) + 1, i, y, rng.randint(lo, hi) * 1_000_000, t, t))
            staff: dict[Role, list[int]] = {}
            for role, n in STAFF_PER_OPD:
                for k in range(1, n + 1):
                    first, last, _ = self.person()
                    email = f"{role.value.lower().replace('_', '.')}{k}.{code.lower()}@{EMAIL_DOMAIN}"
                    users.append(self.user_row(email, f"{first} {last}", role, i, self.now - 1100 * DAY))
                    staff.setdefault(role, []).append(self.users)
            self.opds.append(
                {
                    "id": i,
                    "address": address,
                    "weight": (lo + hi) / 2,
                    "buyers": staff[Role.OPD_BUYER],
                    "treasurer": staff[Role.OPD_TREASURER][0],
                    "employees": staff[Role.EMPLOYEE],
                }
            )
        return opds, budgets, users

    # ------------------------------------------------------------ UMKM and their owners

    def umkm_batches(self) -> Iterator[tuple[int, dict[str, list[tuple]]]]:
        rng, rnd = self.rng, self.rng.random
        n = self.preset.umkm
        self.owner_base = self.users
        statuses, status_cum = _pick(STATUS_SHARES)
        scales, scale_cum = _pick(SCALE_SHARES)
        trade_cum = list(accumulate(t.weight for t in TRADES))
        bank_cum = list(accumulate(w for _, _, w in BANKS))
        kec_ids = [k["id"] for k in self.kecamatans]
        change_id = served_id = 0
        for start in range(1, n + 1, CHUNK):
            users, umkms, changes, served = [], [], [], []
            for u in range(start, min(start + CHUNK, n + 1)):
                ti = draw(trade_cum, rnd())
                trade = TRADES[ti]
                kel = self.kelurahans[int(rnd() * len(self.kelurahans))]
                status = statuses[draw(status_cum, rnd())]
                first, last, female = self.person(rnd() < trade.female_share)
                owner_name = f"{first} {last}"
                honorific = rng.choice(("Bu", "Bu", "Mbak", "Ning") if female else ("Pak", "Cak", "Cak", "Mas"))
                name = (
                    rng.choice(trade.names)
                    .format(p=f"{honorific} {first}", b=rng.choice(trade.brands), k=kel["name"])
                    .strip()
                )
                created = self.now - int((UMKM_AGE_DAYS[0] + rnd() * (UMKM_AGE_DAYS[1] - UMKM_AGE_DAYS[0])) * DAY)
                verified = 0
                if status in (UmkmStatus.VERIFIED, UmkmStatus.SUSPENDED):
                    verified = min(created + int((1 + rnd() * 20) * DAY), self.now - 3600)
                owner = self.owner_base + u
                users.append(
                    self.user_row(f"pemilik{u:06d}@{EMAIL_DOMAIN}", owner_name, Role.UMKM_OWNER, None, created)
                )
                bank, digits, _ = BANKS[draw(bank_cum, rnd())]
                city_wide = rnd() < 0.15
                updated = created
                changes.append(
                    (change_id + 1, u, None, UmkmStatus.PENDING.value, owner, "registered", self.ts(created))
                )
                change_id += 1
                if status is not UmkmStatus.PENDING:
                    decided = verified or min(created + int((1 + rnd() * 20) * DAY), self.now - 3600)
                    to = UmkmStatus.REJECTED if status is UmkmStatus.REJECTED else UmkmStatus.VERIFIED
                    note = rng.choice(VERIFY_NOTES) if to is UmkmStatus.VERIFIED else "Dokumen NIB tidak sesuai."
                    change_id += 1
                    changes.append(
                        (change_id, u, UmkmStatus.PENDING.value, to.value, self.admin_id, note, self.ts(decided))
                    )
                    updated = decided
                    if status is UmkmStatus.SUSPENDED:
                        suspended = decided + int(rnd() * max(self.now - decided - 60, 1))
                        change_id += 1
                        changes.append(
                            (
                                change_id,
                                u,
                                UmkmStatus.VERIFIED.value,
                                UmkmStatus.SUSPENDED.value,
                                self.admin_id,
                                rng.choice(SUSPEND_NOTES),
                                self.ts(suspended),
                            )
                        )
                        updated = suspended
                umkms.append(
                    (
                        u,
                        owner,
                        name,
                        f"91{(u * 1_000_003) % 10**11:011d}",  # 13 digits, unique: u -> u * p mod 10^11 is 1:1
                        trade.about,
                        owner_name,
                        f"{rng.choice(PHONE_PREFIXES)}{rng.randrange(10**7, 10**8)}",
                        f"Jl. {kel['name']}{rng.choice(STREET_SUFFIX)} No. {1 + int(rnd() * 120)}",
                        kel["id"],
                        kel["kecamatan_id"],
                        city_wide,
                        scales[draw(scale_cum, rnd())].value,
                        ScaleSource.DECLARED.value,
                        status.value,
                        self.ts(verified or None),
                        bank,
                        str(rng.randrange(10 ** (digits - 1), 10**digits)),
                        owner_name,
                        self.ts(created),
                        self.ts(updated),
                    )
                )
                if not city_wide and rnd() < 0.25:
                    for kec in rng.sample(kec_ids, 1 + int(rnd() * 3)):
                        if kec != kel["kecamatan_id"]:
                            served_id += 1
                            served.append((served_id, u, kec))
                self.umkm_status.append(status)
                self.umkm_verified.append(verified)
                self.umkm_trade.append(ti)
                self.umkm_created.append(created)
            yield (
                len(umkms),
                {"user": users, "umkm": umkms, "umkm_status_change": changes, "umkm_served_kecamatan": served},
            )

    # ------------------------------------------------------------ products

    def product_batches(self) -> Iterator[tuple[int, dict[str, list[tuple]]]]:
        rng, rnd = self.rng, self.rng.random
        n_umkm, n_products = self.preset.umkm, self.preset.products
        base, extra = divmod(n_products, n_umkm)
        pid = 0
        names: dict[str, str] = {}  # interned names: many products share one
        for start in range(1, n_umkm + 1, CHUNK):
            rows = []
            for u in range(start, min(start + CHUNK, n_umkm + 1)):
                count = base + (1 if u <= extra else 0)
                items = TRADES[self.umkm_trade[u]].items
                chosen = rng.sample(items, count) if count <= len(items) else rng.choices(items, k=count)
                self.p_first.append(pid + 1)
                self.p_count.append(count)
                created_lo = self.umkm_created[u]
                created_hi = self.umkm_verified[u] or self.now - 60
                for item in chosen:
                    pid += 1
                    variant = rng.choice(item.variants)
                    name = item.name.format(v=variant).strip()
                    name = names.setdefault(name, name)
                    description = item.description.format(v=variant.lower() if variant else "").replace("  ", " ")
                    price = _price(rng, *item.price)
                    if item.made_to_order:
                        stock, capacity = 0, rng.randint(*item.capacity)
                    else:
                        stock, capacity = rng.randint(max(item.stock[0], 1), item.stock[1]), None
                    min_order = rng.randint(*item.min_order)
                    category_id = self.category_ids[item.category]
                    created = created_lo + int(rnd() ** 3 * max(created_hi - created_lo, 1))
                    t = self.ts(created)
                    rows.append(
                        (
                            pid,
                            u,
                            category_id,
                            name,
                            description,
                            item.unit,
                            price,
                            "[]",
                            json.dumps(list(item.options)),
                            item.made_to_order,
                            stock,
                            capacity,
                            rng.randint(*item.lead),
                            min_order,
                            rnd() >= 0.03,
                            t,
                            t,
                        )
                    )
                    qty = QTY_BY_CATEGORY.get(item.category, (1, 20))
                    self.products.append(
                        (price, category_id, name, item.unit, item.options, item.made_to_order, min_order, qty)
                    )
            yield len(rows), {"product": rows}

    # ------------------------------------------------------------ orders, lines, events, payments, ratings

    def order_batches(self) -> Iterator[tuple[int, dict[str, list[tuple]]]]:
        rng, rnd, ts, day = self.rng, self.rng.random, self.ts, self.day
        verified = [u for u in range(1, self.preset.umkm + 1) if self.umkm_status[u] is UmkmStatus.VERIFIED]
        rng.shuffle(verified)
        sellers = verified[: max(1, round(len(verified) * SELLER_SHARE))]
        first_day = self.today - HISTORY_DAYS
        # popularity is a rate: a seller verified a month ago sells at its rank's pace for that month only
        active = [min(HISTORY_DAYS, self.today - jakarta_day(self.umkm_verified[u]) - 7) for u in sellers]
        seller_cum = list(accumulate(max(a, 1) / HISTORY_DAYS / (r + 1) ** ZIPF_S for r, a in enumerate(active)))
        opd_cum = list(accumulate(o["weight"] for o in self.opds))
        line_cum = list(accumulate(LINE_WEIGHTS))
        fates, fate_cum = _pick(FATE_SHARES)
        sources, source_cum = _pick(SOURCE_SHARES)
        score_cum = list(accumulate((2, 3, 10, 30, 55)))  # scores 1..5
        remaining = self.preset.lines
        oid = iid = eid = pay_id = rating_id = 0
        delivered_s = OrderStatus.DELIVERED.value
        while remaining:
            orders, items, events, payments, ratings = [], [], [], [], []
            lines_in_batch = 0
            while remaining and len(orders) < CHUNK:
                oid += 1
                u = sellers[draw(seller_cum, rnd())]
                owner = self.owner_base + u
                opd = self.opds[draw(opd_cum, rnd())]
                personal = rnd() < PERSONAL_SHARE
                buyer = rng.choice(opd["employees"] if personal else opd["buyers"])
                payer = buyer if personal else opd["treasurer"]
                fate = fates[draw(fate_cum, rnd())]
                lo_day = max(first_day, jakarta_day(self.umkm_verified[u]) + 7)
                hi_day = self.today - 1
                if lo_day > hi_day:
                    lo_day = hi_day
                # ---- the timeline
                accepted = shipped = delivered = paid = None
                received_by = None
                closed_reason = ""
                if fate == "counted":
                    d = lo_day + min(int(rnd() * (hi_day - lo_day + 1)), hi_day - lo_day)
                    weekday = (d + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
                    if weekday >= 5 and rnd() < 0.85:
                        d2 = d - (weekday - 4)
                        d = d2 if d2 >= lo_day else min(d + 7 - weekday, hi_day)
                    delivered = at_wib(d, 5.5 + 11.5 * rnd())  # 05:30-17:00 WIB: early deliveries cross UTC months
                    created = delivered - (1 + int(rnd() * 10)) * DAY - int(rnd() * 6 * 3600)
                    created = max(created, self.umkm_verified[u] + 600)
                    span = delivered - created
                    accepted = created + 300 + int(rnd() * min(DAY, span // 3))
                    shipped = delivered - 300 - int(rnd() * min(DAY, span // 3))
                    needed = day_date(d + (0 if rnd() < 0.8 else 1 + int(rnd() * 3)))
                    pay_day = d + 1 + int(rnd() ** 2 * 45)
                    if at_wib(pay_day, 12) <= self.now:
                        paid = at_wib(pay_day, 12)
                    status = OrderStatus.PAID if paid else OrderStatus.DELIVERED
                    first, last, _ = self.person()
                    received_by = f"{first} {last}"
                    updated = paid or delivered
                elif fate == "open":
                    created = max(self.now - int(rnd() * 10 * DAY), self.umkm_verified[u] + 600)
                    status = rng.choice(
                        (OrderStatus.SUBMITTED, OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.SHIPPED)
                    )
                    updated = created
                    if status is not OrderStatus.SUBMITTED:
                        accepted = updated = created + int(rnd() * (self.now - created) / 2)
                    if status is OrderStatus.SHIPPED:
                        shipped = updated = accepted + int(rnd() * (self.now - accepted))
                    needed = day_date(self.today + 1 + int(rnd() * 14))
                else:
                    d = lo_day + int(rnd() * (hi_day - lo_day + 1))
                    created = max(at_wib(d, 7 + 10 * rnd()), self.umkm_verified[u] + 600)
                    updated = min(created + int((1 + rnd() * 30) * 3600), self.now - 1)
                    needed = day_date(d + 2 + int(rnd() * 10))
                    if fate == "rejected":
                        status, closed_reason = OrderStatus.REJECTED, rng.choice(REJECT_REASONS)
                    else:
                        status, closed_reason = OrderStatus.CANCELLED, rng.choice(CANCEL_REASONS)
                # ---- the lines
                k = min(draw(line_cum, rnd()) + 1, remaining, self.p_count[u])
                first_pid = self.p_first[u]
                pids = rng.sample(range(first_pid, first_pid + self.p_count[u]), k)
                period = f"{needed.year:04d}-{needed.month:02d}"
                reserves = fate != "rejected" and fate != "cancelled"
                total = 0
                for pid in pids:
                    price, category_id, name, unit, options, mto, min_order, (qlo, qhi) = self.products[pid]
                    if personal:
                        qty = max(min_order, 1 + int(rnd() * 5))
                    else:
                        qty = max(min_order, qlo + int(rnd() * (qhi - qlo + 1)))
                    subtotal = price * qty
                    total += subtotal
                    iid += 1
                    option = options[int(rnd() * len(options))] if options else None
                    items.append(
                        (iid, oid, pid, category_id, option, name, unit, price, qty, subtotal, period if mto else None)
                    )
                    if mto and reserves:
                        key = (pid, period)
                        self.capacity[key] = self.capacity.get(key, 0) + qty
                remaining -= k
                lines_in_batch += k
                # ---- events
                trail = [(None, OrderStatus.SUBMITTED.value, buyer, "", created)]
                if accepted is not None:
                    trail.append((OrderStatus.SUBMITTED.value, OrderStatus.ACCEPTED.value, owner, "", accepted))
                if shipped is not None:
                    trail.append((OrderStatus.ACCEPTED.value, OrderStatus.SHIPPED.value, owner, "", shipped))
                if delivered is not None:
                    trail.append(
                        (OrderStatus.SHIPPED.value, delivered_s, buyer, f"received by {received_by}", delivered)
                    )
                reference = None
                if paid is not None:
                    year = day_date(jakarta_day(paid)).year
                    reference = f"TRF-{oid:07d}" if personal else f"SP2D/{year}/{oid:06d}"
                    trail.append((delivered_s, OrderStatus.PAID.value, payer, f"ref {reference}", paid))
                if closed_reason:
                    actor = owner if status is OrderStatus.REJECTED else buyer
                    trail.append((OrderStatus.SUBMITTED.value, status.value, actor, closed_reason, updated))
                for from_s, to_s, actor, note, at in trail:
                    eid += 1
                    events.append((eid, oid, from_s, to_s, actor, note, ts(at)))
                if paid is not None:
                    pay_id += 1
                    payments.append((pay_id, oid, total, reference, day(day_date(jakarta_day(paid))), payer, ts(paid)))
                if delivered is not None and rnd() < RATED_SHARE:
                    score = draw(score_cum, rnd()) + 1
                    rating_id += 1
                    rated = min(delivered + int(rnd() * 5 * DAY), self.now - 1)
                    comment = rng.choice(RATING_COMMENTS.get(score, ("",)))
                    ratings.append((rating_id, oid, u, score, comment, buyer, ts(rated)))
                source = sources[draw(source_cum, rnd())]
                orders.append(
                    (
                        oid,
                        f"PO-{day_date(jakarta_day(created)).year}-{oid:06d}",
                        (OrderKind.PERSONAL if personal else OrderKind.OPD).value,
                        opd["id"],
                        buyer,
                        u,
                        None,
                        status.value,
                        total,
                        day(needed),
                        rng.choice(ADDRESS_PREFIXES) + opd["address"],
                        "",
                        source.value,
                        1 + int(rnd() * 20) if source is OrderSource.UNDER_SOLD_LIST else None,
                        ts(accepted),
                        ts(shipped),
                        ts(delivered),
                        received_by,
                        ts(paid),
                        closed_reason,
                        ts(created),
                        ts(updated),
                    )
                )
            yield (
                lines_in_batch,
                {"order": orders, "order_item": items, "order_event": events, "payment": payments, "rating": ratings},
            )

    def capacity_rows(self) -> list[tuple]:
        return [(i, pid, period, used) for i, ((pid, period), used) in enumerate(sorted(self.capacity.items()), 1)]


def _price(rng: random.Random, low: int, high: int) -> int:
    step = 500 if high <= 100_000 else 5_000 if high <= 1_000_000 else 25_000
    return low + step * rng.randint(0, (high - low) // step)


# ---------------------------------------------------------------- SQL run after the rows are in


def rollup_sql(month: str) -> str:
    """INSERT ... SELECT of `resolvers.sales.recompute_monthly_sales`'s GROUP BY (same month expression)."""
    statuses = ", ".join(f"'{s.value}'" for s in COUNTED_STATUSES)
    return (
        'INSERT INTO "umkm_monthly_sales" ("umkm_id", "period", "amount", "orders") '
        f'SELECT "umkm_id", {month}, SUM("total"), COUNT(*) FROM "order" '
        f'WHERE "status" IN ({statuses}) AND "delivered_at" IS NOT NULL GROUP BY "umkm_id", {month}'
    )


# A made-to-order product's monthly capacity is at least what its busiest month used (the app's invariant).
CAPACITY_FIX_SQL = (
    'UPDATE "product" SET "monthly_capacity" = c.used '
    'FROM (SELECT "product_id", MAX("used") AS used FROM "capacity_use" GROUP BY "product_id") AS c '
    'WHERE "product"."id" = c."product_id" AND "product"."monthly_capacity" < c.used'
)

CHECKS = {
    # every order has lines and its total is the sum of their subtotals
    "orders_with_wrong_total": (
        'SELECT COUNT(*) FROM "order" o LEFT JOIN (SELECT "order_id", SUM("subtotal") AS s FROM "order_item" '
        'GROUP BY "order_id") i ON i."order_id" = o."id" WHERE i.s IS NULL OR o."total" <> i.s'
    ),
}


# ---------------------------------------------------------------- the load


async def _prepare(target: Target, fresh: bool) -> tuple[list[dict], list[dict], str]:
    """Migrate; empty the tables (--fresh) or refuse a database with data; read the reference data."""
    from tortoise import Tortoise, connections

    from models.query import empty_tables, jakarta_month_sql

    config = models.tortoise_config(target.url, pool_size=2)
    await models.migrate(config)
    try:
        db = connections.get("default")
        tables = [
            m._meta.db_table for m in Tortoise.apps.get_models_iterable() if m._meta.db_table not in REFERENCE_TABLES
        ]
        if fresh:
            await empty_tables(tables)
        else:
            busy = []
            for t in tables:
                rows = await db.execute_query_dict(f'SELECT 1 AS x FROM "{t}" LIMIT 1')
                if rows:
                    busy.append(t)
            if busy:
                raise SystemExit(
                    f"the database already has data in {', '.join(busy)}: pass --fresh to empty it first "
                    "(kecamatan and kelurahan are kept)"
                )
        kecamatans = await db.execute_query_dict('SELECT "id", "code", "name" FROM "kecamatan" ORDER BY "code"')
        kelurahans = await db.execute_query_dict(
            'SELECT "id", "code", "name", "kecamatan_id" FROM "kelurahan" ORDER BY "code"'
        )
        month = jakarta_month_sql('"delivered_at"')
    finally:
        await Tortoise.close_connections()
    return kecamatans, kelurahans, month


def default_anchor() -> dt.datetime:
    """Midnight (Asia/Jakarta) starting today: the same seed gives the same rows all day."""
    today = jakarta_day(int(time.time()))
    return dt.datetime.fromtimestamp(at_wib(today, 0), UTC)


def parse_anchor(text: str) -> dt.datetime:
    d = dt.date.fromisoformat(text)
    return dt.datetime.fromtimestamp(at_wib(d.toordinal() - EPOCH_ORDINAL, 0), UTC)


async def load(
    url: str, preset: Preset, seed: int = 2026, fresh: bool = False, anchor: dt.datetime | None = None
) -> dict:
    """Build the data set in the database at `url`; returns timings, counts and a fingerprint."""
    from resolvers.accounts import hash_password

    target = parse_target(url)
    anchor = anchor or default_anchor()
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    kecamatans, kelurahans, month = await _prepare(target, fresh)
    timings["migrate"] = time.perf_counter() - t0
    print(
        f"{preset.name}: {preset.umkm:,} UMKM, {preset.products:,} products, {preset.lines:,} order lines "
        f"(seed {seed}, anchor {anchor.isoformat()}) into {target.engine}",
        file=sys.stderr,
    )
    sink: Sink = await (PgSink.open(target.dsn) if target.engine == "postgres" else SqliteSink.open(target.dsn))
    gen = Generator(preset, seed, anchor, sink, kecamatans, kelurahans, hash_password(BENCH_PASSWORD))
    rows: dict[str, int] = {}

    async def put(batch: dict[str, list[tuple]]) -> None:
        for table, table_rows in batch.items():
            await sink.copy(table, table_rows)
            rows[table] = rows.get(table, 0) + len(table_rows)

    try:
        await sink.begin()
        bar = Progress("categories, OPD, staff", 1, "steps")
        opds, budgets, staff = gen.opd_rows()
        await put({"category": gen.categories(), "opd": opds, "opd_budget": budgets, "user": staff})
        bar.advance(1)
        timings["reference"] = bar.close()
        for label, unit, total, batches in (
            ("UMKM and owners", "UMKM", preset.umkm, gen.umkm_batches()),
            ("products", "products", preset.products, gen.product_batches()),
            ("orders, events, payments", "lines", preset.lines, gen.order_batches()),
        ):
            bar = Progress(label, total, unit)
            for n, batch in batches:
                await put(batch)
                bar.advance(n)
            timings[unit.lower()] = bar.close()
        bar = Progress("capacity, rollup", 3, "steps")
        await put({"capacity_use": gen.capacity_rows()})
        bar.advance(1)
        await sink.execute(CAPACITY_FIX_SQL)
        bar.advance(1)
        await sink.execute(rollup_sql(month))
        bar.advance(1)
        timings["rollup"] = bar.close()
        bar = Progress("constraints, analyze", 2, "steps")
        await sink.commit()
        bar.advance(1)
        await sink.finish()
        bar.advance(1)
        timings["finish"] = bar.close()
        timings["total"] = time.perf_counter() - t0
        counts = {t: int(await sink.scalar(f'SELECT COUNT(*) FROM "{t}"')) for t in LOADED_TABLES}
        checks = {name: int(await sink.scalar(sql)) for name, sql in CHECKS.items()}
        fingerprint = {
            "order_total_sum": int(await sink.scalar('SELECT COALESCE(SUM("total"), 0) FROM "order"')),
            "rollup_amount_sum": int(await sink.scalar('SELECT COALESCE(SUM("amount"), 0) FROM "umkm_monthly_sales"')),
        }
    except BaseException:
        await sink.rollback()
        raise
    finally:
        await sink.close()
    return {
        "preset": dataclasses.asdict(preset),
        "seed": seed,
        "anchor": anchor.isoformat(),
        "engine": target.engine,
        "timings_s": {k: round(v, 2) for k, v in timings.items()},
        "counts": counts,
        "checks": checks,
        "fingerprint": fingerprint,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dataset", description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), required=True)
    parser.add_argument("--database-url", required=True, help="sqlite://FILE or postgres://USER@HOST:PORT/DB")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--anchor", help="'today' of the data set, YYYY-MM-DD (default: today in Asia/Jakarta)")
    parser.add_argument("--fresh", action="store_true", help="empty every table but kecamatan/kelurahan first")
    parser.add_argument("--json", help="also write the summary to this file")
    args = parser.parse_args(argv)
    anchor = parse_anchor(args.anchor) if args.anchor else None
    summary = asyncio.run(load(args.database_url, PRESETS[args.preset], args.seed, args.fresh, anchor))
    print(json.dumps(summary, indent=2))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(summary, fh, indent=2)
    preset = PRESETS[args.preset]
    counts = summary["counts"]
    expected = {"umkm": preset.umkm, "product": preset.products, "order_item": preset.lines}
    wrong = {t: (counts[t], n) for t, n in expected.items() if counts[t] != n}
    if wrong or any(summary["checks"].values()):
        print(f"FAILED: counts {wrong}, checks {summary['checks']}", file=sys.stderr)
        return 1
    print(f"loaded preset {preset.name} in {summary['timings_s']['total']:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
