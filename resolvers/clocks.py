"""The order clocks: what happens when nobody acts in time.

- A SUBMITTED order its seller has not accepted within `order_accept_days` (PASAR_ORDER_ACCEPT_DAYS) is cancelled by
  the platform: the same transition as any cancel (`orders.cancel_unaccepted`: one conditional update, so a seller's
  `acceptOrder` racing it has exactly one winner), stock and capacity returned, an order event with no user as actor
  and a note that starts with "system:".
- A DELIVERED order still unpaid `payment_reminder_days` (PASAR_PAYMENT_REMINDER_DAYS) after delivery gets a payment
  reminder, an order event of kind PAYMENT_REMINDER (its status unchanged), then another every as many days while it
  stays unpaid: a conditional update of `Order.payment_reminded_at` lets at most one through per period, whoever runs.

Both run in the app's background loop and from `pasar clocks run`, in one process at a time (`models.jobs`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import jobs
from models.orders import Order, OrderEvent, OrderEventKind, OrderStatus
from resolvers import orders, outbox
from resolvers.common import Ctx, DomainError, OffsetClock, Validator

JOB_NAME = "order-clocks"
BATCH = 200  # orders read per statement; a run goes on until none is due
# Reminders stop this many periods after delivery (at most this many per order: `Order.events` stays bounded,
# schema/cost.py); an order unpaid that long is a case for the OPD's inspectorate, not for one more reminder.
MAX_PAYMENT_REMINDERS = 12


@dataclass
class ClockRun:
    """What one run did: the orders cancelled, the orders reminded, and the orders someone else moved first."""

    ran: bool = True  # False: another process holds the job this round
    cancelled: list[int] = field(default_factory=list)
    reminded: list[int] = field(default_factory=list)
    lost: int = 0

    def line(self) -> str:
        if not self.ran:
            return "order clocks: another process is running them"
        return (
            f"order clocks: {len(self.cancelled)} unaccepted orders cancelled, {len(self.reminded)} payment reminders"
            + (f", {self.lost} orders moved by someone else first" if self.lost else "")
        )


def accept_note(days: int) -> str:
    return f"system: not accepted within {days} days"


async def cancel_unaccepted_orders(ctx: Ctx, run: ClockRun) -> None:
    """Cancel every SUBMITTED order placed more than `order_accept_days` ago (by the clock of `ctx`)."""
    days = ctx.settings.order_accept_days
    cutoff = ctx.clock.now() - dt.timedelta(days=days)
    after = 0
    while True:
        ids = await (
            Order.filter(status=OrderStatus.SUBMITTED, created_at__lte=cutoff, id__gt=after)
            .order_by("id")
            .limit(BATCH)
            .values_list("id", flat=True)
        )
        for order_id in ids:
            try:
                await orders.cancel_unaccepted(ctx, order_id, accept_note(days))
            except DomainError:  # accepted, rejected or cancelled meanwhile: the other actor won
                run.lost += 1
            else:
                run.cancelled.append(order_id)
        if len(ids) < BATCH:
            return
        after = ids[-1]


async def remind_unpaid_orders(ctx: Ctx, run: ClockRun) -> None:
    """A PAYMENT_REMINDER event for each order delivered more than `payment_reminder_days` ago and still unpaid, at
    most one per order in each such period, for `MAX_PAYMENT_REMINDERS` periods."""
    days = ctx.settings.payment_reminder_days
    now = ctx.clock.now()
    cutoff = now - dt.timedelta(days=days)
    due = Q(payment_reminded_at__isnull=True) | Q(payment_reminded_at__lte=cutoff)
    after = 0
    while True:
        rows = (
            await Order.filter(
                due,
                status=OrderStatus.DELIVERED,
                delivered_at__lte=cutoff,
                delivered_at__gte=now - dt.timedelta(days=days * MAX_PAYMENT_REMINDERS),
                id__gt=after,
            )
            .order_by("id")
            .limit(BATCH)
        )
        for order in rows:
            if await _remind(ctx, order, now):
                run.reminded.append(order.id)
            else:
                run.lost += 1
        if len(rows) < BATCH:
            return
        after = rows[-1].id


async def _remind(ctx: Ctx, order: Order, now: dt.datetime) -> bool:
    last = order.payment_reminded_at
    async with in_transaction():
        # Conditional on the reminder time we read and the status: of two runs (or a payment recorded meanwhile),
        # at most one moves it.
        moved = await Order.filter(
            Q(payment_reminded_at__isnull=True) if last is None else Q(payment_reminded_at=last),
            id=order.id,
            status=OrderStatus.DELIVERED,
        ).update(payment_reminded_at=now)
        if not moved:
            return False
        waited = (now - order.delivered_at).days
        await OrderEvent.create(
            order_id=order.id,
            from_status=OrderStatus.DELIVERED,
            to_status=OrderStatus.DELIVERED,
            kind=OrderEventKind.PAYMENT_REMINDER,
            actor_id=None,
            note=f"system: payment reminder, delivered {waited} days ago, Rp{order.total:,} unpaid",
        )
        await outbox.queue_payment_reminder(ctx, order, waited)  # the e-mail to whoever pays, after commit
    return True


async def run_clocks(ctx: Ctx) -> ClockRun:
    """Both clocks once, if no other process is running them now (`models.jobs.single_runner`). `ctx` is the
    platform's (`SystemContext`): the actor is SYSTEM."""
    async with jobs.single_runner(JOB_NAME) as mine:
        if not mine:
            return ClockRun(ran=False)
        run = ClockRun()
        await cancel_unaccepted_orders(ctx, run)
        await remind_unpaid_orders(ctx, run)
        return run


MAX_ADVANCE_HOURS = 24 * 366


def advance_test_clock(ctx: Ctx, hours: int) -> dt.datetime:
    """Move the test clock forward (test mode only: PASAR_TEST_CLOCK); the new time. It moves this process's clock:
    the requests, the background clocks and the lists it serves; other server processes keep theirs."""
    if not ctx.settings.test_clock or not isinstance(ctx.clock, OffsetClock):
        raise DomainError("TEST_CLOCK_OFF", "The clock can be moved only in test mode (PASAR_TEST_CLOCK).", "hours")
    v = Validator()
    v.integer("hours", hours, minimum=1, maximum=MAX_ADVANCE_HOURS)
    v.raise_if_any()
    return ctx.clock.advance(dt.timedelta(hours=hours))
