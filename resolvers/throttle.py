"""Refusing guesses: failed sign-ins and partner keys counted per account and client address, anonymous sign-ups per
address. Everything is counted in the database, which every server process shares, over sliding windows; a refusal
is an answer (`TOO_MANY_ATTEMPTS` with the seconds to wait), never a sleep on the server.

The limits (settings, README "Limits"), over the last `sign_in_window_seconds` (15 minutes):

- one account from one address: `sign_in_max_per_account_address` failures (5);
- one account from every address together: `sign_in_max_per_account` (20), applied only to addresses that have
  themselves failed on that account in the window. An attacker can then lock the account only for the addresses it
  used: the owner, signing in from an address without failures, gets in. The price: an attacker with many addresses
  gets one guess per fresh address per window after the first 20 (and each address is bound by the next limit);
- one address over every account: `sign_in_max_per_address` (50), partner keys included.

Refused attempts are kept as THROTTLED and do not count themselves, so `retryAfter` is exact: when the oldest failure
that keeps the limit reached leaves the window.

Counting is strict under concurrency: an attempt is written first (committed) and then counts the rows before it, so
of N simultaneous attempts only as many as the limit allows go on to verify a password.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from models.accounts import SignInFailure, SignInFailureReason, SignUp
from resolvers.common import Ctx, TooManyAttempts, Wait, msg

MAX_ADDRESS = 64  # the column's width; an IPv6 address is at most 45 characters
MAX_EMAIL = 254
CLEANUP_EVERY = dt.timedelta(minutes=10)  # old rows are deleted at most this often per process, by an insert
THROTTLED = SignInFailureReason.THROTTLED

_last_cleanup: dt.datetime | None = None


@dataclass(frozen=True)
class Limits:
    """The throttle's settings (app.Settings carries them; a script's settings may leave them out)."""

    window: dt.timedelta = dt.timedelta(minutes=15)
    per_account_address: int = 5
    per_account: int = 20
    per_address: int = 50
    sign_up_window: dt.timedelta = dt.timedelta(hours=1)
    sign_ups_per_address: int = 5
    retention: dt.timedelta = dt.timedelta(days=90)

    @classmethod
    def of(cls, settings: object) -> Limits:
        d = cls()

        def get(name: str, default: int) -> int:
            return getattr(settings, name, default)

        return cls(
            window=dt.timedelta(seconds=get("sign_in_window_seconds", int(d.window.total_seconds()))),
            per_account_address=get("sign_in_max_per_account_address", d.per_account_address),
            per_account=get("sign_in_max_per_account", d.per_account),
            per_address=get("sign_in_max_per_address", d.per_address),
            sign_up_window=dt.timedelta(seconds=get("sign_up_window_seconds", int(d.sign_up_window.total_seconds()))),
            sign_ups_per_address=get("sign_up_max_per_address", d.sign_ups_per_address),
            retention=dt.timedelta(days=get("sign_in_retention_days", d.retention.days)),
        )


def address_of(ctx: object) -> str:
    """The client address the request came from (schema.client.client_address), or `unknown` for a script."""
    return (getattr(ctx, "client_address", None) or "unknown")[:MAX_ADDRESS]


def normalise_email(email: str) -> str:
    return email.strip().lower()[:MAX_EMAIL]


def _cleanup_due(now: dt.datetime) -> bool:
    global _last_cleanup
    if _last_cleanup is not None and _last_cleanup <= now < _last_cleanup + CLEANUP_EVERY:
        return False
    _last_cleanup = now  # also when the clock went back (a test's clock): clean again
    return True


async def _write(row: SignInFailure | SignUp, limits: Limits, now: dt.datetime) -> None:
    """Insert `row`, and every CLEANUP_EVERY delete the rows past the retention, in the same transaction."""
    async with in_transaction():
        await row.save()
        if _cleanup_due(now):
            cutoff = now - limits.retention
            await SignInFailure.filter(at__lt=cutoff).delete()
            await SignUp.filter(at__lt=cutoff).delete()


def _seconds_until(oldest_kept: dt.datetime | None, window: dt.timedelta, now: dt.datetime) -> int:
    if oldest_kept is None:
        return 1
    return max(1, math.ceil((oldest_kept + window - now).total_seconds()))


async def _clears_in(q: Q, since: dt.datetime, own_id: int | None, limit: int, limits: Limits, now: dt.datetime) -> int:
    """Seconds until fewer than `limit` counted failures matching `q` are left in the window: when the limit-th
    newest of them leaves it."""
    qs = SignInFailure.filter(q, at__gt=since).exclude(reason=THROTTLED)
    if own_id is not None:
        qs = qs.exclude(id=own_id)
    at = await qs.order_by("-at", "-id").offset(limit - 1).limit(1).values_list("at", flat=True)
    return _seconds_until(at[0] if at else None, limits.window, now)


# The refusals' messages (templates, see resolvers/common.py): one per thing counted.
FAILED_SIGN_INS = msg("Too many failed sign-ins from here. Try again in {wait}.")
FAILED_ATTEMPTS = msg("Too many failed attempts from here. Try again in {wait}.")
SIGN_UPS = msg("Too many sign-ups from here. Try again in {wait}.")


def _refusal(message: str, seconds: int) -> TooManyAttempts:
    return TooManyAttempts(message, seconds, wait=Wait(seconds))


async def _check(
    email: str | None, address: str, own_id: int | None, limits: Limits, now: dt.datetime, message: str
) -> None:
    """Raise TooManyAttempts when the failures before this attempt reach a limit (see the module's docstring)."""
    since = now - limits.window
    counted = SignInFailure.filter(at__gt=since).exclude(reason=THROTTLED)
    if own_id is not None:
        counted = counted.exclude(id=own_id)
    pair_q, account_q, address_q = Q(email=email, address=address), Q(email=email), Q(address=address)
    if email is None:
        counted = counted.filter(address=address)
        annotations = {"by_address": Count("id")}
    else:
        counted = counted.filter(account_q | address_q)
        annotations = {
            "pair": Count("id", _filter=pair_q),
            "account": Count("id", _filter=account_q),
            "by_address": Count("id", _filter=address_q),
        }
    counts = (await counted.annotate(**annotations).values(*annotations))[0]
    pair, account, by_address = counts.get("pair", 0), counts.get("account", 0), counts["by_address"]

    waits: list[int] = []
    if by_address >= limits.per_address:
        waits.append(await _clears_in(address_q, since, own_id, limits.per_address, limits, now))
    if email is not None and pair >= limits.per_account_address:
        waits.append(await _clears_in(pair_q, since, own_id, limits.per_account_address, limits, now))
    if email is not None and pair >= 1 and account >= limits.per_account:
        # cleared when the account falls below its limit, or when this address's own failures leave the window
        waits.append(
            min(
                await _clears_in(account_q, since, own_id, limits.per_account, limits, now),
                await _clears_in(pair_q, since, own_id, 1, limits, now),
            )
        )
    if waits:
        raise _refusal(message, max(waits))


class SignInAttempt:
    """One sign-in, written before the password is checked (`begin`) as the failure it will be if the password is
    wrong; `succeeded` removes it."""

    def __init__(self, ctx: Ctx, email: str, reason: SignInFailureReason) -> None:
        self.limits = Limits.of(ctx.settings)
        self.now = ctx.clock.now()
        self.row = SignInFailure(email=normalise_email(email), address=address_of(ctx), reason=reason, at=self.now)

    async def begin(self) -> None:
        """Record the attempt (as the failure it would be), then refuse it when the failures before it reach a limit:
        the row stays, as THROTTLED."""
        await _write(self.row, self.limits, self.now)
        try:
            await _check(self.row.email, self.row.address, self.row.id, self.limits, self.now, FAILED_SIGN_INS)
        except TooManyAttempts:
            await SignInFailure.filter(id=self.row.id).update(reason=THROTTLED)
            raise

    async def succeeded(self) -> None:
        """A good sign-in is no failure: its row goes (earlier failures stay until they leave the window)."""
        await SignInFailure.filter(id=self.row.id).delete()


async def check_key_guessing(ctx: Ctx) -> None:
    """Before a partner key is looked up: refuse an address whose failures reached `per_address` (without looking, so
    a refused guess learns nothing), recording the refusal."""
    limits, now, address = Limits.of(ctx.settings), ctx.clock.now(), address_of(ctx)
    try:
        await _check(None, address, None, limits, now, FAILED_ATTEMPTS)
    except TooManyAttempts:
        await _write(SignInFailure(email=None, address=address, reason=THROTTLED, at=now), limits, now)
        raise


async def key_failed(ctx: Ctx) -> None:
    """A partner key that matched none (unknown or revoked)."""
    limits, now = Limits.of(ctx.settings), ctx.clock.now()
    await _write(
        SignInFailure(email=None, address=address_of(ctx), reason=SignInFailureReason.BAD_API_KEY, at=now), limits, now
    )


class SignUpClaim:
    """One anonymous sign-up's place in its address's quota, claimed (committed) before the registration and given
    back when the registration fails, so that concurrent sign-ups cannot overshoot the limit."""

    def __init__(self, ctx: Ctx) -> None:
        self.limits = Limits.of(ctx.settings)
        self.now = ctx.clock.now()
        self.row = SignUp(address=address_of(ctx), at=self.now)

    async def claim(self) -> None:
        await _write(self.row, self.limits, self.now)
        since = self.now - self.limits.sign_up_window
        earlier = SignUp.filter(address=self.row.address, at__gt=since).exclude(id=self.row.id)
        limit = self.limits.sign_ups_per_address
        if await earlier.count() >= limit:
            await self.release()
            at = await earlier.order_by("-at", "-id").offset(limit - 1).limit(1).values_list("at", flat=True)
            seconds = _seconds_until(at[0] if at else None, self.limits.sign_up_window, self.now)
            raise _refusal(SIGN_UPS, seconds)

    async def release(self) -> None:
        await SignUp.filter(id=self.row.id).delete()
