"""Admission control on estimated cost: costly requests share a budget of cost units a second, per server process.

The cost limit (schema/cost.py) refuses one request that is too big; it cannot stop many callers that each send a
document just under it. Eight partner keys looping a document of cost ~17,000 kept the event loop busy enough that a
cheap query waited 20-50 times longer than when idle. So every request whose estimated cost is above `threshold`
draws its cost from a token bucket that refills at `rate` units a second and holds at most `burst` units:

- when the bucket holds enough, the request runs at once (an idle server runs any allowed document at once: `burst`
  is at least the cost limit);
- otherwise it reserves its units and waits, in arrival order, until they have refilled, if that is within
  `max_wait` seconds; the wait is an `asyncio.sleep`, which costs the process nothing;
- otherwise it is refused before anything runs: `SERVICE_BUSY` (HTTP 503) with `retryAfter` seconds.

Cheap requests (at or under `threshold`: every screen of the apps, the fairness list, a page of products) never
wait. `rate` bounds the share of a core that costly documents take, whoever sends them, so cheap queries keep their
latency (bench/abuse.py `--costly-load`). Each process has its own bucket: N workers admit N times the rate, as they
have N times the cores.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

SERVICE_BUSY = "SERVICE_BUSY"

# Defaults of the settings (app.Settings): on this project's 2-core reference machine, a document of cost 17,454
# runs in ~110 ms of one core; 20,000 units a second keep costly documents to roughly an eighth of a core.
ADMISSION_THRESHOLD = 5_000
ADMISSION_RATE = 20_000
ADMISSION_MAX_WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class Admission:
    """The verdict for one request: run after `wait` seconds, or refused (`retry_after` seconds)."""

    admitted: bool
    wait: float = 0.0
    retry_after: int = 0


class CostGate:
    """One process's token bucket of cost units (see the module's docstring). Not thread-safe: one event loop."""

    def __init__(
        self,
        threshold: int = ADMISSION_THRESHOLD,
        rate: float = ADMISSION_RATE,
        burst: float = 50_000,
        max_wait: float = ADMISSION_MAX_WAIT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst <= 0 or max_wait < 0:
            raise ValueError("the admission rate and burst must be positive, the wait not negative")
        self.threshold, self.rate, self.burst, self.max_wait = threshold, rate, burst, max_wait
        self._clock = clock
        self._tokens = float(burst)  # below zero: units already promised to requests that are waiting
        self._at = clock()
        self.refused = 0

    def admit(self, cost: int) -> Admission:
        """Take `cost` units for a request about to run: at once, after a wait, or not at all."""
        if cost <= self.threshold:
            return Admission(True)
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        need = min(float(cost), self.burst)  # a request may cost more than the burst when the limit is raised
        if self._tokens >= need:
            self._tokens -= need
            return Admission(True)
        wait = (need - self._tokens) / self.rate
        if wait > self.max_wait:
            self.refused += 1
            # the seconds until the units it needs will have refilled (the requests ahead of it included)
            return Admission(False, retry_after=max(1, int(wait + 0.999)))
        self._tokens -= need
        return Admission(True, wait=wait)

    def give_back(self, cost: int) -> None:
        """A request that was waiting has gone (timeout, client hung up): the units it reserved are free again."""
        if cost > self.threshold:
            self._tokens = min(self.burst, self._tokens + min(float(cost), self.burst))
