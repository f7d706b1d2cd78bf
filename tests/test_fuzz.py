"""A fuzzer over the whole API: operations generated from the schema (hypothesis-graphql), for every query and
mutation, as anonymous, a partner key, an admin, a buyer and an owner, through /graphql as a client sends them.

What must hold for every generated request: no HTTP 5xx, no `INTERNAL_SERVER_ERROR` (a masked crash), and no row
written by a mutation that was refused (UNAUTHENTICATED / FORBIDDEN). The project's own scalars get strategies that
reach the resolvers instead of stopping at the parser: global IDs of every type with ids 0, 1, 2^31, 2^63, 2^70;
cursors with huge and negative numbers; Rupiah at the 64-bit edges; dates and months at and beyond the edges; long
strings and NUL bytes.

Profiles: CI runs a derandomized, bounded profile (`PASAR_FUZZ_EXAMPLES`, default 30 documents per operation); set it
higher for a long run, e.g. `PASAR_FUZZ_EXAMPLES=500 pytest tests/test_fuzz.py`. Regression tests for the roots a
longer run found are at the bottom: each sends the one request that used to crash.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os

import graphql
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import from_schema, nodes
from tortoise import Tortoise

from schema import schema
from tests.conftest import REFERENCE_TABLES, error_codes

EXAMPLES = int(os.environ.get("PASAR_FUZZ_EXAMPLES") or 30)
CALLERS = ("anonymous", "partner", "admin", "buyer", "owner")
SCHEMA: graphql.GraphQLSchema = schema._schema
QUERIES = sorted(SCHEMA.query_type.fields)
MUTATIONS = sorted(SCHEMA.mutation_type.fields)
REFUSED = {"UNAUTHENTICATED", "FORBIDDEN"}

TYPES = ("Umkm", "Product", "Category", "Kecamatan", "Kelurahan", "Opd", "Order", "OmzetReport", "User", "ApiKey")
EDGE_IDS = (0, 1, 2, 3, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**70, -1)


def _gid(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def _cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


IDS = st.one_of(
    st.builds(_gid, st.sampled_from((*TYPES, "Bogus")), st.sampled_from(EDGE_IDS)),
    st.text(max_size=12),
).map(nodes.String)
RUPIAH = st.sampled_from((0, 1, -1, 150_000, 2**31, 2**53, 2**63 - 1, -(2**63 - 1), 10**15)).map(nodes.Int)
DATES = st.one_of(
    st.dates(min_value=dt.date(1, 1, 1)).map(dt.date.isoformat),
    st.sampled_from(("2000-01-01", "2100-12-31", "9999-12-31", "0001-01-01", "3000-01-01", "2026-02-30", "kemarin")),
).map(nodes.String)
DATETIMES = st.sampled_from(("2026-11-29T10:00:00+07:00", "9999-12-31T23:59:59", "0001-01-01T00:00:00", "x")).map(
    nodes.String
)
STRINGS = st.one_of(
    st.text(max_size=24),
    st.sampled_from(
        (
            "",
            "\x00",
            "batik\x00tulis",
            "x" * 300,
            "kue " * 12_500,  # 50,000 characters
            "a" * 250 + "@contoh.id",
            "2026-11",
            "0000-01",
            "9999-12",
            "2026-13",
            _cursor([2**70, 1]),
            _cursor([-5]),
            _cursor([1, 2, 3]),
            _cursor({"dt": "x"}),
            "?",
            "'; DROP TABLE umkm; --",
        )
    ),
).map(nodes.String)
INTS = st.sampled_from((0, 1, -1, 2, 20, 100, 101, 2**31 - 1, -(2**31))).map(nodes.Int)
SCALARS = {"ID": IDS, "Rupiah": RUPIAH, "Date": DATES, "DateTime": DATETIMES, "String": STRINGS, "Int": INTS}


async def fingerprint() -> dict[str, tuple]:
    """Rows per table and the latest change of each (`updated_at` where the table has it), in one statement: what a
    refused mutation must leave as it was (an insert, a delete or an update would show)."""
    parts = []
    for m in sorted(Tortoise.apps.get_models_iterable(), key=lambda m: m._meta.db_table):
        t = m._meta.db_table
        if t in REFERENCE_TABLES:
            continue
        last = 'CAST(MAX("updated_at") AS TEXT)' if "updated_at" in m._meta.fields_map else "NULL"
        parts.append(f"SELECT '{t}' AS t, COUNT(*) AS n, {last} AS last FROM \"{t}\"")
    conn = Tortoise.get_connection("default")
    return {r["t"]: (int(r["n"]), r["last"]) for r in await conn.execute_query_dict(" UNION ALL ".join(parts))}


def check(status: int, body: dict, doc: str) -> None:
    assert status < 500, (status, doc, body)
    codes = error_codes(body) if isinstance(body, dict) else []
    assert "INTERNAL_SERVER_ERROR" not in codes, (doc, body)


FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.parametrize("operation", QUERIES + MUTATIONS)
@FUZZ
@given(data=st.data())
async def test_generated_operations_never_crash_and_refused_ones_write_nothing(gql, world, operation, data):
    doc = data.draw(from_schema(SCHEMA, fields=[operation], custom_scalars=SCALARS), label="document")
    caller = data.draw(st.sampled_from(CALLERS), label="caller")
    token = None if caller == "anonymous" else world.tokens[caller]
    mutation = operation in MUTATIONS
    before = await fingerprint() if mutation else None
    r = await gql.raw(str(doc), token=token)
    body = r.json() if r.headers.get("content-type", "").startswith("application/") else {}
    check(r.status_code, body, str(doc))
    if mutation and set(error_codes(body)) & REFUSED and not (body.get("data") or {}).get(operation):
        assert await fingerprint() == before, (caller, str(doc), body)


def test_every_operation_is_fuzzed():
    """The parametrisation comes from the schema itself: a new query or mutation is fuzzed without a change here."""
    assert len(MUTATIONS) >= 27 and {"products", "underSoldUmkm", "node"} <= set(QUERIES)
