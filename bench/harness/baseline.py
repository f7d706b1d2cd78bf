"""The raw baseline: one minimal Starlette route per scenario, returning exactly our GraphQL endpoint's JSON.

    python -m bench.harness.baseline --port P --database-url postgres://USER@HOST:PORT/DB [--pool-size 10]

Each route reads the same request body as `/graphql` (only `variables` is used; the query document is fixed per
route), resolves the bearer token with one statement (same HMAC-SHA-256 digest, same `PASAR_SECRET`), runs the
least SQL that answers the scenario, and builds the response dict in the field order of the document in
`bench.harness.scenarios`. The JSON is encoded like Strawberry encodes it (`json.dumps`, compact); with orjson
installed it is used instead (then only the canonical JSON is the same: orjson does not escape non-ASCII).

| route | document                  | statements (incl. token lookup)                                              |
|-------|---------------------------|------------------------------------------------------------------------------|
| /s1   | `products(first:)`        | 1: products JOIN umkm JOIN kecamatan JOIN category, keyset order, LIMIT n+1 |
| /s2   | `order(id:)` + items      | 2: token; order JOIN umkm, opd LEFT JOIN items, products, their UMKM        |
| /s3   | `underSoldUmkm`           | 3: token; today's stored list: its header; the page with names and prices    |
| /s4   | `omzetReports` of a UMKM  | 2: token; the reports, keyset order                                          |
| /s5   | `placeOrder` (one line)   | 4: token; in a transaction product/UMKM/OPD, then one CTE that decrements the |
|       |                           | stock and inserts order, item, event; NOTIFY after the commit                |

The query functions take a `Db` (anything with `fetch(sql, params)` using `?` placeholders and `time(dt)`), so
the CI test runs them through the app's Tortoise connection (`TortoiseDb`) on SQLite and PostgreSQL; the server
uses an asyncpg pool (`PgDb`). Every response carries `x-sql-statements: N; auth=A` (A of them for the token).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import hmac
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

try:  # optional; not a dependency of the project
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    orjson = None

from resolvers.fairness_policy import POLICY

JAKARTA = ZoneInfo("Asia/Jakarta")
DEV_SECRET = "pasar-dev-secret-change-me"  # app.DEV_SECRET: the same default, so tokens verify alike
MAX_PAGE = 100
CHANNEL = "pasar_order_events"  # resolvers.events.CHANNEL

# ---------------------------------------------------------------- encoding, ids, cursors (as schema/relay.py)


def encode(body: Any) -> bytes:
    if orjson is not None:
        return orjson.dumps(body)
    return json.dumps(body, separators=(",", ":")).encode()


def gid(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def from_gid(value: Any, type_name: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(str(value) + "=" * (-len(str(value)) % 4)).decode()
        name, _, pk = raw.partition(":")
        return int(pk) if name == type_name else None
    except (ValueError, UnicodeDecodeError):
        return None


def cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode()


def utc(value: Any) -> dt.datetime | None:
    """A timestamp as the ORM hands it over: aware UTC (SQLite gives text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def error(message: str, code: str, path: str) -> dict:
    return {"data": None, "errors": [{"message": message, "path": [path], "extensions": {"code": code}}]}


# ---------------------------------------------------------------- database access


class Counted:
    """Wraps a Db for one request and counts its statements."""

    __slots__ = ("auth", "db", "n")

    def __init__(self, db: Any) -> None:
        self.db, self.n, self.auth = db, 0, 0

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Mapping[str, Any]]:
        self.n += 1
        return await self.db.fetch(sql, params)

    def time(self, value: dt.datetime) -> Any:
        return self.db.time(value)


class PgDb:
    """An asyncpg pool; `?` placeholders become `$1, $2…` (converted once per statement text)."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self._sql: dict[str, str] = {}

    def pg(self, sql: str) -> str:
        out = self._sql.get(sql)
        if out is None:
            parts = sql.split("?")
            out = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))
            self._sql[sql] = out
        return out

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Mapping[str, Any]]:
        return await self.pool.fetch(self.pg(sql), *params)

    def time(self, value: dt.datetime) -> Any:
        return value


class TortoiseDb:
    """The app's connection through `models.query.fetch_all` (tests: SQLite or PostgreSQL)."""

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Mapping[str, Any]]:
        from models.query import fetch_all

        return await fetch_all(sql, list(params))

    def time(self, value: dt.datetime) -> Any:
        from models.query import sql_time

        return sql_time(value)


# ---------------------------------------------------------------- the caller (resolvers.accounts.principal_for)


@dataclass(frozen=True)
class Caller:
    user_id: int
    role: str
    opd_id: int | None
    umkm_ids: frozenset[int] = frozenset()

    @property
    def sees_everything(self) -> bool:
        return self.role in ("ADMIN", "ANALYST")


TOKEN_SQL = (
    'SELECT u."id" AS id, u."role" AS role, u."opd_id" AS opd_id, u."active" AS active '
    'FROM "token" t JOIN "user" u ON u."id" = t."user_id" '
    'WHERE t."token_hash" = ? AND t."revoked_at" IS NULL AND t."expires_at" > ?'
)


async def caller_for(db: Counted, raw: str | None, secret: str, now: dt.datetime | None = None) -> Caller | None:
    """A user session token (one statement; owners one more for their UMKM); None when anonymous or unknown."""
    if not raw or raw.startswith("pk_"):  # partner API keys are not benchmarked
        return None
    before = db.n
    digest = hmac.new(secret.encode(), raw.encode(), hashlib.sha256).hexdigest()
    rows = await db.fetch(TOKEN_SQL, [digest, db.time(now or dt.datetime.now(dt.UTC))])
    caller = None
    if rows and rows[0]["active"]:
        r = rows[0]
        umkm_ids: frozenset[int] = frozenset()
        if r["role"] == "UMKM_OWNER":
            umkm_ids = frozenset(
                x["id"] for x in await db.fetch('SELECT "id" FROM "umkm" WHERE "owner_id" = ?', [r["id"]])
            )
        caller = Caller(r["id"], r["role"], r["opd_id"], umkm_ids)
    db.auth += db.n - before
    return caller


def _ids(ids: frozenset[int]) -> str:
    return ", ".join(str(int(i)) for i in sorted(ids)) or "-1"


# ---------------------------------------------------------------- S1: products(first:) with UMKM and category

S1_SELECT = (
    'SELECT p."id" AS id, p."name" AS name, p."price" AS price, p."created_at" AS created_at, '
    'u."name" AS umkm_name, k."name" AS kecamatan_name, c."name" AS category_name '
    'FROM "product" p JOIN "umkm" u ON u."id" = p."umkm_id" JOIN "kecamatan" k ON k."id" = u."kecamatan_id" '
    'JOIN "category" c ON c."id" = p."category_id" '
)
S1_ORDER = ' ORDER BY p."created_at" DESC, p."id" DESC LIMIT ?'


async def products(db: Counted, caller: Caller | None, variables: Mapping[str, Any]) -> dict:
    first = variables.get("first", 20)
    first = 20 if first is None else first
    if not 1 <= first <= MAX_PAGE:
        return error(f"`first` must be between 1 and {MAX_PAGE}; got {first}.", "BAD_USER_INPUT", "products")
    # resolvers.catalog.visible_product_q
    if caller is not None and caller.sees_everything:
        where, params = "", []
    elif caller is not None and caller.umkm_ids:
        where = f'WHERE ((p."active" AND u."status" = ?) OR p."umkm_id" IN ({_ids(caller.umkm_ids)}))'
        params = ["VERIFIED"]
    else:
        where, params = 'WHERE p."active" AND u."status" = ?', ["VERIFIED"]
    rows = await db.fetch(S1_SELECT + where + S1_ORDER, [*params, first + 1])
    edges = []
    for r in rows[:first]:
        edges.append(
            {
                "cursor": cursor([{"dt": utc(r["created_at"]).isoformat()}, r["id"]]),
                "node": {
                    "id": gid("Product", r["id"]),
                    "name": r["name"],
                    "price": r["price"],
                    "umkm": {"name": r["umkm_name"], "kecamatan": {"name": r["kecamatan_name"]}},
                    "category": {"name": r["category_name"]},
                },
            }
        )
    page = {"hasNextPage": len(rows) > first, "endCursor": edges[-1]["cursor"] if edges else None}
    return {"data": {"products": {"edges": edges, "pageInfo": page}}}


# ---------------------------------------------------------------- S2: one order with items, products, UMKM

S2_SQL = (
    'SELECT o."id" AS id, o."number" AS number, o."total" AS total, ou."name" AS umkm_name, d."name" AS opd_name, '
    'i."id" AS item_id, i."name" AS item_name, i."quantity" AS quantity, i."unit_price" AS unit_price, '
    'p."id" AS product_id, p."name" AS product_name, p."price" AS price, pu."name" AS product_umkm_name '
    'FROM "order" o JOIN "umkm" ou ON ou."id" = o."umkm_id" JOIN "opd" d ON d."id" = o."opd_id" '
    'LEFT JOIN "order_item" i ON i."order_id" = o."id" LEFT JOIN "product" p ON p."id" = i."product_id" '
    'LEFT JOIN "umkm" pu ON pu."id" = p."umkm_id" '
    'WHERE o."id" = ?{visible} ORDER BY i."id"'
)


def _visible_order(caller: Caller) -> tuple[str, list[Any]] | None:
    """resolvers.orders.visible_order_q; None: the caller sees no orders."""
    if caller.sees_everything:
        return "", []
    if caller.role in ("OPD_BUYER", "OPD_TREASURER"):
        return ' AND o."opd_id" = ? AND o."kind" = ?', [caller.opd_id, "OPD"]
    if caller.role == "EMPLOYEE":
        return ' AND o."buyer_id" = ?', [caller.user_id]
    if caller.role == "UMKM_OWNER":
        return f' AND o."umkm_id" IN ({_ids(caller.umkm_ids)})', []
    return None


async def order(db: Counted, caller: Caller | None, variables: Mapping[str, Any]) -> dict:
    order_id = from_gid(variables.get("id"), "Order")
    if order_id is None:
        return error("id is not a Order ID.", "INVALID_ID", "order")
    visible = _visible_order(caller) if caller is not None else None
    if visible is None:
        return {"data": {"order": None}}
    rows = await db.fetch(S2_SQL.format(visible=visible[0]), [order_id, *visible[1]])
    if not rows:
        return {"data": {"order": None}}
    o = rows[0]
    items = [
        {
            "name": r["item_name"],
            "quantity": r["quantity"],
            "unitPrice": r["unit_price"],
            "product": {
                "id": gid("Product", r["product_id"]),
                "name": r["product_name"],
                "price": r["price"],
                "umkm": {"name": r["product_umkm_name"]},
            },
        }
        for r in rows
        if r["item_id"] is not None
    ]
    body = {
        "id": gid("Order", o["id"]),
        "number": o["number"] or "",
        "total": o["total"],
        "items": items,
        "umkm": {"name": o["umkm_name"]},
        "opd": {"name": o["opd_name"]},
    }
    return {"data": {"order": body}}


# ---------------------------------------------------------------- S3: underSoldUmkm, today's stored list

BASELINE_POLICY = "pemerataan-2026.11-4"  # the list whose stored form this baseline reads (bench/README.md, S3)

# The day's list is stored by the app (resolvers/fairness_snapshot.py): a header per category and day
# (`fairness_snapshot`) and one row per eligible UMKM in ranking order (`fairness_rank_row`). The baseline does not
# build it (the harness's prepare step does, through the app's code); it reads the header — fresh only when built
# from the category's current `ranking_generation` under this policy — and one page of rows with the UMKM's name
# and the shown product's name and price.
S3_HEAD = (
    'SELECT c."ranking_generation" AS generation, s."id" AS id, s."generation" AS built_from, '
    's."policy_version" AS policy_version, s."eligible" AS eligible, s."median_price" AS median_price '
    'FROM "category" c LEFT JOIN "fairness_snapshot" s ON s."category_id" = c."id" AND s."as_of" = ? '
    'WHERE c."id" = ?'
)
# One row per business actor: a row of a cluster is shown only when no earlier row of the same cluster is on the
# list (without the buyer's filters every row passes them).
S3_PAGE = (
    'SELECT r."position" AS position, r."umkm_id" AS umkm_id, r."product_id" AS product_id, '
    'r."deficit" AS deficit, r."target_share" AS target_share, r."received_share" AS received_share, '
    'r."received" AS received, r."active_fraction" AS active_fraction, r."need" AS need, r."omzet" AS omzet, '
    'r."bucket" AS bucket, r."reasons" AS reasons, u."name" AS umkm_name, p."name" AS product_name, '
    'p."price" AS product_price '
    'FROM "fairness_rank_row" r JOIN "umkm" u ON u."id" = r."umkm_id" JOIN "product" p ON p."id" = r."product_id" '
    'WHERE r."snapshot_id" = ? AND (r."cluster_id" IS NULL OR NOT EXISTS ('
    'SELECT 1 FROM "fairness_rank_row" r2 WHERE r2."snapshot_id" = r."snapshot_id" '
    'AND r2."cluster_id" = r."cluster_id" AND r2."position" < r."position")) '
    'ORDER BY r."position" LIMIT ?'
)
# resolvers.privacy.OMZET_REASONS: the reason codes that follow from a UMKM's omzet
S3_OMZET_REASONS = frozenset(
    {"LOW_REPORTED_OMZET", "OMZET_REPORTED", "NO_OMZET_REPORT", "BELOW_FAIR_SHARE", "AT_OR_ABOVE_FAIR_SHARE"}
)


def list_moment(day: dt.date) -> dt.datetime:
    """Noon (Asia/Jakarta) of the day, in UTC: the moment a day's list is made for (its `as_of`)."""
    return dt.datetime.combine(day, dt.time(12), JAKARTA).astimezone(dt.UTC)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


async def under_sold(
    db: Counted, caller: Caller | None, variables: Mapping[str, Any], now: dt.datetime | None = None
) -> dict:
    """The first page of today's list without buyer filters (S3's document: no opdId, quantity or after), read
    from the stored snapshot in two statements: the header with its freshness, the page with names and prices.
    `now`: the clock (the tests freeze ours)."""
    if caller is None:
        return error("Sign in first.", "UNAUTHENTICATED", "underSoldUmkm")
    if POLICY.version != BASELINE_POLICY:  # a new policy may store or show the list differently: check and update
        outdated = f"the baseline reads the list of {BASELINE_POLICY}, not {POLICY.version}"
        return error(outdated, "BASELINE_OUTDATED", "underSoldUmkm")
    if variables.get("opdId") or variables.get("quantity"):
        return error("the baseline reads the list without opdId/quantity", "BASELINE_UNSUPPORTED", "underSoldUmkm")
    category_id = from_gid(variables.get("categoryId"), "Category")
    if category_id is None:
        return error("This is not the ID of a Category.", "BAD_USER_INPUT", "underSoldUmkm")
    first = variables.get("first", 20)
    first = 20 if first is None else first
    if not 1 <= first <= MAX_PAGE:
        return error(f"`first` must be between 1 and {MAX_PAGE}; got {first}.", "BAD_USER_INPUT", "underSoldUmkm")
    today = (now or dt.datetime.now(dt.UTC)).astimezone(JAKARTA).date()
    if variables.get("asOf") and str(variables["asOf"]) != today.isoformat():
        return error("the baseline reads today's stored list only", "BASELINE_UNSUPPORTED", "underSoldUmkm")
    as_of = list_moment(today)
    head = await db.fetch(S3_HEAD, [as_of, category_id])
    if not head:
        return error("No such category.", "NOT_FOUND", "underSoldUmkm")
    h = head[0]
    if h["id"] is None or h["built_from"] != h["generation"] or h["policy_version"] != BASELINE_POLICY:
        stale = f"today's list of category {category_id} is missing or stale: the app builds it (harness: prepare)"
        return error(stale, "BASELINE_STALE", "underSoldUmkm")
    rows = await db.fetch(S3_PAGE, [h["id"], first + 1])
    edges = []
    for rank, r in enumerate(rows[:first], start=1):
        uid = r["umkm_id"]
        score = {
            "deficit": _float(r["deficit"]),
            "targetShare": _float(r["target_share"]),
            "receivedShare": _float(r["received_share"]),
            "received": _float(r["received"]),
            "activeFraction": _float(r["active_fraction"]),
            "need": _float(r["need"]),
            "omzetUsed": _float(r["omzet"]),
            "omzetSource": "REPORTED" if r["omzet"] is not None else "NONE",
            "bucket": int(r["bucket"]),
            "rotationKey": None,  # today's keyed order is published tomorrow (fairnessDaySecret)
            "policyVersion": h["policy_version"],
        }
        reasons = r["reasons"].split(",") if r["reasons"] else []
        if not (caller.sees_everything or (caller.role == "UMKM_OWNER" and uid in caller.umkm_ids)):
            # resolvers.privacy.ranked_for: what follows from another UMKM's omzet is withheld
            for k in ("deficit", "targetShare", "need", "omzetUsed", "omzetSource", "bucket"):
                score[k] = None
            reasons = [x for x in reasons if x not in S3_OMZET_REASONS]
        edges.append(
            {
                "cursor": cursor([rank, r["position"]]),  # (rank for the buyer, position on the whole list)
                "rank": rank,
                "reasons": reasons,
                "score": score,
                "umkm": {"id": gid("Umkm", uid), "name": r["umkm_name"]},
                "cheapestEligibleProduct": {
                    "id": gid("Product", r["product_id"]),
                    "name": r["product_name"],
                    "price": r["product_price"],
                },
            }
        )
    body = {
        "totalCount": h["eligible"],  # places on the list: one per business actor (no buyer filters)
        "eligibleCount": h["eligible"],
        "medianPrice": _float(h["median_price"]),
        "edges": edges,
        "pageInfo": {"hasNextPage": len(rows) > first, "endCursor": edges[-1]["cursor"] if edges else None},
    }
    return {"data": {"underSoldUmkm": body}}


# ---------------------------------------------------------------- S4: a UMKM's omzet reports

S4_SQL = (
    'SELECT "id", "period", "platform_amount", "other_online_amount", "offline_amount", "total_amount", "late", '
    '"revision_count" FROM "omzet_report" WHERE "umkm_id" = ?{range}{visible} '
    'ORDER BY "period" DESC, "id" DESC LIMIT ?'
)


async def omzet_reports(db: Counted, caller: Caller | None, variables: Mapping[str, Any]) -> dict:
    if caller is None:
        return error("Sign in first.", "UNAUTHENTICATED", "omzetReports")
    if not (caller.sees_everything or caller.role in ("UMKM_OWNER", "ADMIN")):
        return error("You may not do this.", "FORBIDDEN", "omzetReports")
    umkm_id = from_gid(variables.get("umkmId"), "Umkm")
    if umkm_id is None:
        return error("umkmId is not a Umkm ID.", "INVALID_ID", "omzetReports")
    where, params = "", [umkm_id]
    if variables.get("from"):
        where += ' AND "period" >= ?'
        params.append(variables["from"])
    if variables.get("to"):
        where += ' AND "period" <= ?'
        params.append(variables["to"])
    visible = "" if caller.sees_everything else f' AND "umkm_id" IN ({_ids(caller.umkm_ids)})'
    first = 12
    rows = await db.fetch(S4_SQL.format(range=where, visible=visible), [*params, first + 1])
    edges = [
        {
            "cursor": cursor([r["period"], r["id"]]),
            "node": {
                "id": gid("OmzetReport", r["id"]),
                "period": r["period"],
                "platformAmount": r["platform_amount"],
                "otherOnlineAmount": r["other_online_amount"],
                "offlineAmount": r["offline_amount"],
                "totalAmount": r["total_amount"],
                "late": bool(r["late"]),
                "revisionCount": r["revision_count"],
            },
        }
        for r in rows[:first]
    ]
    page = {"hasNextPage": len(rows) > first, "endCursor": edges[-1]["cursor"] if edges else None}
    return {"data": {"omzetReports": {"edges": edges, "pageInfo": page}}}


# ---------------------------------------------------------------- S5: placeOrder, one line (PostgreSQL only)

S5_READ = (
    'SELECT p."id" AS id, p."umkm_id" AS umkm_id, p."category_id" AS category_id, p."name" AS name, '
    'p."unit" AS unit, p."price" AS price, p."active" AS active, p."options" AS options, '
    'p."made_to_order" AS made_to_order, p."min_order_quantity" AS min_qty, p."lead_time_days" AS lead_time, '
    'u."status" AS umkm_status, d."active" AS opd_active '
    'FROM "product" p JOIN "umkm" u ON u."id" = p."umkm_id" JOIN "opd" d ON d."id" = $2 WHERE p."id" = $1'
)
S5_WRITE = """
WITH s AS (
    UPDATE "product" SET "stock" = "stock" - $1 WHERE "id" = $2 AND "stock" >= $1 AND NOT "made_to_order"
    RETURNING "id"
), n AS (
    SELECT nextval(pg_get_serial_sequence('"order"', 'id'))::int AS id FROM s
), o AS (
    INSERT INTO "order" ("id", "number", "kind", "opd_id", "buyer_id", "umkm_id", "status", "total", "needed_by",
        "delivery_address", "note", "source", "closed_reason", "created_at", "updated_at")
    SELECT n.id, 'PO-' || $3::text || '-' || CASE WHEN n.id < 1000000 THEN lpad(n.id::text, 6, '0') ELSE n.id::text END,
        $4, $5, $6, $7, 'SUBMITTED', $8, $9, $10, $11, $12, '', $13, $13
    FROM n RETURNING "id", "number", "total", "status", "kind", "opd_id", "buyer_id", "umkm_id"
), i AS (
    INSERT INTO "order_item" ("order_id", "product_id", "category_id", "option", "name", "unit", "unit_price",
        "quantity", "subtotal", "capacity_period")
    SELECT o.id, $2, $14, $15, $16, $17, $18, $1, $8, NULL FROM o RETURNING "id"
), e AS (
    INSERT INTO "order_event" ("order_id", "from_status", "to_status", "actor_id", "note", "created_at")
    SELECT o.id, NULL, 'SUBMITTED', $6, '', $13 FROM o RETURNING "id"
)
SELECT o.*, (SELECT "id" FROM e) AS event_id, (SELECT count(*) FROM i) AS items FROM o
"""


class _Rollback(Exception):
    def __init__(self, body: dict) -> None:
        self.body = body


def _user_error(field: str, code: str, message: str) -> dict:
    return {"data": {"placeOrder": {"orders": None, "errors": [{"field": field, "code": code, "message": message}]}}}


async def place_order(pool: Any, db: Counted, caller: Caller | None, variables: Mapping[str, Any]) -> dict:
    """One basket line of a stocked product (what S5 sends): the same rows as `placeOrder`, raw."""
    if caller is None:
        return error("Sign in first.", "UNAUTHENTICATED", "placeOrder")
    if caller.role not in ("OPD_BUYER", "EMPLOYEE") or caller.opd_id is None:
        return error("You may not do this.", "FORBIDDEN", "placeOrder")
    inp = variables["input"]
    if len(inp.get("items") or []) != 1 or inp.get("idempotencyKey") or inp.get("source", "SEARCH") != "SEARCH":
        return error("the baseline places one line, no idempotency key", "BASELINE_UNSUPPORTED", "placeOrder")
    line = inp["items"][0]
    product_id = from_gid(line["productId"], "Product")
    quantity, option = int(line["quantity"]), line.get("option")
    needed_by = dt.date.fromisoformat(inp["neededBy"])
    address, note = inp["deliveryAddress"].strip(), (inp.get("note") or "").strip()
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(JAKARTA).date()
    if not 1 <= quantity <= 1_000_000 or needed_by < today or not address or len(address) > 300:
        return _user_error("input", "INVALID", "The basket is not valid.")
    kind = "OPD" if caller.role == "OPD_BUYER" else "PERSONAL"
    try:
        async with pool.acquire() as conn, conn.transaction():
            db.n += 1
            pr = await conn.fetchrow(S5_READ, product_id, caller.opd_id)
            if pr is None or not pr["active"]:
                raise _Rollback(
                    _user_error("items.0.productId", "PRODUCT_UNAVAILABLE", "This product is not for sale.")
                )
            if not pr["opd_active"]:
                raise _Rollback(_user_error("opdId", "OPD_INACTIVE", "Your OPD cannot order now."))
            options = json.loads(pr["options"]) if isinstance(pr["options"], str) else pr["options"]
            bad_option = bool(options or option) and option not in (options or [])
            if pr["umkm_status"] != "VERIFIED" or pr["made_to_order"] or bad_option:
                raise _Rollback(_user_error("items.0.productId", "BASELINE_UNSUPPORTED", "Not a plain stocked line."))
            if quantity < pr["min_qty"] or needed_by < today + dt.timedelta(days=pr["lead_time"]):
                raise _Rollback(_user_error("items.0.quantity", "BELOW_MINIMUM", "Below the minimum or too soon."))
            total = pr["price"] * quantity
            db.n += 1
            o = await conn.fetchrow(
                S5_WRITE,
                quantity,
                product_id,
                str(today.year),
                kind,
                caller.opd_id,
                caller.user_id,
                pr["umkm_id"],
                total,
                needed_by,
                address,
                note,
                "SEARCH",
                now,
                pr["category_id"],
                option,
                pr["name"],
                pr["unit"],
                pr["price"],
            )
            if o is None:
                raise _Rollback(
                    _user_error("items.0.quantity", "INSUFFICIENT_STOCK", f"Not enough stock of {pr['name']}.")
                )
        message = {
            "event_id": o["event_id"],
            "order_id": o["id"],
            "number": o["number"],
            "kind": kind,
            "opd_id": caller.opd_id,
            "buyer_id": caller.user_id,
            "umkm_id": o["umkm_id"],
            "from_status": None,
            "to_status": "SUBMITTED",
            "at": now.isoformat(),
        }
        db.n += 1
        await pool.execute("SELECT pg_notify($1, $2)", CHANNEL, json.dumps(message))
    except _Rollback as e:
        return e.body
    orders = [{"id": gid("Order", o["id"]), "number": o["number"], "total": o["total"], "status": o["status"]}]
    return {"data": {"placeOrder": {"orders": orders, "errors": []}}}


# ---------------------------------------------------------------- the server

SCENARIOS = {"s1": products, "s2": order, "s3": under_sold, "s4": omzet_reports}


def create_app(database_url: str, pool_size: int = 10, secret: str | None = None):
    import asyncpg
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    secret = secret or os.environ.get("PASAR_SECRET") or DEV_SECRET
    state: dict[str, Any] = {}

    def dsn(url: str) -> str:
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(url)
        return urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))

    async def lifespan(app):
        pool = await asyncpg.create_pool(dsn(database_url), min_size=1, max_size=pool_size)
        state["pool"], state["db"] = pool, PgDb(pool)
        try:
            yield
        finally:
            await pool.close()

    def respond(body: dict, db: Counted) -> Response:
        return Response(
            encode(body), media_type="application/json", headers={"x-sql-statements": f"{db.n}; auth={db.auth}"}
        )

    def route(name: str):
        fn = SCENARIOS[name]

        async def endpoint(request: Request) -> Response:
            payload = json.loads(await request.body())
            db = Counted(state["db"])
            caller = await caller_for(db, _bearer(request.headers.get("authorization")), secret)
            return respond(await fn(db, caller, payload.get("variables") or {}), db)

        return Route(f"/{name}", endpoint, methods=["POST"])

    async def s5(request: Request) -> Response:
        payload = json.loads(await request.body())
        db = Counted(state["db"])
        caller = await caller_for(db, _bearer(request.headers.get("authorization")), secret)
        return respond(await place_order(state["pool"], db, caller, payload.get("variables") or {}), db)

    async def healthz(request: Request) -> Response:
        await state["pool"].fetchval("SELECT 1")
        return Response(b'{"status":"ok"}', media_type="application/json")

    routes = [route(n) for n in SCENARIOS] + [
        Route("/s5", s5, methods=["POST"]),
        Route("/healthz", healthz),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def _bearer(value: str | None) -> str | None:
    if value and value[:7].lower() == "bearer ":
        return value[7:].strip() or None
    return None


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.harness.baseline", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--database-url", required=True, help="postgres://USER@HOST:PORT/DB")
    parser.add_argument("--pool-size", type=int, default=10)
    args = parser.parse_args(argv)
    app = create_app(args.database_url, args.pool_size)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
