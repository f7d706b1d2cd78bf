"""The under-sold ranking: who is eligible in a category, each one's fair share against what it received, the order.

`compute_ranking` is the whole ranking of a category at a moment, before any buyer's filters; `serves_sql` and
`able_sql` are the buyer's filters (kecamatan served; stock or capacity for the quantity) as SQL conditions, the one
definition for the computed ranking (`rank_category`) and for the stored daily list's pages
(resolvers/fairness_snapshot.py). It reads the maintained statistics (resolvers/fairness_stats.py), products, UMKM
and omzet reports; never the order lines. The definition and its parameters: docs/FAIRNESS.md and
resolvers/fairness_policy.py.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from models.base import JAKARTA, Scale, UmkmStatus
from models.query import as_datetime, fetch_all, int_list, sql_time
from models.registry import Opd
from resolvers.categories import category_subtree
from resolvers.common import DomainError
from resolvers.fairness_policy import (
    POLICY,
    Policy,
    active_fraction,
    bucket_of,
    decay_to,
    need,
    rotation_key,
)
from resolvers.fairness_secrets import day_secret


@dataclass
class Score:
    deficit: float
    target_share: float
    received_share: float
    received: float
    active_fraction: float
    need: float
    omzet: float | None
    omzet_source: str  # REPORTED (median of the reports), NONE
    bucket: int
    rotation: int
    policy_version: str


@dataclass
class RankedUmkm:
    rank: int
    umkm_id: int
    score: Score
    reasons: list[str]
    cheapest_product_id: int
    cheapest_price: int
    position: int = 0  # place on the whole list, before the buyer's filters
    cluster_id: int | None = None  # the business actor's cluster, when it has other members (held: none)


@dataclass
class Ranking:
    category_id: int
    as_of: dt.datetime
    eligible: int  # places on the list before the buyer's filters: one per business actor, one per held UMKM
    median_price: float | None
    rows: list[RankedUmkm]  # every eligible UMKM (a snapshot's rows); after `buyer_filters`, one per business actor
    excluded: dict[int, list[str]] = field(default_factory=dict)  # buyer-side exclusions, by UMKM
    typical_quantity: int = 1  # the category's median order quantity: what a row's product must be able to deliver
    total: float = 0.0  # T_c, decayed to `as_of`
    actors: int = 0  # business actors on the list (clusters; held UMKM not counted): the shares of T_c


def list_moment(day: dt.date) -> dt.datetime:
    """The moment a day's list is computed for: noon (Asia/Jakarta) of that day, in UTC. The list is a daily one:
    decay, active fraction and rotation are those of that noon all day long."""
    return dt.datetime.combine(day, dt.time(12), JAKARTA).astimezone(dt.UTC)


def complete_months(as_of: dt.datetime, n: int) -> list[str]:
    d = as_of.astimezone(JAKARTA)
    y, m = d.year, d.month
    out = []
    for _ in range(n):
        m -= 1
        if m == 0:
            y, m = y - 1, 12
        out.append(f"{y:04d}-{m:02d}")
    return out


def price_band(median: float, policy: Policy = POLICY) -> tuple[int, int]:
    """[β_lo, β_hi] × median in whole rupiah (prices are integers, so the bounds round inwards)."""
    return math.ceil(policy.band_low * median - 1e-9), math.floor(policy.band_high * median + 1e-9)


def period_of(as_of: dt.datetime) -> str:
    return as_of.astimezone(JAKARTA).strftime("%Y-%m")


def held_since(as_of: dt.datetime, policy: Policy = POLICY) -> dt.datetime:
    """Open orders reserved at or after this moment still count as the seller's stock (griefing)."""
    return as_of - dt.timedelta(hours=policy.hold_grace_hours)


def available_sql(pr: str = "pr", cu: str = "cu") -> str:
    """SQL: what a product can still deliver — its stock, or, made to order, its capacity left in the month (`cu`,
    the month's capacity use) — plus the units held by recent open orders: two parameters, the `held_since` moment
    twice (`available_params`)."""
    return (
        f'(CASE WHEN {pr}."made_to_order" THEN COALESCE({pr}."monthly_capacity", 0) - COALESCE({cu}."used", 0) '
        f'+ CASE WHEN {cu}."held_at" >= ? THEN {cu}."held" ELSE 0 END '
        f'ELSE {pr}."stock" + CASE WHEN {pr}."held_at" >= ? THEN {pr}."held" ELSE 0 END END)'
    )


def available_params(as_of: dt.datetime, policy: Policy = POLICY) -> list:
    """The parameters of `available_sql`, in its order."""
    since = sql_time(held_since(as_of, policy))
    return [since, since]


def eligible_sql(
    cats: list[int],
    as_of: dt.datetime,
    quantity: int,
    median: float | None = None,
    policy: Policy = POLICY,
) -> tuple[str, list]:
    """The statement behind `eligible_with_median` (`?` placeholders) and its parameters. The median is over **one
    price per seller**: its cheapest active product that can deliver (stock or capacity left); a `median` given is
    the day's fixed one. A seller is eligible with its cheapest in-band product that can deliver `quantity`."""
    lo10, hi10 = round(policy.band_low * 10), round(policy.band_high * 10)
    fixed = median is not None
    m = (
        "m AS (SELECT CAST(? AS DOUBLE PRECISION) AS median)"
        if fixed
        else """s AS (SELECT umkm_id, MIN(price) AS price FROM p WHERE avail > 0 GROUP BY umkm_id),
            r AS (SELECT price, ROW_NUMBER() OVER (ORDER BY price) AS rn, COUNT(*) OVER () AS n FROM s),
            m AS (SELECT AVG(price) AS median FROM r WHERE rn IN ((n + 1) / 2, (n + 2) / 2))"""
    )
    params: list = [*available_params(as_of, policy), period_of(as_of), UmkmStatus.VERIFIED.value, Scale.BESAR.value]
    if fixed:
        params.append(median)
    params.append(quantity)
    return (
        f"""WITH p AS (
                SELECT pr."umkm_id" AS umkm_id, pr."id" AS product_id, pr."price" AS price,
                       {available_sql()} AS avail, u."verified_at" AS verified_at, u."cluster_id" AS cluster_id,
                       u."cluster_pending_on" AS held_on
                FROM "product" pr JOIN "umkm" u ON u."id" = pr."umkm_id"
                LEFT JOIN "capacity_use" cu ON cu."product_id" = pr."id" AND cu."period" = ?
                WHERE pr."category_id" IN ({int_list(cats)}) AND pr."active" AND u."status" = ? AND u."scale" <> ?
            ),
            {m},
            e AS (
                SELECT p.umkm_id, p.product_id, p.price, p.verified_at, p.cluster_id, p.held_on,
                       ROW_NUMBER() OVER (PARTITION BY p.umkm_id ORDER BY p.price, p.product_id) AS rn
                FROM p CROSS JOIN m
                WHERE p.avail >= ?
                  AND 10 * p.price >= {lo10} * m.median AND 10 * p.price <= {hi10} * m.median
            )
            SELECT m.median AS median, e.umkm_id AS umkm_id, e.product_id AS product_id, e.price AS price,
                   e.verified_at AS verified_at, e.cluster_id AS cluster_id, e.held_on AS held_on
            FROM m LEFT JOIN e ON e.rn = 1""",
        params,
    )


async def eligible_with_median(
    cats: list[int], as_of: dt.datetime, quantity: int, median: float | None = None, policy: Policy = POLICY
) -> tuple[float | None, list[dict]]:
    """The category's median unit price and E_c in one statement: the products are read once."""
    rows = await fetch_all(*eligible_sql(cats, as_of, quantity, median, policy))
    if not rows or rows[0]["median"] is None:
        return None, []
    return float(rows[0]["median"]), [r for r in rows if r["umkm_id"] is not None]


async def typical_quantity(cats: list[int]) -> int:
    """The category's median order quantity, from the maintained classes of counted order lines (class k holds the
    quantities 2^k to 2^(k+1) − 1): the lower end of the median line's class; 1 before any sale."""
    rows = await fetch_all(
        f'SELECT "quantity_class" AS k, SUM("lines") AS n FROM "category_order_quantity" '
        f'WHERE "category_id" IN ({int_list(cats)}) GROUP BY "quantity_class" ORDER BY "quantity_class"'
    )
    total = sum(int(r["n"]) for r in rows)
    seen = 0
    for r in rows:
        seen += int(r["n"])
        if 2 * seen >= total and total > 0:
            return 2 ** int(r["k"])
    return 1


async def received(cats: list[int], umkm_ids: list[int]) -> tuple[dict[int, float], float]:
    per = {
        r["umkm_id"]: float(r["w"])
        for r in await fetch_all(
            f'SELECT "umkm_id" AS umkm_id, SUM("weighted" + "open_weighted") AS w FROM "umkm_category_sales" '
            f'WHERE "category_id" IN ({int_list(cats)}) GROUP BY "umkm_id"'
        )
    }
    total = await fetch_all(
        f'SELECT SUM("weighted" + "open_weighted") AS w FROM "category_sales" WHERE "category_id" IN ({int_list(cats)})'
    )
    return per, float(total[0]["w"] or 0.0)


async def cluster_members(cluster_ids: set[int]) -> dict[int, list[int]]:
    """The members of these clusters, listed or not, held ones left out (resolvers/clusters.py): their sales are
    the cluster's. One statement, none when no listed UMKM shares its cluster."""
    if not cluster_ids:
        return {}
    rows = await fetch_all(
        f'SELECT "id" AS id, "cluster_id" AS c FROM "umkm" WHERE "cluster_id" IN ({int_list(sorted(cluster_ids))}) '
        'AND "cluster_pending_on" IS NULL'
    )
    out: dict[int, list[int]] = defaultdict(list)
    for r in rows:
        out[int(r["c"])].append(int(r["id"]))
    return out


async def last_awarded(cats: list[int], umkm_ids: list[int]) -> dict[int, dt.datetime]:
    """Each seller's latest award in the category: its latest counted sale or its latest order still open, whichever
    is later (none: never awarded, first in its bucket). An open order awards at once, as it moves the seller's row
    to the end of its bucket when it is placed (`fairness_snapshot.order_placed`), so a later build of the same list
    keeps it there; a cancelled or rejected order is no longer open and leaves no trace."""
    if not umkm_ids:
        return {}
    rows = await fetch_all(
        f'SELECT "umkm_id" AS umkm_id, MAX("last_sale_at") AS sale, MAX("last_open_at") AS open '
        f'FROM "umkm_category_sales" WHERE "category_id" IN ({int_list(cats)}) '
        'AND ("last_sale_at" IS NOT NULL OR "last_open_at" IS NOT NULL) GROUP BY "umkm_id"'
    )
    return {r["umkm_id"]: max(as_datetime(t) for t in (r["sale"], r["open"]) if t is not None) for r in rows}


async def reported_omzet(months: list[str], umkm_ids: list[int] | None = None) -> dict[int, list[int]]:
    """Each UMKM's reported totals for the months **filed on time**, each the larger of the report's current figure
    and every revision (a correction never lowers it, so it never raises need), floored at that month's platform
    sales. Only the given UMKM when `umkm_ids` is passed: the ranking reads its eligible sellers only."""
    marks = ", ".join("?" for _ in months)
    only = f' AND r."umkm_id" IN ({int_list(umkm_ids)})' if umkm_ids is not None else ""
    rows = await fetch_all(
        f"""SELECT r."umkm_id" AS umkm_id, r."total_amount" AS total, s."amount" AS platform,
                   (SELECT MAX(v."total_amount") FROM "omzet_revision" v WHERE v."report_id" = r."id") AS top
            FROM "omzet_report" r
            LEFT JOIN "umkm_monthly_sales" s ON s."umkm_id" = r."umkm_id" AND s."period" = r."period"
            WHERE r."period" IN ({marks}) AND NOT r."late"{only}""",
        months,
    )
    out: dict[int, list[int]] = defaultdict(list)
    for r in rows:
        out[r["umkm_id"]].append(max(int(r["total"]), int(r["top"] or 0), int(r["platform"] or 0)))
    return out


def omzet_used(reports: list[int] | None, policy: Policy = POLICY) -> float | None:
    """Ô_i: the median of the on-time reports, when at least `need_min_reports` of the months have one."""
    if not reports or len(reports) < policy.need_min_reports:
        return None
    return float(statistics.median(reports))


async def compute_ranking(
    category_id: int,
    cats: list[int],
    as_of: dt.datetime,
    policy: Policy = POLICY,
    received_from=None,
    *,
    fixed: tuple[float, int] | None = None,
) -> Ranking:
    """The whole ranking of a category (`cats`: it and its descendants) at `as_of`, before any buyer's filters;
    `rank` is the position. Requests read it from a snapshot (resolvers/fairness_snapshot.py). `received_from`
    replaces the maintained statistics (the benchmark computes them from the order lines to compare). `fixed`: the
    day's band centre and typical quantity, as the day's first build of the list stored them."""
    if fixed is not None:
        med_fixed, q0 = fixed
    else:
        med_fixed, q0 = None, await typical_quantity(cats)
    med, rows = await eligible_with_median(cats, as_of, q0, med_fixed, policy)
    if med is None:
        return Ranking(category_id, as_of, 0, None, [], typical_quantity=q0)
    ids = [r["umkm_id"] for r in rows]
    per, total_w = await (received_from or received)(cats, ids)
    last = await last_awarded(cats, ids)
    day = as_of.astimezone(JAKARTA).date()
    secret = await day_secret(day)
    n = len(rows)
    total = decay_to(total_w, as_of, policy)
    # One share per business actor (docs/FAIRNESS.md): a held UMKM has no actor (share 0); the others' actor is their
    # cluster, or themselves. The cluster's received and latest sale are its members', eligible or not.
    actor = {r["umkm_id"]: (r["cluster_id"] or r["umkm_id"]) for r in rows if r["held_on"] is None}
    members = await cluster_members({r["cluster_id"] for r in rows if r["cluster_id"] and r["held_on"] is None})
    actors = len(set(actor.values()))
    everyone = sorted({*ids, *(m for ms in members.values() for m in ms)})
    omzet = await reported_omzet(complete_months(as_of, policy.need_months), everyone)

    def actor_omzet(key: int) -> float | None:
        """A business actor's Ô: the sum of its members' (a split owner's NIBs each report a part of one business);
        none when one of them has none (not reporting never helps)."""
        own = [omzet_used(omzet.get(m), policy) for m in members.get(key, [key])]
        return None if any(o is None for o in own) else sum(own)

    never = dt.datetime.min.replace(tzinfo=dt.UTC)

    def of_actor(uid: int) -> list[int]:
        return members.get(actor[uid], [uid]) if uid in actor else [uid]

    comp = []
    for r in rows:
        uid = r["umkm_id"]
        verified = as_datetime(r["verified_at"]) or as_of
        a = active_fraction((as_of - verified).total_seconds() / 86_400.0, policy)
        o = omzet_used(omzet.get(uid), policy)
        nu = need(o, policy)
        raw = sum(per.get(m, 0.0) for m in of_actor(uid))
        comp.append((uid, a, nu, o, decay_to(raw, as_of, policy), raw))
    # an actor's weight: the largest active fraction of its listed members, with the need of the actor's omzet
    weight: dict[int, float] = {}
    for uid, a, _, _, _, _ in comp:
        if uid in actor:
            weight[actor[uid]] = max(weight.get(actor[uid], 0.0), a)
    for key in weight:
        weight[key] *= 1 + policy.need_weight * need(actor_omzet(key), policy)
    mean_w = sum(weight.values()) / actors if actors else 1.0
    per_actor = total / actors if actors else total
    ranked = []
    awarded: dict[int, dt.datetime] = {}
    for r, (uid, a, nu, o, rec, raw) in zip(rows, comp, strict=True):
        held = uid not in actor
        s = 0.0 if held else (weight[actor[uid]] / mean_w if mean_w > 0 else 1.0)
        rho = rec / per_actor if total > 0 else 0.0
        d = s - rho
        score = Score(
            deficit=d,
            target_share=s,
            received_share=rho,
            received=rec,
            active_fraction=a,
            need=nu,
            omzet=o,
            omzet_source="REPORTED" if o is not None else "NONE",
            bucket=bucket_of(d, policy),
            rotation=rotation_key(secret, category_id, actor.get(uid, uid)),
            policy_version=policy.version,
        )
        reasons = ["PRICE_IN_BAND"]
        sold = "BELOW_FAIR_SHARE" if d > 0 else "AT_OR_ABOVE_FAIR_SHARE"
        reasons.append("NEVER_SOLD" if raw == 0.0 else sold)
        reasons.append("NO_OMZET_REPORT" if o is None else ("LOW_REPORTED_OMZET" if nu > 0 else "OMZET_REPORTED"))
        if a < 0.5:
            reasons.append("NEWCOMER")
        if held:
            reasons.append("SHARE_ON_HOLD")
        elif len(of_actor(uid)) > 1:
            reasons.append("SHARED_SHARE")
        row = RankedUmkm(0, uid, score, reasons, r["product_id"], int(r["price"]))
        row.cluster_id = None if held else r["cluster_id"]
        ranked.append(row)
        awarded[uid] = max((last[m] for m in of_actor(uid) if m in last), default=never)
    # bucket descending; inside a bucket the least recently awarded (a cluster: its latest sale) first, then the keyed
    # daily order, drawn once per business actor (HMAC over the actor: the cluster's lowest UMKM id, or the UMKM's
    # own). A cluster's members share all three, so they stand together, its best member first: the cheapest
    # product the list shows (in band, able to deliver the typical quantity), then the lower UMKM id.
    ranked.sort(
        key=lambda x: (
            -x.score.bucket,
            awarded[x.umkm_id],
            x.score.rotation,
            actor.get(x.umkm_id, x.umkm_id),
            x.cheapest_price,
            x.umkm_id,
        )
    )
    for i, row in enumerate(ranked, start=1):
        row.rank = row.position = i
    places = actors + (n - len(actor))  # the held UMKM are places of their own
    return Ranking(category_id, as_of, places, med, ranked, typical_quantity=q0, total=total, actors=actors)


def one_per_actor(rows: list[RankedUmkm], excluded: dict[int, list[str]] | None = None) -> list[RankedUmkm]:
    """One row per business actor (docs/FAIRNESS.md, "One share per business actor"): of a cluster's rows that pass
    the buyer's filters, the first in ranking order (its best member); the others are left out, with the reason
    `SHOWN_THROUGH_OTHER_UMKM` in `excluded`. The snapshot's pages apply the same rule in SQL
    (`fairness_snapshot.actor_sql`)."""
    seen: set[int] = set()
    out = []
    for row in rows:
        if row.cluster_id is not None:
            if row.cluster_id in seen:
                if excluded is not None:
                    excluded.setdefault(row.umkm_id, []).append("SHOWN_THROUGH_OTHER_UMKM")
                continue
            seen.add(row.cluster_id)
        out.append(row)
    return out


async def rank_category(
    category_id: int,
    as_of: dt.datetime,
    *,
    opd: Opd | None = None,
    quantity: int | None = None,
    policy: Policy = POLICY,
) -> Ranking:
    """The ranking computed now (no snapshot), then the buyer's filters in Python: the reference the snapshot's
    pages are tested against, and what the simulation calls at any moment of its year."""
    cats = await category_subtree(category_id)
    if not cats:
        raise DomainError("NOT_FOUND", "No such category.", "categoryId")
    ranking = await compute_ranking(category_id, cats, as_of, policy)
    await buyer_filters(ranking, cats, opd, quantity, policy)
    for i, row in enumerate(ranking.rows, start=1):
        row.rank = i
    return ranking


def serves_sql(umkm: str, opd: Opd, u: str = "u") -> tuple[str, list]:
    """SQL condition: the UMKM `u` (its id in column `umkm`) delivers to the OPD's kecamatan (own kecamatan,
    declared ones, or city-wide). The one definition for the computed ranking and the snapshot's pages."""
    return (
        f'({u}."serves_city_wide" OR {u}."kecamatan_id" = ? OR EXISTS (SELECT 1 FROM "umkm_served_kecamatan" sk '
        f'WHERE sk."umkm_id" = {umkm} AND sk."kecamatan_id" = ?))',
        [opd.kecamatan_id, opd.kecamatan_id],
    )


def _qualifying(umkm: str, cats: list[int], median: float | None, as_of: dt.datetime, quantity: int, policy: Policy):
    lo, hi = price_band(median or 0, policy)
    return (
        f"""FROM "product" pr
            LEFT JOIN "capacity_use" cu ON cu."product_id" = pr."id" AND cu."period" = ?
            WHERE pr."umkm_id" = {umkm} AND pr."category_id" IN ({int_list(cats)}) AND pr."active"
              AND pr."price" >= ? AND pr."price" <= ? AND {available_sql()} >= ?""",
        [period_of(as_of), lo, hi, *available_params(as_of, policy), quantity],
    )


def able_sql(umkm: str, cats: list[int], median: float | None, as_of: dt.datetime, quantity: int, policy: Policy):
    """SQL condition: the UMKM (its id in column `umkm`) has a product in the category, priced within the band, that
    can deliver the quantity (stock, with recent open orders' units, or capacity left in the month of `as_of`)."""
    body, params = _qualifying(umkm, cats, median, as_of, quantity, policy)
    return f"EXISTS (SELECT 1 {body})", params


def shown_sql(umkm: str, cats: list[int], median: float | None, as_of: dt.datetime, quantity: int, policy: Policy):
    """SQL expressions (id, price) of the product a row shows for the quantity: the cheapest in-band product that can
    deliver it (ties: the lower id)."""
    body, params = _qualifying(umkm, cats, median, as_of, quantity, policy)
    order = 'ORDER BY pr."price", pr."id" LIMIT 1'
    return (
        f'(SELECT pr."id" {body} {order}) AS shown_id, (SELECT pr."price" {body} {order}) AS shown_price',
        params + params,
    )


async def buyer_filters(
    ranking: Ranking, cats: list[int], opd: Opd | None, quantity: int | None, policy: Policy
) -> None:
    """Per request: keep UMKM that serve the OPD's kecamatan and have stock or capacity for the quantity, then one
    row per business actor (`one_per_actor`)."""
    if opd is None and not quantity:
        ranking.rows = one_per_actor(ranking.rows, ranking.excluded)
        return
    keep = {r.umkm_id for r in ranking.rows}
    checks = []
    if opd is not None:
        checks.append(("KECAMATAN_NOT_SERVED", serves_sql('u."id"', opd)))
    if quantity:
        checks.append(
            ("CAPACITY_SHORT", able_sql('u."id"', cats, ranking.median_price, ranking.as_of, quantity, policy))
        )
    shown: dict[int, tuple[int, int]] = {}
    for reason, (cond, params) in checks:
        cols, more = (
            shown_sql('u."id"', cats, ranking.median_price, ranking.as_of, quantity, policy)
            if reason == "CAPACITY_SHORT"
            else ("NULL AS shown_id, NULL AS shown_price", [])
        )
        sql = f'SELECT u."id" AS id, {cols} FROM "umkm" u WHERE u."id" IN ({int_list(sorted(keep))}) AND {cond}'
        got = await fetch_all(sql, more + params)
        passing = {r["id"] for r in got}
        shown.update({r["id"]: (int(r["shown_id"]), int(r["shown_price"])) for r in got if r["shown_id"] is not None})
        for uid in keep - passing:
            ranking.excluded.setdefault(uid, []).append(reason)
        keep &= passing
    for row in ranking.rows:
        if row.umkm_id in shown:
            row.cheapest_product_id, row.cheapest_price = shown[row.umkm_id]
        if row.umkm_id in keep:
            if opd is not None:
                row.reasons.append("SERVES_OPD_KECAMATAN")
            if quantity:
                row.reasons.append("CAPACITY_OK")
    ranking.rows = one_per_actor([r for r in ranking.rows if r.umkm_id in keep], ranking.excluded)
