"""Orders from basket to payment: one transaction per change, conditional updates so racing clients cannot both win."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.functions import Avg
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.base import JAKARTA, Role, UmkmStatus
from models.catalog import Product
from models.fairness import BulkPlan
from models.orders import (
    ITEM_READ,
    OPEN_STATUSES,
    ORDER_READ,
    CapacityUse,
    Order,
    OrderEvent,
    OrderItem,
    OrderKind,
    OrderSource,
    OrderStatus,
    Payment,
    Placement,
    Rating,
)
from models.query import joined_rows
from models.registry import Opd
from resolvers import events, exposure, fairness_snapshot, fairness_stats, outbox, sales
from resolvers.common import AccessError, Ctx, DomainError, Principal, Validator
from resolvers.invalidation import invalidate

MAX_ITEMS = 100
MAX_QUANTITY = 1_000_000


def today(ctx: Ctx) -> dt.date:
    return ctx.clock.now().astimezone(JAKARTA).date()


# ---------------------------------------------------------------- visibility


def visible_order_q(p: Principal) -> Q:
    """Who sees which orders (docs/API.md): OPD buyer/treasurer their OPD's, employees their own, owners their UMKM's,
    admins all, analysts every OPD order. A personal order is seen one by one by its employee, its seller and admins
    only (docs/PRIVACY.md)."""
    if p.is_admin:
        return Q()
    if p.role is Role.ANALYST:
        return Q(kind=OrderKind.OPD)
    if p.role in (Role.OPD_BUYER, Role.OPD_TREASURER):
        return Q(opd_id=p.opd_id, kind=OrderKind.OPD)
    if p.role is Role.EMPLOYEE:
        return Q(buyer_id=p.user_id)
    if p.role is Role.UMKM_OWNER:
        return Q(umkm_id__in=list(p.umkm_ids) or [-1])
    raise AccessError("Orders are visible to their buyers, sellers, admins and analysts only.")


@dataclass
class OrderFilter:
    status: OrderStatus | None = None
    kind: OrderKind | None = None
    opd_id: int | None = None
    umkm_id: int | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None


def _jakarta_midnight_utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), JAKARTA).astimezone(dt.UTC)


def order_query(ctx: Ctx, f: OrderFilter) -> QuerySet[Order]:
    qs = Order.filter(visible_order_q(ctx.principal))
    if f.status is not None:
        qs = qs.filter(status=f.status)
    if f.kind is not None:
        qs = qs.filter(kind=f.kind)
    if f.opd_id is not None:
        qs = qs.filter(opd_id=f.opd_id)
    if f.umkm_id is not None:
        qs = qs.filter(umkm_id=f.umkm_id)
    if f.created_from is not None:
        qs = qs.filter(created_at__gte=_jakarta_midnight_utc(f.created_from))
    if f.created_to is not None:
        qs = qs.filter(created_at__lt=_jakarta_midnight_utc(f.created_to + dt.timedelta(days=1)))
    return qs


def _visible(ctx: Ctx) -> Q | None:
    if ctx.principal.is_anonymous or ctx.principal.is_partner:
        return None
    try:
        return visible_order_q(ctx.principal)
    except AccessError:
        return None


async def get_order(ctx: Ctx, order_id: int) -> Order | None:
    q = _visible(ctx)
    return None if q is None else await Order.filter(q, id=order_id).first()


async def read_order(ctx: Ctx, order_id: int) -> Any | None:
    """The order if the caller may see it, as a light row with its UMKM and OPD joined in (`models.orders.ORDER_READ`):
    one statement for the check and the read."""
    qs = order_read_query(ctx, order_id)
    if qs is None:
        return None
    rows = await joined_rows(qs, ORDER_READ)
    return rows[0] if rows else None


def order_read_query(ctx: Ctx, order_id: int) -> QuerySet[Order] | None:
    """The query of `read_order` (read with `ORDER_READ`), None when the caller sees no order at all."""
    q = _visible(ctx)
    return None if q is None else Order.filter(q, id=order_id).limit(1)


# ---------------------------------------------------------------- placing


@dataclass
class BasketItem:
    product_id: int
    quantity: int
    option: str | None = None


@dataclass
class PlaceOrder:
    opd_id: int | None
    items: list[BasketItem]
    needed_by: dt.date
    delivery_address: str
    note: str | None = None
    idempotency_key: str | None = None
    source: OrderSource = OrderSource.SEARCH
    bulk_plan_id: int | None = None  # set by placeBulkOrder: the plan is marked placed in the same transaction


def _basket_hash(req: PlaceOrder, opd_id: int) -> str:
    body = {
        "opd": opd_id,
        "items": sorted([i.product_id, i.quantity, i.option or ""] for i in req.items),
        "neededBy": req.needed_by.isoformat(),
        "address": req.delivery_address.strip(),
        "note": (req.note or "").strip(),
        "source": req.source.value,
        "plan": req.bulk_plan_id,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _buyer_opd(ctx: Ctx, requested: int | None) -> tuple[int, OrderKind]:
    p = ctx.principal  # an OPD buyer (for their OPD) or an employee (personally): the field's roles
    kind = OrderKind.OPD if p.role is Role.OPD_BUYER else OrderKind.PERSONAL
    if requested is not None and requested != p.opd_id:
        raise DomainError("NOT_YOUR_OPD", "You can order only for your own OPD.", "opdId")
    assert p.opd_id is not None
    return p.opd_id, kind


async def _replay(placement: Placement, basket_hash: str) -> list[Order]:
    if placement.basket_hash != basket_hash:
        raise DomainError(
            "IDEMPOTENCY_KEY_REUSED", "This idempotency key was used for a different basket.", "idempotencyKey"
        )
    return await Order.filter(placement_id=placement.id).order_by("id")


async def _reserve(product: Product, quantity: int, period: str, field: str, now: dt.datetime) -> bool:
    """Stock: a conditional decrement. Made to order: the month's capacity, a conditional increment. Either way the
    units are held by the open order (`held`, `held_at`: a rival's recent reservation does not take the seller off
    the under-sold list). True when the stock ran out."""
    if not product.made_to_order:
        moved = await Product.filter(id=product.id, stock__gte=quantity).update(
            stock=F("stock") - quantity, held=F("held") + quantity, held_at=now
        )
        if not moved:
            raise DomainError("INSUFFICIENT_STOCK", "Not enough stock of {product}.", field, product=product.name)
        return await Product.exists(id=product.id, stock__lte=0)  # the row is ours until commit: a stable read
    cap = product.monthly_capacity or 0
    await CapacityUse.bulk_create([CapacityUse(product_id=product.id, period=period, used=0)], ignore_conflicts=True)
    moved = await CapacityUse.filter(product_id=product.id, period=period, used__lte=cap - quantity).update(
        used=F("used") + quantity, held=F("held") + quantity, held_at=now
    )
    if not moved:
        raise DomainError(
            "CAPACITY_EXCEEDED",
            "{product} has not enough capacity left in {period}.",
            field,
            product=product.name,
            period=period,
        )
    return False


async def _released(order: Order, _now: dt.datetime) -> None:
    """After a reject or cancel: what the order reserved goes back (`_transition`'s `after`)."""
    await _release(order)


async def _unhold(order: Order) -> None:
    """The order is no longer open (shipped, or closed before): its units stop counting as the seller's stock or
    capacity left."""
    if order.status not in (OrderStatus.SUBMITTED, OrderStatus.ACCEPTED):
        return
    for product_id, period, quantity in (
        await OrderItem.filter(order_id=order.id)
        .order_by("product_id", "id")
        .values_list("product_id", "capacity_period", "quantity")
    ):
        if period is None:
            await Product.filter(id=product_id).update(held=F("held") - quantity)
        else:
            await CapacityUse.filter(product_id=product_id, period=period).update(held=F("held") - quantity)


async def _release(order: Order) -> None:
    """Give back what an order reserved (reject, cancel), products in id order like `place_order`, and take back its
    provisional count on the under-sold lists (they are rebuilt)."""
    restocked = set()
    await _unhold(order)
    if order.status in OPEN_STATUSES:
        amounts = await fairness_stats.order_amounts_by_category(order.id)
        await fairness_stats.record_open(order.umkm_id, amounts, order.created_at, -1, order.id)
        restocked |= set(amounts)
    items = await OrderItem.filter(order_id=order.id).select_related("product").order_by("product_id", "id")
    for item in items:
        if item.capacity_period:
            await CapacityUse.filter(product_id=item.product_id, period=item.capacity_period).update(
                used=F("used") - item.quantity
            )
        else:
            await Product.filter(id=item.product_id).update(stock=F("stock") + item.quantity)
            if await Product.exists(id=item.product_id, stock__lte=item.quantity):  # it was out of stock
                restocked.add(item.product.category_id)
    if restocked:
        await invalidate(restocked)  # back in stock: eligible again


def _validate_place(ctx: Ctx, req: PlaceOrder) -> None:
    v = Validator()
    if not req.items:
        v.add("items", "REQUIRED", "The basket is empty.")
    if len(req.items) > MAX_ITEMS:
        v.add("items", "TOO_MANY", "At most {maximum} lines per order.", maximum=MAX_ITEMS)
    for i, item in enumerate(req.items):
        v.integer(f"items.{i}.quantity", item.quantity, minimum=1, maximum=MAX_QUANTITY)
    if req.needed_by < today(ctx):
        v.add("neededBy", "IN_THE_PAST", "The needed-by date is in the past.")
    v.text("deliveryAddress", req.delivery_address, max_length=300)
    v.text("note", req.note, max_length=2000, required=False)
    if req.idempotency_key is not None and not 1 <= len(req.idempotency_key) <= 100:
        v.add("idempotencyKey", "INVALID", "The idempotency key must be 1 to 100 characters.")
    v.raise_if_any()


async def place_order(ctx: Ctx, req: PlaceOrder) -> list[Order]:
    """One order per UMKM in the basket, all in one transaction: all are placed, or none and nothing reserved."""
    p = ctx.principal
    opd_id, kind = _buyer_opd(ctx, req.opd_id)
    _validate_place(ctx, req)
    basket_hash = _basket_hash(req, opd_id)
    if req.idempotency_key:
        existing = await Placement.get_or_none(buyer_id=p.user_id, idempotency_key=req.idempotency_key)
        if existing is not None:
            return await _replay(existing, basket_hash)
    try:
        orders, msgs = await _place(ctx, req, opd_id, kind, basket_hash)
    except IntegrityError:
        # Two identical requests raced: the other one stored the key first; answer as its replay.
        existing = await Placement.get_or_none(buyer_id=p.user_id, idempotency_key=req.idempotency_key or "")
        if existing is None:
            raise
        return await _replay(existing, basket_hash)
    await events.publish(msgs, ctx.settings.database_url)
    return orders


async def _place(
    ctx: Ctx, req: PlaceOrder, opd_id: int, kind: OrderKind, basket_hash: str
) -> tuple[list[Order], list[events.OrderEventMessage]]:
    p = ctx.principal
    day = today(ctx)
    async with in_transaction():
        opd = await Opd.get_or_none(id=opd_id)
        if opd is None or not opd.active:
            raise DomainError("OPD_INACTIVE", "Your OPD cannot order now.", "opdId")
        placement = None
        if req.idempotency_key:
            placement = await Placement.create(
                buyer_id=p.user_id, idempotency_key=req.idempotency_key, basket_hash=basket_hash
            )
        ids = {i.product_id for i in req.items}
        products = {pr.id: pr for pr in await Product.filter(id__in=list(ids)).select_related("umkm")}
        groups: dict[int, list[tuple[int, BasketItem, Product]]] = {}
        for n, item in enumerate(req.items):
            pr = products.get(item.product_id)
            field = f"items.{n}"
            if pr is None or not pr.active:
                raise DomainError("PRODUCT_UNAVAILABLE", "This product is not for sale.", f"{field}.productId")
            if pr.umkm.status is not UmkmStatus.VERIFIED:
                code = "SELLER_SUSPENDED" if pr.umkm.status is UmkmStatus.SUSPENDED else "SELLER_UNAVAILABLE"
                raise DomainError(code, "{umkm} cannot take new orders.", f"{field}.productId", umkm=pr.umkm.name)
            if pr.options and item.option is None and req.source is OrderSource.BULK_PLAN:
                pass  # a bulk lot's sizes are agreed with the seller after the split
            elif pr.options and item.option not in pr.options:
                raise DomainError(
                    "INVALID_OPTION", "Choose one of: {options}.", f"{field}.option", options=", ".join(pr.options)
                )
            if not pr.options and item.option:
                raise DomainError("INVALID_OPTION", "{product} has no options.", f"{field}.option", product=pr.name)
            if item.quantity < pr.min_order_quantity:
                raise DomainError(
                    "BELOW_MINIMUM",
                    "{product} is sold from {minimum} {unit}.",
                    f"{field}.quantity",
                    product=pr.name,
                    minimum=pr.min_order_quantity,
                    unit=pr.unit,
                )
            limit = ctx.settings.bulk_threshold
            if limit and req.source is not OrderSource.BULK_PLAN and pr.price * item.quantity > limit:
                raise DomainError(
                    "USE_BULK_PLAN",
                    "Rp{amount} is above the city's bulk threshold of Rp{limit}: plan this purchase with "
                    "planBulkOrder, which splits it across the under-sold list.",
                    f"{field}.quantity",
                    amount=pr.price * item.quantity,
                    limit=limit,
                )
            if req.needed_by < day + dt.timedelta(days=pr.lead_time_days):
                raise DomainError(
                    "TOO_SOON",
                    "{product} needs {days} days; choose a later date.",
                    "neededBy",
                    product=pr.name,
                    days=pr.lead_time_days,
                )
            groups.setdefault(pr.umkm_id, []).append((n, item, pr))
        period = req.needed_by.strftime("%Y-%m")
        # list credit from the server's exposure log, whatever the order's `source` says
        shown = await exposure.shown(day, p.user_id, sorted(ids))
        # Stock and capacity first, in product id order for the whole basket: two baskets holding the same products
        # take their rows in the same order (no deadlock); then the categories whose stock ran out, once.
        emptied = set()
        for n, item, pr in sorted((line for lines in groups.values() for line in lines), key=lambda t: (t[2].id, t[0])):
            if await _reserve(pr, item.quantity, period, f"items.{n}.quantity", ctx.clock.now()):
                emptied.add(pr.category_id)
        if emptied:
            await invalidate(emptied)
        orders, msgs = [], []
        for umkm_id, lines in groups.items():
            total = sum(pr.price * item.quantity for _, item, pr in lines)
            order = await Order.create(
                created_at=ctx.clock.now(),  # the server's clock: the moment the order counts from, provisionally
                kind=kind,
                opd_id=opd_id,
                buyer_id=p.user_id,
                umkm_id=umkm_id,
                placement=placement,
                total=total,
                needed_by=req.needed_by,
                delivery_address=req.delivery_address.strip(),
                note=(req.note or "").strip(),
                source=req.source,
            )
            order.number = f"PO-{day.year}-{order.id:06d}"
            fields = ["number"]
            if umkm_id in shown and await exposure.claim(shown[umkm_id][0], order.id):
                order.source_rank = shown[umkm_id][1]
                fields.append("source_rank")
            await order.save(update_fields=fields)
            await OrderItem.bulk_create(
                [
                    OrderItem(
                        order_id=order.id,
                        product_id=pr.id,
                        category_id=pr.category_id,
                        option=item.option,
                        name=pr.name,
                        unit=pr.unit,
                        unit_price=pr.price,
                        quantity=item.quantity,
                        subtotal=pr.price * item.quantity,
                        capacity_period=period if pr.made_to_order else None,
                    )
                    for _, item, pr in lines
                ]
            )
            # open, the order counts provisionally: the seller's row moves on today's lists now, not at delivery
            amounts: dict[int, int] = {}
            for _, item, pr in lines:
                amounts[pr.category_id] = amounts.get(pr.category_id, 0) + pr.price * item.quantity
            await fairness_stats.record_open(umkm_id, amounts, order.created_at, 1)
            await fairness_snapshot.order_placed(umkm_id, amounts, order.created_at)
            event = await OrderEvent.create(
                order_id=order.id, from_status=None, to_status=OrderStatus.SUBMITTED, actor_id=p.user_id
            )
            orders.append(order)
            msgs.append(await outbox.record_order_event(ctx, order, event))
        if req.bulk_plan_id is not None:
            moved = await BulkPlan.filter(id=req.bulk_plan_id, placed_at=None).update(
                placed_at=ctx.clock.now(), placement_id=placement.id if placement else None
            )
            if not moved:
                raise DomainError("PLAN_ALREADY_PLACED", "This plan was placed already.", "planId")
    return orders, msgs


# ---------------------------------------------------------------- lifecycle

Check = Callable[[Principal, Order], None]
After = Callable[[Order, dt.datetime], Awaitable[None]]


def _owner(p: Principal, o: Order) -> None:
    if not p.owns_umkm(o.umkm_id):
        raise DomainError("NOT_YOUR_ORDER", "Only the seller can do this.", "id")


def _buyer(p: Principal, o: Order) -> None:
    if o.kind is OrderKind.PERSONAL:
        if p.user_id != o.buyer_id:
            raise DomainError("NOT_YOUR_ORDER", "Only the employee who ordered can do this.", "id")
    elif not (p.role is Role.OPD_BUYER and p.opd_id == o.opd_id):
        raise DomainError("NOT_YOUR_ORDER", "Only a buyer of the ordering OPD can do this.", "id")


def _payer(p: Principal, o: Order) -> None:
    if o.kind is OrderKind.PERSONAL:
        if p.user_id != o.buyer_id:
            raise DomainError("NOT_YOUR_ORDER", "Only the employee who ordered pays a personal order.", "id")
    elif not (p.role is Role.OPD_TREASURER and p.opd_id == o.opd_id):
        raise DomainError("NOT_YOUR_ORDER", "Only the treasurer of the ordering OPD records payment.", "id")


async def _transition(
    ctx: Ctx,
    order_id: int,
    allowed: tuple[OrderStatus, ...],
    to: OrderStatus,
    check: Check,
    *,
    note: str = "",
    changes: dict[str, Any] | None = None,
    before: Callable[[Order], Awaitable[None]] | None = None,
    after: After | None = None,
) -> Order:
    p = ctx.principal
    now = ctx.clock.now()
    async with in_transaction():
        order = await get_order(ctx, order_id)
        if order is None:
            raise DomainError("NOT_FOUND", "No such order.", "id")
        check(p, order)
        if order.status not in allowed:
            raise DomainError(
                "INVALID_TRANSITION",
                "The order is {status}; this needs {allowed}.",
                "id",
                status=order.status.value,
                allowed=" or ".join(s.value for s in allowed),
            )
        if before is not None:
            await before(order)
        # Conditional on the status we read: of two racing clients, exactly one moves the order.
        moved = await Order.filter(id=order_id, status=order.status).update(status=to, **(changes or {}))
        if not moved:
            current = await Order.get(id=order_id)
            raise DomainError("INVALID_TRANSITION", "The order is {status} now.", "id", status=current.status.value)
        event = await OrderEvent.create(
            order_id=order_id, from_status=order.status, to_status=to, actor_id=p.user_id, note=note
        )
        if after is not None:
            await after(order, now)
        msg = await outbox.record_order_event(ctx, order, event, note)
    order = await Order.get(id=order_id)
    await events.publish([msg], ctx.settings.database_url)
    return order


async def accept_order(ctx: Ctx, order_id: int) -> Order:
    now = ctx.clock.now()
    return await _transition(
        ctx, order_id, (OrderStatus.SUBMITTED,), OrderStatus.ACCEPTED, _owner, changes={"accepted_at": now}
    )


async def reject_order(ctx: Ctx, order_id: int, reason: str) -> Order:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("REQUIRED", "Say why you reject the order.", "reason")

    return await _transition(
        ctx,
        order_id,
        (OrderStatus.SUBMITTED,),
        OrderStatus.REJECTED,
        _owner,
        note=reason,
        changes={"closed_reason": reason},
        after=_released,
    )


async def ship_order(ctx: Ctx, order_id: int) -> Order:
    return await _transition(
        ctx,
        order_id,
        (OrderStatus.ACCEPTED,),
        OrderStatus.SHIPPED,
        _owner,
        changes={"shipped_at": ctx.clock.now()},
        before=_unhold,
    )


async def confirm_delivery(ctx: Ctx, order_id: int, received_by: str) -> Order:
    """The BAST: the buyer confirms receipt; from now the order counts as a sale."""
    received_by = (received_by or "").strip()
    if not received_by:
        raise DomainError("REQUIRED", "Name who received the goods.", "receivedBy")
    if len(received_by) > 200:
        raise DomainError("TOO_LONG", "The name of who received it must be at most 200 characters.", "receivedBy")
    now = ctx.clock.now()
    return await _transition(
        ctx,
        order_id,
        (OrderStatus.SHIPPED,),
        OrderStatus.DELIVERED,
        _buyer,
        changes={"delivered_at": now, "received_by": received_by},
        note=f"received by {received_by}",
        after=lambda order, at: sales.sale_counted(order, now, was_open=True),
    )


async def record_payment(ctx: Ctx, order_id: int, amount: int, reference: str, paid_on: dt.date | None) -> Order:
    """Payment only after delivery (UU 1/2004 art. 21), for exactly the order total."""
    reference = (reference or "").strip()
    paid_on = paid_on or today(ctx)
    v = Validator()
    v.text("reference", reference, max_length=100)
    if paid_on > today(ctx):
        v.add("paidOn", "IN_THE_FUTURE", "The payment date is in the future.")
    v.raise_if_any()

    async def check_amount(order: Order) -> None:
        if amount != order.total:
            raise DomainError("WRONG_AMOUNT", "Pay exactly the order total, Rp{total}.", "amount", total=order.total)
        if order.delivered_at is not None and paid_on < order.delivered_at.astimezone(JAKARTA).date():
            raise DomainError("BEFORE_DELIVERY", "The payment date is before the delivery.", "paidOn")

    async def store(order: Order, now: dt.datetime) -> None:
        await Payment.create(
            order_id=order.id, amount=amount, reference=reference, paid_on=paid_on, recorded_by_id=ctx.principal.user_id
        )

    paid_at = dt.datetime.combine(paid_on, dt.time(12), JAKARTA).astimezone(dt.UTC)
    if paid_on == today(ctx):
        paid_at = ctx.clock.now()
    return await _transition(
        ctx,
        order_id,
        (OrderStatus.DELIVERED,),
        OrderStatus.PAID,
        _payer,
        note=f"ref {reference}",
        changes={"paid_at": paid_at},
        before=check_amount,
        after=store,
    )


async def cancel_order(ctx: Ctx, order_id: int, reason: str) -> Order:
    """The buyer cancels a SUBMITTED order; an admin may cancel up to SHIPPED (e.g. a suspended seller's)."""
    p = ctx.principal
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("REQUIRED", "Say why you cancel the order.", "reason")
    if p.is_admin:
        allowed: tuple[OrderStatus, ...] = (OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.SHIPPED)
        check: Check = lambda _p, _o: None  # noqa: E731
    else:
        allowed, check = (OrderStatus.SUBMITTED,), _buyer

    return await _transition(
        ctx,
        order_id,
        allowed,
        OrderStatus.CANCELLED,
        check,
        note=reason,
        changes={"closed_reason": reason},
        after=_released,
    )


async def cancel_unaccepted(ctx: Ctx, order_id: int, reason: str) -> Order:
    """The platform cancels an order its seller left SUBMITTED too long (resolvers/clocks.py): SUBMITTED only, so
    that of the seller's `acceptOrder` and this, exactly one moves the order (`_transition`'s conditional update);
    stock and capacity return as in any cancel."""

    return await _transition(
        ctx,
        order_id,
        (OrderStatus.SUBMITTED,),
        OrderStatus.CANCELLED,
        lambda _p, _o: None,
        note=reason,
        changes={"closed_reason": reason},
        after=_released,
    )


async def rate_order(ctx: Ctx, order_id: int, score: int, comment: str | None) -> Rating:
    p = ctx.principal
    v = Validator()
    v.integer("score", score, minimum=1, maximum=5)
    v.text("comment", comment, max_length=2000, required=False)
    v.raise_if_any()
    async with in_transaction():
        order = await get_order(ctx, order_id)
        if order is None:
            raise DomainError("NOT_FOUND", "No such order.", "id")
        _buyer(p, order)
        if order.status not in (OrderStatus.DELIVERED, OrderStatus.PAID):
            raise DomainError(
                "NOT_DELIVERED", "Rate after delivery; the order is {status}.", "id", status=order.status.value
            )
        if await Rating.exists(order_id=order_id):
            raise DomainError("ALREADY_RATED", "This order is rated already.", "id")
        try:
            return await Rating.create(
                order_id=order_id,
                umkm_id=order.umkm_id,
                score=score,
                comment=(comment or "").strip(),
                rated_by_id=p.user_id,
            )
        except IntegrityError:
            raise DomainError("ALREADY_RATED", "This order is rated already.", "id") from None


def days_to_pay(order: Order) -> int | None:
    """Whole days from delivery to payment, in Asia/Jakarta dates."""
    if order.delivered_at is None or order.paid_at is None:
        return None
    return (order.paid_at.astimezone(JAKARTA).date() - order.delivered_at.astimezone(JAKARTA).date()).days


def may_hear(p: Principal, msg: events.OrderEventMessage) -> bool:
    """Which order events a subscriber may receive: the same rule as reading the order."""
    if p.is_admin:
        return True
    if p.role is Role.ANALYST:
        return msg.kind == OrderKind.OPD.value
    if p.role is Role.UMKM_OWNER:
        return msg.umkm_id in p.umkm_ids
    if p.role in (Role.OPD_BUYER, Role.OPD_TREASURER):
        return msg.opd_id == p.opd_id and msg.kind == OrderKind.OPD.value
    if p.role is Role.EMPLOYEE:
        return msg.buyer_id == p.user_id
    return False


async def with_relations(order_ids: list[int]) -> list[Order]:
    """Orders with their UMKM and OPD joined in, in the order asked (what the GraphQL `Order` type reads)."""
    rows = {o.id: o for o in await Order.filter(id__in=order_ids).select_related("umkm", "opd")}
    return [rows[i] for i in order_ids if i in rows]


async def rating_averages(umkm_ids: list[int]) -> list[float | None]:
    """Average rating per UMKM, one GROUP BY for the batch."""
    rows = (
        await Rating.filter(umkm_id__in=list(set(umkm_ids)))
        .group_by("umkm_id")
        .annotate(avg=Avg("score"))
        .values("umkm_id", "avg")
    )
    by_id = {r["umkm_id"]: round(float(r["avg"]), 2) for r in rows if r["avg"] is not None}
    return [by_id.get(i) for i in umkm_ids]


def items_query(order_ids: list[int]) -> QuerySet[OrderItem]:
    """The items of these orders, in order (read with `ITEM_READ`)."""
    return OrderItem.filter(order_id__in=list(set(order_ids))).order_by("id")


async def item_rows_for(order_ids: list[int]) -> list[list[Any]]:
    """Items of each order as light rows with their product and its UMKM (`models.orders.ITEM_READ`): one statement."""
    grouped: dict[int, list[Any]] = {i: [] for i in order_ids}
    for item in await joined_rows(items_query(order_ids), ITEM_READ):
        grouped[item.order_id].append(item)
    return [grouped[i] for i in order_ids]
