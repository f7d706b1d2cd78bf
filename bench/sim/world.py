"""The simulated world and its order stream, exactly as docs/FAIRNESS.md fixes them; pure Python, no database.

Everything here is drawn from `random.Random` streams seeded by strings (`random.seed(str)` hashes with SHA-512, so
the same seed gives the same world on every machine and Python run). The world and the order stream are generated
once per seed and are identical for every buying policy; each policy draws its own choices from its own stream
(`policy_rng`).

Fixed by docs/FAIRNESS.md (full size): 2,000 UMKM, about 10% also selling in a second category, 10 kecamatan, 45 OPD,
12 months of 30 days; 85% verified on day 0, the rest between day 30 and day 240; the six categories below; price =
base × lognormal(σ 0.18); quality ~ Beta(4, 2); offline reputation ~ Pareto(1.16) + 1; in stock 92% of months;
reported omzet lognormal (median Rp15 juta a month, σ 1), 25% never report; demand multiplier per OPD × category
~ Gamma(1.5, 1/1.5); quantity lognormal around the category's median, capped at 5×; two bulk orders (5,000 uniform
sets on day 185, 3,000 pairs of shoes on day 186).

Not fixed by docs/FAIRNESS.md, chosen here (and written into the JSON under "assumptions"):

- "probability of serving other kecamatan" = the UMKM serves the whole city (`serves_city_wide`), else only its own
  kecamatan; the UMKM's first category decides. A second category is drawn in proportion to the category sizes.
- UMKM are spread uniformly over the kecamatan; OPD are spread evenly (OPD i in kecamatan i mod K), so no kecamatan
  is left without buyers.
- Monthly capacity = the category's median × lognormal(σ 0.5); a product in stock in a month holds its capacity at the
  start of that month (sales draw it down), out of stock means stock 0 for that month.
- Quantity = median × lognormal(σ 0.5), rounded, at least 1, at most 5 × median.
- Orders of an OPD in a category arrive as a Poisson process with rate (orders per OPD per month × multiplier) / 30
  per day.
- Omzet: each reporting UMKM has one monthly level (lognormal, median Rp15 juta, σ 1); its report for a month is
  that level (offline) plus its platform sales of the month. Reports are filed when the calendar month is over
  (the three months before day 0 are on file at the start).
- Verification days are uniform on [30, 240]. Bulk orders come from an OPD drawn from the order stream.
- Serving reading (`--serving`): `city` (above, as before), or `kecamatan`: each UMKM serves its own kecamatan and
  each other kecamatan independently with its first category's probability (stored as served kecamatan rows).
- Delivery: an order is placed (open) and delivered after a delay uniform on 3..14 days (bulk orders: 21), drawn
  once per purchase from its own stream, the same for every policy.
- Attackers (their own stream, applied after the world above is drawn, so the rest of the world is unchanged):
  5% of the single-category UMKM split into 3 NIBs — two more UMKM under the same owner account, bank account and
  phone, the same product and price, the capacity split in three, each reporting a third of the omzet; for each a
  **twin**, another single-category UMKM of the same category given the split owner's attributes with one NIB (the
  same owner with one NIB, in the same market: the split's gain is split / twin); 5% of the other sellers stuff
  their category with 7 out-of-stock listings at 0.6 × the category's base price.

The smoke size scales the world down (UMKM per category, OPD, kecamatan, months); days (verification window, bulk
order days) scale with the length of the simulated period and bulk quantities with the number of UMKM.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

DAYS_PER_MONTH = 30


@dataclass(frozen=True)
class CategorySpec:
    slug: str
    name: str
    umkm: int  # UMKM whose first category this is (full size)
    base_price: int  # rupiah per unit
    median_quantity: int
    orders_per_opd_month: float
    median_capacity: int  # units per month
    serves_other: float  # probability of serving other kecamatan (city-wide)
    unit: str


CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec("snacks", "Meeting snacks", 650, 25_000, 60, 3.0, 600, 0.35, "box"),
    CategorySpec("batik", "Batik", 330, 185_000, 20, 0.9, 120, 0.9, "piece"),
    CategorySpec("shoes", "School shoes", 160, 160_000, 40, 0.45, 250, 0.9, "pair"),
    CategorySpec("uniform", "Uniform tailoring", 360, 140_000, 30, 0.9, 200, 0.7, "set"),
    CategorySpec("printing", "Printing", 280, 12_000, 300, 1.2, 6_000, 0.8, "sheet"),
    CategorySpec("souvenirs", "Souvenirs", 220, 65_000, 25, 0.6, 150, 0.9, "piece"),
)
CATEGORY_INDEX = {c.slug: i for i, c in enumerate(CATEGORIES)}

# docs/FAIRNESS.md
SECOND_CATEGORY_SHARE = 0.10
VERIFIED_AT_START = 0.85
LATE_VERIFICATION_DAYS = (30, 240)
PRICE_SIGMA = 0.18
QUALITY_BETA = (4.0, 2.0)
REPUTATION_PARETO = 1.16
IN_STOCK = 0.92
OMZET_MEDIAN = 15_000_000
OMZET_SIGMA = 1.0
NEVER_REPORT = 0.25
DEMAND_GAMMA = (1.5, 1 / 1.5)
QUANTITY_CAP = 5
BULK_ORDERS = (("uniform", 185, 5_000), ("shoes", 186, 3_000))
# chosen here (module docstring)
CAPACITY_SIGMA = 0.5
QUANTITY_SIGMA = 0.5

ASSUMPTIONS = {
    "serving_other_kecamatan": "serves_city_wide with the first category's probability, else own kecamatan only",
    "second_category": "about 10% of UMKM, drawn in proportion to category sizes",
    "umkm_kecamatan": "uniform",
    "opd_kecamatan": "even: OPD i in kecamatan i mod K",
    "capacity": f"median x lognormal(sigma {CAPACITY_SIGMA}); stock = capacity at the start of an in-stock month",
    "quantity": f"median x lognormal(sigma {QUANTITY_SIGMA}), rounded, in [1, 5 x median]",
    "arrivals": "Poisson process per OPD x category, rate = orders per month x multiplier / 30 per day",
    "omzet": "one monthly level per reporting UMKM; report = level + platform sales of the month, filed after it",
    "late_verification": "uniform integer day in [30, 240] (scaled with the period)",
    "bulk_opd": "drawn from the order stream",
    "day_to_date": "day 0 = 2026-01-01 (Asia/Jakarta); omzet periods are calendar months",
    "serving_reading_kecamatan": "own kecamatan, and each other kecamatan with the first category's probability",
    "delivery_delay_days": "uniform integer in [3, 14]; bulk orders 21",
    "split_owners": "5% of single-category UMKM, 3 NIBs under one owner account, bank account and phone; capacity / 3,"
    " omzet / 3 per NIB; each with a one-NIB twin of the same attributes",
    "stuffers": "5% of the other single-category sellers: 7 out-of-stock listings at 0.6 x the category base price",
}

SERVING_READINGS = ("city", "kecamatan")
DELAY_DAYS = (3, 14)
BULK_DELAY_DAYS = 21
SPLIT_SHARE = 0.05
SPLIT_NIBS = 3
STUFFER_SHARE = 0.05
STUFFED_LISTINGS = 7
STUFFED_PRICE = 0.6


@dataclass(frozen=True)
class Size:
    name: str
    umkm_scale: float  # × the UMKM per category of docs/FAIRNESS.md
    opd: int
    kecamatan: int
    months: int
    figure_months: tuple[int, ...]

    @property
    def days(self) -> int:
        return self.months * DAYS_PER_MONTH

    @property
    def day_scale(self) -> float:
        return self.days / 360


SIZES = {
    "full": Size("full", 1.0, 45, 10, 12, (3, 6, 12)),
    "smoke": Size("smoke", 0.1, 8, 4, 3, (1, 2, 3)),
}


@dataclass
class UmkmSpec:
    index: int  # 0-based; the database id is index + 1
    kecamatan: int  # 0 .. K-1
    city_wide: bool
    verify_day: int
    reputation: float
    omzet_level: int | None  # None: never reports
    categories: list[int] = field(default_factory=list)
    served: frozenset[int] = frozenset()  # other kecamatan served (reading "kecamatan")
    owner: int = -1  # index of the UMKM whose owner account registered this one (-1: its own)
    role: str = ""  # "" | split (an owner's first NIB) | split_extra | twin | stuffer


@dataclass
class ProductSpec:
    index: int  # 0-based; the database id is index + 1
    umkm: int
    category: int
    price: int
    quality: float
    capacity: int
    in_stock: list[bool]  # per simulated month


@dataclass(frozen=True)
class Purchase:
    seq: int  # position in the stream
    day: int
    minute: int  # minutes after 08:00 Jakarta time on that day
    opd: int
    category: int
    quantity: int
    bulk: bool = False
    delay: int = 0  # days from placing to delivery


@dataclass
class World:
    seed: int
    size: Size
    umkm: list[UmkmSpec]
    products: list[ProductSpec]
    opd_kecamatan: list[int]
    multipliers: dict[tuple[int, int], float]  # (opd, category) -> demand multiplier
    purchases: list[Purchase]
    serving: str = "city"
    stuffed: list[ProductSpec] = field(default_factory=list)  # the stuffers' extra listings (never sold)
    _by_category: list[list[ProductSpec]] | None = field(default=None, repr=False)

    @property
    def products_by_category(self) -> list[list[ProductSpec]]:
        if self._by_category is None:
            self._by_category = [[p for p in self.products if p.category == c] for c in range(len(CATEGORIES))]
        return self._by_category


def policy_rng(seed: int, policy: str) -> random.Random:
    """Each policy's own stream of choices (same seed and policy: same stream)."""
    return random.Random(f"fairness-sim:{seed}:policy:{policy}")


def _lognormal_int(rng: random.Random, median: float, sigma: float) -> int:
    return max(1, round(rng.lognormvariate(math.log(median), sigma)))


def build_world(seed: int, size: Size, serving: str = "city", attackers: bool = True) -> World:
    rng = random.Random(f"fairness-sim:{seed}:world")
    reach = random.Random(f"fairness-sim:{seed}:serving")
    counts = [max(1, round(c.umkm * size.umkm_scale)) for c in CATEGORIES]
    first = [ci for ci, n in enumerate(counts) for _ in range(n)]
    rng.shuffle(first)
    lo_v, hi_v = (round(d * size.day_scale) for d in LATE_VERIFICATION_DAYS)
    umkm: list[UmkmSpec] = []
    for i, ci in enumerate(first):
        spec = CATEGORIES[ci]
        kec = rng.randrange(size.kecamatan)
        city_wide = rng.random() < spec.serves_other
        verify_day = 0 if rng.random() < VERIFIED_AT_START else rng.randint(lo_v, hi_v)
        reputation = rng.paretovariate(REPUTATION_PARETO) + 1
        reports = rng.random() >= NEVER_REPORT
        level = round(rng.lognormvariate(math.log(OMZET_MEDIAN), OMZET_SIGMA))
        cats = [ci]
        if rng.random() < SECOND_CATEGORY_SHARE:
            others = [j for j in range(len(CATEGORIES)) if j != ci]
            cats.append(rng.choices(others, weights=[counts[j] for j in others])[0])
        served: frozenset[int] = frozenset()
        if serving == "kecamatan":  # its own stream: the city reading's world is drawn exactly as before
            city_wide = False
            served = frozenset(k for k in range(size.kecamatan) if k != kec and reach.random() < spec.serves_other)
        umkm.append(UmkmSpec(i, kec, city_wide, verify_day, reputation, level if reports else None, cats, served))
    products: list[ProductSpec] = []
    for u in umkm:
        for ci in u.categories:
            spec = CATEGORIES[ci]
            price = max(1, round(spec.base_price * rng.lognormvariate(0.0, PRICE_SIGMA)))
            quality = rng.betavariate(*QUALITY_BETA)
            capacity = _lognormal_int(rng, spec.median_capacity, CAPACITY_SIGMA)
            in_stock = [rng.random() < IN_STOCK for _ in range(size.months)]
            products.append(ProductSpec(len(products), u.index, ci, price, quality, capacity, in_stock))
    opd_kecamatan = [i % size.kecamatan for i in range(size.opd)]

    demand = random.Random(f"fairness-sim:{seed}:orders")
    multipliers = {
        (o, ci): demand.gammavariate(*DEMAND_GAMMA) for o in range(size.opd) for ci in range(len(CATEGORIES))
    }
    raw: list[tuple[float, int, int, int, bool]] = []  # time in days, opd, category, quantity, bulk
    for o in range(size.opd):
        for ci, spec in enumerate(CATEGORIES):
            rate = spec.orders_per_opd_month * multipliers[(o, ci)] / DAYS_PER_MONTH
            t = 0.0
            while rate > 0:
                t += demand.expovariate(rate)
                if t >= size.days:
                    break
                q = round(spec.median_quantity * demand.lognormvariate(0.0, QUANTITY_SIGMA))
                raw.append((t, o, ci, min(max(q, 1), QUANTITY_CAP * spec.median_quantity), False))
    for slug, day, quantity in BULK_ORDERS:
        d = round(day * size.day_scale)
        q = round(quantity * size.umkm_scale)
        o = demand.randrange(size.opd)
        if d < size.days:
            raw.append((d + 0.5, o, CATEGORY_INDEX[slug], q, True))
    raw.sort(key=lambda r: (r[0], r[1], r[2]))
    delays = random.Random(f"fairness-sim:{seed}:delays")
    purchases = []
    for seq, (t, o, ci, q, bulk) in enumerate(raw):
        day = int(t)
        minute = min(int((t - day) * 600), 599)  # 08:00 .. 17:59
        delay = delays.randint(*DELAY_DAYS)
        purchases.append(Purchase(seq, day, minute, o, ci, q, bulk, BULK_DELAY_DAYS if bulk else delay))
    world = World(seed, size, umkm, products, opd_kecamatan, multipliers, purchases, serving)
    if attackers:
        add_attackers(world, random.Random(f"fairness-sim:{seed}:attackers"))
    return world


def add_attackers(w: World, rng: random.Random) -> None:
    """Split owners (3 NIBs) with their one-NIB twins, and stuffers (module docstring). Appends UMKM and products
    (ids after the honest world's), so the honest world keeps its ids."""
    single = [u for u in w.umkm if len(u.categories) == 1]
    rng.shuffle(single)
    n_split = round(SPLIT_SHARE * len(w.umkm))
    n_stuff = round(STUFFER_SHARE * len(w.umkm))
    product = {p.umkm: p for p in w.products}  # single-category UMKM: their one product
    splits = single[:n_split]
    rest = single[n_split:]
    for owner in splits:
        twin = next((u for u in rest if u.categories == owner.categories), None)
        if twin is None:
            continue
        rest.remove(twin)
        src = product[owner.index]
        # the twin: the same seller with one NIB
        for f in ("kecamatan", "city_wide", "verify_day", "reputation", "omzet_level", "served"):
            setattr(twin, f, getattr(owner, f))
        tp = product[twin.index]
        tp.price, tp.quality, tp.capacity, tp.in_stock = src.price, src.quality, src.capacity, list(src.in_stock)
        twin.role, owner.role = "twin", "split"
        twin.owner = -2 - owner.index  # -2 - k: the twin of split owner k (an owner of its own)
        capacity = src.capacity
        third = [capacity // SPLIT_NIBS + (1 if k < capacity % SPLIT_NIBS else 0) for k in range(SPLIT_NIBS)]
        src.capacity = max(1, third[0])
        level = None if owner.omzet_level is None else max(1, owner.omzet_level // SPLIT_NIBS)
        owner.omzet_level = level
        for k in range(1, SPLIT_NIBS):
            extra = UmkmSpec(len(w.umkm), owner.kecamatan, owner.city_wide, owner.verify_day, owner.reputation, level,
                             list(owner.categories), owner.served, owner.index, "split_extra")  # fmt: skip
            w.umkm.append(extra)
            w.products.append(
                ProductSpec(len(w.products), extra.index, src.category, src.price, src.quality, max(1, third[k]),
                            list(src.in_stock))
            )  # fmt: skip
    for u in rest[:n_stuff]:
        u.role = "stuffer"
        ci = u.categories[0]
        price = max(1, round(STUFFED_PRICE * CATEGORIES[ci].base_price))
        for _ in range(STUFFED_LISTINGS):
            n = len(w.products) + len(w.stuffed)
            w.stuffed.append(ProductSpec(n, u.index, ci, price, 0.5, 0, [False] * w.size.months))
