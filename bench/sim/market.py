"""One (seed, policy) run: a fresh database, the world loaded in bulk, a year of purchases through the real code.

A purchase that follows the list asks the real ranking SQL (`resolvers.ranking.rank_category`, with the OPD and the
quantity) and reads its rows in order: the UMKM eligible for this purchase (verified, able to deliver the quantity,
priced within the band, serving the OPD's kecamatan). A following buyer picks among the list's three recommended rows
(`resolvers.fairness.choice` gives the default, shown first). The other purchases (status quo, random, strict
rotation, roster, and the fair policies' non-following ones) choose from the same eligible set computed from the
simulation's own state, which is compared with `rank_category`'s rows (ids, products, prices, median) on every
ranking call and, for the others, on every 10th purchase (a difference is counted in the run's checks): all policies
see the same market. (Calling the ranking for every purchase of every policy would take far longer.)

The chosen sale is placed as `placeOrder` places it — an Order + OrderItem `SUBMITTED`, the units held (`held`,
`held_at`), the order counted provisionally on the lists (`resolvers.fairness_stats.record_open`) — and delivered
`delay` days later as `confirmDelivery` does (shipped: the held units stop counting; `resolvers.sales.sale_counted`
with `was_open`): the monthly omzet rollup and the fairness statistics move exactly as they do on the platform.

The figures read each UMKM's counted rupiah per category from the maintained statistics (`umkm_category_sales`)
and check them against the simulation's own ledger; at the end both maintained tables are compared with a rebuild
from the order lines (`rebuild_stats`, `rebuild_monthly_sales`, no fix): any drift is reported in the result. The
attackers (bench/sim/world.py) are measured at each figure month: the split owners' counted sales against their
one-NIB twins', and the competitors pushed out of the price band by the stuffers' listings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from bench.sim.world import CATEGORIES, DAYS_PER_MONTH, World, policy_rng
from resolvers.clusters import DEV_IDENTITY_KEY, recluster_all
from resolvers.fairness_policy import POLICY, Policy

JAKARTA = ZoneInfo("Asia/Jakarta")
START = dt.date(2026, 1, 1)  # day 0
MIN_LOT = 20  # docs/FAIRNESS.md m; bulk candidates need at least one lot in stock
TOP = 10  # the list a following buyer is shown
PAGE = 20  # a browsing page (status quo)
REORDER = 0.6
BROWSE = 0.3
BESTSELLER_ORDER_WEIGHT = 3
CHECK_EVERY = 10  # a non-ranked purchase checks its eligible set against rank_category every 10th request
FIGURES = ("gini", "jain", "theil", "zero_share", "coverage_efficiency", "top10_share")
# PASAR_BULK_THRESHOLD of the simulated city: a line above Rp50 juta goes through planBulkOrder. The largest regular
# purchase of the world is about Rp30 juta (100 batik pieces); the two bulk orders are Rp400-700 juta.
BULK_THRESHOLD = 50_000_000
LEVERS = ("lra", "top3", "ramp", "bulk", "open")  # what a "-no_<lever>" suffix turns off
LEVER_TEXT = {
    "lra": "inside a bucket the least recently awarded first (off: the keyed order only)",
    "top3": "the buyer picks among the 3 recommended rows, the default first (off: among the top 10)",
    "ramp": "newcomer ramp half-life 30 days (off: 180 days)",
    "bulk": "bulk setting: purchases above the threshold go through the split, followed or not (off: only followers)",
    "open": "open orders count provisionally from ordering (off: only from delivery)",
}


@dataclass(frozen=True)
class PolicySpec:
    name: str
    kind: str  # status_quo | random | rotation | roster | fair
    follow: float = 0.0  # fair: probability of following the list
    off: frozenset[str] = frozenset()  # fair: levers turned off

    def on(self, lever: str) -> bool:
        return lever not in self.off

    @property
    def ranking_policy(self) -> Policy:
        return POLICY if self.on("ramp") else Policy(ramp_half_life_days=180.0)


@dataclass(frozen=True)
class Offer:
    """An eligible UMKM as the non-ranked policies see it (the same fields as a ranking row's)."""

    umkm_id: int
    cheapest_product_id: int
    cheapest_price: int
    rank: None = None


def policy_spec(name: str) -> PolicySpec:
    if name in ("status_quo", "random", "rotation", "roster"):
        return PolicySpec(name, name)
    base, *offs = name.split("-no_")
    if base.startswith("fair") and base[4:].isdigit() and 0 <= int(base[4:]) <= 100 and set(offs) <= set(LEVERS):
        if len(set(offs)) == len(offs):
            return PolicySpec(name, "fair", int(base[4:]) / 100, frozenset(offs))
    raise ValueError(
        f"unknown policy {name!r}: status_quo, random, rotation, roster or fairNN (NN = percent following), "
        f"optionally with levers off: fairNN-no_LEVER[-no_LEVER...], LEVER in {', '.join(LEVERS)}"
    )


def moment(day: int, minutes_after_eight: float) -> dt.datetime:
    """The UTC instant of a simulated day's Jakarta wall-clock time (08:00 + minutes)."""
    local = dt.datetime.combine(START + dt.timedelta(days=day), dt.time(8), JAKARTA)
    return (local + dt.timedelta(minutes=minutes_after_eight)).astimezone(dt.UTC)


def period_of(date: dt.date) -> str:
    return f"{date.year:04d}-{date.month:02d}"


def shift_period(period: str, delta: int) -> str:
    y, m = map(int, period.split("-"))
    n = y * 12 + m - 1 + delta
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


class Market:
    """The database side of one run, plus the policy's own ledger (what it bought, from whom, at what price)."""

    def __init__(self, world: World, policy: PolicySpec):
        self.world, self.policy = world, policy
        self.rng: random.Random = policy_rng(world.seed, policy.name)
        self.quality = {(p.umkm + 1, p.category): p.quality for p in world.products}
        self.product_of = {(p.umkm + 1, p.category): p.index + 1 for p in world.products}
        self.stock = {p.index + 1: 0 for p in world.products}
        self.held = {p.index + 1: 0 for p in world.products}  # units of open orders not shipped (product.held)
        self.held_at: dict[int, dt.datetime] = {}  # product.held_at: the latest reservation
        self.pending: dict[int, list] = defaultdict(list)  # delivery day -> [(order, product id, quantity, ...)]
        self.awarded: dict[tuple[int, int], int] = {}  # roster: (category, umkm id) -> sequence of its last award
        self.award_seq = 0
        self.rank_policy = policy.ranking_policy
        self.cluster_of: dict[int, int] = {}  # UMKM id -> its cluster (joined members only), read after `load`
        self.members = {
            ci: sorted(p.umkm + 1 for p in world.products if p.category == ci) for ci in range(len(CATEGORIES))
        }
        self.opds: list = []
        self.verified: set[int] = {u.index + 1 for u in world.umkm if u.verify_day == 0}
        self.verified_prices: list[list[int]] = [[] for _ in CATEGORIES]
        for p in world.products:
            if p.umkm + 1 in self.verified:
                self.verified_prices[p.category].append(p.price)
        self.market_checks = 0
        self.mismatches = 0  # ranking calls whose eligible set differed from the simulation's own
        self.mismatch_example = ""
        self.quantity_lines: list[dict[int, int]] = [defaultdict(int) for _ in CATEGORIES]
        # ledger
        self.amount: dict[tuple[int, int], int] = defaultdict(int)  # (umkm id, category) -> rupiah counted
        self.orders: dict[tuple[int, int], int] = defaultdict(int)  # (umkm id, category) -> orders
        self.platform: dict[tuple[int, str], int] = defaultdict(int)  # (umkm id, period) -> rupiah
        self.last: dict[tuple[int, int], int] = {}  # (opd, category) -> last supplier
        self.pointer = dict.fromkeys(range(len(CATEGORIES)), -1)  # strict rotation: index into members
        self.paid = [0] * len(CATEGORIES)
        self.cheapest = [0] * len(CATEGORIES)
        self.purchases = [0] * len(CATEGORIES)  # orders written (a split bulk order counts once per supplier)
        self.requests = [0] * len(CATEGORIES)  # purchases asked for
        self.unfilled = [0] * len(CATEGORIES)  # asked for, nobody eligible
        self.refused = [0] * len(CATEGORIES)  # a chosen seller listed on held units only (placeOrder refuses)
        self.short_units = [0] * len(CATEGORIES)  # bulk units nobody could supply
        self.followed = [0] * len(CATEGORIES)
        self.followed_never_sold = [0] * len(CATEGORIES)  # the followed choice had never sold in the category
        self.followed_missed = [0] * len(CATEGORIES)  # followed, sold-before chosen while a never-sold was eligible
        self.rank_calls = 0
        self.rank_seconds = 0.0
        self.figures: dict[str, dict[str, dict]] = {}
        self.attacks: dict[str, dict] = {}
        self.checks: dict[str, int] = {}
        # how each purchase chose its seller (`channel`), kept per order until delivery, then its rupiah per
        # (UMKM, channel): where the split owners' sales come from (`split_gain`)
        self.channel = ""
        self.channel_of: dict[int, str] = {}
        self.by_channel: dict[tuple[int, str], int] = defaultdict(int)

    # ------------------------------------------------------------ setup

    async def load(self) -> None:
        """The world in bulk inserts: categories, OPD and their buyers, UMKM with owners, products, omzet history."""
        from models.accounts import User
        from models.base import OpdKind, Role, Scale, UmkmStatus
        from models.catalog import Product
        from models.registry import Category, Kecamatan, Kelurahan, Opd, Umkm, UmkmServedKecamatan

        w = self.world
        kecs = await Kecamatan.all().order_by("code").limit(w.size.kecamatan)
        if len(kecs) < w.size.kecamatan:
            raise RuntimeError("the reference data holds fewer kecamatan than the world needs")
        kel = {}
        for k in await Kelurahan.filter(kecamatan_id__in=[k.id for k in kecs]).order_by("code"):
            kel.setdefault(k.kecamatan_id, k.id)
        self.kec_ids = [k.id for k in kecs]
        await Category.bulk_create(
            [Category(id=i + 1, name=c.name, slug=f"sim-{c.slug}") for i, c in enumerate(CATEGORIES)]
        )
        n_umkm = len(w.umkm)
        # A split owner's extra NIBs are registered by the same owner account, with the same bank account and phone,
        # as a real attacker would (docs/FAIRNESS.md: one business actor, one fair share).
        users = [
            User(id=u.index + 1, email=f"owner{u.index + 1}@sim.pasar.id", password_hash="-", full_name="Owner",
                 role=Role.UMKM_OWNER)
            for u in w.umkm
            if u.owner < 0
        ]  # fmt: skip
        await User.bulk_create(users, batch_size=500)
        await Opd.bulk_create(
            [
                Opd(id=o + 1, code=f"SIM-{o + 1:03d}", name=f"OPD {o + 1}", kind=OpdKind.DINAS,
                    kecamatan_id=self.kec_ids[k], address="Jl. Simulasi")
                for o, k in enumerate(w.opd_kecamatan)
            ]
        )  # fmt: skip
        self.buyer_of = [n_umkm + o + 1 for o in range(len(w.opd_kecamatan))]
        await User.bulk_create(
            [
                User(id=self.buyer_of[o], email=f"buyer{o + 1}@sim.pasar.id", password_hash="-", full_name="Buyer",
                     role=Role.OPD_BUYER, opd_id=o + 1)
                for o in range(len(w.opd_kecamatan))
            ]
        )  # fmt: skip
        self.opds = list(await Opd.all().order_by("id"))
        verified = moment(0, -60)

        def actor(u) -> int:  # the owner account's UMKM index
            return u.owner if u.owner >= 0 else u.index

        await Umkm.bulk_create(
            [
                Umkm(
                    id=u.index + 1, owner_id=actor(u) + 1, name=f"UMKM {u.index + 1}",
                    nib=f"{9_100_000_000_000 + u.index}", owner_name=f"Owner {actor(u) + 1}",
                    phone=f"0812{actor(u) + 1:08d}", address="Jl. Simulasi",
                    kelurahan_id=kel[self.kec_ids[u.kecamatan]], kecamatan_id=self.kec_ids[u.kecamatan],
                    serves_city_wide=u.city_wide, scale=Scale.MIKRO,
                    status=UmkmStatus.VERIFIED if u.verify_day == 0 else UmkmStatus.PENDING,
                    verified_at=verified if u.verify_day == 0 else None,
                    bank_name="Bank Simulasi", bank_account=f"{7_000_000_000 + actor(u) + 1}",
                    bank_account_name=f"Owner {actor(u) + 1}",
                )
                for u in w.umkm
            ],
            batch_size=500,
        )  # fmt: skip
        # one fair share per business actor: a split owner's NIBs share its owner account, bank account and phone,
        # so the app's clusters join them, as they would join rows registered through `registerUmkm`
        await recluster_all(DEV_IDENTITY_KEY.encode())
        # the list shows one row per business actor (resolvers.ranking.one_per_actor): the clusters as the app keeps
        # them, to reproduce the list's rows from the simulation's own eligible set
        self.cluster_of = {
            u: c
            for u, c, held in await Umkm.all().values_list("id", "cluster_id", "cluster_pending_on")
            if c is not None and held is None
        }
        await UmkmServedKecamatan.bulk_create(
            [
                UmkmServedKecamatan(umkm_id=u.index + 1, kecamatan_id=self.kec_ids[k])
                for u in w.umkm
                for k in sorted(u.served)
            ],
            batch_size=1000,
        )
        await Product.bulk_create(
            [
                Product(id=p.index + 1, umkm_id=p.umkm + 1, category_id=p.category + 1,
                        name=f"{CATEGORIES[p.category].name} {p.umkm + 1}", unit=CATEGORIES[p.category].unit,
                        price=p.price, stock=p.capacity if p.in_stock[0] else 0)
                for p in w.products
            ]
            + [
                Product(id=p.index + 1, umkm_id=p.umkm + 1, category_id=p.category + 1,
                        name=f"{CATEGORIES[p.category].name} murah {p.index + 1}", unit=CATEGORIES[p.category].unit,
                        price=p.price, stock=0)
                for p in w.stuffed
            ],
            batch_size=500,
        )  # fmt: skip
        for p in w.products:
            self.stock[p.index + 1] = p.capacity if p.in_stock[0] else 0
        first = period_of(START)
        for back in (3, 2, 1):
            await self.file_reports(shift_period(first, -back), moment(0, -120))
        # The keyed order inside a bucket uses a random secret per day; the simulation fixes them from its seed so
        # that a seed gives the same bytes.
        from models.fairness import FairnessDaySecret

        await FairnessDaySecret.bulk_create(
            [
                FairnessDaySecret(
                    day=START + dt.timedelta(days=d),
                    secret=hashlib.sha256(f"sim:{w.seed}:{d}".encode()).hexdigest(),
                )
                for d in range(-1, w.size.days + 2)
            ],
            batch_size=500,
        )

    def owner_of(self, umkm_id: int) -> int:
        """The business actor of a UMKM for the figures: its owner account's first UMKM id (a split owner's NIBs
        share it; a twin has its own)."""
        return self.user_of(umkm_id)

    def user_of(self, umkm_id: int) -> int:
        """The owner account's user id (a split owner's extra NIBs share the first NIB's account)."""
        u = self.world.umkm[umkm_id - 1]
        return (u.owner if u.owner >= 0 else u.index) + 1

    async def file_reports(self, period: str, at: dt.datetime) -> None:
        """Every reporting UMKM files its report for a finished month: its level plus that month's platform sales."""
        from models.omzet import OmzetReport, OmzetRevision

        reports, revisions = [], []
        for u in self.world.umkm:
            if u.omzet_level is None:
                continue
            platform = self.platform.get((u.index + 1, period), 0)
            total = u.omzet_level + platform
            reports.append(
                OmzetReport(umkm_id=u.index + 1, period=period, first_submitted_at=at, late=False,
                            platform_amount=platform, other_online_amount=0, offline_amount=u.omzet_level,
                            total_amount=total, updated_at=at)
            )  # fmt: skip
        await OmzetReport.bulk_create(reports, batch_size=500)
        ids = dict(await OmzetReport.filter(period=period).values_list("umkm_id", "id"))
        for r in reports:
            revisions.append(
                OmzetRevision(report_id=ids[r.umkm_id], number=1, platform_amount=r.platform_amount,
                              other_online_amount=0, offline_amount=r.offline_amount, total_amount=r.total_amount,
                              submitted_by_id=self.user_of(r.umkm_id))
            )  # fmt: skip
        await OmzetRevision.bulk_create(revisions, batch_size=500)

    async def roll_stock(self, month: int) -> None:
        """A new month: each product holds its capacity if in stock this month, else nothing."""
        from tortoise import connections
        from tortoise.transactions import in_transaction

        rows = []
        for p in self.world.products:
            s = p.capacity if p.in_stock[month] else 0
            self.stock[p.index + 1] = s
            rows.append([s, p.index + 1])
        async with in_transaction():
            db = connections.get("default")  # inside the block: the transaction's connection (SQLite has one lock)
            marks = ("$1", "$2") if db.capabilities.dialect == "postgres" else ("?", "?")
            await db.execute_many(f'UPDATE "product" SET "stock" = {marks[0]} WHERE "id" = {marks[1]}', rows)

    async def verify(self, day: int) -> None:
        from models.base import UmkmStatus
        from models.registry import Umkm

        ids = [u.index + 1 for u in self.world.umkm if u.verify_day == day]
        new = set(ids)
        for p in self.world.products:
            if p.umkm + 1 in new:
                self.verified_prices[p.category].append(p.price)
        self.verified.update(ids)
        if ids:
            await Umkm.filter(id__in=ids).update(status=UmkmStatus.VERIFIED, verified_at=moment(day, -60))

    # ------------------------------------------------------------ the year

    async def run(self) -> None:
        w = self.world
        by_day: dict[int, list] = defaultdict(list)
        for p in w.purchases:
            by_day[p.day].append(p)
        for day in range(w.size.days):
            month = day // DAYS_PER_MONTH
            if day and day % DAYS_PER_MONTH == 0:
                await self.roll_stock(month)
            if day:
                await self.verify(day)
                date = START + dt.timedelta(days=day)
                if date.day == 1:
                    await self.file_reports(period_of(date - dt.timedelta(days=1)), moment(day, -90))
            for pending in self.pending.pop(day, []):
                await self.deliver(pending, moment(day, -30))
            for p in by_day.get(day, []):
                await self.purchase(p)
            if (day + 1) % DAYS_PER_MONTH == 0 and (day + 1) // DAYS_PER_MONTH in w.size.figure_months:
                await self.take_figures((day + 1) // DAYS_PER_MONTH, day)
        await self.final_checks()

    async def ranking(self, category: int, at: dt.datetime, opd_index: int, quantity: int):
        from resolvers.ranking import rank_category

        t0 = time.perf_counter()
        r = await rank_category(category + 1, at, opd=self.opds[opd_index], quantity=quantity, policy=self.rank_policy)
        self.rank_seconds += time.perf_counter() - t0
        self.rank_calls += 1
        if not self.policy.on("lra"):  # lever off: inside a bucket, the keyed daily order only
            r.rows.sort(key=lambda x: (-x.score.bucket, x.score.rotation, x.umkm_id))
            for i, row in enumerate(r.rows, start=1):
                row.rank = i
        return r

    def pick_in_list(self, rows: list, category: int, median: float) -> int:
        """docs/FAIRNESS.md: position j (1-based) with weight exp(2·quality − 4·ln(price/median)) / log2(1+j)."""
        weights = [
            math.exp(2 * self.quality[(r.umkm_id, category)] - 4 * math.log(r.cheapest_price / median))
            / math.log2(1 + j)
            for j, r in enumerate(rows, start=1)
        ]
        return self.rng.choices(range(len(rows)), weights=weights)[0]

    def popularity(self, umkm_id: int, category: int) -> float:
        return self.world.umkm[umkm_id - 1].reputation + BESTSELLER_ORDER_WEIGHT * self.orders[(umkm_id, category)]

    def status_quo(self, rows: list, opd: int, category: int, median: float):
        """Reorder the last supplier (0.6, if still eligible), else browse a random page of 20 by popularity (0.3),
        else pick from the best-seller list (top 10 by reputation + 3 × platform orders)."""
        last = self.last.get((opd, category))
        if self.rng.random() < REORDER and last is not None:
            for r in rows:
                if r.umkm_id == last:
                    self.channel = "reorder"
                    return r, None
        ordered = sorted(rows, key=lambda r: (-self.popularity(r.umkm_id, category), r.umkm_id))
        if self.rng.random() < BROWSE:
            self.channel = "browse"
            page = self.rng.randrange(math.ceil(len(ordered) / PAGE))
            shown = ordered[page * PAGE : (page + 1) * PAGE]
        else:
            self.channel = "bestsellers"
            shown = ordered[:TOP]
        return shown[self.pick_in_list(shown, category, median)], None

    def rotation(self, rows: list, category: int):
        eligible = {r.umkm_id: r for r in rows}
        members = self.members[category]
        start = self.pointer[category]
        for step in range(1, len(members) + 1):
            i = (start + step) % len(members)
            if members[i] in eligible:
                self.pointer[category] = i
                return eligible[members[i]]
        raise AssertionError("rotation found no eligible member")

    def roster(self, rows: list, category: int):
        """The least recently awarded eligible seller (never awarded first, then by id); no choice."""
        return min(rows, key=lambda r: (self.awarded.get((category, r.umkm_id), -1), r.umkm_id))

    def choose(self, rows: list, opd: int, category: int, median: float, follow: bool):
        """One supplier from the eligible rows (ranking order); returns (row, rank in the ranking or None)."""
        kind = self.policy.kind
        self.channel = "list" if follow else kind
        if kind == "random":
            return self.rng.choice(sorted(rows, key=lambda r: r.umkm_id)), None
        if kind == "rotation":
            return self.rotation(rows, category), None
        if kind == "roster":
            return self.roster(rows, category), None
        if follow:
            if self.policy.on("top3"):
                from resolvers.fairness import choice

                top = [r for r in rows if r.rank <= POLICY.recommended]
                if not top:  # every recommended row was refused (listed on held units): the next ones, as a page
                    top = [replace(r, rank=i) for i, r in enumerate(rows[: POLICY.recommended], start=1)]
                _, default = choice(top)
                # the default choice is shown first; the buyer picks among the three with the choice model
                top.sort(key=lambda r: (r.rank != default, r.rank))
            else:
                top = rows[:TOP]
            j = self.pick_in_list(top, category, median)
            chosen = top[j]
            c = category
            self.followed[c] += 1
            never = [r for r in rows if self.orders[(r.umkm_id, c)] == 0]
            if self.orders[(chosen.umkm_id, c)] == 0:
                self.followed_never_sold[c] += 1
            elif never:
                self.followed_missed[c] += 1
            return chosen, chosen.rank
        return self.status_quo(rows, opd, category, median)

    def follows(self) -> bool:
        return self.policy.kind == "fair" and self.rng.random() < self.policy.follow

    def available(self, pid: int, at: dt.datetime) -> int:
        """`resolvers.ranking.available_sql`: stock plus the units of open orders reserved in the last 72 hours."""
        held_at = self.held_at.get(pid)
        recent = held_at is not None and held_at >= at - dt.timedelta(hours=POLICY.hold_grace_hours)
        return self.stock[pid] + (self.held[pid] if recent else 0)

    def offers(self, category: int, opd_index: int, quantity: int, at: dt.datetime) -> tuple[list[Offer], float | None]:
        """The ranking's eligible set for one purchase, computed from the simulation's own state (cross-checked
        against `rank_category` on every ranking call): verified, product priced within the band around the median
        of verified UMKM's products, serving the OPD's kecamatan, stock for the quantity. Sorted by UMKM id."""
        from resolvers.ranking import price_band

        # one price per seller: its product, when it has stock (docs/FAIRNESS.md, "Eligible")
        prices = [
            p.price
            for p in self.world.products_by_category[category]
            if p.umkm + 1 in self.verified and self.available(p.index + 1, at) > 0
        ]
        if not prices:
            return [], None
        med = float(statistics.median(prices))
        lo, hi = price_band(med)
        kec = self.world.opd_kecamatan[opd_index]
        need = max(quantity, self.typical_quantity(category), 1)  # a row's product can deliver both
        out = []
        for p in self.world.products_by_category[category]:
            u = self.world.umkm[p.umkm]
            pid = p.index + 1
            if (
                u.index + 1 in self.verified
                and lo <= p.price <= hi
                and (u.city_wide or u.kecamatan == kec or kec in u.served)
                and self.available(pid, at) >= need
            ):
                out.append(Offer(u.index + 1, pid, p.price))
        return out, med

    def typical_quantity(self, category: int) -> int:
        """As `resolvers.ranking.typical_quantity`, from the simulation's own count of its order lines."""
        lines = self.quantity_lines[category]
        total, seen = sum(lines.values()), 0
        for k in sorted(lines):
            seen += lines[k]
            if total and 2 * seen >= total:
                return 2**k
        return 1

    async def market(self, p, at: dt.datetime, quantity: int, ranked: bool) -> tuple[list, float | None]:
        """The rows a purchase sees. `ranked`: from `rank_category` (ranking order, scores), checked against the
        simulation's own eligible set; else the simulation's set (checked against the ranking every CHECK_EVERY-th
        purchase)."""
        offers, med = self.offers(p.category, p.opd, quantity, at)
        if not ranked and p.seq % CHECK_EVERY:
            return offers, med
        ranking = await self.ranking(p.category, at, p.opd, quantity)
        mine = sorted((o.umkm_id, o.cheapest_product_id, o.cheapest_price) for o in self.one_per_actor(offers))
        theirs = sorted((r.umkm_id, r.cheapest_product_id, r.cheapest_price) for r in ranking.rows)
        if mine != theirs or (med is not None and abs(med - (ranking.median_price or 0)) > 1e-9):
            # counted, not raised: a year-long batch goes on, and the run's checks fail (exit status 1)
            self.mismatches += 1
            if not self.mismatch_example:
                self.mismatch_example = (
                    f"purchase {p.seq}: the simulation's eligible set ({len(mine)}) differs from the ranking's "
                    f"({len(theirs)}): {sorted(set(mine) ^ set(theirs))[:5]}; median {med} vs {ranking.median_price}"
                )
        self.market_checks += 1
        return (ranking.rows, ranking.median_price) if ranked else (offers, med)

    def one_per_actor(self, offers: list[Offer]) -> list[Offer]:
        """The offers the list shows: one per business actor, its cheapest member (then the lower id), as
        `resolvers.ranking.one_per_actor` keeps the first of a cluster's rows (each UMKM has one product in a
        category here, so its row's product is the one the buyer is offered)."""
        best: dict[int, Offer] = {}
        for o in offers:
            key = self.cluster_of.get(o.umkm_id, o.umkm_id)
            if key not in best or (o.cheapest_price, o.umkm_id) < (best[key].cheapest_price, best[key].umkm_id):
                best[key] = o
        return sorted(best.values(), key=lambda o: o.umkm_id)

    async def purchase(self, p) -> None:
        c = p.category
        at = moment(p.day, p.minute)
        self.requests[c] += 1
        follow = self.follows()
        split = p.bulk
        if self.bulk_plan(p):
            follow = split = True  # the bulk setting: placeOrder refuses the line, the buyer plans it (planBulkOrder)
        rows, median = await self.market(p, at, MIN_LOT if split else p.quantity, follow)
        if not rows:
            self.unfilled[c] += 1
            if split:
                self.short_units[c] += p.quantity
            return
        if split:
            await self.bulk(p, at, rows, median, follow)
            return
        self.cheapest[c] += min(r.cheapest_price for r in rows) * p.quantity
        while True:
            row, rank = self.choose(rows, p.opd, c, median, follow)
            if self.stock[row.cheapest_product_id] >= p.quantity:
                break
            # listed on units held by recent open orders (no griefing), but placeOrder cannot take them: the buyer
            # picks again among the others
            self.refused[c] += 1
            rows = [r for r in rows if r.umkm_id != row.umkm_id]
            if not rows:
                self.unfilled[c] += 1
                return
        await self.sell(p, at, row, p.quantity, "UNDER_SOLD_LIST" if rank else "SEARCH", rank)

    def bulk_plan(self, p) -> bool:
        """The city's bulk setting (fair policies, lever `bulk`): a line above BULK_THRESHOLD at the category's base
        price goes through the split whether the buyer follows the list or not."""
        if self.policy.kind != "fair" or not self.policy.on("bulk"):
            return False
        return p.quantity * CATEGORIES[p.category].base_price > BULK_THRESHOLD

    async def bulk(self, p, at: dt.datetime, rows: list, median: float, follow: bool) -> None:
        """A bulk order: a following buyer splits it by water-filling; otherwise the policy picks supplier after
        supplier (each up to its stock) until the quantity is covered."""
        c = p.category
        plan: list[tuple] = []  # (row, quantity, rank)
        if follow:
            from resolvers.bulk_split import Candidate, water_fill

            gamma = self.rank_policy.need_weight  # w_i = a_i(1 + γN_i), from the ranking row's own components
            cands = [
                Candidate(
                    umkm_id=r.umkm_id,
                    received=max(0.0, r.score.received),
                    weight=r.score.active_fraction * (1 + gamma * r.score.need),
                    price=r.cheapest_price,
                    capacity=self.stock[r.cheapest_product_id],  # units it can take now (not the held ones)
                    deficit=r.score.deficit,
                )
                for r in rows
            ]
            by_id = {r.umkm_id: r for r in rows}
            self.channel = "bulk_plan"
            for a in water_fill(cands, p.quantity, min_lot=MIN_LOT):
                plan.append((by_id[a.umkm_id], a.quantity, by_id[a.umkm_id].rank))
            self.followed[c] += 1
        else:
            pool = list(rows)
            remaining = p.quantity
            while remaining > 0 and pool:
                row, _ = self.choose(pool, p.opd, c, median, False)
                q = min(remaining, self.stock[row.cheapest_product_id])
                if q > 0:
                    plan.append((row, q, None))
                remaining -= q
                pool = [r for r in pool if r.umkm_id != row.umkm_id]
        bought = sum(q for _, q, _ in plan)
        self.short_units[c] += p.quantity - bought
        # the cheapest way to buy the same units from the same candidates
        left = bought
        for r in sorted(rows, key=lambda r: (r.cheapest_price, r.umkm_id)):
            q = min(left, self.stock[r.cheapest_product_id])
            self.cheapest[c] += q * r.cheapest_price
            left -= q
            if not left:
                break
        for row, q, rank in plan:
            await self.sell(p, at, row, q, "BULK_PLAN" if follow else "SEARCH", rank)

    async def sell(self, p, at: dt.datetime, row, quantity: int, source: str, rank: int | None) -> None:
        """Place the order at `at` as `placeOrder` does — SUBMITTED, the stock reserved (`held`, `held_at`), counted
        provisionally (`record_open`) — in one transaction; it is delivered `p.delay` days later (`deliver`)."""
        from tortoise.expressions import F
        from tortoise.transactions import in_transaction

        from models.catalog import Product
        from models.orders import Order, OrderItem, OrderKind, OrderSource, OrderStatus
        from resolvers.fairness_stats import record_open

        c = p.category
        pid = row.cheapest_product_id
        if self.product_of[(row.umkm_id, c)] != pid:
            raise AssertionError("the ranking offered a product the world does not know")
        if self.stock[pid] < quantity:
            raise AssertionError(f"stock of product {pid} is {self.stock[pid]} < {quantity}")
        total = row.cheapest_price * quantity
        spec = CATEGORIES[c]
        # One microsecond after the purchase's whole minute: SQLite stores a datetime without microseconds as
        # "...:00+00:00" but `sql_time` writes the 72-hour bound as "...:00.000000+00:00", so a reservation exactly
        # 72 hours before a later purchase would compare as older in SQL and as recent here.
        at = at + dt.timedelta(microseconds=1)
        async with in_transaction():
            order = await Order.create(
                kind=OrderKind.OPD, opd_id=p.opd + 1, buyer_id=self.buyer_of[p.opd], umkm_id=row.umkm_id,
                status=OrderStatus.SUBMITTED, total=total, needed_by=(at + dt.timedelta(days=p.delay)).astimezone(
                    JAKARTA).date(), delivery_address="Jl. Simulasi", source=OrderSource(source), source_rank=rank,
                created_at=at,
            )  # fmt: skip
            await OrderItem.create(
                order_id=order.id, product_id=pid, category_id=c + 1, name=f"{spec.name} {row.umkm_id}",
                unit=spec.unit, unit_price=row.cheapest_price, quantity=quantity, subtotal=total,
            )  # fmt: skip
            await Product.filter(id=pid).update(stock=F("stock") - quantity, held=F("held") + quantity, held_at=at)
            if self.policy.on("open"):
                await record_open(row.umkm_id, {c + 1: total}, at, 1)
        self.stock[pid] -= quantity
        self.held[pid] += quantity
        self.held_at[pid] = at
        self.orders[(row.umkm_id, c)] += 1
        self.award_seq += 1
        self.awarded[(c, row.umkm_id)] = self.award_seq
        self.last[(p.opd, c)] = row.umkm_id
        self.paid[c] += total
        self.purchases[c] += 1
        self.pending[p.day + p.delay].append((order, pid, quantity, c))
        self.channel_of[order.id] = ("bulk " if p.bulk else "") + self.channel

    async def deliver(self, pending: tuple, at: dt.datetime) -> None:
        """Accepted, shipped (the held units stop counting) and delivered at `at`; the sale counts from now
        (`sale_counted`, which also ends the provisional count), as `confirmDelivery` does."""
        from tortoise.expressions import F
        from tortoise.transactions import in_transaction

        from models.catalog import Product
        from models.orders import Order, OrderStatus
        from resolvers.sales import sale_counted

        order, pid, quantity, c = pending
        async with in_transaction():
            await Order.filter(id=order.id).update(
                status=OrderStatus.DELIVERED, accepted_at=at, shipped_at=at, delivered_at=at
            )
            await Product.filter(id=pid).update(held=F("held") - quantity)
            await sale_counted(order, at, was_open=self.policy.on("open"))
        self.held[pid] -= quantity
        self.quantity_lines[c][max(quantity, 1).bit_length() - 1] += 1
        self.amount[(order.umkm_id, c)] += order.total
        self.by_channel[(order.umkm_id, self.channel_of.pop(order.id))] += order.total
        self.platform[(order.umkm_id, period_of(at.astimezone(JAKARTA).date()))] += order.total

    # ------------------------------------------------------------ figures

    async def take_figures(self, month: int, day: int) -> None:
        """Over business actors with a UMKM eligible at the end of `day` (verified by then, product priced within the
        band), zeros included: each actor's counted rupiah in the category so far, summed over its UMKM (from the
        maintained statistics)."""
        from models.fairness import UmkmCategorySales
        from resolvers.equity import equity_reference
        from resolvers.ranking import price_band, rank_category

        out = {}
        bands: list[dict] = []
        at = moment(day, 16 * 60)  # the end of the day's business
        for c, spec in enumerate(CATEGORIES):
            ranking = await rank_category(c + 1, at, policy=self.rank_policy)  # E_c: also requires stock left
            lo, hi = price_band(ranking.median_price)
            members = [
                p.umkm + 1
                for p in self.world.products_by_category[c]
                if self.world.umkm[p.umkm].verify_day <= day and lo <= p.price <= hi
            ]
            if not {r.umkm_id for r in ranking.rows} <= set(members):
                raise AssertionError(f"category {spec.slug}: the ranking's E_c holds UMKM outside the figures' set")
            stored = dict(await UmkmCategorySales.filter(category_id=c + 1).values_list("umkm_id", "amount"))
            ledger = {u: a for (u, cc), a in self.amount.items() if cc == c}
            if {u: a for u, a in stored.items() if a} != ledger:
                raise AssertionError(f"maintained sales of category {spec.slug} differ from the simulation's ledger")
            # one value per business actor, as equityReport counts (COALESCE(cluster_id, id)): a split owner's NIBs are
            # one actor (the owner account's), with the sales of all its NIBs in the category; its twin is its own
            actors = sorted({self.owner_of(u) for u in members})
            per_actor: dict[int, int] = defaultdict(int)
            for u, a in stored.items():
                per_actor[self.owner_of(u)] += a
            x = [per_actor.get(a, 0) for a in actors]
            fig = equity_reference(x, purchases=self.purchases[c])
            row = {k: fig[k] for k in FIGURES}
            row.update(
                eligible=len(actors),  # business actors
                eligible_umkm=len(members),
                purchases=self.purchases[c],
                requests=self.requests[c],
                unfilled=self.unfilled[c],
                refused=self.refused[c],
                short_units=self.short_units[c],
                paid=self.paid[c],
                cheapest=self.cheapest[c],
                cost_ratio=self.paid[c] / self.cheapest[c] if self.cheapest[c] else None,
                followed=self.followed[c],
                followed_never_sold=self.followed_never_sold[c],
                followed_missed=self.followed_missed[c],
                sellers=sum(1 for v in x if v),
            )
            out[spec.slug] = row
            bands.append(self.stuffing_effect(c, ranking.median_price, at))
        self.figures[str(month)] = out
        self.attacks[str(month)] = {"split": self.split_gain(), "stuffing": bands}

    def split_gain(self) -> dict:
        """Counted rupiah (all categories) of the split owners (all their NIBs) and of their one-NIB twins, in all and
        by the channel that chose the seller (`by_channel`: list — a following buyer's pick among the recommended
        rows —, bulk_plan, reorder, browse, bestsellers, the other policies' own; "bulk " before a bulk order's)."""
        w = self.world
        per_umkm: dict[int, int] = defaultdict(int)
        for (u, _), a in self.amount.items():
            per_umkm[u] += a
        split = twin = 0
        owners = 0
        by: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # channel -> [split, twin]
        for u in w.umkm:
            if u.role == "twin":
                k = -2 - u.owner
                nibs = [k] + [x.index for x in w.umkm if x.owner == k]
                split += sum(per_umkm.get(i + 1, 0) for i in nibs)
                twin += per_umkm.get(u.index + 1, 0)
                owners += 1
                for (uid, channel), a in self.by_channel.items():
                    if uid - 1 in nibs:
                        by[channel][0] += a
                    elif uid == u.index + 1:
                        by[channel][1] += a
        channels = {ch: {"split": v[0], "twin": v[1]} for ch, v in sorted(by.items())}
        return {"owners": owners, "split_amount": split, "twin_amount": twin, "by_channel": channels}

    def stuffing_effect(self, c: int, median: float | None, at: dt.datetime) -> dict:
        """Competitors (verified sellers other than stuffers) in the price band without the stuffers' extra listings
        and out of it with them: under the list's rule (one price per seller that can deliver: the median given) and
        under the first wave's rule (the median of every active listing)."""
        from resolvers.ranking import price_band

        w = self.world
        honest = [p for p in w.products_by_category[c] if p.umkm + 1 in self.verified]
        stuffed = [p for p in w.stuffed if p.category == c and p.umkm + 1 in self.verified]
        can = [p.price for p in honest if self.available(p.index + 1, at) > 0]
        if not can or median is None:
            return {"stuffers": len({p.umkm for p in stuffed}), "out_now": 0, "out_old_rule": 0}
        clean = float(statistics.median(can))
        if abs(clean - median) > 1e-9 and not [p for p in stuffed if self.available(p.index + 1, at) > 0]:
            raise AssertionError(f"category {c}: median {median} is not the one price per seller's {clean}")
        competitors = [p for p in honest if w.umkm[p.umkm].role != "stuffer"]

        def pushed_out(before: float, after: float) -> int:
            lo0, hi0 = price_band(before)
            lo1, hi1 = price_band(after)
            return sum(1 for p in competitors if lo0 <= p.price <= hi0 and not lo1 <= p.price <= hi1)

        old_clean = float(statistics.median([p.price for p in honest]))
        old_stuffed = float(statistics.median([p.price for p in honest] + [p.price for p in stuffed]))
        return {
            "stuffers": len({p.umkm for p in stuffed}),
            "out_now": pushed_out(clean, median),
            "out_old_rule": pushed_out(old_clean, old_stuffed),
        }

    async def final_checks(self) -> None:
        from resolvers.fairness_stats import rebuild_stats, record_open
        from resolvers.sales import rebuild_monthly_sales

        if not self.policy.on("open"):  # the figures are taken: bring the open orders' count in line for the check
            for day in sorted(self.pending):
                for order, _, _, c in self.pending[day]:
                    await record_open(order.umkm_id, {c + 1: order.total}, order.created_at, 1)

        stats = await rebuild_stats(fix=False)
        monthly = await rebuild_monthly_sales(fix=False)
        self.checks = {
            "stats_rows_differing": stats.rows_differing,
            "stats_max_relative_error_ok": int(stats.max_relative_error <= 1e-6),
            "monthly_rows_differing": monthly.rows_differing,
            "market_mismatches": self.mismatches,
        }
        if self.mismatch_example:
            self.checks["market_mismatch_example"] = self.mismatch_example


async def migrate_template(database_url: str) -> None:
    """A migrated empty database (with the reference data), copied by every SQLite run instead of migrating again
    (the migrations take a sizeable part of a smoke run)."""
    from tortoise import Tortoise

    import models

    try:
        await models.migrate(models.tortoise_config(database_url, pool_size=1))
    finally:
        await Tortoise.close_connections()


async def run_one(world: World, policy: str, database_url: str, *, migrated: bool = False) -> dict:
    """Migrate a fresh database at `database_url` (`migrated`: a copy of a migrated one, see `migrate_template`),
    load the world, replay the year; the figures and timings."""
    from tortoise import Tortoise

    import models

    t0 = time.perf_counter()
    config = models.tortoise_config(database_url, pool_size=2)
    if migrated:
        await Tortoise.init(config=config)
    else:
        await models.migrate(config)
    try:
        market = Market(world, policy_spec(policy))
        await market.load()
        t_load = time.perf_counter() - t0
        await market.run()
    finally:
        await Tortoise.close_connections()
    return {
        "figures": market.figures,
        "attacks": market.attacks,
        "checks": market.checks,
        "timing": {
            "seconds": time.perf_counter() - t0,
            "load_seconds": t_load,
            "rank_calls": market.rank_calls,
            "rank_seconds": market.rank_seconds,
            "market_checks": market.market_checks,
        },
    }
