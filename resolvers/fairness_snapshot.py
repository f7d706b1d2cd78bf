"""The under-sold ranking served from a snapshot: computed once per category and moment, read a page at a time.

`resolvers.ranking.compute_ranking` is the ranking (maintained statistics, products, UMKM, omzet reports; never the
order lines). Computing it reads every eligible product of the category (about a second for the largest category
of the benchmark's 500,000 products), so requests do not compute it: they read a snapshot of it, the rows in
ranking order with every score component (`models.fairness.RankingSnapshot`, `RankingRow`), and apply the buyer's
filters (kecamatan served, stock or capacity for the quantity) live in SQL on the page they read.

Freshness. Each category carries a `ranking_generation`; every write that changes an input of a category's ranking
increments it for the category and its ancestors inside the writing transaction (`invalidate`: sales starting or
stopping to count, product changes, stock reaching or leaving zero, UMKM status and scale, omzet reports, the
category tree, a statistics rebuild; resolvers/invalidation.py). A snapshot records the generation it read
*before* reading the inputs, so a
write that commits while a snapshot is built leaves the snapshot stale, never wrongly fresh. A stale snapshot (or one
made with another policy version) is rebuilt by the next request that needs it, under a row lock, so concurrent
requests build it once.

Writes made outside the API (SQL by hand, a bulk load) are not seen until `pasar fairness rebuild`, which
invalidates every category.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from models.base import JAKARTA
from models.fairness import RankingRow, RankingSnapshot
from models.query import fetch_all
from models.registry import Category, Opd
from resolvers import exposure
from resolvers.categories import category_subtree
from resolvers.common import DomainError
from resolvers.fairness_policy import POLICY, Policy, bucket_of, decay_to, growth
from resolvers.ranking import (
    RankedUmkm,
    Ranking,
    Score,
    able_sql,
    buyer_filters,
    compute_ranking,
    list_moment,
    serves_sql,
    shown_sql,
)

KEEP_DAYS = 2  # snapshots of a category made for moments more than this before a new one are deleted


# ---------------------------------------------------------------- the snapshot


@dataclass
class Snapshot:
    id: int
    category_id: int
    cats: list[int] | None  # the category and its descendants, read when needed
    as_of: dt.datetime
    eligible: int
    median_price: float | None
    policy_version: str
    typical_quantity: int = 1
    actors: int = 0  # business actors on the list (docs/FAIRNESS.md); 0 in a snapshot made before clusters


CURRENT_SQL = (  # parameters: as_of (UTC), category id
    'SELECT c."ranking_generation" AS generation, s."id" AS id, s."generation" AS built_from, '
    's."policy_version" AS policy_version, s."eligible" AS eligible, s."median_price" AS median_price, '
    's."typical_quantity" AS typical_quantity, s."actors" AS actors '
    'FROM "category" c LEFT JOIN "fairness_snapshot" s ON s."category_id" = c."id" AND s."as_of" = ? '
    'WHERE c."id" = ?'
)


async def _current(category_id: int, as_of: dt.datetime) -> tuple[dict | None, int | None]:
    """The snapshot row (if any) and the category's generation, in one statement."""
    # SQLite: the driver's adapter writes the datetime as Tortoise stored it
    rows = await fetch_all(CURRENT_SQL, [as_of.astimezone(dt.UTC), category_id])
    if not rows:
        return None, None
    r = rows[0]
    return (r if r["id"] is not None else None), int(r["generation"])


def _fresh(row: dict | None, generation: int, policy: Policy) -> bool:
    return row is not None and row["built_from"] == generation and row["policy_version"] == policy.version


async def snapshot(category_id: int, as_of: dt.datetime, policy: Policy = POLICY) -> Snapshot:
    """A fresh snapshot of the category's ranking at `as_of`, building it when missing or stale."""
    row, generation = await _current(category_id, as_of)
    if generation is None:
        raise DomainError("NOT_FOUND", "No such category.", "categoryId")
    cats = None
    if not _fresh(row, generation, policy):
        cats = await category_subtree(category_id)
        row = await _build(category_id, cats, as_of, policy)
    return Snapshot(
        id=row["id"],
        category_id=category_id,
        cats=cats,
        as_of=as_of,
        eligible=int(row["eligible"]),
        median_price=row["median_price"],
        policy_version=row["policy_version"],
        typical_quantity=int(row["typical_quantity"] or 1),
        actors=int(row.get("actors") or row["eligible"]),
    )


async def _build(category_id: int, cats: list[int], as_of: dt.datetime, policy: Policy) -> dict:
    async with in_transaction() as conn:
        await RankingSnapshot.bulk_create(
            [RankingSnapshot(category_id=category_id, as_of=as_of, policy_version=policy.version, generation=-1)],
            ignore_conflicts=True,
        )
        snap = await RankingSnapshot.filter(category_id=category_id, as_of=as_of).select_for_update().get()
        # Under the lock: another request may have built it meanwhile. The generation is read before the inputs.
        row, generation = await _current(category_id, as_of)
        if _fresh(row, generation, policy):
            return row
        started = time.perf_counter()
        # The band and the typical quantity are fixed for the day by its first build of the list: stuffing the
        # catalogue during the day moves neither (docs/FAIRNESS.md, "Eligible").
        fixed = None
        if snap.built_at is not None and snap.policy_version == policy.version and snap.median_price is not None:
            fixed = (snap.median_price, snap.typical_quantity)
        ranking = await compute_ranking(category_id, cats, as_of, policy, fixed=fixed)
        await RankingRow.filter(snapshot_id=snap.id).delete()
        await _insert_rows(conn, snap.id, ranking.rows)
        old = await RankingSnapshot.filter(
            category_id=category_id, as_of__lt=as_of - dt.timedelta(days=KEEP_DAYS)
        ).values_list("id", flat=True)
        if old:
            await RankingRow.filter(snapshot_id__in=old).delete()
            await RankingSnapshot.filter(id__in=old).delete()
        fields = {
            "generation": generation,
            "policy_version": policy.version,
            "eligible": ranking.eligible,
            "median_price": ranking.median_price,
            "typical_quantity": ranking.typical_quantity,
            "total_received": ranking.total,
            "actors": ranking.actors,
            "built_at": dt.datetime.now(dt.UTC),
            "build_ms": round((time.perf_counter() - started) * 1000),
        }
        await RankingSnapshot.filter(id=snap.id).update(**fields)
    return {"id": snap.id, **fields}


ROW_COLUMNS = (
    "snapshot_id", "position", "umkm_id", "product_id", "price", "deficit", "target_share", "received_share",
    "received", "active_fraction", "need", "omzet", "bucket", "rotation", "reasons", "cluster_id",
)  # fmt: skip


def _values(snapshot_id: int, r) -> tuple:
    s = r.score
    return (
        *(snapshot_id, r.rank, r.umkm_id, r.cheapest_product_id, r.cheapest_price),
        *(s.deficit, s.target_share, s.received_share, s.received, s.active_fraction, s.need, s.omzet),
        *(s.bucket, s.rotation, ",".join(r.reasons), r.cluster_id),
    )


async def _insert_rows(conn, snapshot_id: int, rows: list) -> None:
    """The snapshot's rows in bulk, inside the build's transaction: PostgreSQL by COPY (asyncpg's binary
    `copy_records_to_table`), SQLite by one prepared INSERT per row. Model objects for the 30,000 rows of a large
    category would cost more than computing the ranking."""
    values = [_values(snapshot_id, r) for r in rows]
    if not values:
        return
    if conn.capabilities.dialect == "postgres":
        async with conn.acquire_connection() as raw:
            await raw.copy_records_to_table("fairness_rank_row", records=values, columns=list(ROW_COLUMNS))
        return
    columns = ", ".join(f'"{c}"' for c in ROW_COLUMNS)
    marks = ", ".join("?" for _ in ROW_COLUMNS)
    await conn.execute_many(f'INSERT INTO "fairness_rank_row" ({columns}) VALUES ({marks})', values)


async def refresh(now: dt.datetime, policy: Policy = POLICY) -> list[int]:
    """Rebuild ahead of requests today's snapshot of every category whose list was read in the last `KEEP_DAYS`
    days and is stale or missing for today (the server runs this every few seconds): the request after a sale, or
    the first one of a day, then finds it fresh instead of paying the build. Returns the categories rebuilt."""
    await exposure.purge(now.astimezone(JAKARTA).date(), policy)  # the exposure log's retention
    as_of = list_moment(now.astimezone(JAKARTA).date())
    since = as_of - dt.timedelta(days=KEEP_DAYS)
    read = await RankingSnapshot.filter(as_of__gte=since).values_list("category_id", flat=True)
    rebuilt = []
    for category_id in sorted(set(read)):
        row, generation = await _current(category_id, as_of)
        if generation is not None and not _fresh(row, generation, policy):
            await _build(category_id, await category_subtree(category_id), as_of, policy)
            rebuilt.append(category_id)
    return rebuilt


# ---------------------------------------------------------------- an order moves its seller's row


SALE_REASONS = ("NEVER_SOLD", "BELOW_FAIR_SHARE", "AT_OR_ABOVE_FAIR_SHARE")


async def order_placed(umkm_id: int, by_category: dict[int, int], at: dt.datetime, policy: Policy = POLICY) -> None:
    """An order placed at `at` counts provisionally as received (docs/FAIRNESS.md, "Open orders"): in each of today's
    lists that hold its categories, only the seller's row moves — its received share, deficit and bucket, and its
    place: the end of its new bucket (it is now the most recently awarded). The other rows keep their figures until
    the next build. Runs in the placing transaction, under the snapshot's row lock."""
    as_of = list_moment(at.astimezone(JAKARTA).date())
    snaps = await RankingSnapshot.filter(as_of=as_of, policy_version=policy.version, built_at__not_isnull=True)
    if not snaps:
        return
    parent = dict(await Category.all().values_list("id", "parent_id"))
    under: dict[int, int] = {}  # a list's category -> the order's rupiah in it (its subtree)
    for category_id, amount in by_category.items():
        c: int | None = category_id
        while c is not None:
            under[c] = under.get(c, 0) + amount
            c = parent.get(c)
    for snap in snaps:
        if snap.category_id in under:
            await _move(snap.id, umkm_id, decay_to(under[snap.category_id] * growth(at, policy), as_of, policy), policy)


async def _move(snapshot_id: int, umkm_id: int, amount: float, policy: Policy) -> None:
    """The seller's row moves; when its business actor has other members on the list (`cluster_id`), their rows
    move with it: they share one received figure (docs/FAIRNESS.md, "One share per business actor")."""
    snap = await RankingSnapshot.filter(id=snapshot_id).select_for_update().get()
    if snap.eligible == 0:
        return
    own = await RankingRow.get_or_none(snapshot_id=snapshot_id, umkm_id=umkm_id)
    cluster = own.cluster_id if own is not None else await _listed_cluster(umkm_id)
    if cluster is not None:
        rows = await RankingRow.filter(snapshot_id=snapshot_id, cluster_id=cluster).order_by("position")
    else:
        rows = [own] if own is not None else []
    if not rows:
        return
    total = snap.total_received + amount
    for row in rows:
        await _move_row(
            snapshot_id, await RankingRow.get(id=row.id), amount, total, snap.actors or snap.eligible, policy
        )
    await RankingSnapshot.filter(id=snapshot_id).update(total_received=total)


async def _listed_cluster(umkm_id: int) -> int | None:
    """The cluster of a seller that is not on the list itself (not held): its members' rows move."""
    rows = await fetch_all('SELECT "cluster_id" AS c, "cluster_pending_on" AS h FROM "umkm" WHERE "id" = ?', [umkm_id])
    return rows[0]["c"] if rows and rows[0]["h"] is None else None


async def _move_row(snapshot_id: int, own: RankingRow, amount: float, total: float, actors: int, policy: Policy):
    received = own.received + amount
    rho = received / (total / actors) if total > 0 else 0.0
    d = own.target_share - rho
    b = bucket_of(d, policy)
    ahead = await RankingRow.filter(snapshot_id=snapshot_id, bucket__gte=b).exclude(umkm_id=own.umkm_id).count()
    old, new = own.position, ahead + 1
    if new != old:  # shift the rows between, through negative positions (the unique index holds at every step)
        lo, hi, step = (old + 1, new, -1) if new > old else (new, old - 1, 1)
        await RankingRow.filter(id=own.id).update(position=0)
        q = 'UPDATE "fairness_rank_row" SET "position" = '
        await fetch_all(
            f'{q}-("position" + ?) WHERE "snapshot_id" = ? AND "position" >= ? AND "position" <= ?',
            [step, snapshot_id, lo, hi],
        )
        await fetch_all(f'{q}-"position" WHERE "snapshot_id" = ? AND "position" < 0', [snapshot_id])
    sold = "BELOW_FAIR_SHARE" if d > 0 else "AT_OR_ABOVE_FAIR_SHARE"
    reasons = [sold if r in SALE_REASONS else r for r in own.reasons.split(",")]
    await RankingRow.filter(id=own.id).update(
        position=new, received=received, received_share=rho, deficit=d, bucket=b, reasons=",".join(reasons)
    )


# ---------------------------------------------------------------- reading it with the buyer's filters


async def subtree(s: Snapshot) -> list[int]:
    if s.cats is None:
        s.cats = await category_subtree(s.category_id)
    return s.cats


async def _shown_sql(s: Snapshot, quantity: int | None, policy: Policy) -> tuple[str, list]:
    """The columns of the product a row shows for the buyer's quantity (`resolvers.ranking.shown_sql`), if any."""
    if not quantity:
        return "", []
    cols, params = shown_sql('r."umkm_id"', await subtree(s), s.median_price, s.as_of, quantity, policy)
    return f", {cols}", params


async def _filters(
    s: Snapshot, opd: Opd | None, quantity: int | None, policy: Policy, r: str = "r", u: str = "u"
) -> tuple[list[str], list]:
    """The buyer's filters on the ranking row `r` and its UMKM `u` (the same conditions the computed ranking
    applies: `resolvers.ranking.serves_sql`, `able_sql`), with their parameters."""
    sql, params = [], []
    if opd is not None:
        cond, p = serves_sql(f'{r}."umkm_id"', opd, u)
        sql.append(cond)
        params += p
    if quantity:
        cond, p = able_sql(f'{r}."umkm_id"', await subtree(s), s.median_price, s.as_of, quantity, policy)
        sql.append(cond)
        params += p
    return sql, params


async def actor_sql(s: Snapshot, opd: Opd | None, quantity: int | None, policy: Policy) -> tuple[str, list]:
    """SQL condition on `r`: one row per business actor (`resolvers.ranking.one_per_actor`): a row of a cluster is
    shown only when no earlier row of the same cluster passes the buyer's filters. A cluster's rows stand together
    (same bucket, award and draw), its best member first, and move together (`_move`)."""
    sql, params = await _filters(s, opd, quantity, policy, "r2", "u2")
    join = ' JOIN "umkm" u2 ON u2."id" = r2."umkm_id"' if opd is not None else ""
    cond = "".join(f" AND {c}" for c in sql)
    return (
        f'(r."cluster_id" IS NULL OR NOT EXISTS (SELECT 1 FROM "fairness_rank_row" r2{join} '
        f'WHERE r2."snapshot_id" = r."snapshot_id" AND r2."cluster_id" = r."cluster_id" '
        f'AND r2."position" < r."position"{cond}))'
    ), params


async def _buyer_sql(
    s: Snapshot, opd: Opd | None, quantity: int | None, policy: Policy, *, per_actor: bool = True
) -> tuple[str, list]:
    """SQL conditions on `r` (a ranking row) and `u` (its UMKM) for the buyer's filters, then (`per_actor`) one row
    per business actor, with their parameters."""
    sql, params = await _filters(s, opd, quantity, policy)
    if per_actor:
        cond, p = await actor_sql(s, opd, quantity, policy)
        sql.append(cond)
        params += p
    return "".join(f" AND {c}" for c in sql), params


def _from(opd: Opd | None) -> str:
    join = ' JOIN "umkm" u ON u."id" = r."umkm_id"' if opd is not None else ""
    return f'FROM "fairness_rank_row" r{join} WHERE r."snapshot_id" = ?'


def _ranked(row: dict, rank: int, s: Snapshot, opd: Opd | None, quantity: int | None):
    reasons = row["reasons"].split(",") if row["reasons"] else []
    if opd is not None:
        reasons.append("SERVES_OPD_KECAMATAN")
    if quantity:
        reasons.append("CAPACITY_OK")
    omzet = row["omzet"]
    score = Score(
        deficit=row["deficit"],
        target_share=row["target_share"],
        received_share=row["received_share"],
        received=row["received"],
        active_fraction=row["active_fraction"],
        need=row["need"],
        omzet=omzet,
        omzet_source="REPORTED" if omzet is not None else "NONE",
        bucket=int(row["bucket"]),
        rotation=int(row["rotation"]),
        policy_version=s.policy_version,
    )
    product_id, price = int(row["product_id"]), int(row["price"])
    if row.get("shown_id") is not None:
        product_id, price = int(row["shown_id"]), int(row["shown_price"])
    return RankedUmkm(rank, int(row["umkm_id"]), score, reasons, product_id, price, int(row["position"]))


def page_sql(s: Snapshot, opd: Opd | None, cond: str, params: list, after_position: int, first: int, shown=("", [])):
    """The page statement: `first` + 1 rows after a position, in ranking order, through the buyer's filters, with
    the product each row shows for the buyer's quantity."""
    cols, more = shown
    return (
        f'SELECT r.*{cols} {_from(opd)} AND r."position" > ?{cond} ORDER BY r."position" LIMIT ?',
        [*more, s.id, after_position, *params, first + 1],
    )


@dataclass
class Page:
    """One page of a buyer's list: rows numbered from `after_rank + 1`, and what the connection needs around it."""

    snapshot: Snapshot
    rows: list  # RankedUmkm
    has_next: bool
    after_rank: int
    total: Callable[[], Awaitable[int]]


async def page(
    category_id: int,
    as_of: dt.datetime,
    opd: Opd | None,
    quantity: int | None,
    after: tuple[int, int] | None,
    first: int,
    policy: Policy = POLICY,
    *,
    stored: bool = True,
) -> Page:
    """`first` rows after the cursor (rank, position) for the buyer: one statement on the snapshot's index. With
    `stored=False` (a day other than today) the ranking is computed for the request and nothing is written."""
    if not stored:
        return await _computed_page(category_id, as_of, opd, quantity, after, first, policy)
    s = await snapshot(category_id, as_of, policy)
    cond, params = await _buyer_sql(s, opd, quantity, policy)
    after_rank, after_position = after or (0, 0)
    shown = await _shown_sql(s, quantity, policy)
    rows = await fetch_all(*page_sql(s, opd, cond, params, after_position, first, shown))
    ranked = [_ranked(r, after_rank + i, s, opd, quantity) for i, r in enumerate(rows[:first], start=1)]

    async def total() -> int:
        if opd is None and not quantity:
            return s.eligible
        n = await fetch_all(f"SELECT COUNT(*) AS n {_from(opd)}{cond}", [s.id, *params])
        return int(n[0]["n"])

    return Page(s, ranked, len(rows) > first, after_rank, total)


async def full(category_id: int, as_of: dt.datetime, opd: Opd | None, quantity: int | None, policy: Policy = POLICY):
    """The buyer's whole list (bulk plans): a `resolvers.ranking.Ranking` read from the snapshot."""
    s = await snapshot(category_id, as_of, policy)
    cond, params = await _buyer_sql(s, opd, quantity, policy)
    cols, more = await _shown_sql(s, quantity, policy)
    rows = await fetch_all(f'SELECT r.*{cols} {_from(opd)}{cond} ORDER BY r."position"', [*more, s.id, *params])
    return Ranking(
        category_id,
        as_of,
        s.eligible,
        s.median_price,
        [_ranked(r, i, s, opd, quantity) for i, r in enumerate(rows, start=1)],
    )


async def standing(
    category_id: int,
    as_of: dt.datetime,
    umkm_id: int,
    opd: Opd | None,
    quantity: int | None,
    policy: Policy = POLICY,
    *,
    stored: bool = True,
):
    """One UMKM's row on the buyer's list with its rank, or None with the buyer-side reasons it is left out
    (`KECAMATAN_NOT_SERVED`, else `CAPACITY_SHORT`, else `SHOWN_THROUGH_OTHER_UMKM`: its business actor's row is
    another of its UMKM; an empty list when it is not eligible in the category at all). With `stored=False` computed
    for the request, nothing written."""
    if not stored:
        return await _computed_standing(category_id, as_of, umkm_id, opd, quantity, policy)
    s = await snapshot(category_id, as_of, policy)
    own = await fetch_all(
        'SELECT r.* FROM "fairness_rank_row" r WHERE r."snapshot_id" = ? AND r."umkm_id" = ?', [s.id, umkm_id]
    )
    if not own:
        return s, None, []
    position = own[0]["position"]
    for label, o, q, per_actor, applies in (
        ("KECAMATAN_NOT_SERVED", opd, None, False, opd is not None),
        ("CAPACITY_SHORT", opd, quantity, False, bool(quantity)),
        ("SHOWN_THROUGH_OTHER_UMKM", opd, quantity, True, own[0]["cluster_id"] is not None),
    ):
        if not applies:
            continue
        cond, params = await _buyer_sql(s, o, q, policy, per_actor=per_actor)
        ok = await fetch_all(f'SELECT 1 AS ok {_from(o)} AND r."umkm_id" = ?{cond}', [s.id, umkm_id, *params])
        if not ok:
            return s, None, [label]
    cond, params = await _buyer_sql(s, opd, quantity, policy)
    n = await fetch_all(f'SELECT COUNT(*) AS n {_from(opd)} AND r."position" <= ?{cond}', [s.id, position, *params])
    return s, _ranked(own[0], int(n[0]["n"]), s, opd, quantity), []


# ---------------------------------------------------------------- another day: computed, not stored


async def _computed(
    category_id: int, as_of: dt.datetime, opd: Opd | None, quantity: int | None, policy: Policy
) -> tuple[Snapshot, Ranking]:
    """The ranking of a day other than today, computed for this request (`compute_ranking`, then the buyer's filters
    as `rank_category` applies them) and described like a snapshot that was never stored (`id` 0)."""
    cats = await category_subtree(category_id)
    if not cats:
        raise DomainError("NOT_FOUND", "No such category.", "categoryId")
    ranking = await compute_ranking(category_id, cats, as_of, policy)
    s = Snapshot(
        0,
        category_id,
        cats,
        as_of,
        ranking.eligible,
        ranking.median_price,
        policy.version,
        ranking.typical_quantity,
        ranking.actors,
    )
    await buyer_filters(ranking, cats, opd, quantity, policy)
    return s, ranking


async def _computed_page(
    category_id: int,
    as_of: dt.datetime,
    opd: Opd | None,
    quantity: int | None,
    after: tuple[int, int] | None,
    first: int,
    policy: Policy,
) -> Page:
    """The same page, cursors and counts as a stored list's (`page`), from the computed ranking."""
    s, ranking = await _computed(category_id, as_of, opd, quantity, policy)
    after_rank, after_position = after or (0, 0)
    rest = [r for r in ranking.rows if r.position > after_position]
    for i, r in enumerate(rest[:first], start=after_rank + 1):
        r.rank = i
    total = len(ranking.rows)

    async def count() -> int:
        return total

    return Page(s, rest[:first], len(rest) > first, after_rank, count)


async def _computed_standing(
    category_id: int, as_of: dt.datetime, umkm_id: int, opd: Opd | None, quantity: int | None, policy: Policy
):
    s, ranking = await _computed(category_id, as_of, opd, quantity, policy)
    for rank, row in enumerate(ranking.rows, start=1):
        if row.umkm_id == umkm_id:
            row.rank = rank
            return s, row, []
    return s, None, ranking.excluded.get(umkm_id, [])[:1]
