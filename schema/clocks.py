"""GraphQL shape of the test clock (test mode only): the order clocks themselves have no field, they run in the
background (resolvers/clocks.py) and show as order events."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from resolvers import clocks as rules
from schema.common import jakarta
from schema.errors import UserError, UserErrors
from schema.permissions import ADMIN_ONLY


@strawberry.input(description="How far to move the test clock forward.")
class AdvanceTestClockInput:
    hours: int = strawberry.field(description="Hours, 1 to 8784 (a leap year).")


@strawberry.type(description="Result of `advanceTestClock`.")
class TestClockPayload:
    now: dt.datetime | None = strawberry.field(default=None, description="The clock's time now (Asia/Jakarta).")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What was wrong, if anything.")


@strawberry.type
class ClocksMutation:
    @strawberry.mutation(
        description="Move this server process's clock forward (admin; test mode only, PASAR_TEST_CLOCK: else the "
        "error TEST_CLOCK_OFF). For tests of the order clocks without waiting days.",
        permission_classes=ADMIN_ONLY,
        extensions=[UserErrors()],
    )
    async def advance_test_clock(self, info: Info, input: AdvanceTestClockInput) -> TestClockPayload:
        return TestClockPayload(now=jakarta(rules.advance_test_clock(info.context, input.hours)))
