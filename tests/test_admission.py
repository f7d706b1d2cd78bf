"""Admission control on estimated cost (schema/admission.py): many callers each under the cost limit cannot take the
event loop from everyone else.

Measured before it (demo data, 2 cores): 8 partner keys looping a document of cost 17,454 (the limit is 50,000) made
a cheap query's p50 go from 2.1 ms to 113.8 ms (54x). bench/abuse.py `--costly-load 8` replays that load against a
live server; these tests pin the rules that keep it down.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from pathlib import Path

import httpx
import pytest
from graphql import parse, validate

from app import Settings, SettingsError, create_app
from resolvers import accounts
from schema import schema
from schema.admission import ADMISSION_MAX_WAIT_SECONDS, ADMISSION_RATE, ADMISSION_THRESHOLD, SERVICE_BUSY, CostGate
from schema.cost import MAX_QUERY_COST, requested_cost
from tests.conftest import _AdminCtx, error_codes

ROOT = Path(__file__).resolve().parent.parent

# The document of the measurement above: every kecamatan, its kelurahan, their kecamatan's kelurahan and theirs.
COSTLY = (
    "{ kecamatans { code name kelurahans { code name kecamatan { code name kelurahans { code name "
    "kecamatan { code name } } } } } }"
)
CHEAP = "{ kecamatans { code } }"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ---------------------------------------------------------------- the bucket


def test_an_idle_gate_admits_any_allowed_cost_at_once_and_cheap_requests_never_wait():
    clock = FakeClock()
    gate = CostGate(threshold=5_000, rate=20_000, burst=MAX_QUERY_COST, max_wait=10, clock=clock)
    assert gate.admit(MAX_QUERY_COST).wait == 0  # the heaviest allowed document, on an idle process
    for _ in range(1000):  # the bucket is empty now: cheap requests do not draw from it
        verdict = gate.admit(5_000)
        assert verdict.admitted and verdict.wait == 0


def test_costly_requests_wait_their_turn_in_arrival_order_then_are_refused():
    clock = FakeClock()
    gate = CostGate(threshold=5_000, rate=20_000, burst=50_000, max_wait=2, clock=clock)
    waits = [gate.admit(17_454) for _ in range(6)]
    assert [v.admitted for v in waits] == [True, True, True, True, True, False]
    assert waits[0].wait == waits[1].wait == 0  # 34,908 of the 50,000 units
    assert waits[2].wait == pytest.approx((3 * 17_454 - 50_000) / 20_000)
    assert waits[3].wait == pytest.approx((4 * 17_454 - 50_000) / 20_000)  # after the third: arrival order
    assert waits[4].wait == pytest.approx(1.8635)  # within the 2 s it may wait
    refused = waits[5]
    assert refused.retry_after == 3  # (6 x 17,454 - 50,000) / 20,000 = 2.74 s until its units refill: rounded up
    assert gate.refused == 1
    clock.now += 10  # the bucket refills
    assert gate.admit(17_454).wait == 0


def test_a_waiting_request_that_goes_gives_its_units_back():
    clock = FakeClock()
    gate = CostGate(threshold=5_000, rate=10_000, burst=20_000, max_wait=5, clock=clock)
    assert gate.admit(20_000).wait == 0
    second = gate.admit(20_000)
    assert second.wait == pytest.approx(2.0)
    gate.give_back(20_000)  # its client hung up while it waited
    assert gate.admit(20_000).wait == pytest.approx(2.0)  # not 4.0: the units it had reserved were returned


def test_settings_name_the_gate_and_rate_zero_turns_it_off():
    s = Settings.from_env(
        {
            "PASAR_ADMISSION_THRESHOLD": "1000",
            "PASAR_ADMISSION_RATE": "5000",
            "PASAR_ADMISSION_MAX_WAIT_SECONDS": "2.5",
        }
    )
    assert (s.admission_threshold, s.admission_rate, s.admission_max_wait_seconds) == (1000, 5000, 2.5)
    d = Settings.from_env({})
    assert (d.admission_threshold, d.admission_rate, d.admission_max_wait_seconds) == (
        ADMISSION_THRESHOLD,
        ADMISSION_RATE,
        ADMISSION_MAX_WAIT_SECONDS,
    )
    with pytest.raises(SettingsError):
        Settings.from_env({"PASAR_ADMISSION_RATE": "-1"})
    assert (
        create_app(dataclasses.replace(d, admission_rate=0), manage_database=False).state.graphql_view.admission is None
    )


# ---------------------------------------------------------------- through the endpoint


def _graphql_blocks(path: Path) -> list[str]:
    return re.findall(r"```graphql\n(.*?)```", path.read_text(), flags=re.S)


def _placeholders(document) -> dict:
    """A value for each required variable: the cost depends on `first`, never on which id is asked for."""
    values = {"ID": "1", "String": "x", "Int": 1, "Boolean": True, "Date": "2026-01-01", "Rupiah": 1}
    out = {}
    for op in document.definitions:
        for var in getattr(op, "variable_definitions", None) or ():
            type_node = var.type
            while hasattr(type_node, "type"):
                type_node = type_node.type
            out[var.variable.name.value] = values[type_node.name.value]
    return out


def test_every_readme_and_docs_query_is_cheap_enough_never_to_wait():
    """The documents people copy from README.md and docs/ run at once even while costly documents queue."""
    blocks = [b for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))] for b in _graphql_blocks(p)]
    assert len(blocks) >= 5
    for text in blocks:
        document = parse(text)
        assert not validate(schema._schema, document), text
        cost = requested_cost(schema._schema, document, _placeholders(document))
        assert cost <= ADMISSION_THRESHOLD, (cost, text)


def _app(settings, **changes):
    return create_app(dataclasses.replace(settings, **changes), manage_database=False)


async def _keys(world, settings, count: int) -> list[str]:
    ctx = _AdminCtx(settings, world.users["admin"].id)
    return [(await accounts.create_api_key(ctx, f"Mitra {i}", None))[0] for i in range(count)]


async def test_eight_partner_keys_sending_a_costly_document_at_once_are_queued_and_refused_not_run(settings, world):
    """The attack: 8 keys, each a document just under the limit, at the same moment. With a small budget and no
    waiting, what the budget holds runs and the rest is refused at once — 503, `Retry-After`, nothing executed —
    while a cheap anonymous query is answered throughout."""
    keys = await _keys(world, settings, 8)
    app = _app(settings, admission_rate=1_000, admission_max_wait_seconds=0)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=120) as c:

        async def costly(key: str) -> httpx.Response:
            return await c.post("/graphql", json={"query": COSTLY}, headers={"authorization": f"Bearer {key}"})

        answers = await asyncio.gather(*(costly(k) for k in keys), c.post("/graphql", json={"query": CHEAP}))
        cheap = answers.pop()
        assert cheap.status_code == 200 and len(cheap.json()["data"]["kecamatans"]) == 31
        ran = [r for r in answers if r.status_code == 200]
        refused = [r for r in answers if r.status_code == 503]
        # the burst is the cost limit, 50,000 units: two documents of 17,454 fit, the third does not
        assert len(ran) == 2 and len(refused) == 6, [r.status_code for r in answers]
        for r in ran:
            assert len(r.json()["data"]["kecamatans"]) == 31
        for r in refused:
            body = r.json()
            assert error_codes(body) == [SERVICE_BUSY] and body.get("data") is None
            ext = body["errors"][0]["extensions"]
            assert ext["cost"] == 17_454 and int(r.headers["retry-after"]) == ext["retryAfter"] >= 1
            assert body["extensions"]["sqlStatements"] == 0  # refused before anything ran
        again = await c.post("/graphql", json={"query": CHEAP})
        assert again.status_code == 200  # cheap requests never draw from the budget


async def test_costly_documents_that_fit_the_wait_all_run_one_after_another(settings, world):
    """Within `max_wait` a costly document waits its turn instead of being refused, and then answers in full."""
    keys = await _keys(world, settings, 4)
    app = _app(settings, admission_rate=40_000, admission_max_wait_seconds=30)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=120) as c:
        answers = await asyncio.gather(
            *(c.post("/graphql", json={"query": COSTLY}, headers={"authorization": f"Bearer {k}"}) for k in keys)
        )
    assert [r.status_code for r in answers] == [200] * 4
    for r in answers:
        assert "errors" not in r.json() and len(r.json()["data"]["kecamatans"]) == 31
        assert r.json()["extensions"]["cost"]["requestedQueryCost"] == 17_454
    assert app.state.graphql_view.admission.refused == 0


async def test_a_costly_document_over_http_under_the_new_media_type_is_503_too(settings, world):
    app = _app(settings, admission_rate=1_000, admission_max_wait_seconds=0)
    headers = {"accept": "application/graphql-response+json"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=120) as c:
        codes = [(await c.post("/graphql", json={"query": COSTLY}, headers=headers)).status_code for _ in range(3)]
    assert codes == [200, 200, 503]
