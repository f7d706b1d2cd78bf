"""GraphQL shape of orders: reading, placing, the lifecycle, and live events."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from models import orders as m
from models.base import Role as R
from models.query import fetched
from resolvers import accounts, events
from resolvers import orders as rules
from resolvers.common import SESSION_ENDED, Unauthenticated
from schema.catalog import Product
from schema.common import OrderEventKind, OrderKind, OrderSource, OrderStatus, jakarta
from schema.errors import UserError, UserErrors
from schema.permissions import USERS, roles
from schema.registry import Opd, Umkm
from schema.relay import Connection, Node, decode_id, paginate, to_global_id
from schema.scalars import Rupiah


@strawberry.type(description="One line of an order, as it was when ordered.")
class OrderItem:
    name: str = strawberry.field(description="Product name at ordering.")
    option: str | None = strawberry.field(description="Chosen option, e.g. a size.")
    unit: str = strawberry.field(description="Unit.")
    unit_price: Rupiah = strawberry.field(description="Unit price at ordering.")
    quantity: int = strawberry.field(description="Quantity.")
    subtotal: Rupiah = strawberry.field(description="unitPrice × quantity.")
    product: Product = strawberry.field(description="The product (as it is now).")

    @classmethod
    def from_row(cls, r: m.OrderItem) -> OrderItem:
        return cls(
            name=r.name,
            option=r.option,
            unit=r.unit,
            unit_price=r.unit_price,
            quantity=r.quantity,
            subtotal=r.subtotal,
            product=Product.from_row(fetched(r, "product")),
        )


@strawberry.type(description="One event of an order (a status change or a reminder): append-only, with actor and time.")
class OrderEvent:
    kind: OrderEventKind = strawberry.field(description="A status change, or a payment reminder.")
    from_status: OrderStatus | None = strawberry.field(description="Status before (null when placed).")
    to_status: OrderStatus = strawberry.field(description="Status after.")
    actor: strawberry.ID | None = strawberry.field(
        description="User who made the change; null when the platform acted (its note starts with `system:`)."
    )
    note: str = strawberry.field(description="Reason, receiver, payment reference…")
    at: dt.datetime = strawberry.field(description="When (Asia/Jakarta).")


@strawberry.type(description="The payment of an order.")
class Payment:
    amount: Rupiah = strawberry.field(description="Amount paid (the order total).")
    reference: str = strawberry.field(description="Transfer or SP2D reference.")
    paid_on: dt.date = strawberry.field(description="Payment date.")
    recorded_at: dt.datetime = strawberry.field(description="When it was recorded (Asia/Jakarta).")


@strawberry.type(description="The buyer's rating of a delivered order.")
class Rating:
    score: int = strawberry.field(description="1 to 5.")
    comment: str = strawberry.field(description="Comment.")
    at: dt.datetime = strawberry.field(description="When (Asia/Jakarta).")


@strawberry.type(description="A purchase from one UMKM by one OPD (or one employee, personally).")
class Order(Node):
    number: str = strawberry.field(description="Human number, e.g. PO-2026-000123.")
    kind: OrderKind = strawberry.field(description="OPD or PERSONAL.")
    status: OrderStatus = strawberry.field(description="Current status.")
    total: Rupiah = strawberry.field(description="Sum of the items.")
    needed_by: dt.date = strawberry.field(description="Date the buyer needs the goods.")
    delivery_address: str = strawberry.field(description="Where to deliver.")
    note: str = strawberry.field(description="Buyer's note.")
    source: OrderSource = strawberry.field(description="How the buyer found the seller.")
    source_rank: int | None = strawberry.field(description="Rank on the under-sold list when ordered from it.")
    created_at: dt.datetime = strawberry.field(description="Placed at (Asia/Jakarta).")
    accepted_at: dt.datetime | None = strawberry.field(description="Accepted at.")
    shipped_at: dt.datetime | None = strawberry.field(description="Shipped at.")
    delivered_at: dt.datetime | None = strawberry.field(description="Delivered (BAST) at; from here it is a sale.")
    received_by: str | None = strawberry.field(description="Who signed for the goods.")
    paid_at: dt.datetime | None = strawberry.field(description="Paid at.")
    closed_reason: str = strawberry.field(description="Why it was rejected or cancelled.")
    days_to_pay: int | None = strawberry.field(description="Days from delivery to payment (Asia/Jakarta dates).")
    umkm: Umkm = strawberry.field(description="The seller.")
    opd: Opd = strawberry.field(description="The OPD (the employee's OPD for a personal order).")
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, r: m.Order) -> Order:
        return cls(
            id=to_global_id("Order", r.id),
            number=r.number or "",
            kind=r.kind,
            status=r.status,
            total=r.total,
            needed_by=r.needed_by,
            delivery_address=r.delivery_address,
            note=r.note,
            source=r.source,
            source_rank=r.source_rank,
            created_at=jakarta(r.created_at),
            accepted_at=jakarta(r.accepted_at),
            shipped_at=jakarta(r.shipped_at),
            delivered_at=jakarta(r.delivered_at),
            received_by=r.received_by,
            paid_at=jakarta(r.paid_at),
            closed_reason=r.closed_reason,
            days_to_pay=rules.days_to_pay(r),
            umkm=Umkm.from_row(fetched(r, "umkm")),
            opd=Opd.from_row(fetched(r, "opd")),
            pk=r.id,
        )

    @strawberry.field(description="The lines.")
    async def items(self, info: Info) -> list[OrderItem]:
        rows = await info.context.loaders.batch("order_items", _item_rows).load(self.pk)
        return [OrderItem.from_row(r) for r in rows]

    @strawberry.field(description="Every status change, oldest first.")
    async def events(self, info: Info) -> list[OrderEvent]:
        rows = await info.context.loaders.many(m.OrderEvent, "order_id").load(self.pk)
        return [
            OrderEvent(
                kind=r.kind,
                from_status=r.from_status,
                to_status=r.to_status,
                note=r.note,
                at=jakarta(r.created_at),
                actor=to_global_id("User", r.actor_id) if r.actor_id else None,
            )
            for r in rows
        ]

    @strawberry.field(description="The payment, once recorded.")
    async def payment(self, info: Info) -> Payment | None:
        rows = await info.context.loaders.many(m.Payment, "order_id").load(self.pk)
        if not rows:
            return None
        r = rows[0]
        return Payment(amount=r.amount, reference=r.reference, paid_on=r.paid_on, recorded_at=jakarta(r.created_at))

    @strawberry.field(description="The buyer's rating, once given.")
    async def rating(self, info: Info) -> Rating | None:
        rows = await info.context.loaders.many(m.Rating, "order_id").load(self.pk)
        return Rating(score=rows[0].score, comment=rows[0].comment, at=jakarta(rows[0].created_at)) if rows else None


async def _item_rows(order_ids: list[int]) -> list[list]:
    return await rules.item_rows_for(order_ids)


async def orders_by_ids(ids: list[int]) -> list[Order]:
    return [Order.from_row(r) for r in await rules.with_relations(ids)]


@strawberry.input(description="Filters for `orders`; they combine with AND.")
class OrderFilter:
    status: OrderStatus | None = strawberry.field(default=None, description="Status.")
    kind: OrderKind | None = strawberry.field(default=None, description="OPD or PERSONAL.")
    opd_id: strawberry.ID | None = strawberry.field(default=None, description="Ordering OPD.")
    umkm_id: strawberry.ID | None = strawberry.field(default=None, description="Seller.")
    created_from: dt.date | None = strawberry.field(default=None, description="Placed on or after (Asia/Jakarta).")
    created_to: dt.date | None = strawberry.field(default=None, description="Placed on or before (Asia/Jakarta).")


@strawberry.type(description="A status change as it happens.")
class OrderEventNotice:
    order_id: strawberry.ID = strawberry.field(description="The order.")
    number: str = strawberry.field(description="Its number.")
    from_status: OrderStatus | None = strawberry.field(description="Status before.")
    to_status: OrderStatus = strawberry.field(description="Status after.")
    at: dt.datetime = strawberry.field(description="When.")
    umkm_id: strawberry.ID = strawberry.field(description="The seller.")
    opd_id: strawberry.ID = strawberry.field(description="The OPD.")


@strawberry.type
class OrdersQuery:
    @strawberry.field(
        description="Orders the caller may see: own OPD's, own, own UMKM's, or all (admin, analyst).",
        permission_classes=USERS,
    )
    async def orders(
        self, info: Info, filter: OrderFilter | None = None, first: int | None = 20, after: str | None = None
    ) -> Connection[Order]:
        f = filter or OrderFilter()
        qs = rules.order_query(
            info.context,
            rules.OrderFilter(
                status=f.status,
                kind=f.kind,
                opd_id=decode_id(f.opd_id, "Opd", "opdId") if f.opd_id else None,
                umkm_id=decode_id(f.umkm_id, "Umkm", "umkmId") if f.umkm_id else None,
                created_from=f.created_from,
                created_to=f.created_to,
            ),
        )
        return await paginate(
            qs.select_related("umkm", "opd"), [("id", True)], first, after, Order.from_row, count_qs=qs
        )

    @strawberry.field(description="One order, if the caller may see it.")
    async def order(self, info: Info, id: strawberry.ID) -> Order | None:
        row = await rules.read_order(info.context, decode_id(id, "Order"))
        return Order.from_row(row) if row is not None else None


@strawberry.input(description="One basket line.")
class OrderLineInput:
    product_id: strawberry.ID = strawberry.field(description="The product.")
    quantity: int = strawberry.field(description="How many units (at least the product's minimum).")
    option: str | None = strawberry.field(default=None, description="One of the product's options, if it has any.")


@strawberry.input(description="A basket; lines from several UMKM become several orders, all or none.")
class PlaceOrderInput:
    items: list[OrderLineInput] = strawberry.field(description="Lines, at most 100.")
    needed_by: dt.date = strawberry.field(description="Date the goods are needed (not in the past, after lead times).")
    delivery_address: str = strawberry.field(description="Where to deliver.")
    opd_id: strawberry.ID | None = strawberry.field(default=None, description="Your OPD (default: your own).")
    note: str | None = strawberry.field(default=None, description="Note to the sellers.")
    idempotency_key: str | None = strawberry.field(default=None, description="Same key, same basket: same orders.")
    source: OrderSource = strawberry.field(default=m.OrderSource.SEARCH, description="How you found the sellers.")


@strawberry.type(description="Result of `placeOrder`.")
class PlaceOrderPayload:
    orders: list[Order] | None = strawberry.field(default=None, description="One order per UMKM.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What was wrong, if anything.")


@strawberry.input(description="An order to act on.")
class OrderIdInput:
    id: strawberry.ID = strawberry.field(description="The order.")


@strawberry.input(description="An order and why.")
class OrderReasonInput:
    id: strawberry.ID = strawberry.field(description="The order.")
    reason: str = strawberry.field(description="Why.")


@strawberry.input(description="The BAST: who received the goods.")
class ConfirmDeliveryInput:
    id: strawberry.ID = strawberry.field(description="The order.")
    received_by: str = strawberry.field(description="Name of the person who received the goods.")


@strawberry.input(description="Payment of a delivered order.")
class RecordPaymentInput:
    id: strawberry.ID = strawberry.field(description="The order.")
    amount: Rupiah = strawberry.field(description="Exactly the order total.")
    reference: str = strawberry.field(description="Transfer or SP2D reference.")
    paid_on: dt.date | None = strawberry.field(default=None, description="Payment date (default today); not future.")


@strawberry.input(description="A rating of a delivered order.")
class RateOrderInput:
    id: strawberry.ID = strawberry.field(description="The order.")
    score: int = strawberry.field(description="1 to 5.")
    comment: str | None = strawberry.field(default=None, description="Comment.")


@strawberry.type(description="Result of a change to one order.")
class OrderPayload:
    order: Order | None = strawberry.field(default=None, description="The order after the change.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What was wrong, if anything.")


SELLER = roles(R.UMKM_OWNER)
BUYER = roles(R.OPD_BUYER, R.EMPLOYEE)


async def _payload(order: m.Order) -> OrderPayload:
    return OrderPayload(order=(await orders_by_ids([order.id]))[0])


@strawberry.type
class OrdersMutation:
    @strawberry.mutation(description="Order a basket.", permission_classes=BUYER, extensions=[UserErrors()])
    async def place_order(self, info: Info, input: PlaceOrderInput) -> PlaceOrderPayload:
        req = rules.PlaceOrder(
            opd_id=decode_id(input.opd_id, "Opd", "opdId") if input.opd_id else None,
            items=[
                rules.BasketItem(decode_id(i.product_id, "Product", f"items.{n}.productId"), i.quantity, i.option)
                for n, i in enumerate(input.items)
            ],
            needed_by=input.needed_by,
            delivery_address=input.delivery_address,
            note=input.note,
            idempotency_key=input.idempotency_key,
            source=m.OrderSource(input.source.value),
        )
        placed = await rules.place_order(info.context, req)
        return PlaceOrderPayload(orders=await orders_by_ids([o.id for o in placed]))

    @strawberry.mutation(
        description="Seller accepts a SUBMITTED order.", permission_classes=SELLER, extensions=[UserErrors()]
    )
    async def accept_order(self, info: Info, input: OrderIdInput) -> OrderPayload:
        return await _payload(await rules.accept_order(info.context, decode_id(input.id, "Order")))

    @strawberry.mutation(
        description="Seller rejects a SUBMITTED order.", permission_classes=SELLER, extensions=[UserErrors()]
    )
    async def reject_order(self, info: Info, input: OrderReasonInput) -> OrderPayload:
        return await _payload(await rules.reject_order(info.context, decode_id(input.id, "Order"), input.reason))

    @strawberry.mutation(
        description="Seller ships an ACCEPTED order.", permission_classes=SELLER, extensions=[UserErrors()]
    )
    async def ship_order(self, info: Info, input: OrderIdInput) -> OrderPayload:
        return await _payload(await rules.ship_order(info.context, decode_id(input.id, "Order")))

    @strawberry.mutation(
        description="Buyer confirms delivery (BAST).", permission_classes=BUYER, extensions=[UserErrors()]
    )
    async def confirm_delivery(self, info: Info, input: ConfirmDeliveryInput) -> OrderPayload:
        order = await rules.confirm_delivery(info.context, decode_id(input.id, "Order"), input.received_by)
        return await _payload(order)

    @strawberry.mutation(
        description="Treasurer (or the employee, for a personal order) records payment of a DELIVERED order.",
        permission_classes=roles(R.OPD_TREASURER, R.EMPLOYEE),
        extensions=[UserErrors()],
    )
    async def record_payment(self, info: Info, input: RecordPaymentInput) -> OrderPayload:
        order = await rules.record_payment(
            info.context, decode_id(input.id, "Order"), input.amount, input.reference, input.paid_on
        )
        return await _payload(order)

    @strawberry.mutation(
        description="Buyer cancels a SUBMITTED order; an admin cancels up to SHIPPED.",
        permission_classes=roles(R.OPD_BUYER, R.EMPLOYEE, R.ADMIN),
        extensions=[UserErrors()],
    )
    async def cancel_order(self, info: Info, input: OrderReasonInput) -> OrderPayload:
        return await _payload(await rules.cancel_order(info.context, decode_id(input.id, "Order"), input.reason))

    @strawberry.mutation(
        description="Buyer rates a delivered order.", permission_classes=BUYER, extensions=[UserErrors()]
    )
    async def rate_order(self, info: Info, input: RateOrderInput) -> OrderPayload:
        await rules.rate_order(info.context, decode_id(input.id, "Order"), input.score, input.comment)
        return await _payload(await m.Order.get(id=decode_id(input.id, "Order")))


@strawberry.type
class OrdersSubscription:
    @strawberry.subscription(
        description="Status changes of the orders the caller may see, as they happen.",
        # checked when the subscription starts, so the refusal carries its code (UNAUTHENTICATED / FORBIDDEN)
        permission_classes=USERS,
    )
    async def order_events(
        self, info: Info, umkm_id: strawberry.ID | None = None, opd_id: strawberry.ID | None = None
    ) -> AsyncGenerator[OrderEventNotice, None]:
        ctx = info.context
        p = ctx.principal
        want_umkm = decode_id(umkm_id, "Umkm", "umkmId") if umkm_id else None
        want_opd = decode_id(opd_id, "Opd", "opdId") if opd_id else None
        every = ctx.settings.session_check_seconds
        checked = time.monotonic()
        async for msg in events.get_bus(ctx.settings.database_url).subscribe(idle=every):
            if time.monotonic() - checked >= every:  # the session may have ended (logout, revocation, expiry)
                if not await accounts.session_holds(ctx):
                    raise Unauthenticated(SESSION_ENDED)
                checked = time.monotonic()
            if msg is None or not rules.may_hear(p, msg):
                continue
            if (want_umkm is not None and msg.umkm_id != want_umkm) or (
                want_opd is not None and msg.opd_id != want_opd
            ):
                continue
            yield OrderEventNotice(
                order_id=to_global_id("Order", msg.order_id),
                number=msg.number,
                from_status=m.OrderStatus(msg.from_status) if msg.from_status else None,
                to_status=m.OrderStatus(msg.to_status),
                at=jakarta(dt.datetime.fromisoformat(msg.at)),
                umkm_id=to_global_id("Umkm", msg.umkm_id),
                opd_id=to_global_id("Opd", msg.opd_id),
            )
