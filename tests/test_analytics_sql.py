"""The dashboard's aggregates (`equityByCategory`, `opdSpending`, `umkmSalesRanking`) against a straightforward
Python reference on a seeded world, and what each costs in SQL statements: a fixed number, whatever the number of
categories, OPD, UMKM or orders, and whatever the page.

The world (`seeded`): a category tree with sub-categories, UMKM of every status and scale verified at different
times, products created, archived and listed at different times, OPD with and without pagu, OPD and personal orders
of every status delivered around the period's edges (also either side of Jakarta midnight), paid after odd and even
numbers of days. The reference reads the rows with the ORM and computes each figure in plain Python, as the rules
define it (docs/FAIRNESS.md, resolvers/analytics.py); the server's clock is frozen so that both see the same day.
Runs on SQLite and, with PASAR_TEST_DATABASE_URL, PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
from zoneinfo import ZoneInfo

import pytest

from models.accounts import Role
from models.base import Scale, UmkmStatus
from models.catalog import Product
from models.orders import Order, OrderItem, OrderKind, OrderStatus, Payment
from models.registry import Category, Opd, OpdBudget, OpdKind, Umkm, UmkmStatusChange
from resolvers import analytics, ranking
from resolvers.equity import equity_reference
from tests.conftest import gid

JAKARTA = ZoneInfo("Asia/Jakarta")
COUNTED = {OrderStatus.DELIVERED, OrderStatus.PAID}
SEED = 20261130


def jakarta_day(instant: dt.datetime) -> dt.date:
    return instant.astimezone(JAKARTA).date()


def bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    lo = dt.datetime.combine(start, dt.time(), JAKARTA).astimezone(dt.UTC)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), JAKARTA).astimezone(dt.UTC)
    return lo, hi


# ---------------------------------------------------------------- the seeded world


@pytest.fixture
async def seeded(world, clock):
    """`world` plus a seeded city; the server's clock frozen at `clock.now()`."""
    rng = random.Random(SEED)
    now = clock.now()
    tulis = await Category.create(name="Batik tulis", slug="batik-tulis", parent=world.batik)
    await Category.create(name="Batik cap", slug="batik-cap", parent=world.batik)
    box = await Category.create(name="Snack box", slug="snack-box", parent=world.snack)
    seragam = await Category.create(name="Seragam", slug="seragam")
    await Category.create(name="Alat tulis", slug="alat-tulis")  # a top-level category with nothing in it
    leaves = [world.batik, tulis, world.snack, box, seragam]
    opds = [world.opd, world.opd2]
    for code in ("DISPORA", "DKPP", "KEC-RKT"):
        opds.append(
            await Opd.create(code=code, name=f"OPD {code}", kind=OpdKind.DINAS, kecamatan_id=world.kecamatan.id)
        )
    year = jakarta_day(now).year
    for opd, amount in ((world.opd, 9_000_000), (opds[2], 40_000_000), (opds[3], 0)):
        await OpdBudget.create(opd_id=opd.id, year=year, amount=amount)
    employees = [world.users["employee"]]
    for i in range(5):
        user, _ = await world.user(f"pegawai{i}", Role.EMPLOYEE, world.opd)
        employees.append(user)
    owner = world.users["other_owner"]
    umkms = [world.umkm, world.other_umkm, world.suspended_umkm, world.pending_umkm]
    statuses = [UmkmStatus.VERIFIED] * 9 + [UmkmStatus.SUSPENDED, UmkmStatus.REJECTED, UmkmStatus.PENDING]
    for i, status in enumerate(statuses):
        u = await world.umkm_for(owner, f"Usaha {i:02d}", status)
        umkms.append(u)
    quiet = [await world.umkm_for(owner, f"Belum Laku {i}") for i in range(4)]  # list, never sell
    umkms += quiet
    for u in umkms:
        if u.status is UmkmStatus.PENDING:
            continue
        verified = now - dt.timedelta(days=rng.choice([3, 40, 200, 380, 700]), hours=rng.randint(0, 23))
        scale = Scale.BESAR if u.name == "Usaha 03" else rng.choice([Scale.MIKRO, Scale.KECIL, Scale.MENENGAH])
        await Umkm.filter(id=u.id).update(verified_at=verified, scale=scale)
        if u.status is not UmkmStatus.VERIFIED:  # left VERIFIED at some time: within the period or before it
            when = now - dt.timedelta(days=rng.choice([10, 500]))
            await UmkmStatusChange.filter(umkm_id=u.id).update(created_at=when)
    products: dict[int, list[Product]] = {}
    for u in umkms:
        for k in range(rng.randint(1, 3)):
            p = await world.product_for(u, f"Produk {u.id}-{k}", price=rng.choice([25_000, 150_000, 210_000]))
            await Product.filter(id=p.id).update(
                category_id=rng.choice(leaves).id,
                created_at=now - dt.timedelta(days=rng.choice([2, 100, 300, 800])),
                active=rng.random() < 0.8,
                updated_at=now - dt.timedelta(days=rng.choice([1, 30, 450])),
            )
            products.setdefault(u.id, []).append(await Product.get(id=p.id))
    sellers = [u for u in umkms if u.status is not UmkmStatus.PENDING and u not in quiet]
    number = 0
    for _ in range(90):
        u = rng.choice(sellers)
        kind = OrderKind.PERSONAL if rng.random() < 0.25 else OrderKind.OPD
        buyer = rng.choice(employees) if kind is OrderKind.PERSONAL else world.users["buyer"]
        opd = world.opd if kind is OrderKind.PERSONAL else rng.choice(opds)
        status = rng.choice([OrderStatus.DELIVERED, OrderStatus.PAID, OrderStatus.PAID, OrderStatus.CANCELLED])
        # deliveries over 15 months, some on either side of Jakarta midnight (17:00 UTC)
        days_ago = rng.randint(0, 450)
        if rng.random() < 0.3:
            base = dt.datetime.combine(jakarta_day(now) - dt.timedelta(days=days_ago), dt.time(), JAKARTA)
            delivered = (base + dt.timedelta(minutes=rng.choice([-1, 0, 1]))).astimezone(dt.UTC)
        else:
            delivered = now - dt.timedelta(days=days_ago, minutes=rng.randint(0, 1439))
        if delivered > now:
            delivered = now - dt.timedelta(minutes=5)
        lines = [rng.choice(products[u.id]) for _ in range(rng.randint(1, 3))]
        subtotals = [p.price * rng.randint(1, 4) for p in lines]
        paid = status is OrderStatus.PAID or (kind is OrderKind.OPD and rng.random() < 0.1)  # a paid, cancelled one
        number += 1
        o = await Order.create(
            number=f"PO-T-{number:05d}",
            kind=kind,
            opd_id=opd.id,
            buyer_id=buyer.id,
            umkm_id=u.id,
            status=status,
            total=sum(subtotals),
            needed_by=jakarta_day(delivered),
            delivery_address="Balai Kota",
            source_rank=rng.choice([None, None, 3]),
            delivered_at=delivered,
            paid_at=delivered + dt.timedelta(days=2) if status is OrderStatus.PAID else None,
        )
        for p, subtotal in zip(lines, subtotals, strict=True):
            await OrderItem.create(
                order_id=o.id,
                product_id=p.id,
                category_id=p.category_id,
                name=p.name,
                unit=p.unit,
                unit_price=p.price,
                quantity=subtotal // p.price,
                subtotal=subtotal,
            )
        if paid:
            await Payment.create(
                order_id=o.id,
                amount=o.total,
                reference="SP2D",
                paid_on=jakarta_day(delivered) + dt.timedelta(days=rng.randint(0, 45)),
                recorded_by_id=world.users["treasurer"].id,
            )
    await Opd.create(code="KEC-TGS", name="Kecamatan Tegalsari", kind=OpdKind.DINAS, kecamatan_id=world.kecamatan.id)
    # orders placed and not yet delivered do not count anywhere
    await Order.create(
        kind=OrderKind.OPD,
        opd_id=world.opd.id,
        buyer_id=world.users["buyer"].id,
        umkm_id=world.umkm.id,
        status=OrderStatus.SHIPPED,
        total=1,
        needed_by=jakarta_day(now),
        delivery_address="Balai Kota",
    )
    return world


async def rows():
    """Everything the reference reads, as plain rows."""
    return {
        "categories": await Category.all(),
        "umkms": {u.id: u for u in await Umkm.all()},
        "changes": await UmkmStatusChange.all(),
        "products": await Product.all(),
        "orders": {o.id: o for o in await Order.all()},
        "items": await OrderItem.all(),
        "payments": {p.order_id: p for p in await Payment.all()},
        "opds": await Opd.all(),
        "budgets": await OpdBudget.all(),
    }


def roots_of(categories) -> dict[int, int]:
    parent = {c.id: c.parent_id for c in categories}
    out = {}
    for c in parent:
        r = c
        while parent[r] is not None:
            r = parent[r]
        out[c] = r
    return out


def subtree(categories, top: int) -> set[int]:
    roots_all = {c.id: c.parent_id for c in categories}
    out = {top}
    grew = True
    while grew:
        more = {c for c, p in roots_all.items() if p in out} - out
        out |= more
        grew = bool(more)
    return out


def counted(o: Order, lo: dt.datetime, hi: dt.datetime, personal: bool) -> bool:
    return (
        o.status in COUNTED
        and o.delivered_at is not None
        and lo <= o.delivered_at < hi
        and (personal or o.kind is OrderKind.OPD)
    )


# ---------------------------------------------------------------- the references


async def reference_equity(data, start: dt.date, end: dt.date, now: dt.datetime, admin: bool) -> list[dict]:
    lo, hi = bounds(start, end)
    roots = roots_of(data["categories"])
    tops = sorted((c for c in data["categories"] if c.parent_id is None), key=lambda c: (c.name, c.id))
    left_verified_since = {c.umkm_id for c in data["changes"] if c.created_at >= lo}
    out = []
    for top in tops:
        sold: dict[int, int] = {}
        orders: set[int] = set()
        for i in data["items"]:
            o = data["orders"][i.order_id]
            if roots[i.category_id] == top.id and counted(o, lo, hi, admin):
                sold[o.umkm_id] = sold.get(o.umkm_id, 0) + i.subtotal
                orders.add(o.id)
        population = set()
        for u in data["umkms"].values():
            seller = (
                u.scale is not Scale.BESAR
                and u.verified_at is not None
                and u.verified_at < hi
                and (u.status is UmkmStatus.VERIFIED or u.id in left_verified_since)
            )
            listed = any(
                p.umkm_id == u.id
                and roots[p.category_id] == top.id
                and p.created_at < hi
                and (p.active or p.updated_at >= lo)
                for p in data["products"]
            )
            if seller and listed:
                population.add(u.id)
        ids = sorted(population | set(sold))
        members = [{"umkm_id": u, "verified_at": data["umkms"][u].verified_at} for u in ids]
        weights = await analytics._weights(members, min(hi, ranking.list_moment(jakarta_day(now))))
        total, total_w = sum(sold.values()), sum(weights[u] for u in ids)
        fair = [total * weights[u] / total_w if total_w > 0 else 0.0 for u in ids]
        f = equity_reference([sold.get(u, 0) for u in ids], fair=fair, purchases=len(orders))
        out.append(
            {
                "category": top.name,
                "members": len(ids),
                "sellers": len(sold),
                "purchases": len(orders),
                "total": round(f["total"] or 0),
                "gini": f["gini"],
                "jain": f["jain"],
                "theil": f["theil"],
                "zeroSalesShare": f["zero_share"],
                "top10Share": f["top10_share"],
                "coverageEfficiency": f["coverage_efficiency"],
                "unmetFairShare": f["unmet_fair_share"],
                "lorenz": f["lorenz"],
            }
        )
    return out


def reference_spending(data, year: int, admin: bool) -> list[dict]:
    lo, hi = bounds(dt.date(year, 1, 1), dt.date(year, 12, 31))
    budgets = {b.opd_id: b.amount for b in data["budgets"] if b.year == year}
    out = []
    for opd in sorted(data["opds"], key=lambda o: o.code):
        mine = [o for o in data["orders"].values() if o.opd_id == opd.id and counted(o, lo, hi, True)]
        bought = [o for o in mine if o.kind is OrderKind.OPD]
        staff = [o for o in mine if o.kind is OrderKind.PERSONAL]
        spend = sum(o.total for o in bought)
        days = [
            (data["payments"][o.id].paid_on - jakarta_day(o.delivered_at)).days
            for o in data["orders"].values()
            if o.opd_id == opd.id
            and o.kind is OrderKind.OPD
            and o.id in data["payments"]
            and o.delivered_at is not None
            and lo <= o.delivered_at < hi
        ]
        pagu = budgets.get(opd.id)
        share = spend / pagu if pagu else None
        shown = admin or len({o.buyer_id for o in staff}) >= 5
        out.append(
            {
                "opd": opd.code,
                "spend": spend,
                "orders": len(bought),
                "umkmReached": len({o.umkm_id for o in bought}),
                "pagu": pagu,
                "paguShare": share,
                "meetsSmallBusinessRule": None if share is None else share >= 0.4,
                "fairnessListShare": sum(o.total for o in bought if o.source_rank is not None) / spend
                if spend
                else None,
                "medianDaysToPay": float(statistics.median(days)) if days else None,
                "unpaidDelivered": sum(1 for o in bought if o.paid_at is None),
                "staffPurchases": len(staff) if shown else None,
                "staffSpend": sum(o.total for o in staff) if shown else None,
            }
        )
    return out


def reference_ranking(data, top: int, start: dt.date, end: dt.date, now, role: Role, most: bool) -> list[dict]:
    lo, hi = bounds(start, end)
    cats = subtree(data["categories"], top)
    admin = role is Role.ADMIN
    sales: dict[int, dict] = {}
    for i in data["items"]:
        o = data["orders"][i.order_id]
        if i.category_id in cats and counted(o, lo, hi, admin):
            s = sales.setdefault(o.umkm_id, {"amount": 0, "orders": set(), "opds": set()})
            s["amount"] += i.subtotal
            s["orders"].add(o.id)
            s["opds"].add(o.opd_id)
    umkms = data["umkms"]
    if most:
        ids = [u for u in sales if role in (Role.ADMIN, Role.ANALYST) or umkms[u].status is UmkmStatus.VERIFIED]
        ids.sort(key=lambda u: (-sales[u]["amount"], u))
    else:
        listing = {p.umkm_id for p in data["products"] if p.category_id in cats and p.active}
        ids = [u for u in listing if umkms[u].status is UmkmStatus.VERIFIED]
        ids.sort(key=lambda u: (sales.get(u, {"amount": 0})["amount"], umkms[u].verified_at, u))
    out = []
    for rank, u in enumerate(ids, start=1):
        s = sales.get(u, {"amount": 0, "orders": (), "opds": ()})
        v = umkms[u].verified_at
        out.append(
            {
                "rank": rank,
                "amount": s["amount"],
                "orders": len(s["orders"]),
                "opds": len(s["opds"]),
                "daysSinceVerification": (now - v).days if v else None,
                "umkm": {"id": gid("Umkm", u)},
            }
        )
    return out


# ---------------------------------------------------------------- the API against the references

EQUITY = """query($f: Date!, $t: Date!) { equityByCategory(periodFrom: $f, periodTo: $t) { category { name }
  report { members sellers purchases total gini jain theil zeroSalesShare top10Share coverageEfficiency unmetFairShare
           lorenz } } }"""
SPENDING = """query($y: Int!) { opdSpending(year: $y) { opd { code } spend orders umkmReached pagu paguShare
  meetsSmallBusinessRule fairnessListShare medianDaysToPay unpaidDelivered staffPurchases staffSpend } }"""
RANKING = """query($c: ID!, $f: Date!, $t: Date!, $o: SalesOrder!, $n: Int!, $a: String) {
  umkmSalesRanking(categoryId: $c, periodFrom: $f, periodTo: $t, order: $o, first: $n, after: $a) {
    totalCount hasNextPage edges { cursor rank amount orders opds daysSinceVerification umkm { id } } } }"""


def periods(now: dt.datetime) -> list[tuple[dt.date, dt.date]]:
    today = jakarta_day(now)
    return [
        (today - dt.timedelta(days=364), today),  # the dashboard's twelve months
        (today - dt.timedelta(days=250), today - dt.timedelta(days=20)),  # a past period
    ]


def same(api, ref) -> None:
    """Counts exactly; ratios to the last bits a float can differ by between two summation orders."""
    if isinstance(ref, float):
        assert api == pytest.approx(ref, rel=1e-12, abs=1e-15)
    elif isinstance(ref, list):
        assert isinstance(api, list) and len(api) == len(ref)
        for a, r in zip(api, ref, strict=True):
            same(a, r)
    elif isinstance(ref, dict):
        assert api.keys() == ref.keys()
        for k in ref:
            same(api[k], ref[k])
    else:
        assert api == ref


@pytest.mark.parametrize("role", ["analyst", "admin"])
async def test_equity_by_category_equals_the_python_reference(gql, seeded, clock, role):
    data = await rows()
    for start, end in periods(clock.now()):
        ref = await reference_equity(data, start, end, clock.now(), admin=role == "admin")
        api = (await gql.ok(EQUITY, {"f": start.isoformat(), "t": end.isoformat()}, seeded.tokens[role]))[
            "equityByCategory"
        ]
        assert [c["category"]["name"] for c in api] == [r["category"] for r in ref]
        for c, r in zip(api, ref, strict=True):
            expected = {k: v for k, v in r.items() if k != "category"}
            same(c["report"], expected)
        assert sum(r["sellers"] for r in ref) > 0 and any(r["members"] > r["sellers"] for r in ref)


@pytest.mark.parametrize("role", ["analyst", "admin"])
async def test_opd_spending_equals_the_python_reference(gql, seeded, clock, role):
    data = await rows()
    year = jakarta_day(clock.now()).year
    for y in (year, year - 1):
        ref = reference_spending(data, y, admin=role == "admin")
        api = (await gql.ok(SPENDING, {"y": y}, seeded.tokens[role]))["opdSpending"]
        same([{**r, "opd": r["opd"]["code"]} for r in api], ref)
    # the world has OPD paid an odd and an even number of times (a median that is a mean of two middle days), and
    # an OPD that paid nothing
    lo, hi = bounds(dt.date(year, 1, 1), dt.date(year, 12, 31))
    paid = [
        sum(
            1
            for o in data["orders"].values()
            if o.opd_id == opd.id and o.kind is OrderKind.OPD and o.id in data["payments"] and lo <= o.delivered_at < hi
        )
        for opd in data["opds"]
    ]
    assert {n % 2 for n in paid if n} == {0, 1} and 0 in paid


@pytest.mark.parametrize("role", [Role.ANALYST, Role.ADMIN, Role.OPD_BUYER])
async def test_sales_ranking_pages_equal_the_python_reference(gql, seeded, clock, role):
    data = await rows()
    token = seeded.tokens[{Role.ANALYST: "analyst", Role.ADMIN: "admin", Role.OPD_BUYER: "buyer"}[role]]
    start, end = periods(clock.now())[0]
    for top in (seeded.batik, seeded.snack):
        for order in ("MOST", "LEAST"):
            ref = reference_ranking(data, top.id, start, end, clock.now(), role, order == "MOST")
            seen, after = [], None
            while True:
                v = {"c": gid("Category", top.id), "f": start.isoformat(), "t": end.isoformat(), "o": order, "n": 4}
                page = (await gql.ok(RANKING, {**v, "a": after}, token))["umkmSalesRanking"]
                assert page["totalCount"] == len(ref)
                seen += [{k: e[k] for k in e if k != "cursor"} for e in page["edges"]]
                if not page["hasNextPage"]:
                    break
                after = page["edges"][-1]["cursor"]
            assert seen == ref, (top.name, order)
            assert len(ref) > 4  # more than one page
            # a page past the end: no rows, the same total
            past = (await gql.ok(RANKING, {**v, "a": page["edges"][-1]["cursor"]}, token))["umkmSalesRanking"]
            assert past == {"totalCount": len(ref), "hasNextPage": False, "edges": []}


# ---------------------------------------------------------------- what each costs in statements


async def statements(gql, query: str, variables: dict, token: str) -> int:
    body = (await gql.raw(query, variables, token=token)).json()
    assert "errors" not in body, body
    return body["extensions"]["sqlStatements"]


async def test_the_dashboards_aggregates_cost_a_fixed_number_of_statements(gql, seeded, clock):
    """equityByCategory 4 (the category tree, every category's members with their sales, the business actors they
    belong to, their reported omzet),
    opdSpending 4 (the year's sums per OPD, the median days to pay per OPD, the pagu, the OPD), umkmSalesRanking 2
    plus the page's UMKM (the category tree, one ranking statement, the UMKM of the page): the same after more
    categories, OPD, UMKM and orders, and for any page."""
    token = seeded.tokens["analyst"]
    start, end = periods(clock.now())[0]
    span = {"f": start.isoformat(), "t": end.isoformat()}
    year = {"y": jakarta_day(clock.now()).year}

    async def ranking_cost(n: int, order: str) -> int:
        v = {**span, "c": gid("Category", seeded.batik.id), "o": order, "n": n, "a": None}
        return await statements(gql, RANKING, v, token)

    before = {
        "equity": await statements(gql, EQUITY, span, token),
        "spending": await statements(gql, SPENDING, year, token),
        "most": [await ranking_cost(n, "MOST") for n in (1, 10, 100)],
        "least": [await ranking_cost(n, "LEAST") for n in (1, 10, 100)],
    }
    assert before == {"equity": 4, "spending": 4, "most": [3, 3, 3], "least": [3, 3, 3]}
    # more of everything
    for i in range(3):
        top = await Category.create(name=f"Kategori {i}", slug=f"kategori-{i}")
        await Category.create(name=f"Sub {i}", slug=f"sub-{i}", parent=top)
        await Opd.create(code=f"OPD-{i}", name=f"OPD {i}", kind=OpdKind.DINAS, kecamatan_id=seeded.kecamatan.id)
        u = await seeded.umkm_for(seeded.users["other_owner"], f"Tambahan {i}")
        p = await seeded.product_for(u, f"Barang {i}", category=seeded.batik if i % 2 else top)
        o = await Order.create(
            kind=OrderKind.OPD,
            opd_id=seeded.opd.id,
            buyer_id=seeded.users["buyer"].id,
            umkm_id=u.id,
            status=OrderStatus.DELIVERED,
            total=p.price,
            needed_by=end,
            delivery_address="Balai Kota",
            delivered_at=clock.now() - dt.timedelta(days=1),
        )
        await OrderItem.create(
            order_id=o.id,
            product_id=p.id,
            category_id=p.category_id,
            name=p.name,
            unit=p.unit,
            unit_price=p.price,
            quantity=1,
            subtotal=p.price,
        )
    after = {
        "equity": await statements(gql, EQUITY, span, token),
        "spending": await statements(gql, SPENDING, year, token),
        "most": [await ranking_cost(n, "MOST") for n in (1, 10, 100)],
        "least": [await ranking_cost(n, "LEAST") for n in (1, 10, 100)],
    }
    assert after == before
