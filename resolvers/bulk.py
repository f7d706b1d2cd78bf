"""Bulk purchases split across UMKM by water-filling (docs/FAIRNESS.md, "Bulk split"): plan, review, place."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from models.base import JAKARTA, Role
from models.catalog import Product
from models.fairness import BulkPlan, BulkPlanLine
from models.orders import CapacityUse, Order, OrderSource
from models.registry import Opd
from resolvers import fairness, fairness_snapshot, orders
from resolvers.bulk_split import Candidate, plan_split
from resolvers.common import Ctx, DomainError, Validator
from resolvers.fairness_policy import POLICY

MAX_BULK = 1_000_000


@dataclass
class PlanRequest:
    category_id: int
    opd_id: int | None
    quantity: int
    needed_by: dt.date
    delivery_address: str
    min_lot: int | None = None
    max_suppliers: int | None = None


def _buyer(ctx: Ctx, opd_id: int | None) -> int:
    p = ctx.principal  # an OPD buyer: the field's role
    if opd_id is not None and opd_id != p.opd_id:
        raise DomainError("NOT_YOUR_OPD", "You can plan only for your own OPD.", "opdId")
    assert p.opd_id is not None
    return p.opd_id


async def _capacities(products: list[Product], period: str) -> dict[int, int]:
    """What each product can still supply: stock, or the month's capacity left (made to order)."""
    used = {
        pid: n
        for pid, n in await CapacityUse.filter(product_id__in=[p.id for p in products], period=period).values_list(
            "product_id", "used"
        )
    }
    return {
        p.id: max(0, (p.monthly_capacity or 0) - used.get(p.id, 0)) if p.made_to_order else max(0, p.stock)
        for p in products
    }


async def plan_bulk_order(ctx: Ctx, req: PlanRequest) -> BulkPlan:
    """Candidates in ranking order for the OPD; water-fill the quantity; store the plan for review."""
    opd_id = _buyer(ctx, req.opd_id)
    m = req.min_lot if req.min_lot is not None else POLICY.min_lot
    v = Validator()
    v.integer("quantity", req.quantity, minimum=1, maximum=MAX_BULK)
    v.integer("minLot", m, minimum=1, maximum=MAX_BULK)
    v.integer("maxSuppliers", req.max_suppliers, minimum=1, maximum=10_000)
    v.text("deliveryAddress", req.delivery_address, max_length=300)
    today = ctx.clock.now().astimezone(JAKARTA).date()
    if req.needed_by < today:
        v.add("neededBy", "IN_THE_PAST", "The needed-by date is in the past.")
    v.raise_if_any()
    opd = await Opd.get(id=opd_id)
    ranking = await fairness_snapshot.full(req.category_id, fairness.now_or(ctx, None), opd, None)
    products = {p.id: p for p in await Product.filter(id__in=[r.cheapest_product_id for r in ranking.rows])}
    caps = await _capacities(list(products.values()), req.needed_by.strftime("%Y-%m"))
    candidates, ranks = [], {}
    for row in ranking.rows:
        pr = products[row.cheapest_product_id]
        if req.needed_by < today + dt.timedelta(days=pr.lead_time_days):
            continue  # cannot deliver in time
        cap = caps[pr.id]
        if cap < max(m, pr.min_order_quantity):
            continue
        s = row.score
        candidates.append(
            Candidate(
                umkm_id=row.umkm_id,
                received=s.received,
                weight=max(s.active_fraction * (1 + POLICY.need_weight * s.need), 1e-12),
                price=pr.price,
                capacity=cap,
                deficit=s.deficit,
            )
        )
        ranks[row.umkm_id] = (row.rank, pr)
    split = plan_split(candidates, req.quantity, min_lot=m, max_suppliers=req.max_suppliers)
    allocations = [a for a in split.allocations if a.quantity > 0]
    if not allocations:
        raise DomainError(
            "NO_SUPPLIERS",
            "No eligible UMKM can supply a lot of {lot} by {date}.",
            "quantity",
            lot=m,
            date=req.needed_by.isoformat(),
        )
    async with in_transaction():
        plan = await BulkPlan.create(
            opd_id=opd_id,
            buyer_id=ctx.principal.user_id,
            category_id=req.category_id,
            quantity=req.quantity,
            planned_quantity=sum(a.quantity for a in allocations),
            needed_by=req.needed_by,
            delivery_address=req.delivery_address.strip(),
            min_lot=m,
            max_suppliers=req.max_suppliers,
            total=sum(a.quantity * ranks[a.umkm_id][1].price for a in allocations),
            policy_version=POLICY.version,
        )
        await BulkPlanLine.bulk_create(
            [
                BulkPlanLine(
                    plan_id=plan.id,
                    umkm_id=a.umkm_id,
                    product_id=ranks[a.umkm_id][1].id,
                    quantity=a.quantity,
                    unit_price=ranks[a.umkm_id][1].price,
                    rank=ranks[a.umkm_id][0],
                    level_before=a.level_before,
                    level_after=a.level_after,
                )
                for a in sorted(allocations, key=lambda a: ranks[a.umkm_id][0])
            ]
        )
    return plan


async def get_plan(ctx: Ctx, plan_id: int) -> BulkPlan | None:
    p = ctx.principal
    plan = await BulkPlan.get_or_none(id=plan_id)
    if plan is None:
        return None
    if p.sees_everything or (p.role in (Role.OPD_BUYER, Role.OPD_TREASURER) and p.opd_id == plan.opd_id):
        return plan
    return None


async def plan_lines(plan_ids: list[int]) -> list[list[BulkPlanLine]]:
    grouped: dict[int, list[BulkPlanLine]] = {i: [] for i in plan_ids}
    for line in await BulkPlanLine.filter(plan_id__in=list(set(plan_ids))).order_by("rank", "id"):
        grouped[line.plan_id].append(line)
    return [grouped[i] for i in plan_ids]


async def place_bulk_order(ctx: Ctx, plan_id: int, idempotency_key: str | None) -> list[Order]:
    """Turn a plan into orders in one transaction (stock and capacity checked again); source BULK_PLAN."""
    _buyer(ctx, None)
    plan = await get_plan(ctx, plan_id)
    if plan is None:
        raise DomainError("NOT_FOUND", "No such plan.", "planId")
    if plan.placed_at is not None and not idempotency_key:
        raise DomainError("PLAN_ALREADY_PLACED", "This plan was placed already.", "planId")
    lines = (await plan_lines([plan.id]))[0]
    req = orders.PlaceOrder(
        opd_id=plan.opd_id,
        items=[orders.BasketItem(product_id=line.product_id, quantity=line.quantity) for line in lines],
        needed_by=plan.needed_by,
        delivery_address=plan.delivery_address,
        note=f"bulk plan {plan.id}",
        idempotency_key=idempotency_key,
        source=OrderSource.BULK_PLAN,
        bulk_plan_id=plan.id,
    )
    placed = await orders.place_order(ctx, req)
    ranks = {line.umkm_id: line.rank for line in lines}
    for o in placed:
        if o.source_rank is None and ranks.get(o.umkm_id) is not None:
            await Order.filter(id=o.id).update(source_rank=ranks[o.umkm_id])
    return placed
