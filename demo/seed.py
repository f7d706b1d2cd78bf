"""Seeding the believable Surabaya demo data: OPD with budgets, UMKM with history, products, a year of orders
(items, events, payments, ratings) as they go without a fairness policy, twelve months of omzet reports, one login
per role. The data it draws from lives in `demo.tables`.

`seed_demo()` fills an empty database (the kecamatan/kelurahan reference data must be loaded) in one transaction,
using bulk inserts and a private `random.Random(seed)`, so the same seed gives the same rows (timestamps are
spread relative to the moment of seeding). Every user shares `DEMO_PASSWORD`; it is hashed once.
"""

from __future__ import annotations

import datetime as dt
import random
from bisect import bisect_right
from dataclasses import dataclass, field

from tortoise.transactions import in_transaction

from demo.tables import (
    ADDRESS_PREFIXES,
    BANKS,
    CANCEL_REASONS,
    CATEGORY_TREE,
    FEMALE_FIRST,
    FEMALE_LAST,
    FOOD_TRADES,
    MALE_FIRST,
    MALE_LAST,
    MONTH_SEASON,
    OPD_ROWS,
    ORDER_NOTES,
    PERSONAL_DEMAND,
    PERSONAL_QTY,
    PHONE_PREFIXES,
    QTY_BY_CATEGORY,
    QTY_BY_NAME,
    RATING_COMMENTS,
    REINSTATE_NOTES,
    REJECT_REASONS,
    SCHOOL_MONTHS,
    SHOWCASE,
    SINCE_NOTES,
    STREET_SUFFIX,
    SUSPEND_NOTES,
    TRADE_BY_KEY,
    TRADE_DEMAND,
    TRADES,
    VERIFY_NOTES,
    WEEKDAY_WEIGHT,
    slugify,
)
from models.accounts import User
from models.base import JAKARTA, OpdKind, Role, Scale, ScaleSource, UmkmStatus
from models.catalog import Product
from models.omzet import OmzetReport, OmzetRevision, UmkmMonthlySales
from models.orders import (
    OPEN_STATUSES,
    CapacityUse,
    Order,
    OrderEvent,
    OrderItem,
    OrderKind,
    OrderSource,
    OrderStatus,
    Payment,
    Rating,
)
from models.registry import (
    Category,
    Kecamatan,
    Kelurahan,
    Opd,
    OpdBudget,
    Umkm,
    UmkmServedKecamatan,
    UmkmStatusChange,
)
from resolvers.accounts import hash_password
from resolvers.fairness_stats import rebuild_stats
from resolvers.omzet import due_at, period_of, periods_back, shift, update_scale
from resolvers.sales import rebuild_monthly_sales

DEMO_PASSWORD = "pasar-demo-2026"
DEMO_DOMAIN = "demo.pasar.id"
UMKM_COUNT = 300
PRODUCT_COUNT = 1500
BATCH = 500
HISTORY_DAYS = 548  # about 18 months
BUDGET_YEARS = (2025, 2026)
PAGU_MIN, PAGU_MAX = 500_000_000, 150_000_000_000  # Rp500 juta .. Rp150 miliar

BUYER_OPD = "DISPENDIK"
EXTRA_BUYER_OPDS = ("DINKES", "RSUD-SOEWANDHIE", "KEC-GENTENG", "DISBUDPORAPAR", "DLH", "SETDA")


@dataclass
class _Owner:
    email: str
    full_name: str
    first: str
    honorific: str
    created_at: dt.datetime | None = None
    umkm_indices: list[int] = field(default_factory=list)


def _price(rng: random.Random, low: int, high: int) -> int:
    step = 500 if high <= 100_000 else 5_000 if high <= 1_000_000 else 25_000
    return low + step * rng.randint(0, (high - low) // step)


def _between(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    span = max((end - start).total_seconds(), 0.0)
    return (start + dt.timedelta(seconds=rng.uniform(0, span))).replace(microsecond=0)


def _early(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    """Like `_between` (one draw from `rng`), skewed to the start: most products are listed soon after sign-up."""
    span = max((end - start).total_seconds(), 0.0)
    return (start + dt.timedelta(seconds=span * rng.random() ** 3)).replace(microsecond=0)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(n))


# ---------------------------------------------------------------- public


async def database_is_empty() -> bool:
    """True when there are no users, no OPD and no UMKM (reference kecamatan/kelurahan do not count)."""
    return not (await User.exists() or await Opd.exists() or await Umkm.exists())


async def seed_demo(seed: int = 2026) -> list[tuple[str, str, str]]:
    """Load believable Surabaya demo data into an EMPTY database (reference kecamatan/kelurahan already loaded by
    models.load_reference_data()). Returns [(role, email, password), ...] one login per role."""
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    password_hash = hash_password(DEMO_PASSWORD)  # argon2 is slow: once for every demo user

    async with in_transaction():
        if not await database_is_empty():
            raise RuntimeError("seed_demo needs an empty database (users, OPD or UMKM exist)")
        kecamatans = await Kecamatan.all().order_by("code")
        kelurahans = await Kelurahan.all().order_by("code")
        if not kecamatans or not kelurahans:
            raise RuntimeError("load the reference kecamatan/kelurahan first (models.load_reference_data())")
        kec_by_name = {k.name: k.id for k in kecamatans}
        kec_name_by_id = {k.id: k.name for k in kecamatans}
        kel_by_names = {(kec_name_by_id[k.kecamatan_id], k.name): k for k in kelurahans}

        category_ids = await _seed_categories()
        opd_ids = await _seed_opds(rng, kec_by_name, kel_by_names)

        # ---- staff users (one per role, plus extra buyers/treasurers)
        buyer_opd = opd_ids[BUYER_OPD]
        staff = [
            (Role.ADMIN, "admin", "Rina Kusumaningtyas", None),
            (Role.OPD_BUYER, "pembeli", "Agus Prasetyo", buyer_opd),
            (Role.OPD_TREASURER, "bendahara", "Sri Handayani", buyer_opd),
            (Role.EMPLOYEE, "asn", "Dewi Lestari", buyer_opd),
            (Role.ANALYST, "analis", "Bagus Wicaksono", None),
        ]
        for code in EXTRA_BUYER_OPDS:
            local = code.lower()
            staff.append(
                (Role.OPD_BUYER, f"pembeli.{local}", f"{rng.choice(MALE_FIRST)} {rng.choice(MALE_LAST)}", opd_ids[code])
            )
            staff.append(
                (
                    Role.OPD_TREASURER,
                    f"bendahara.{local}",
                    f"{rng.choice(FEMALE_FIRST)} {rng.choice(FEMALE_LAST)}",
                    opd_ids[code],
                )
            )
        staff_created = now - dt.timedelta(days=HISTORY_DAYS + 30)
        users = [
            User(
                email=f"{local}@{DEMO_DOMAIN}",
                password_hash=password_hash,
                full_name=name,
                role=role,
                opd_id=opd_id,
                created_at=staff_created,
            )
            for role, local, name, opd_id in staff
        ]

        # ---- UMKM plans (pure Python), then owners, then rows
        plans = _plan_umkms(rng, now, kelurahans, kel_by_names, kec_name_by_id)
        owners = _plan_owners(rng, plans)
        for owner in owners:
            users.append(
                User(
                    email=owner.email,
                    password_hash=password_hash,
                    full_name=owner.full_name,
                    role=Role.UMKM_OWNER,
                    created_at=owner.created_at,
                )
            )
        await User.bulk_create(users, batch_size=BATCH)
        user_ids = dict(await User.all().values_list("email", "id"))
        admin_id = user_ids[f"admin@{DEMO_DOMAIN}"]

        umkm_rows = []
        for owner in owners:
            for i in owner.umkm_indices:
                plans[i]["owner_id"] = user_ids[owner.email]
        for plan in plans:
            umkm_rows.append(Umkm(**{k: v for k, v in plan.items() if not k.startswith("_")}))
        await Umkm.bulk_create(umkm_rows, batch_size=BATCH)
        umkm_ids = dict(await Umkm.all().values_list("nib", "id"))

        served, changes, products = [], [], []
        for plan in plans:
            umkm_id = umkm_ids[plan["nib"]]
            served.extend(UmkmServedKecamatan(umkm_id=umkm_id, kecamatan_id=k) for k in plan["_served"])
            for from_status, to_status, at, actor, note in plan["_history"]:
                changes.append(
                    UmkmStatusChange(
                        umkm_id=umkm_id,
                        from_status=from_status,
                        to_status=to_status,
                        actor_id=plan["owner_id"] if actor == "owner" else admin_id,
                        note=note,
                        created_at=at,
                    )
                )
            products.extend(_products_for(rng, now, plan, umkm_id, category_ids))
        await UmkmServedKecamatan.bulk_create(served, batch_size=BATCH)
        await UmkmStatusChange.bulk_create(changes, batch_size=BATCH)
        await Product.bulk_create(products, batch_size=BATCH)

        await _seed_orders(rng, now, plans, umkm_ids, password_hash)
        # history was inserted directly: derive the maintained figures from it the way `pasar … rebuild` does
        await rebuild_monthly_sales(fix=True)
        await rebuild_stats(fix=True)
        await _seed_omzet(rng, now)

    return [
        (Role.ADMIN.value, f"admin@{DEMO_DOMAIN}", DEMO_PASSWORD),
        (Role.OPD_BUYER.value, f"pembeli@{DEMO_DOMAIN}", DEMO_PASSWORD),
        (Role.OPD_TREASURER.value, f"bendahara@{DEMO_DOMAIN}", DEMO_PASSWORD),
        (Role.EMPLOYEE.value, f"asn@{DEMO_DOMAIN}", DEMO_PASSWORD),
        (Role.UMKM_OWNER.value, f"umkm@{DEMO_DOMAIN}", DEMO_PASSWORD),
        (Role.ANALYST.value, f"analis@{DEMO_DOMAIN}", DEMO_PASSWORD),
    ]


# ---------------------------------------------------------------- steps


async def _seed_categories() -> dict[str, int]:
    """Insert the tree (top level, then children); returns slug -> id."""
    await Category.bulk_create(
        [Category(name=name, slug=slugify(name), description=desc) for name, desc, _ in CATEGORY_TREE], batch_size=BATCH
    )
    top_ids = dict(await Category.all().values_list("slug", "id"))
    children = [
        Category(name=child, slug=slugify(child), description=child_desc, parent_id=top_ids[slugify(name)])
        for name, _, kids in CATEGORY_TREE
        for child, child_desc in kids
    ]
    await Category.bulk_create(children, batch_size=BATCH)
    return dict(await Category.all().values_list("slug", "id"))


async def _seed_opds(
    rng: random.Random, kec_by_name: dict[str, int], kel_by_names: dict[tuple[str, str], Kelurahan]
) -> dict[str, int]:
    """Insert the OPD and their 2025/2026 pagu; returns code -> id."""
    opds = []
    for code, name, kind, kec, kel, address, _ in OPD_ROWS:
        kecamatan_id = kel_by_names[(kec, kel)].kecamatan_id if kel else kec_by_name[kec]
        opds.append(Opd(code=code, name=name, kind=kind, kecamatan_id=kecamatan_id, address=f"{address}, Surabaya"))
    await Opd.bulk_create(opds, batch_size=BATCH)
    opd_ids = dict(await Opd.all().values_list("code", "id"))
    budgets = []
    for code, *_, (low, high) in OPD_ROWS:
        amount = rng.randint(low, high) * 1_000_000  # whole juta rupiah
        for year in BUDGET_YEARS:
            budgets.append(OpdBudget(opd_id=opd_ids[code], year=year, amount=amount))
            amount = round(amount * rng.uniform(0.94, 1.12) / 1_000_000) * 1_000_000
            amount = min(max(amount, PAGU_MIN), PAGU_MAX)
    await OpdBudget.bulk_create(budgets, batch_size=BATCH)
    return opd_ids


def _plan_umkms(
    rng: random.Random,
    now: dt.datetime,
    kelurahans: list[Kelurahan],
    kel_by_names: dict[tuple[str, str], Kelurahan],
    kec_name_by_id: dict[int, str],
) -> list[dict]:
    """Every UMKM as a dict of Umkm fields plus private `_` keys (trade, history, served, people)."""
    n_free = UMKM_COUNT - len(SHOWCASE)
    trades = rng.choices([t.key for t in TRADES], weights=[t.weight for t in TRADES], k=n_free)
    # every kelurahan gets at least one UMKM; the rest fall anywhere
    places = list(kelurahans) + rng.choices(kelurahans, k=n_free - len(kelurahans))
    rng.shuffle(places)
    # statuses: ~85% verified, ~10% pending, ~5% suspended (showcase ones are verified)
    n_pending, n_suspended = round(UMKM_COUNT * 0.10), round(UMKM_COUNT * 0.05)
    statuses = [UmkmStatus.PENDING] * n_pending + [UmkmStatus.SUSPENDED] * n_suspended
    statuses += [UmkmStatus.VERIFIED] * (n_free - len(statuses))
    rng.shuffle(statuses)
    all_kec_ids = sorted(kec_name_by_id)

    plans: list[dict] = []
    used_nibs: set[str] = set()
    for i in range(UMKM_COUNT):
        if i < len(SHOWCASE):
            name, owner_name, female, honorific, trade_key, kec, kel_name = SHOWCASE[i]
            kel = kel_by_names[(kec, kel_name)]
            status = UmkmStatus.VERIFIED
            person = False
        else:
            j = i - len(SHOWCASE)
            trade_key, kel, status = trades[j], places[j], statuses[j]
            name, owner_name, female, honorific = "", "", False, ""
            person = True
        trade = TRADE_BY_KEY[trade_key]
        kec_name = kec_name_by_id[kel.kecamatan_id]
        if person:
            female = rng.random() < trade.female_share
            first = rng.choice(FEMALE_FIRST if female else MALE_FIRST)
            owner_name = f"{first} {rng.choice(FEMALE_LAST if female else MALE_LAST)}"
            honorific = rng.choice(("Bu", "Bu", "Mbak", "Ning") if female else ("Pak", "Cak", "Cak", "Mas"))

        nib = ""
        while not nib or nib in used_nibs:
            nib = rng.choice(("81", "91", "02", "12")) + _digits(rng, 11)
        used_nibs.add(nib)

        if status is UmkmStatus.PENDING:
            created = now - dt.timedelta(days=rng.uniform(1, 45))
        elif status is UmkmStatus.SUSPENDED:
            created = now - dt.timedelta(days=rng.uniform(120, HISTORY_DAYS))
        else:
            created = now - dt.timedelta(days=rng.uniform(20, HISTORY_DAYS))
        created = created.replace(microsecond=0)

        history = [(None, UmkmStatus.PENDING, created, "owner", "registered")]
        verified_at = None
        if status is not UmkmStatus.PENDING:
            verified_at = min(created + dt.timedelta(days=rng.uniform(1, 14)), now - dt.timedelta(days=2))
            verified_at = verified_at.replace(microsecond=0)
            history.append((UmkmStatus.PENDING, UmkmStatus.VERIFIED, verified_at, "admin", rng.choice(VERIFY_NOTES)))
            if status is UmkmStatus.SUSPENDED:
                at = _between(rng, verified_at + dt.timedelta(days=30), now - dt.timedelta(days=1))
                history.append((UmkmStatus.VERIFIED, UmkmStatus.SUSPENDED, at, "admin", rng.choice(SUSPEND_NOTES)))
            elif i >= len(SHOWCASE) and rng.random() < 0.04 and (now - verified_at).days > 90:
                at = _between(rng, verified_at + dt.timedelta(days=20), now - dt.timedelta(days=40))
                back = _between(rng, at + dt.timedelta(days=3), at + dt.timedelta(days=30))
                history.append((UmkmStatus.VERIFIED, UmkmStatus.SUSPENDED, at, "admin", rng.choice(SUSPEND_NOTES)))
                history.append((UmkmStatus.SUSPENDED, UmkmStatus.VERIFIED, back, "admin", rng.choice(REINSTATE_NOTES)))

        city_wide = i == 0 or (i >= len(SHOWCASE) and rng.random() < 0.30)
        served: list[int] = []
        if not city_wide and rng.random() < 0.35:
            others = [k for k in all_kec_ids if k != kel.kecamatan_id]
            served = sorted(rng.sample(others, rng.randint(1, 4)))

        roll = rng.random()
        scale = Scale.MIKRO if roll < 0.78 else Scale.KECIL if roll < 0.96 else Scale.MENENGAH
        bank, digits, _ = rng.choices(BANKS, weights=[b[2] for b in BANKS])[0]
        extra = rng.choice(SINCE_NOTES).format(y=rng.randint(2005, 2023), n=rng.randint(2, 12))
        plans.append(
            {
                "name": name,
                "nib": nib,
                "owner_name": owner_name,
                "phone": rng.choice(PHONE_PREFIXES) + _digits(rng, rng.choice((7, 8))),
                "address": f"Jl. {kel.name}{rng.choice(STREET_SUFFIX)} No. {rng.randint(1, 180)}, Surabaya",
                "kelurahan_id": kel.id,
                "kecamatan_id": kel.kecamatan_id,
                "serves_city_wide": city_wide,
                "scale": scale,
                "scale_source": ScaleSource.DECLARED,
                "status": status,
                "verified_at": verified_at,
                "bank_name": bank,
                "bank_account": _digits(rng, digits),
                "bank_account_name": owner_name.upper(),
                "created_at": created,
                "_trade": trade_key,
                "_showcase": not person,
                "_n_products": PRODUCT_COUNT // UMKM_COUNT,
                "_female": female,
                "_honorific": honorific,
                "_kel_name": kel.name,
                "_kec_name": kec_name,
                "_extra": extra,
                "_history": history,
                "_served": served,
            }
        )

    # about five products each (3 to 7, as the trade allows), exactly PRODUCT_COUNT in all
    for _ in range(UMKM_COUNT // 2):
        give, take = rng.sample(plans[len(SHOWCASE) :], 2)
        room = min(7, len(TRADE_BY_KEY[take["_trade"]].items))
        if give["_n_products"] > 3 and take["_n_products"] < room:
            give["_n_products"] -= 1
            take["_n_products"] += 1
    # business names and descriptions need the owner: _plan_owners fills them
    return plans


def _plan_owners(rng: random.Random, plans: list[dict]) -> list[_Owner]:
    """Most owners run one UMKM, a few run two; umkm@ runs exactly the first (verified) one."""
    first_free = len(SHOWCASE)
    rest = list(range(first_free, len(plans)))
    rng.shuffle(rest)
    n_pairs = 12
    groups = [[i] for i in range(first_free)]
    groups += [sorted(rest[2 * k : 2 * k + 2]) for k in range(n_pairs)]
    groups += [[i] for i in rest[2 * n_pairs :]]
    groups.sort(key=lambda g: g[0])

    used_names = {s[0] for s in SHOWCASE}
    owners: list[_Owner] = []
    n = 0
    for group in groups:
        lead = plans[group[0]]
        if group[0] == 0:
            email = f"umkm@{DEMO_DOMAIN}"
        else:
            n += 1
            email = f"owner{n}@{DEMO_DOMAIN}"
        owner = _Owner(
            email=email,
            full_name=lead["owner_name"],
            first=lead["owner_name"].split()[0],
            honorific=lead["_honorific"],
            created_at=min(plans[i]["created_at"] for i in group),
            umkm_indices=group,
        )
        for i in group:
            plan = plans[i]
            plan["owner_name"] = owner.full_name
            plan["bank_account_name"] = owner.full_name.upper()
            if i >= first_free:
                plan["name"] = _business_name(rng, plan, owner, used_names)
            trade = TRADE_BY_KEY[plan["_trade"]]
            plan["description"] = (
                f"{plan['name']} di Kelurahan {plan['_kel_name']}, Kecamatan {plan['_kec_name']}. {trade.about} "
                f"{plan['_extra']}"
            )
        owners.append(owner)
    return owners


def _business_name(rng: random.Random, plan: dict, owner: _Owner, used: set[str]) -> str:
    trade = TRADE_BY_KEY[plan["_trade"]]
    person = f"{owner.honorific} {owner.first}"
    for _ in range(12):
        name = rng.choice(trade.names).format(p=person, b=rng.choice(trade.brands), k=plan["_kel_name"])
        if name not in used:
            break
    else:
        name = f"{name} {plan['_kel_name']}"
        if name in used:
            name = f"{name} {plan['nib'][-3:]}"
    used.add(name)
    return name


def _products_for(
    rng: random.Random, now: dt.datetime, plan: dict, umkm_id: int, category_ids: dict[str, int]
) -> list[Product]:
    """The UMKM's products, drawn from its trade's templates."""
    trade = TRADE_BY_KEY[plan["_trade"]]
    items = rng.sample(trade.items, min(plan["_n_products"], len(trade.items)))
    boost = {Scale.MIKRO: 1, Scale.KECIL: 2, Scale.MENENGAH: 4}[plan["scale"]]
    showcase = plan["_showcase"]
    out = []
    for item in items:
        variant = rng.choice(item.variants)
        name = item.name.format(v=variant).strip()
        description = item.description.format(v=variant.lower() if variant else "").replace("  ", " ")
        if item.made_to_order:
            stock, capacity = 0, rng.randint(*item.capacity) * boost
        else:
            low, high = item.stock
            stock = 0 if rng.random() < 0.05 and not showcase else rng.randint(max(low, 1), high) * boost
            capacity = None
        out.append(
            Product(
                umkm_id=umkm_id,
                category_id=category_ids[item.category],
                name=name,
                description=description,
                unit=item.unit,
                price=_price(rng, *item.price),
                image_urls=[],
                options=list(item.options),
                made_to_order=item.made_to_order,
                stock=stock,
                monthly_capacity=capacity,
                lead_time_days=rng.randint(*item.lead),
                min_order_quantity=rng.randint(*item.min_order),
                active=showcase or rng.random() >= 0.03,
                created_at=_early(rng, plan["created_at"], now),
            )
        )
    return out


# ---------------------------------------------------------------- order history
#
# A year of orders as it goes without a fairness policy: buyers return to the sellers they know, so a few popular
# UMKM take most of the money and about half of the verified ones never sell. Each order draws from its own
# `random.Random` (seeded from the main one), so a change of "now" (weekday, month) changes only that order.

ORDER_COUNT = 5000  # planned over the last ORDER_DAYS; a few fall out (seller not yet verified, capacity full)
ORDER_DAYS = 365
PERSONAL_SHARE = 0.05  # personal orders by employees
SELLER_SHARE = 0.55  # verified UMKM that ever get an order
ZIPF_S = 1.4  # popularity of the sellers by rank: 1 / rank ** ZIPF_S
LATE_PAYERS = 4  # OPD whose treasurer pays 30 to 75 days after delivery
EXTRA_EMPLOYEE_OPDS = ("DINKES", "SETDA", "BAPPEDALITBANG", "KEC-GENTENG", "DISKOMINFO", "RSUD-SOEWANDHIE")


@dataclass
class _Seller:
    umkm_id: int
    owner_id: int
    trade: str
    windows: list[tuple[dt.datetime, dt.datetime]]  # while VERIFIED
    popularity: float = 0.0
    rank: int = 0  # in its trade, 0 = most popular

    def open_at(self, at: dt.datetime) -> bool:
        return any(start <= at < end for start, end in self.windows)


@dataclass
class _Line:
    product: dict
    option: str | None
    quantity: int


@dataclass
class _Planned:
    kind: OrderKind
    opd_id: int
    buyer_id: int
    seller: _Seller
    lines: list[_Line]
    needed_by: dt.date
    address: str
    note: str
    times: dict[OrderStatus, dt.datetime]  # every transition that happened, in order
    closed_reason: str = ""
    received_by: str | None = None
    payer_id: int | None = None
    reference: str = ""
    rating: tuple[int, str, dt.datetime] | None = None
    id: int = 0

    @property
    def status(self) -> OrderStatus:
        return list(self.times)[-1]

    @property
    def created(self) -> dt.datetime:
        return self.times[OrderStatus.SUBMITTED]


def _jakarta(day: dt.date, hours: float) -> dt.datetime:
    """UTC time of `hours` after midnight of `day` in Asia/Jakarta, whole seconds."""
    at = dt.datetime.combine(day, dt.time(), JAKARTA) + dt.timedelta(seconds=round(hours * 3600))
    return at.astimezone(dt.UTC)


def _opd_demand(code: str, kind: OpdKind) -> dict[str, float]:
    demand = dict(TRADE_DEMAND)
    boosts: dict[str, float] = {}
    if kind is OpdKind.SEKOLAH or code == "DISPENDIK":
        boosts = {"jahit": 4, "sepatu": 5, "batik": 1.5, "atk": 1.5}
    elif kind is OpdKind.RSUD or code == "DINKES":
        boosts = {"laundry": 5, "cleaning": 4, "catering": 2}
    elif kind in (OpdKind.KECAMATAN, OpdKind.KELURAHAN):
        boosts = {"snack": 1.5, "nasi": 1.5, "kerajinan": 0.5, "cleaning": 1.5}
    elif code in ("SETDA", "SETWAN", "DISBUDPORAPAR"):
        boosts = {"kerajinan": 2.5, "catering": 2}
    elif code in ("SATPOL-PP", "DPKP", "DISHUB"):
        boosts = {"jahit": 2.5, "sepatu": 2.5}
    for trade, factor in boosts.items():
        demand[trade] *= factor
    return demand


def _quantity(rng: random.Random, product: dict, personal: bool, big: bool) -> int:
    """Units of one line; `big` sellers (the leaders of their trade) get the larger orders."""
    name, category = product["name"], product["category"]
    if personal:
        low, high = PERSONAL_QTY.get(category, (1, 3))
    else:
        low, high = next((r for frag, r in QTY_BY_NAME if frag in name), None) or QTY_BY_CATEGORY.get(category, (1, 20))
    q = round(low + (high - low) * rng.random() ** (1.0 if big else 1.7))  # small orders are the common ones
    if q >= 20 and rng.random() < 0.7:
        q = round(q / 5) * 5  # buyers order round numbers for 25, 40, 100 people
    return max(q, product["min_order_quantity"])


async def _seed_orders(
    rng: random.Random, now: dt.datetime, plans: list[dict], umkm_ids: dict[str, int], password_hash: str
) -> None:
    """A year of orders before `now` with items, events, payments, ratings and the capacity open orders hold."""
    opds = await Opd.all().order_by("id").values("id", "code", "kind", "address")
    buyers, treasurers, employees = await _order_people(rng, opds, password_hash, now)
    pagu = dict(await OpdBudget.filter(year=BUDGET_YEARS[0]).values_list("opd_id", "amount"))
    by_trade = _rank_sellers(rng, now, plans, umkm_ids)
    by_seller = await _products_by_seller([s for group in by_trade.values() for s in group])

    # who pays how fast: most OPD in 3 to 20 days, a few late payers 30 to 75 days
    candidates = [o for o in opds if o["kind"] in (OpdKind.DINAS, OpdKind.BADAN, OpdKind.RSUD, OpdKind.SEKRETARIAT)]
    late = {o["id"] for o in rng.sample([o for o in candidates if o["code"] != BUYER_OPD], LATE_PAYERS)}
    pay_days = {
        o["id"]: (rng.uniform(38, 58), 10.0, 30, 75) if o["id"] in late else (rng.uniform(5, 11), 3.5, 3, 20)
        for o in opds
    }
    opd_weights = [pagu.get(o["id"], PAGU_MIN) ** 0.5 for o in opds]
    demand: dict[int | None, dict[str, float]] = {o["id"]: _opd_demand(o["code"], o["kind"]) for o in opds}
    opd_by_id = {o["id"]: o for o in opds}

    today = now.astimezone(JAKARTA).date()
    days = [today - dt.timedelta(days=d) for d in range(ORDER_DAYS)]
    trend = [0.65 + 0.5 * (ORDER_DAYS - d) / ORDER_DAYS for d in range(ORDER_DAYS)]  # the platform grows
    day_cum: dict[bool, list[float]] = {}
    for personal in (False, True):
        acc, cum = 0.0, []
        for day, grow in zip(days, trend, strict=True):
            week = 0.8 if personal and day.weekday() >= 5 else 1.0 if personal else WEEKDAY_WEIGHT[day.weekday()]
            acc += week * grow * MONTH_SEASON[day.month]
            cum.append(acc)
        day_cum[personal] = cum

    market = _Market(by_trade, {**demand, None: PERSONAL_DEMAND})

    n_personal = round(ORDER_COUNT * PERSONAL_SHARE)
    planned: list[_Planned] = []
    for n in range(ORDER_COUNT):
        orng = random.Random(rng.getrandbits(64))
        personal = n < n_personal
        if personal:
            # asn@ (the first employee) buys most; the others now and then
            buyer_id, opd_id, receiver = (
                employees[0] if orng.random() < 0.4 else orng.choice(employees[1:] or employees)
            )
        else:
            opd_id = orng.choices(opds, weights=opd_weights)[0]["id"]
            buyer_id, receiver = orng.choice(buyers[opd_id]), None
        order = _plan_order(
            orng, now, personal, opd_by_id[opd_id], buyer_id, days, day_cum[personal], market, by_seller
        )
        if order is None:
            continue
        order.payer_id = buyer_id if personal else treasurers[opd_id]
        _plan_life(orng, now, order, pay_days[opd_id], receiver)
        planned.append(order)

    planned.sort(key=lambda o: (o.created, o.buyer_id))
    capacity = _hold_capacity(planned)
    planned = [o for o in planned if o.lines]
    _payment_references(planned)
    await _insert_orders(planned, capacity)


async def _order_people(
    rng: random.Random, opds: list[dict], password_hash: str, now: dt.datetime
) -> tuple[dict[int, list[int]], dict[int, int], list[tuple[int, int, str]]]:
    """A buyer and a treasurer for every OPD lacking one, a few more employees; returns who buys and pays for whom:
    OPD id -> buyer ids, OPD id -> treasurer id, [(employee id, OPD id, name)] with asn@ first."""
    rows = await User.filter(opd_id__isnull=False).order_by("id").values("role", "opd_id")
    has = {(Role(r["role"]), r["opd_id"]) for r in rows}
    created = now - dt.timedelta(days=HISTORY_DAYS + 30)

    def person(female: bool) -> str:
        return (
            f"{rng.choice(FEMALE_FIRST)} {rng.choice(FEMALE_LAST)}"
            if female
            else f"{rng.choice(MALE_FIRST)} {rng.choice(MALE_LAST)}"
        )

    new = []
    for opd in opds:
        local = opd["code"].lower()
        for role, prefix, female_share in ((Role.OPD_BUYER, "pembeli", 0.4), (Role.OPD_TREASURER, "bendahara", 0.7)):
            if (role, opd["id"]) not in has:
                new.append((role, f"{prefix}.{local}", person(rng.random() < female_share), opd["id"]))
    opd_id_by_code = {o["code"]: o["id"] for o in opds}
    for code in EXTRA_EMPLOYEE_OPDS:
        new.append((Role.EMPLOYEE, f"asn.{code.lower()}", person(rng.random() < 0.55), opd_id_by_code[code]))
    await User.bulk_create(
        [
            User(
                email=f"{local}@{DEMO_DOMAIN}",
                password_hash=password_hash,
                full_name=name,
                role=role,
                opd_id=opd_id,
                created_at=created,
            )
            for role, local, name, opd_id in new
        ],
        batch_size=BATCH,
    )
    buyers: dict[int, list[int]] = {}
    treasurers: dict[int, int] = {}
    employees: list[tuple[int, int, str]] = []
    for r in (
        await User.filter(opd_id__isnull=False, active=True).order_by("id").values("id", "role", "opd_id", "full_name")
    ):
        role = Role(r["role"])
        if role is Role.OPD_BUYER:
            buyers.setdefault(r["opd_id"], []).append(r["id"])
        elif role is Role.OPD_TREASURER:
            treasurers.setdefault(r["opd_id"], r["id"])
        elif role is Role.EMPLOYEE:
            employees.append((r["id"], r["opd_id"], r["full_name"]))
    return buyers, treasurers, employees


def _rank_sellers(
    rng: random.Random, now: dt.datetime, plans: list[dict], umkm_ids: dict[str, int]
) -> dict[str, list[_Seller]]:
    """Trade -> its sellers, most popular first. Long-verified UMKM tend to lead; umkm@'s UMKM comes second in its
    trade. Only the first SELLER_SHARE of each trade's verified UMKM ever get an order, by a Zipf popularity."""
    ranked: list[tuple[float, _Seller]] = []
    for i, plan in enumerate(plans):
        if plan["status"] is not UmkmStatus.VERIFIED:
            continue
        windows, start = [], None
        for _from, to, at, *_ in plan["_history"]:
            if to is UmkmStatus.VERIFIED and start is None:
                start = at
            elif to is not UmkmStatus.VERIFIED and start is not None:
                windows.append((start, at))
                start = None
        if start is not None:
            windows.append((start, now + dt.timedelta(days=1)))
        seller = _Seller(umkm_ids[plan["nib"]], plan["owner_id"], plan["_trade"], windows)
        years = (now - plan["verified_at"]).days / 365
        key = 2.0 if i == 0 else rng.random() ** (1 / (0.25 + min(years, 1.5)))
        ranked.append((key, seller))
    ranked.sort(key=lambda r: -r[0])
    by_trade: dict[str, list[_Seller]] = {}
    for _, seller in ranked:
        by_trade.setdefault(seller.trade, []).append(seller)
    out: dict[str, list[_Seller]] = {}
    for trade, group in sorted(by_trade.items()):
        if ranked and group[0] is ranked[0][1] and len(group) > 1:
            group.insert(1, group.pop(0))  # umkm@ (plans[0], key 2.0)
        group = group[: max(1, round(len(group) * SELLER_SHARE))]
        for rank, seller in enumerate(group):
            seller.popularity = 1 / (rank + 1) ** ZIPF_S
            seller.rank = rank
        out[trade] = group
    return out


class _Market:
    """Picks the seller of an order: the trade by what the buyer needs that month, then a seller of that trade by
    popularity, among those verified by the end of the month (the caller checks the exact day)."""

    def __init__(self, by_trade: dict[str, list[_Seller]], demand: dict[int | None, dict[str, float]]) -> None:
        self.by_trade = by_trade
        self.trades = sorted(by_trade)
        self.demand = demand  # OPD id, or None for personal orders -> weight per trade
        self._trade_cum: dict[tuple[int | None, int, int], list[float]] = {}
        self._seller_cum: dict[tuple[str, int, int], list[float]] = {}

    def sellers_cum(self, trade: str, day: dt.date) -> list[float]:
        key = (trade, day.year, day.month)
        if key not in self._seller_cum:
            month_end = _jakarta(day.replace(day=28) + dt.timedelta(days=4), 0)
            acc, cum = 0.0, []
            for seller in self.by_trade[trade]:
                acc += seller.popularity if seller.windows and seller.windows[0][0] < month_end else 0.0
                cum.append(acc)
            self._seller_cum[key] = cum
        return self._seller_cum[key]

    def pick(self, rng: random.Random, buyer: int | None, day: dt.date) -> _Seller | None:
        key = (buyer, day.year, day.month)
        if key not in self._trade_cum:
            acc, cum = 0.0, []
            for trade in self.trades:
                weight = self.demand[buyer].get(trade, 0.0)
                if day.month in SCHOOL_MONTHS and trade in ("jahit", "sepatu"):
                    weight *= 2.5
                acc += weight if self.sellers_cum(trade, day)[-1] > 0 else 0.0
                cum.append(acc)
            self._trade_cum[key] = cum
        if self._trade_cum[key][-1] <= 0:
            return None
        trade = rng.choices(self.trades, cum_weights=self._trade_cum[key])[0]
        return rng.choices(self.by_trade[trade], cum_weights=self.sellers_cum(trade, day))[0]


async def _products_by_seller(sellers: list[_Seller]) -> dict[int, tuple[list[dt.datetime], list[dict]]]:
    """UMKM id -> (listing times, active products) in listing order, each with its category slug."""
    slugs = dict(await Category.all().values_list("id", "slug"))
    rows = (
        await Product.filter(active=True, umkm_id__in=[s.umkm_id for s in sellers])
        .order_by("created_at", "id")
        .values(
            "id",
            "umkm_id",
            "category_id",
            "name",
            "unit",
            "price",
            "options",
            "made_to_order",
            "monthly_capacity",
            "lead_time_days",
            "min_order_quantity",
            "created_at",
        )
    )
    out: dict[int, tuple[list[dt.datetime], list[dict]]] = {}
    for row in rows:
        row["category"] = slugs[row["category_id"]]
        times, products = out.setdefault(row["umkm_id"], ([], []))
        times.append(row["created_at"])
        products.append(row)
    return out


def _note_kind(trade: str, personal: bool) -> str:
    if personal:
        return "personal"
    if trade in FOOD_TRADES:
        return "food"
    if trade in ("laundry", "cleaning"):
        return "service"
    return "jahit" if trade == "jahit" else "goods"


def _plan_order(
    rng: random.Random,
    now: dt.datetime,
    personal: bool,
    opd: dict,
    buyer_id: int,
    days: list[dt.date],
    day_cum: list[float],
    market: _Market,
    by_seller: dict[int, tuple[list[dt.datetime], list[dict]]],
) -> _Planned | None:
    """Day, seller, lines and needed-by date of one order; None when no seller could take it then."""
    day = rng.choices(days, cum_weights=day_cum)[0]
    hours = rng.uniform(6, 22) if personal else rng.uniform(7.5, 16)
    created = _jakarta(day, hours)
    if created >= now:
        created = now - dt.timedelta(minutes=rng.randint(5, 600))
    for _ in range(40):
        seller = market.pick(rng, None if personal else opd["id"], created.astimezone(JAKARTA).date())
        if seller is None:
            return None
        if not seller.open_at(created) or seller.umkm_id not in by_seller:
            continue
        times, products = by_seller[seller.umkm_id]
        pool = products[: bisect_right(times, created)]
        if personal:
            pool = [p for p in pool if p["min_order_quantity"] <= 30]
        if pool:
            break
    else:
        return None

    n_lines = rng.choices((1, 2, 3), weights=(70, 22, 8) if personal else (50, 32, 18))[0]
    lines: list[_Line] = []
    seen: set[tuple[int, str | None]] = set()
    product = rng.choice(pool)
    for _ in range(n_lines):
        option = rng.choice(product["options"]) if product["options"] else None
        if (product["id"], option) not in seen:
            seen.add((product["id"], option))
            quantity = _quantity(rng, product, personal, seller.rank < 3)
            if product["made_to_order"]:
                quantity = min(quantity, product["monthly_capacity"] or 0)
            if quantity >= product["min_order_quantity"]:
                lines.append(_Line(product, option, quantity))
        # the next line: another size of the same product, or another product
        if not (product["options"] and rng.random() < 0.6):
            product = rng.choice(pool)
    if not lines:
        return None

    lead = max(line.product["lead_time_days"] for line in lines)
    if seller.trade in FOOD_TRADES:
        extra = rng.choice((0, 0, 1, 1, 2, 3, 5, 7))
    elif lead >= 7:
        extra = rng.randint(0, 21)
    else:
        extra = rng.randint(0, 10)
    needed_by = created.astimezone(JAKARTA).date() + dt.timedelta(days=max(lead, 1) + extra)
    note = rng.choice(ORDER_NOTES[_note_kind(seller.trade, personal)]) if rng.random() < 0.55 else ""
    address = opd["address"] if personal else rng.choice(ADDRESS_PREFIXES) + opd["address"]
    return _Planned(
        kind=OrderKind.PERSONAL if personal else OrderKind.OPD,
        opd_id=opd["id"],
        buyer_id=buyer_id,
        seller=seller,
        lines=lines,
        needed_by=needed_by,
        address=address,
        note=note,
        times={OrderStatus.SUBMITTED: created},
    )


def _plan_life(
    rng: random.Random, now: dt.datetime, order: _Planned, pay: tuple[float, float, int, int], receiver: str | None
) -> None:
    """What happened to the order up to `now`: every draw is made whatever `now` is, then cut at `now`.
    `receiver` signs the BAST of a personal order (the employee); an OPD's is one of its staff."""
    created = order.created
    personal = order.kind is OrderKind.PERSONAL
    roll = rng.random()
    late = rng.choices((0, 1, 2), weights=(88, 9, 3))[0]
    arrived = _jakarta(order.needed_by + dt.timedelta(days=late), rng.uniform(8, 15))
    # a seller says no, or the buyer calls it off, well before the goods would come
    reject_at = created + min(dt.timedelta(hours=rng.uniform(0.3, 30)), (arrived - created) * 0.5)
    cancel_at = created + min(dt.timedelta(hours=rng.uniform(0.5, 60)), (arrived - created) * 0.6)
    reject_reason, cancel_reason = rng.choice(REJECT_REASONS), rng.choice(CANCEL_REASONS)

    food = order.seller.trade in FOOD_TRADES
    gap = dt.timedelta(hours=rng.uniform(0.5, 3) if food else rng.uniform(4, 72))
    shipped = arrived - min(gap, (arrived - created) * 0.5)
    # the buyer confirms (BAST) on arrival, or some days later when the paperwork waits
    delivered = arrived + dt.timedelta(days=rng.randint(2, 12) if rng.random() < 0.1 else 0)
    r = rng.random()
    delay = dt.timedelta(
        hours=rng.uniform(0.2, 4) if r < 0.4 else rng.uniform(4, 24) if r < 0.7 else rng.uniform(24, 120)
    )
    accepted = created + delay
    if accepted >= shipped - dt.timedelta(minutes=10):
        accepted = created + (shipped - created) * rng.uniform(0.2, 0.6)

    if personal:
        wait = rng.choices((0, 1, 2, 3), weights=(45, 30, 15, 10))[0]
        never = False
    else:
        base, spread, low, high = pay
        wait = min(max(round(rng.gauss(base, spread)), low), high)
        never = rng.random() < 0.015  # paperwork stuck: delivered, never paid
    paid_on = delivered.astimezone(JAKARTA).date() + dt.timedelta(days=wait)
    paid = _jakarta(paid_on, rng.uniform(9, 15))
    if paid <= delivered:
        paid = delivered + dt.timedelta(minutes=rng.randint(10, 120))
    staff = f"{rng.choice(FEMALE_FIRST + MALE_FIRST)} {rng.choice(FEMALE_LAST + MALE_LAST)}"
    transfer = f"TRF/{paid_on:%Y%m%d}/{rng.randint(100_000, 999_999)}"  # a personal payment's bank reference
    rate = rng.random() < 0.4
    score = rng.choices((5, 4, 3, 2, 1), weights=(46, 36, 12, 4, 2))[0]
    comment = rng.choice(RATING_COMMENTS[score])
    rated_at = delivered + dt.timedelta(hours=rng.uniform(0.2, 120))

    if roll < 0.035:
        if reject_at < now:
            order.times[OrderStatus.REJECTED] = reject_at.replace(microsecond=0)
            order.closed_reason = reject_reason
        return
    if roll < 0.06:
        if cancel_at < now:
            order.times[OrderStatus.CANCELLED] = cancel_at.replace(microsecond=0)
            order.closed_reason = cancel_reason
        return
    steps = (
        (OrderStatus.ACCEPTED, accepted),
        (OrderStatus.SHIPPED, shipped),
        (OrderStatus.DELIVERED, delivered),
        (OrderStatus.PAID, None if never else paid),
    )
    for status, at in steps:
        if at is None or at >= now:
            break
        order.times[status] = at.replace(microsecond=0)
    if OrderStatus.DELIVERED in order.times:
        order.received_by = receiver or staff
        if rate and rated_at < now:
            order.rating = (score, comment, rated_at.replace(microsecond=0))
    if OrderStatus.PAID in order.times and personal:
        order.reference = transfer


def _hold_capacity(planned: list[_Planned]) -> dict[tuple[int, str], int]:
    """Made-to-order lines never exceed a product's monthly capacity (earlier orders first; a line that no longer
    fits shrinks or goes). Returns what the OPEN orders hold, (product id, YYYY-MM) -> units, for CapacityUse."""
    used: dict[tuple[int, str], int] = {}
    held: dict[tuple[int, str], int] = {}
    for order in planned:
        if order.status in (OrderStatus.REJECTED, OrderStatus.CANCELLED):
            continue  # released
        period = order.needed_by.strftime("%Y-%m")
        kept = []
        for line in order.lines:
            product = line.product
            if product["made_to_order"]:
                key = (product["id"], period)
                line.quantity = min(line.quantity, (product["monthly_capacity"] or 0) - used.get(key, 0))
                if line.quantity < product["min_order_quantity"]:
                    continue
                used[key] = used.get(key, 0) + line.quantity
                if order.status in OPEN_STATUSES:
                    held[key] = held.get(key, 0) + line.quantity
            kept.append(line)
        order.lines = kept
    return held


def _payment_references(planned: list[_Planned]) -> None:
    """OPD payments are SP2D, numbered city-wide per year in the order they were paid."""
    paid = sorted(
        (o for o in planned if o.kind is OrderKind.OPD and OrderStatus.PAID in o.times),
        key=lambda o: o.times[OrderStatus.PAID],
    )
    seq: dict[int, int] = {}
    for order in paid:
        year = order.times[OrderStatus.PAID].astimezone(JAKARTA).year
        seq[year] = seq.get(year, 0) + 1
        order.reference = f"SP2D/{year}/{seq[year]:05d}"


async def _insert_orders(planned: list[_Planned], held: dict[tuple[int, str], int]) -> None:
    """Orders (numbered once their ids are known), then items, events, payments and ratings in time order."""
    rows = []
    for n, o in enumerate(planned):
        t = o.times
        rows.append(
            Order(
                number=f"SEED-{n:06d}",  # replaced by PO-YYYY-NNNNNN below
                kind=o.kind,
                opd_id=o.opd_id,
                buyer_id=o.buyer_id,
                umkm_id=o.seller.umkm_id,
                status=o.status,
                total=sum(line.product["price"] * line.quantity for line in o.lines),
                needed_by=o.needed_by,
                delivery_address=o.address,
                note=o.note,
                source=OrderSource.SEARCH,
                accepted_at=t.get(OrderStatus.ACCEPTED),
                shipped_at=t.get(OrderStatus.SHIPPED),
                delivered_at=t.get(OrderStatus.DELIVERED),
                received_by=o.received_by,
                paid_at=t.get(OrderStatus.PAID),
                closed_reason=o.closed_reason,
                created_at=o.created,  # auto_now_add keeps a given value
            )
        )
    await Order.bulk_create(rows, batch_size=BATCH)
    ids = dict(await Order.filter(number__startswith="SEED-").values_list("number", "id"))
    for row, o in zip(rows, planned, strict=True):
        o.id = row.id = ids[row.number]
        row.number = f"PO-{o.created.astimezone(JAKARTA).year}-{o.id:06d}"
    await Order.bulk_update(rows, fields=["number"], batch_size=BATCH)

    items, events, payments, ratings = [], [], [], []
    owner_moves = (OrderStatus.ACCEPTED, OrderStatus.SHIPPED, OrderStatus.REJECTED)
    for row, o in zip(rows, planned, strict=True):
        period = o.needed_by.strftime("%Y-%m")
        for line in o.lines:
            p = line.product
            items.append(
                OrderItem(
                    order_id=o.id,
                    product_id=p["id"],
                    category_id=p["category_id"],
                    option=line.option,
                    name=p["name"],
                    unit=p["unit"],
                    unit_price=p["price"],
                    quantity=line.quantity,
                    subtotal=p["price"] * line.quantity,
                    capacity_period=period if p["made_to_order"] else None,
                )
            )
        previous = None
        for step, (status, at) in enumerate(o.times.items()):
            actor = o.seller.owner_id if status in owner_moves else o.buyer_id
            note = ""
            if status in (OrderStatus.REJECTED, OrderStatus.CANCELLED):
                note = o.closed_reason
            elif status is OrderStatus.DELIVERED:
                note = f"received by {o.received_by}"
            elif status is OrderStatus.PAID:
                actor, note = o.payer_id, f"ref {o.reference}"
                payments.append(
                    Payment(
                        order_id=o.id,
                        amount=row.total,
                        reference=o.reference,
                        paid_on=at.astimezone(JAKARTA).date(),
                        recorded_by_id=o.payer_id,
                        created_at=at,
                    )
                )
            events.append(
                (
                    at,
                    o.id,
                    step,
                    OrderEvent(
                        order_id=o.id, from_status=previous, to_status=status, actor_id=actor, note=note, created_at=at
                    ),
                )
            )
            previous = status
        if o.rating is not None:
            score, comment, at = o.rating
            ratings.append(
                Rating(
                    order_id=o.id,
                    umkm_id=o.seller.umkm_id,
                    score=score,
                    comment=comment,
                    rated_by_id=o.buyer_id,
                    created_at=at,
                )
            )
    events.sort(key=lambda e: e[:3])  # the trail's ids follow time, as if it had been written live
    payments.sort(key=lambda p: (p.created_at, p.order_id))
    ratings.sort(key=lambda r: (r.created_at, r.order_id))
    await OrderItem.bulk_create(items, batch_size=BATCH)
    await OrderEvent.bulk_create([e for *_, e in events], batch_size=BATCH)
    await Payment.bulk_create(payments, batch_size=BATCH)
    await Rating.bulk_create(ratings, batch_size=BATCH)
    await CapacityUse.bulk_create(
        [CapacityUse(product_id=pid, period=period, used=used) for (pid, period), used in sorted(held.items())],
        batch_size=BATCH,
    )


# ---------------------------------------------------------------- omzet reports


async def _seed_omzet(rng: random.Random, now: dt.datetime) -> None:
    """Twelve finished months of omzet reports: a quarter of the UMKM never report, the others miss some months and
    file some late; totals lognormal around Rp15 juta, never below the platform's own sales that month."""
    last = shift(period_of(now.astimezone(JAKARTA)), -1)
    months = periods_back(last, 12)
    platform = {(r.umkm_id, r.period): r.amount for r in await UmkmMonthlySales.filter(period__in=months)}
    umkms = await Umkm.filter(status__in=[UmkmStatus.VERIFIED, UmkmStatus.SUSPENDED]).order_by("id")
    reports, revisions = [], []
    for u in umkms:
        if rng.random() < 0.25:
            continue  # never reports
        base = rng.lognormvariate(0, 1.0) * 15_000_000
        workers = rng.randint(1, 8)
        diligence = rng.random()
        registered = period_of(u.created_at.astimezone(JAKARTA))
        for period in months:
            if period < registered or rng.random() > 0.55 + 0.4 * diligence:
                continue
            y, m = (int(x) for x in shift(period, 1).split("-"))
            late = rng.random() < 0.3 * (1 - diligence)
            day = rng.randint(11, 27) if late else rng.randint(1, 10)
            submitted = dt.datetime(y, m, day, rng.randint(8, 21), rng.randint(0, 59), tzinfo=JAKARTA).astimezone(
                dt.UTC
            )
            if submitted > now:
                continue
            pf = platform.get((u.id, period), 0)
            other = int(base * rng.uniform(0, 0.2)) // 1000 * 1000
            offline = int(base * rng.lognormvariate(0, 0.25)) // 1000 * 1000
            report = OmzetReport(
                umkm_id=u.id,
                period=period,
                first_submitted_at=submitted,
                late=submitted > due_at(period, 10),
                revision_count=1,
                platform_amount=pf,
                other_online_amount=other,
                offline_amount=offline,
                total_amount=pf + other + offline,
                workers=workers,
                note="",
                updated_at=submitted,
            )
            reports.append(report)
    await OmzetReport.bulk_create(reports, batch_size=BATCH)
    stored = {(r.umkm_id, r.period): r for r in await OmzetReport.filter(period__in=months)}
    owners = dict(await Umkm.filter(id__in=[k[0] for k in stored]).values_list("id", "owner_id"))
    for (umkm_id, _period), r in sorted(stored.items()):
        revisions.append(
            OmzetRevision(
                report_id=r.id,
                number=1,
                platform_amount=r.platform_amount,
                other_online_amount=r.other_online_amount,
                offline_amount=r.offline_amount,
                total_amount=r.total_amount,
                workers=r.workers,
                note="",
                submitted_by_id=owners[umkm_id],
                on_behalf=False,
                created_at=r.first_submitted_at,
            )
        )
    await OmzetRevision.bulk_create(revisions, batch_size=BATCH)
    for u in umkms:
        await update_scale(u)
