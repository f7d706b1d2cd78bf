"""The plan cache is bounded: plans live in an LRU of `compiled.MAX_PLANS` entries keyed by (document digest,
operation name), and what the fast path answers in one of `compiled.MAX_CONFIRMED` keyed by (document digest,
operation name, kind of caller); a plan leaves both when it leaves the first. 10,000 distinct documents (aliases
varied) keep both at their bounds, at most `MAX_PLANS` plans alive, and the process's resident memory grows by less
than `RSS_BOUND` from the 2,000th document to the 10,000th (the caches are full from the 1,024th on: what they hold
is replaced, not added to). Most documents are compiled directly (over HTTP they would take minutes); a few hundred
go through the endpoint, each twice, the second time answered by the fast path."""

from __future__ import annotations

import gc
import os
import time

import graphql
import pytest

from resolvers.common import ANONYMOUS, Principal
from schema import compiled, schema

DOCUMENTS = 10_000
RSS_BOUND = 16 * 1024 * 1024  # bytes; a full cache of plans of these documents holds ~5 MB


def document(i: int) -> str:
    return (
        f"query Q($first: Int) {{ products(first: $first) {{ edges {{ c{i}: cursor node {{ n{i}: name price "
        f"umkm {{ u{i}: name }} }} }} pageInfo {{ hasNextPage }} }} }}"
    )


def resident() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def alive(kind: type) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, kind))


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads the resident memory from /proc")
def test_ten_thousand_documents_keep_the_plan_cache_at_its_bound():
    plans = compiled.Plans()
    callers = [ANONYMOUS, Principal(api_key_id=1, scopes=frozenset({"read"}))]  # anonymous, a partner key
    started = time.perf_counter()
    before = alive(compiled.Plan)

    def fill(numbers: range) -> None:
        for i in numbers:
            plan = plans.get(schema._schema, graphql.parse(document(i)), None)
            assert plan is not None
            plans.confirm(plan, callers[i % 2])
            plans.confirm(plan, callers[(i + 1) % 2])

    fill(range(2_000))
    gc.collect()
    held = resident()
    fill(range(2_000, DOCUMENTS))
    gc.collect()
    grown = resident() - held
    print(
        f"{DOCUMENTS} documents in {time.perf_counter() - started:.1f} s; resident memory grew {grown / 2**20:.1f} MiB"
    )
    assert len(plans) == compiled.MAX_PLANS
    assert len(plans._confirmed) == min(compiled.MAX_CONFIRMED, 2 * compiled.MAX_PLANS)
    assert alive(compiled.Plan) - before <= compiled.MAX_PLANS
    assert grown < RSS_BOUND, grown
    # the newest documents are there, the oldest are gone
    newest = compiled.document_digest(document(DOCUMENTS - 1))
    assert plans.confirmed(newest, None, callers[0]) is not None
    assert plans.confirmed(compiled.document_digest(document(0)), None, callers[0]) is None


@pytest.mark.usefixtures("world")
async def test_distinct_documents_over_http_stay_within_the_bound(http, monkeypatch):
    small = compiled.Plans(size=64, confirmed_size=128)
    monkeypatch.setattr(compiled, "plans", small)
    n = 300
    for i in range(n):
        for _ in range(2):  # the general path confirms the plan, the fast path answers the second
            r = await http.post("/graphql", json={"query": document(i), "variables": {"first": 2}})
            assert r.status_code == 200 and "errors" not in r.json(), r.text
            assert list(r.json()["data"]["products"]["edges"][0]) == [f"c{i}", "node"]
    assert len(small) == 64 and len(small._confirmed) == 128
    assert small.fast == n and small.compiled == 2 * n
