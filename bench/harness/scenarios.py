"""The benchmark scenarios: our query documents, the peer's equivalents, and how answers are compared.

Ours and the baseline must give the same JSON (compared canonically: parsed, keys sorted, compact). The peer
(PostGraphile) names fields its own way, so its answer is compared as a projection of the records (ids, names,
prices, in order).
"""

from __future__ import annotations

import base64
import json
from typing import Any

# ---------------------------------------------------------------- our documents (and the baseline's: same bodies)

S1_PRODUCTS = (
    "query S1($first: Int) { products(first: $first) { "
    "edges { cursor node { id name price umkm { name kecamatan { name } } category { name } } } "
    "pageInfo { hasNextPage endCursor } } }"
)

S2_ORDER = (
    "query S2($id: ID!) { order(id: $id) { id number total "
    "items { name quantity unitPrice product { id name price umkm { name } } } umkm { name } opd { name } } }"
)

S3_UNDER_SOLD = (
    "query S3($categoryId: ID!, $first: Int, $asOf: Date) { "
    "underSoldUmkm(categoryId: $categoryId, first: $first, asOf: $asOf) { totalCount eligibleCount medianPrice "
    "edges { cursor rank reasons score { deficit targetShare receivedShare received activeFraction need omzetUsed "
    "omzetSource bucket rotationKey policyVersion } umkm { id name } cheapestEligibleProduct { id name price } } "
    "pageInfo { hasNextPage endCursor } } }"
)

S4_OMZET = (
    "query S4($umkmId: ID!, $from: String, $to: String) { "
    "omzetReports(filter: { umkmId: $umkmId, periodFrom: $from, periodTo: $to }, first: 12) { "
    "edges { cursor node { id period platformAmount otherOnlineAmount offlineAmount totalAmount late "
    "revisionCount } } pageInfo { hasNextPage endCursor } } }"
)

S5_PLACE = (
    "mutation S5($input: PlaceOrderInput!) { placeOrder(input: $input) { "
    "orders { id number total status } errors { field code message } } }"
)

OURS = {"S1": S1_PRODUCTS, "S2": S2_ORDER, "S3": S3_UNDER_SOLD, "S4": S4_OMZET, "S5": S5_PLACE}

# ---------------------------------------------------------------- the peer's documents (PostGraphile 4 naming)

# PostGraphile's `condition` reaches only the table's own columns, so "active products of verified UMKM" is the view
# bench_peer.visible_product (created by the runner), with smart-comment foreign keys to umkm and category.
PEER_VIEW_SQL = """
CREATE SCHEMA IF NOT EXISTS bench_peer;
CREATE OR REPLACE VIEW bench_peer.visible_product AS
    SELECT p.* FROM public.product p JOIN public.umkm u ON u.id = p.umkm_id
    WHERE p.active AND u.status = 'VERIFIED';
COMMENT ON VIEW bench_peer.visible_product IS E'@primaryKey id\\n@foreignKey (umkm_id) references public.umkm (id)\\n@foreignKey (category_id) references public.category (id)';
"""  # noqa: E501

PEER_S1 = (
    "query S1($first: Int!) { allVisibleProducts(first: $first, orderBy: [CREATED_AT_DESC, ID_DESC]) { "
    "edges { cursor node { id name price umkmByUmkmId { name kecamatanByKecamatanId { name } } "
    "categoryByCategoryId { name } } } pageInfo { hasNextPage endCursor } } }"
)

PEER_S2 = (
    "query S2($id: Int!) { orderById(id: $id) { id number total "
    "orderItemsByOrderId(orderBy: ID_ASC) { nodes { name quantity unitPrice "
    "productByProductId { id name price umkmByUmkmId { name } } } } "
    "umkmByUmkmId { name } opdByOpdId { name } } }"
)

# The peer has no period filter without a plugin: S4's UMKM has exactly the twelve reports of the window.
PEER_S4 = (
    "query S4($umkmId: Int!) { allOmzetReports(condition: { umkmId: $umkmId }, orderBy: [PERIOD_DESC, ID_DESC], "
    "first: 12) { edges { cursor node { id period platformAmount otherOnlineAmount offlineAmount totalAmount late "
    "revisionCount } } pageInfo { hasNextPage endCursor } } }"
)

PEER = {"S1": PEER_S1, "S2": PEER_S2, "S4": PEER_S4}

# ---------------------------------------------------------------- comparing


def _round_floats(value: Any, digits: int) -> Any:
    if isinstance(value, float):
        return float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {k: _round_floats(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [_round_floats(v, digits) for v in value]
    return value


def canonical(body: Any, float_digits: int | None = None) -> str:
    """Canonical JSON of a response: `extensions` dropped, keys sorted, compact; floats optionally rounded to
    `float_digits` significant digits (S3 sums floats in whatever order the database returns rows)."""
    if isinstance(body, (bytes, str)):
        body = json.loads(body)
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "extensions"}
    if float_digits is not None:
        body = _round_floats(body, float_digits)
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def pk(gid: str) -> int:
    """The primary key in one of our global IDs (base64url of "Type:pk", no padding)."""
    raw = base64.urlsafe_b64decode(gid + "=" * (-len(gid) % 4)).decode()
    return int(raw.partition(":")[2])


def project_ours(scenario: str, body: dict) -> Any:
    """The records of our (or the baseline's) answer, as plain tuples."""
    data = body["data"]
    if scenario == "S1":
        c = data["products"]
        rows = [
            (
                pk(e["node"]["id"]),
                e["node"]["name"],
                int(e["node"]["price"]),
                e["node"]["umkm"]["name"],
                e["node"]["umkm"]["kecamatan"]["name"],
                e["node"]["category"]["name"],
            )
            for e in c["edges"]
        ]
        return {"rows": rows, "hasNextPage": c["pageInfo"]["hasNextPage"]}
    if scenario == "S2":
        o = data["order"]
        items = [
            (
                i["name"],
                i["quantity"],
                int(i["unitPrice"]),
                pk(i["product"]["id"]),
                i["product"]["name"],
                int(i["product"]["price"]),
                i["product"]["umkm"]["name"],
            )
            for i in o["items"]
        ]
        return (pk(o["id"]), o["number"], int(o["total"]), o["umkm"]["name"], o["opd"]["name"], items)
    if scenario == "S4":
        c = data["omzetReports"]
        rows = [_report_row(pk(e["node"]["id"]), e["node"]) for e in c["edges"]]
        return {"rows": rows, "hasNextPage": c["pageInfo"]["hasNextPage"]}
    raise ValueError(f"no projection for {scenario}")


def _report_row(report_id: int, n: dict) -> tuple:
    return (
        report_id,
        n["period"],
        int(n["platformAmount"]),
        int(n["otherOnlineAmount"]),
        int(n["offlineAmount"]),
        int(n["totalAmount"]),
        bool(n["late"]),
        n["revisionCount"],
    )


def project_peer(scenario: str, body: dict) -> Any:
    """The same records from PostGraphile's answer (BigInt columns arrive as strings)."""
    data = body["data"]
    if scenario == "S1":
        c = data["allVisibleProducts"]
        rows = [
            (
                int(e["node"]["id"]),
                e["node"]["name"],
                int(e["node"]["price"]),
                e["node"]["umkmByUmkmId"]["name"],
                e["node"]["umkmByUmkmId"]["kecamatanByKecamatanId"]["name"],
                e["node"]["categoryByCategoryId"]["name"],
            )
            for e in c["edges"]
        ]
        return {"rows": rows, "hasNextPage": c["pageInfo"]["hasNextPage"]}
    if scenario == "S2":
        o = data["orderById"]
        items = [
            (
                i["name"],
                i["quantity"],
                int(i["unitPrice"]),
                int(i["productByProductId"]["id"]),
                i["productByProductId"]["name"],
                int(i["productByProductId"]["price"]),
                i["productByProductId"]["umkmByUmkmId"]["name"],
            )
            for i in o["orderItemsByOrderId"]["nodes"]
        ]
        return (
            int(o["id"]),
            o["number"] or "",
            int(o["total"]),
            o["umkmByUmkmId"]["name"],
            o["opdByOpdId"]["name"],
            items,
        )
    if scenario == "S4":
        c = data["allOmzetReports"]
        rows = [_report_row(int(e["node"]["id"]), e["node"]) for e in c["edges"]]
        return {"rows": rows, "hasNextPage": c["pageInfo"]["hasNextPage"]}
    raise ValueError(f"no projection for {scenario}")
