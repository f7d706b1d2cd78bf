"""GraphQL shape of bulk purchases split fairly across UMKM."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from models import catalog as cat
from models import fairness as m
from models import registry as reg
from models.base import Role as R
from resolvers import bulk as rules
from resolvers import privacy
from schema.catalog import Product
from schema.common import jakarta
from schema.errors import UserError, UserErrors
from schema.orders import PlaceOrderPayload, orders_by_ids
from schema.permissions import roles
from schema.registry import Category, Umkm
from schema.relay import Node, decode_id, to_global_id
from schema.scalars import Rupiah


@strawberry.type(description="One supplier's lot in a bulk plan.")
class BulkPlanLine:
    quantity: int = strawberry.field(description="Units for this UMKM.")
    unit_price: Rupiah = strawberry.field(description="Unit price of its product.")
    subtotal: Rupiah = strawberry.field(description="quantity × unitPrice.")
    rank: int | None = strawberry.field(description="Its rank on the under-sold list when planned.")
    level_before: float | None = strawberry.field(
        description="Decayed sales ÷ target weight before this order. Null unless the caller is the UMKM's owner, an "
        "admin or an analyst: the target weight follows from its omzet (docs/PRIVACY.md)."
    )
    level_after: float | None = strawberry.field(
        description="The same after it: water-filling raises the lowest first. Null as `levelBefore` is."
    )
    umkm_id: strawberry.Private[int]
    product_id: strawberry.Private[int]

    @strawberry.field(description="The supplier.")
    async def umkm(self, info: Info) -> Umkm:
        return Umkm.from_row(await info.context.loaders.by_id(reg.Umkm).load(self.umkm_id))

    @strawberry.field(description="The product it supplies.")
    async def product(self, info: Info) -> Product:
        return Product.from_row(await info.context.loaders.by_id(cat.Product).load(self.product_id))


@strawberry.type(description="A bulk purchase split across UMKM by water-filling, to review before placing.")
class BulkPlan(Node):
    quantity: int = strawberry.field(description="Units asked for.")
    planned_quantity: int = strawberry.field(description="Units the plan covers (min of asked and capacity).")
    needed_by: dt.date = strawberry.field(description="Needed-by date.")
    min_lot: int = strawberry.field(description="Smallest lot per supplier.")
    max_suppliers: int | None = strawberry.field(description="Cap on suppliers, taken in ranking order.")
    total: Rupiah = strawberry.field(description="Total price.")
    policy_version: str = strawberry.field(description="Fairness policy version used.")
    created_at: dt.datetime = strawberry.field(description="Planned at (Asia/Jakarta).")
    placed_at: dt.datetime | None = strawberry.field(description="Placed at, once orders were made from it.")
    pk: strawberry.Private[int]
    category_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, r: m.BulkPlan) -> BulkPlan:
        return cls(
            id=to_global_id("BulkPlan", r.id),
            quantity=r.quantity,
            planned_quantity=r.planned_quantity,
            needed_by=r.needed_by,
            min_lot=r.min_lot,
            max_suppliers=r.max_suppliers,
            total=r.total,
            policy_version=r.policy_version,
            created_at=jakarta(r.created_at),
            placed_at=jakarta(r.placed_at),
            pk=r.id,
            category_id=r.category_id,
        )

    @strawberry.field(description="The category.")
    async def category(self, info: Info) -> Category:
        return Category.from_row(await info.context.loaders.by_id(reg.Category).load(self.category_id))

    @strawberry.field(description="Suppliers and lots, by rank.")
    async def lines(self, info: Info) -> list[BulkPlanLine]:
        lines = await info.context.loaders.batch("plan_lines", rules.plan_lines).load(self.pk)
        p = info.context.principal
        return [
            BulkPlanLine(
                quantity=x.quantity,
                unit_price=x.unit_price,
                subtotal=x.quantity * x.unit_price,
                rank=x.rank,
                level_before=x.level_before if privacy.sees_omzet_of(p, x.umkm_id) else None,
                level_after=x.level_after if privacy.sees_omzet_of(p, x.umkm_id) else None,
                umkm_id=x.umkm_id,
                product_id=x.product_id,
            )
            for x in lines
        ]


@strawberry.input(description="A bulk purchase to split across UMKM.")
class PlanBulkOrderInput:
    category_id: strawberry.ID = strawberry.field(description="Category, e.g. uniform tailoring.")
    quantity: int = strawberry.field(description="Units, e.g. 5,000 uniform sets.")
    needed_by: dt.date = strawberry.field(description="Needed-by date (suppliers' lead times must fit).")
    delivery_address: str = strawberry.field(description="Where to deliver.")
    opd_id: strawberry.ID | None = strawberry.field(default=None, description="Your OPD (default: your own).")
    min_lot: int | None = strawberry.field(default=None, description="Smallest lot per supplier (default 20).")
    max_suppliers: int | None = strawberry.field(default=None, description="At most this many suppliers.")


@strawberry.type(description="Result of `planBulkOrder`.")
class BulkPlanPayload:
    plan: BulkPlan | None = strawberry.field(default=None, description="The stored plan.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What was wrong, if anything.")


@strawberry.input(description="Place a reviewed plan.")
class PlaceBulkOrderInput:
    plan_id: strawberry.ID = strawberry.field(description="The plan.")
    idempotency_key: str | None = strawberry.field(default=None, description="Same key: same orders.")


@strawberry.type
class BulkQuery:
    @strawberry.field(description="A bulk plan (its OPD's buyers and treasurers, admins, analysts).")
    async def bulk_plan(self, info: Info, id: strawberry.ID) -> BulkPlan | None:
        plan = await rules.get_plan(info.context, decode_id(id, "BulkPlan"))
        return BulkPlan.from_row(plan) if plan else None


@strawberry.type
class BulkMutation:
    @strawberry.mutation(
        description="Split a large purchase across eligible UMKM by water-filling (lowest levels first).",
        permission_classes=roles(R.OPD_BUYER),
        extensions=[UserErrors()],
    )
    async def plan_bulk_order(self, info: Info, input: PlanBulkOrderInput) -> BulkPlanPayload:
        plan = await rules.plan_bulk_order(
            info.context,
            rules.PlanRequest(
                category_id=decode_id(input.category_id, "Category", "categoryId"),
                opd_id=decode_id(input.opd_id, "Opd", "opdId") if input.opd_id else None,
                quantity=input.quantity,
                needed_by=input.needed_by,
                delivery_address=input.delivery_address,
                min_lot=input.min_lot,
                max_suppliers=input.max_suppliers,
            ),
        )
        return BulkPlanPayload(plan=BulkPlan.from_row(plan))

    @strawberry.mutation(
        description="Turn a plan into orders in one transaction (stock and capacity checked again).",
        permission_classes=roles(R.OPD_BUYER),
        extensions=[UserErrors()],
    )
    async def place_bulk_order(self, info: Info, input: PlaceBulkOrderInput) -> PlaceOrderPayload:
        placed = await rules.place_bulk_order(
            info.context, decode_id(input.plan_id, "BulkPlan", "planId"), input.idempotency_key
        )
        return PlaceOrderPayload(orders=await orders_by_ids([o.id for o in placed]))
