"""Who may ask for which day (`asOf`), and reading another day than today writes nothing."""

# ruff: noqa: F811  (the `city` fixture is imported from tests/test_fairness.py)

from __future__ import annotations

import datetime as dt

import pytest

from models.base import JAKARTA
from models.fairness import RankingRow, RankingSnapshot
from resolvers.ranking import rank_category
from schema.relay import from_global_id
from tests.conftest import error_codes, gid
from tests.test_fairness import (  # noqa: F401
    AS_OF,
    AS_OF_DT,
    CHECK,
    RANKING,
    city,
    today_is_as_of,
)

LAST_MONTH = AS_OF - dt.timedelta(days=30)


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), JAKARTA).astimezone(dt.UTC)


async def stored() -> tuple[int, int]:
    return await RankingSnapshot.all().count(), await RankingRow.all().count()


async def paged(gql, world, day: dt.date, first: int = 2, **v) -> tuple[list[tuple], dict]:
    """The whole list of `day` read through the API `first` rows at a time, and the counts of its first page."""
    out, after, counts = [], None, None
    doc = RANKING.replace("umkm { name }", "umkm { id name }")
    while True:
        variables = {"c": gid("Category", world.batik.id), "d": day.isoformat(), "first": first, "after": after, **v}
        page = (await gql.ok(doc, variables, world.tokens["analyst"]))["underSoldUmkm"]
        counts = counts or {k: page[k] for k in ("totalCount", "eligibleCount", "medianPrice")}
        for e in page["edges"]:
            uid = int(from_global_id(e["umkm"]["id"])[1])
            out.append((uid, e["rank"], e["reasons"], e["score"]["deficit"], e["score"]["bucket"]))
        if not page["pageInfo"]["hasNextPage"]:
            return out, counts
        after = page["pageInfo"]["endCursor"]


async def reference(world, day: dt.date, opd=None, quantity=None):
    r = await rank_category(world.batik.id, noon(day), opd=opd, quantity=quantity)
    rows = [(row.umkm_id, row.rank, row.reasons, row.score.deficit, row.score.bucket) for row in r.rows]
    return rows, {"totalCount": len(r.rows), "eligibleCount": r.eligible, "medianPrice": r.median_price}


async def test_thirty_aliased_past_days_store_nothing(gql, world, city):
    await city.sale("Arjuna", 2_000_000, 40)
    today = await gql.ok(RANKING, {"c": gid("Category", world.batik.id), "first": 1}, world.tokens["analyst"])
    assert today["underSoldUmkm"]["edges"]  # today's list is stored, as before
    before = await stored()
    assert before[0] == 1
    fields = " ".join(
        f'd{k}: underSoldUmkm(categoryId: $c, first: 1, asOf: "{(AS_OF - dt.timedelta(days=k)).isoformat()}") '
        "{ totalCount eligibleCount edges { rank } }"
        for k in range(1, 31)
    )
    body = await gql.ok(f"query($c: ID!) {{ {fields} }}", {"c": gid("Category", world.batik.id)}, world.tokens["admin"])
    assert len(body) == 30 and all(v["eligibleCount"] == 6 for v in body.values())
    check = {"u": gid("Umkm", city.umkms["Bima"].id), "c": gid("Category", world.batik.id)}
    for k in (2, 200):
        check["d"] = (AS_OF - dt.timedelta(days=k)).isoformat()
        assert (await gql.ok(CHECK, check, world.tokens["analyst"]))["fairnessCheck"]["eligible"]
    assert await stored() == before


@pytest.mark.parametrize("caller", ["buyer", "owner", "treasurer", "employee", "partner"])
async def test_only_analysts_and_admins_may_ask_for_another_day(gql, world, city, caller):
    yesterday = (AS_OF - dt.timedelta(days=1)).isoformat()
    variables = {"c": gid("Category", world.batik.id), "d": yesterday}
    body = await gql(RANKING, variables, world.tokens[caller])
    assert error_codes(body) == ["FORBIDDEN"] and "asOf" in body["errors"][0]["message"], body
    check = {"u": gid("Umkm", city.umkms["Bima"].id), "c": gid("Category", world.batik.id), "d": yesterday}
    assert error_codes(await gql(CHECK, check, world.tokens[caller])) == ["FORBIDDEN"]
    variables["d"] = AS_OF.isoformat()  # today, named: the same as no asOf
    assert (await gql.ok(RANKING, variables, world.tokens[caller]))["underSoldUmkm"]["eligibleCount"] == 6
    for token in ("analyst", "admin"):
        variables["d"] = yesterday
        assert (await gql.ok(RANKING, variables, world.tokens[token]))["underSoldUmkm"]["eligibleCount"] == 6
    assert await stored() == (1, 6)  # today's list only


@pytest.mark.parametrize(
    ("days", "says"), [(-1, "after today"), (-30, "after today"), (367, "366 days"), (400, "366 days")]
)
async def test_an_analyst_may_not_ask_for_the_future_or_more_than_366_days_back(gql, world, city, days, says):
    variables = {"c": gid("Category", world.batik.id), "d": (AS_OF - dt.timedelta(days=days)).isoformat()}
    body = await gql(RANKING, variables, world.tokens["analyst"])
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert "asOf" in body["errors"][0]["message"] and says in body["errors"][0]["message"]
    assert body["errors"][0]["path"] == ["underSoldUmkm"]
    variables["d"] = (AS_OF - dt.timedelta(days=366)).isoformat()  # the furthest day back
    assert (await gql.ok(RANKING, variables, world.tokens["analyst"]))["underSoldUmkm"]["eligibleCount"] == 6
    assert await stored() == (0, 0)


async def test_last_months_list_is_the_ranking_computed_for_its_noon_with_the_same_cursors_and_counts(gql, world, city):
    await city.sale("Arjuna", 3_000_000, 45)
    await city.sale("Citra", 500_000, 10)
    await city.report("Dewi", 2_000_000)
    await city.add("Baru", verified_days=40)  # a newcomer then
    got, counts = await paged(gql, world, LAST_MONTH)
    want, want_counts = await reference(world, LAST_MONTH)
    assert got == want and counts == want_counts
    assert len(got) == 7 and [g[1] for g in got] == list(range(1, 8))
    assert got != (await paged(gql, world, AS_OF))[0]  # today's list is another day's: decay, rotation, newcomer
    for v, ref in [
        ({"o": gid("Opd", world.opd.id)}, {"opd": world.opd}),
        ({"o": gid("Opd", world.opd.id), "q": 50}, {"opd": world.opd, "quantity": 50}),
        ({"q": 51}, {"quantity": 51}),
    ]:
        got, counts = await paged(gql, world, LAST_MONTH, **v)
        want, want_counts = await reference(world, LAST_MONTH, **ref)
        assert got == want and counts == want_counts, v
    check = {"u": gid("Umkm", city.umkms["Arjuna"].id), "c": gid("Category", world.batik.id)}
    check["d"] = LAST_MONTH.isoformat()
    standing = (await gql.ok(CHECK, check, world.tokens["analyst"]))["fairnessCheck"]
    want, _ = await reference(world, LAST_MONTH)
    assert standing["rank"] == next(r[1] for r in want if r[0] == city.umkms["Arjuna"].id)
    check["q"] = 51
    short = (await gql.ok(CHECK, check, world.tokens["analyst"]))["fairnessCheck"]
    assert short["eligible"] is False and short["excludedBecause"] == ["CAPACITY_SHORT"]
    assert await stored() == (1, 7)  # today's list (read once above), nothing of last month
