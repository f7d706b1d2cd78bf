"""Who may do and see what, pinned through /graphql (docs/API.md, "Permissions").

The permission matrix: one row per root operation (every query, mutation and subscription) and per object field
with a declared reader (`permission_classes`), saying which callers get through: anonymous, a partner API key, and
a user of each role, with "owner" (owns world.umkm and world.product) apart from "other_owner" where ownership
decides. A guard walks the schema (and the app's HTTP routes) so that a new operation, field or route without a row
fails, and so does a row for something that is gone. Every row runs for every caller.

Conventions: anonymous on a guarded field → UNAUTHENTICATED; a signed-in caller of the wrong role (or a partner key)
→ FORBIDDEN; both as GraphQL errors with HTTP 200, the field null, writing nothing. A caller the field lets in but
whose row it is not gets what the resolver answers (FORBIDDEN, or NOT_FOUND in the payload for an order it may not
see), writing nothing either. Then: the personal fields of a UMKM; the status history; who sees unverified,
suspended and archived rows in lists and through `node`; users, API keys and `me`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import strawberry
from graphql import GraphQLObjectType, GraphQLSchema
from httpx_ws import aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from starlette.routing import Route, WebSocketRoute
from tortoise import Tortoise

from models.accounts import ApiKey
from models.base import UmkmStatus
from models.catalog import Product
from models.outbox import DeliveryStatus, OutboxEvent, Webhook, WebhookDelivery
from models.registry import Umkm
from schema import schema
from schema.permissions import ADMIN_ONLY, IsAuthenticated
from tests.conftest import PASSWORD, REFERENCE_TABLES, World, error_codes, gid

ROLES = ("anonymous", "partner", "admin", "analyst", "buyer", "treasurer", "employee", "owner", "other_owner")
CALLERS = ROLES
USERS = ROLES[2:]  # signed-in people
EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}  # a user or a partner key
PEOPLE = frozenset(USERS)
ADMIN = frozenset({"admin"})
ADMIN_OR_OWNER = frozenset({"admin", "owner"})  # "owner" owns world.umkm and world.product; other_owner does not
READERS = frozenset({"admin", "analyst"})
ADMIN_OR_PARTNER = frozenset({"admin", "partner"})
ACCESS_CODES = ("UNAUTHENTICATED", "FORBIDDEN")
JAKARTA = ZoneInfo("Asia/Jakarta")
SOON = (dt.datetime.now(JAKARTA).date() + dt.timedelta(days=10)).isoformat()
LAST_MONTH = (dt.datetime.now(JAKARTA).date().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")


def token(world: World, role: str) -> str | None:
    return None if role == "anonymous" else world.tokens[role]


async def snapshot() -> dict[str, list[dict]]:
    """Every row the app may write (bookkeeping such as `last_used_at` aside): a refused call must change none."""
    out = {}
    for model in Tortoise.apps.get_models_iterable():
        table = model._meta.db_table
        if table in REFERENCE_TABLES:
            continue
        rows = await model.all().order_by("id").values()
        out[table] = [{k: v for k, v in r.items() if k != "last_used_at"} for r in rows]
    return out


def _m(name: str, input_type: str | None, selection: str = "") -> str:
    if input_type is None:
        return f"mutation {{ {name} {{ {selection} errors {{ field code message }} }} }}"
    return (
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {selection} errors {{ field code message }} }} }}"
    )


# ---------------------------------------------------------------- valid inputs (the ownership tests reuse them)


def register_input(w: World, caller: str = "anonymous") -> dict:
    n = CALLERS.index(caller)
    return {
        "name": "Sepatu Tanggulangin",
        "nib": f"357800000000{n}",
        "ownerName": "Bu Sri",
        "phone": "081233344455",
        "address": "Jl. Kenjeran 5",
        "kelurahanId": gid("Kelurahan", w.kelurahan.id),
        "email": f"sri.baru{n}@test.id" if n else "sri.baru@test.id",  # used only by an anonymous sign-up
        "password": PASSWORD,
    }


def product_input(w: World) -> dict:
    return {
        "umkmId": gid("Umkm", w.umkm.id),
        "categoryId": gid("Category", w.batik.id),
        "name": "Selendang batik",
        "unit": "potong",
        "price": 250_000,
    }


async def partner_key_id(w: World) -> str:
    key = await ApiKey.get(prefix=w.partner_key[: len("pk_") + 8])  # pk_<8 hex>_<secret>
    return gid("ApiKey", key.id)


LOGOUT = _m("logout", None, "ok")
REGISTER_UMKM = _m("registerUmkm", "RegisterUmkmInput", "token umkm { name status }")
UPDATE_UMKM = _m("updateUmkm", "UpdateUmkmInput", "umkm { description }")
VERIFY_UMKM = _m("verifyUmkm", "VerifyUmkmInput", "umkm { status }")
CREATE_CATEGORY = _m("createCategory", "CreateCategoryInput", "category { slug }")
REVOKE_API_KEY = _m("revokeApiKey", "RevokeApiKeyInput", "apiKey { revokedAt }")
CREATE_PRODUCT = _m("createProduct", "CreateProductInput", "product { name }")
UPDATE_PRODUCT = _m("updateProduct", "UpdateProductInput", "product { price }")
ARCHIVE_PRODUCT = _m("archiveProduct", "ArchiveProductInput", "product { active }")
PLACE_ORDER = _m("placeOrder", "PlaceOrderInput", "orders { id }")
PLAN_BULK_ORDER = _m("planBulkOrder", "PlanBulkOrderInput", "plan { id }")


# ---------------------------------------------------------------- the matrix

Vars = Callable[[World, dict, str], dict]  # (world, what the row's setup made, caller) -> variables


def _input(make: Callable[[World, dict, str], dict]) -> Vars:
    return lambda w, made, caller: {"input": make(w, made, caller)}


def _order_input(**extra: Any) -> Vars:
    return _input(lambda w, made, caller: {"id": made["order"], **extra})


@dataclass(frozen=True)
class Row:
    """Who gets through one field. `refused` names the answer where it is not the usual one (UNAUTHENTICATED for
    anonymous, FORBIDDEN for the rest), including callers the field lets in whose row it is not: then the code is
    the resolver's (FORBIDDEN, or a payload error code such as NOT_FOUND)."""

    allowed: frozenset[str]
    doc: str = ""
    variables: Vars | None = None
    refused: Mapping[str, str] = field(default_factory=dict)
    setup: str | None = None  # "order": an OPD order of world.product by the buyer; "plan": the buyer's bulk plan
    succeeds: bool = False  # every allowed caller's call also goes through without payload errors

    def code_for(self, caller: str) -> str:
        return self.refused.get(caller, "UNAUTHENTICATED" if caller == "anonymous" else "FORBIDDEN")


NOT_THEIR_ORDER = "NOT_FOUND"  # an order the caller may not see is, to them, no order at all
_ORDER_ID = _order_input()


def _umkm_var(w: World, made: dict, caller: str) -> dict:
    return {"id": gid("Umkm", w.umkm.id)}


def _category_var(w: World, made: dict, caller: str) -> dict:
    return {"c": gid("Category", w.batik.id), "u": gid("Umkm", w.umkm.id)}


def _period_var(w: World, made: dict, caller: str) -> dict:
    return {"p": LAST_MONTH, "u": gid("Umkm", w.umkm.id)}


def _opd_var(w: World, made: dict, caller: str) -> dict:
    return {"id": gid("Opd", w.opd.id)}


ROWS: dict[str, Row] = {
    # ------------------------------------------------ queries
    "Query.me": Row(EVERYONE, "{ me { id } }"),
    "Query.users": Row(ADMIN, "{ users { totalCount } }"),
    "Query.apiKeys": Row(ADMIN, "{ apiKeys { totalCount } }"),
    "Query.signInFailures": Row(ADMIN, "{ signInFailures { totalCount } }"),
    "Query.trustedDocuments": Row(ADMIN, "{ trustedDocuments { totalCount } }"),
    "Query.kecamatans": Row(EVERYONE, "{ kecamatans { id } }"),
    "Query.categories": Row(EVERYONE, "{ categories { id } }"),
    "Query.umkms": Row(EVERYONE, "{ umkms { totalCount } }"),
    "Query.opds": Row(EVERYONE, "{ opds { totalCount } }"),
    "Query.products": Row(EVERYONE, "{ products { totalCount } }"),
    "Query.orders": Row(PEOPLE, "{ orders { totalCount } }"),
    "Query.order": Row(  # visibility, not a role: null for an order the caller may not see
        EVERYONE, "query($id: ID!) { order(id: $id) { id } }", lambda w, made, c: {"id": made["order"]}, setup="order"
    ),
    "Query.omzetReports": Row(
        frozenset({"admin", "analyst", "owner", "other_owner"}), "{ omzetReports { totalCount } }"
    ),
    "Query.omzetDraft": Row(
        ADMIN_OR_OWNER,
        "query($u: ID!, $p: String!) { omzetDraft(umkmId: $u, period: $p) { period } }",
        _period_var,
        refused={"other_owner": "FORBIDDEN"},  # an owner, of another UMKM
    ),
    "Query.omzetCompliance": Row(
        READERS, "query($p: String!) { omzetCompliance(period: $p) { expected } }", _period_var
    ),
    "Query.omzetSummary": Row(
        SIGNED_IN,
        "query($p: String!) { omzetSummary(periodFrom: $p, periodTo: $p, groupBy: KECAMATAN) { key } }",
        _period_var,
    ),
    "Query.lowIncomeUmkm": Row(
        READERS, "query($p: String!) { lowIncomeUmkm(period: $p, threshold: 1000000) { totalCount } }", _period_var
    ),
    "Query.lowIncomeByKecamatan": Row(
        READERS,
        "query($p: String!) { lowIncomeByKecamatan(period: $p, threshold: 1000000) { lowIncome } }",
        _period_var,
    ),
    "Query.underSoldUmkm": Row(
        SIGNED_IN, "query($c: ID!) { underSoldUmkm(categoryId: $c) { totalCount } }", _category_var
    ),
    "Query.fairnessCheck": Row(
        SIGNED_IN, "query($c: ID!, $u: ID!) { fairnessCheck(categoryId: $c, umkmId: $u) { eligible } }", _category_var
    ),
    "Query.fairnessDaySecret": Row(SIGNED_IN, 'query { fairnessDaySecret(day: "2026-01-01") }'),
    "Query.myFairness": Row(frozenset({"owner", "other_owner"}), "query { myFairness { eligible } }"),
    "Query.umkmClusters": Row(ADMIN, "{ umkmClusters { totalCount edges { node { size members { held } } } } }"),
    "Query.umkmClusterDecisions": Row(ADMIN, "{ umkmClusterDecisions { totalCount } }"),
    "Query.umkmFairness": Row(ADMIN, "query($u: ID!) { umkmFairness(umkmId: $u) { eligible } }", _category_var),
    "Query.equityReport": Row(
        SIGNED_IN,
        'query($c: ID!) { equityReport(categoryId: $c, periodFrom: "2026-01-01", periodTo: "2026-01-31") { members } }',
        _category_var,
    ),
    "Query.equityByCategory": Row(
        SIGNED_IN, '{ equityByCategory(periodFrom: "2026-01-01", periodTo: "2026-01-31") { report { members } } }'
    ),
    "Query.umkmSalesRanking": Row(
        SIGNED_IN,
        "query($c: ID!) { umkmSalesRanking(categoryId: $c, periodFrom: "
        '"2026-01-01", periodTo: "2026-01-31") { totalCount } }',
        _category_var,
    ),
    "Query.opdSpending": Row(SIGNED_IN, "{ opdSpending(year: 2026) { year } }"),
    "Query.bulkPlan": Row(  # visibility: null unless the plan's OPD's buyer or treasurer, an admin or analyst
        EVERYONE, "query($id: ID!) { bulkPlan(id: $id) { id } }", lambda w, made, c: {"id": made["plan"]}, setup="plan"
    ),
    "Query.node": Row(EVERYONE, "query($id: ID!) { node(id: $id) { id } }", _umkm_var),
    "Query.webhooks": Row(ADMIN_OR_PARTNER, "{ webhooks { totalCount } }"),  # a key: its own endpoints
    "Query.webhookDeliveries": Row(ADMIN_OR_PARTNER, "{ webhookDeliveries { totalCount } }"),
    # ------------------------------------------------ mutations
    "Mutation.login": Row(  # the bearer header plays no part: the credentials decide
        EVERYONE,
        _m("login", "LoginInput", "token"),
        _input(lambda w, made, c: {"email": w.users["buyer"].email, "password": PASSWORD}),
        succeeds=True,
    ),
    "Mutation.logout": Row(
        PEOPLE, LOGOUT, refused={"partner": "UNAUTHENTICATED"}, succeeds=True
    ),  # a partner key is not a person
    "Mutation.createUser": Row(
        ADMIN,
        _m("createUser", "CreateUserInput", "user { email }"),
        _input(
            lambda w, made, c: {
                "email": "asn.baru@test.id",
                "password": PASSWORD,
                "fullName": "ASN Baru",
                "role": "EMPLOYEE",
                "opdId": gid("Opd", w.opd.id),
            }
        ),
        succeeds=True,
    ),
    "Mutation.createApiKey": Row(
        ADMIN,
        _m("createApiKey", "CreateApiKeyInput", "secret"),
        _input(lambda w, m, c: {"name": "Mitra"}),
        succeeds=True,
    ),
    "Mutation.revokeApiKey": Row(
        ADMIN, REVOKE_API_KEY, _input(lambda w, made, c: {"id": made["key"]}), setup="key", succeeds=True
    ),
    "Mutation.setApiKeyScopes": Row(
        ADMIN,
        _m("setApiKeyScopes", "SetApiKeyScopesInput", "apiKey { scopes }"),
        _input(lambda w, made, c: {"id": made["key"], "scopes": ["catalog:read", "orders:read"]}),
        setup="key",
        succeeds=True,
    ),
    "Mutation.createWebhook": Row(
        ADMIN,
        _m("createWebhook", "CreateWebhookInput", "secret"),
        _input(
            lambda w, made, c: {
                "apiKeyId": made["key"],
                "url": "https://mitra.test/pasar",
                "eventTypes": ["umkm.verified"],
            }
        ),
        setup="webhook",
        succeeds=True,
    ),
    "Mutation.updateWebhook": Row(
        ADMIN,
        _m("updateWebhook", "UpdateWebhookInput", "webhook { active }"),
        _input(lambda w, made, c: {"id": made["webhook"], "active": False}),
        setup="webhook",
        succeeds=True,
    ),
    "Mutation.redeliverWebhook": Row(  # the key owning the endpoint redelivers first; the admin then finds it pending
        ADMIN_OR_PARTNER,
        _m("redeliverWebhook", "RedeliverWebhookInput", "delivery { status }"),
        _input(lambda w, made, c: {"deliveryId": made["delivery"]}),
        setup="webhook",
    ),
    "Mutation.setEmailNotifications": Row(
        PEOPLE,
        _m("setEmailNotifications", "SetEmailNotificationsInput", "enabled"),
        _input(lambda w, made, c: {"enabled": False}),
        refused={"partner": "UNAUTHENTICATED"},  # a partner key is not a person
        succeeds=True,
    ),
    "Mutation.advanceTestClock": Row(  # the suite's app is not in test mode: the admin's call is TEST_CLOCK_OFF
        ADMIN, _m("advanceTestClock", "AdvanceTestClockInput", "now"), _input(lambda w, made, c: {"hours": 1})
    ),
    "Mutation.registerTrustedDocument": Row(
        ADMIN,
        _m("registerTrustedDocument", "RegisterTrustedDocumentInput", "document { documentId }"),
        _input(lambda w, made, c: {"document": "{ kecamatans { code } }"}),
        succeeds=True,
    ),
    "Mutation.removeTrustedDocument": Row(  # no such document: the admin's payload error is NOT_FOUND
        ADMIN,
        _m("removeTrustedDocument", "RemoveTrustedDocumentInput", "removed"),
        _input(lambda w, made, c: {"documentId": "sha256:" + "0" * 64}),
    ),
    "Mutation.registerUmkm": Row(
        frozenset({"anonymous", "owner", "other_owner"}),
        REGISTER_UMKM,
        _input(lambda w, made, c: register_input(w, c)),
        refused={"partner": "FORBIDDEN"},
        succeeds=True,
    ),
    "Mutation.updateUmkm": Row(
        ADMIN_OR_OWNER,
        UPDATE_UMKM,
        _input(lambda w, made, c: {"id": gid("Umkm", w.umkm.id), "description": "Batik tulis sejak 1980"}),
        refused={"other_owner": "FORBIDDEN"},  # not their UMKM
        succeeds=True,
    ),
    **{
        f"Mutation.{name}": Row(
            ADMIN,
            _m(name, "UmkmClusterInput", "umkm { id }"),
            _input(lambda w, made, c: {"umkmId": gid("Umkm", w.umkm.id), "reason": "Satu pelaku usaha"}),
            succeeds=True,
        )
        for name in ("joinUmkmCluster", "splitUmkmCluster")
    },
    "Mutation.verifyUmkm": Row(
        ADMIN,
        VERIFY_UMKM,
        _input(lambda w, made, c: {"id": gid("Umkm", w.pending_umkm.id), "decision": "APPROVE"}),
        succeeds=True,
    ),
    "Mutation.createOpd": Row(
        ADMIN,
        _m("createOpd", "CreateOpdInput", "opd { code }"),
        _input(
            lambda w, made, c: {
                "code": "BAPPEDA",
                "name": "Badan Perencanaan",
                "kind": "BADAN",
                "kecamatanId": gid("Kecamatan", w.kecamatan.id),
            }
        ),
        succeeds=True,
    ),
    "Mutation.updateOpd": Row(
        ADMIN,
        _m("updateOpd", "UpdateOpdInput", "opd { name }"),
        _input(lambda w, made, c: {"id": gid("Opd", w.opd.id), "name": "Dinas Pendidikan Kota"}),
        succeeds=True,
    ),
    "Mutation.setOpdBudget": Row(
        ADMIN,
        _m("setOpdBudget", "SetOpdBudgetInput", "budget { year }"),
        _input(lambda w, made, c: {"opdId": gid("Opd", w.opd.id), "year": 2026, "amount": 5_000_000_000}),
        succeeds=True,
    ),
    "Mutation.createCategory": Row(
        ADMIN, CREATE_CATEGORY, _input(lambda w, made, c: {"name": "Sepatu"}), succeeds=True
    ),
    "Mutation.updateCategory": Row(
        ADMIN,
        _m("updateCategory", "UpdateCategoryInput", "category { description }"),
        _input(lambda w, made, c: {"id": gid("Category", w.batik.id), "description": "Kain dan pakaian batik"}),
        succeeds=True,
    ),
    "Mutation.createProduct": Row(
        ADMIN_OR_OWNER,
        CREATE_PRODUCT,
        _input(lambda w, made, c: product_input(w)),
        refused={"other_owner": "FORBIDDEN"},
        succeeds=True,
    ),
    "Mutation.updateProduct": Row(
        ADMIN_OR_OWNER,
        UPDATE_PRODUCT,
        _input(lambda w, made, c: {"id": gid("Product", w.product.id), "price": 160_000}),
        refused={"other_owner": "FORBIDDEN"},
        succeeds=True,
    ),
    "Mutation.archiveProduct": Row(  # the admin archives it first: the owner is then told it is archived already
        ADMIN_OR_OWNER,
        ARCHIVE_PRODUCT,
        _input(lambda w, made, c: {"id": gid("Product", w.product.id)}),
        refused={"other_owner": "FORBIDDEN"},
    ),
    "Mutation.placeOrder": Row(
        frozenset({"buyer", "employee"}),  # the buyer for their OPD, an employee personally
        PLACE_ORDER,
        _input(
            lambda w, made, c: {
                "items": [{"productId": gid("Product", w.product.id), "quantity": 2}],
                "neededBy": SOON,
                "deliveryAddress": "Jl. Jimerto 25",
            }
        ),
        succeeds=True,
    ),
    "Mutation.acceptOrder": Row(
        frozenset({"owner"}),
        _m("acceptOrder", "OrderIdInput"),
        _ORDER_ID,
        refused={"other_owner": NOT_THEIR_ORDER},
        setup="order",
        succeeds=True,
    ),
    "Mutation.rejectOrder": Row(
        frozenset({"owner"}),
        _m("rejectOrder", "OrderReasonInput"),
        _order_input(reason="Stok habis"),
        refused={"other_owner": NOT_THEIR_ORDER},
        setup="order",
        succeeds=True,
    ),
    "Mutation.shipOrder": Row(  # allowed, but the order is not ACCEPTED yet: a payload error
        frozenset({"owner"}), _m("shipOrder", "OrderIdInput"), _ORDER_ID, {"other_owner": NOT_THEIR_ORDER}, "order"
    ),
    "Mutation.confirmDelivery": Row(
        frozenset({"buyer"}),
        _m("confirmDelivery", "ConfirmDeliveryInput"),
        _order_input(receivedBy="Bu Sri"),
        refused={"employee": NOT_THEIR_ORDER},  # an employee sees their personal orders only
        setup="order",
    ),
    "Mutation.recordPayment": Row(
        frozenset({"treasurer"}),
        _m("recordPayment", "RecordPaymentInput"),
        _order_input(amount=300_000, reference="SP2D/1"),
        refused={"employee": NOT_THEIR_ORDER},
        setup="order",
    ),
    "Mutation.cancelOrder": Row(
        frozenset({"buyer", "admin"}),
        _m("cancelOrder", "OrderReasonInput"),
        _order_input(reason="Tidak jadi"),
        refused={"employee": NOT_THEIR_ORDER},
        setup="order",
    ),
    "Mutation.rateOrder": Row(
        frozenset({"buyer"}),
        _m("rateOrder", "RateOrderInput"),
        _order_input(score=5),
        refused={"employee": NOT_THEIR_ORDER},
        setup="order",
    ),
    "Mutation.submitOmzetReport": Row(  # allowed; the UMKM is younger than any finished month: a payload error
        ADMIN_OR_OWNER,
        _m("submitOmzetReport", "SubmitOmzetReportInput"),
        _input(lambda w, made, c: {"umkmId": gid("Umkm", w.umkm.id), "period": LAST_MONTH, "offlineAmount": 1}),
        refused={"other_owner": "FORBIDDEN"},
    ),
    "Mutation.planBulkOrder": Row(
        frozenset({"buyer"}),
        PLAN_BULK_ORDER,
        _input(
            lambda w, made, c: {
                "categoryId": gid("Category", w.batik.id),
                "quantity": 40,
                "minLot": 1,
                "neededBy": SOON,
                "deliveryAddress": "Jl. Jimerto 25",
            }
        ),
        succeeds=True,
    ),
    "Mutation.placeBulkOrder": Row(
        frozenset({"buyer"}),
        _m("placeBulkOrder", "PlaceBulkOrderInput", "orders { id }"),
        _input(lambda w, made, c: {"planId": made["plan"]}),
        setup="plan",
        succeeds=True,
    ),
    # ------------------------------------------------ subscriptions (over WebSocket, the token in connection_init)
    "Subscription.orderEvents": Row(PEOPLE, "subscription { orderEvents { orderId } }"),
    # ------------------------------------------------ object fields: of world.umkm, owned by "owner"
    **{
        f"Umkm.{name}": Row(
            ADMIN_OR_OWNER,
            f"query($id: ID!) {{ node(id: $id) {{ ... on Umkm {{ {name} }} }} }}",
            _umkm_var,
            refused={"anonymous": "FORBIDDEN"},  # a row rule: no sign-in asked first
        )
        for name in ("ownerName", "phone", "bankName", "bankAccount", "bankAccountName")
    },
    **{
        f"Umkm.{name}": Row(  # decided by the resolver (its owner, admins, analysts): no declared reader
            frozenset({"admin", "analyst", "owner"}),
            f"query($id: ID!) {{ node(id: $id) {{ ... on Umkm {{ {selection} }} }} }}",
            _umkm_var,
            refused={"anonymous": "FORBIDDEN"},
        )
        for name, selection in (("statusHistory", "statusHistory { toStatus }"), ("omzetStreak", "omzetStreak"))
    },
    "Umkm.ownerNikLast4": Row(
        ADMIN,
        "query($id: ID!) { node(id: $id) { ... on Umkm { ownerNikLast4 } } }",
        _umkm_var,
    ),
    "Opd.purchaseCategories": Row(
        SIGNED_IN, "query($id: ID!) { node(id: $id) { ... on Opd { purchaseCategories { spend } } } }", _opd_var
    ),
}


# ---------------------------------------------------------------- the guard: the rows and the schema agree


def _object_types(gql_schema: GraphQLSchema) -> Iterable[GraphQLObjectType]:
    return (t for name, t in gql_schema.type_map.items() if isinstance(t, GraphQLObjectType) and name[:2] != "__")


def needs_a_row(gql_schema: GraphQLSchema) -> set[str]:
    """Every root operation, and every object field that declares who may read it."""
    roots = {t.name for t in (gql_schema.query_type, gql_schema.mutation_type, gql_schema.subscription_type) if t}
    out = set()
    for t in _object_types(gql_schema):
        for name, f in t.fields.items():
            definition = f.extensions.get("strawberry-definition")
            if t.name in roots or (definition is not None and definition.permission_classes):
                out.add(f"{t.name}.{name}")
    return out


def matrix_problems(rows: Iterable[str], gql_schema: GraphQLSchema) -> list[str]:
    """What is wrong with the rows for this schema: fields without a row, rows for fields that do not exist."""
    rows = set(rows)
    existing = {f"{t.name}.{name}" for t in _object_types(gql_schema) for name in t.fields}
    return [f"no row for {k}" for k in sorted(needs_a_row(gql_schema) - rows)] + [
        f"row for a field that does not exist: {k}" for k in sorted(rows - existing)
    ]


def test_every_operation_and_guarded_field_has_exactly_one_row():
    assert matrix_problems(ROWS, schema._schema) == []
    assert len([k for k in ROWS if k.startswith("Mutation.")]) == len(schema._schema.mutation_type.fields)


@strawberry.type(name="Thing")
class _Thing:
    plain: int = 1

    @strawberry.field(permission_classes=ADMIN_ONLY)
    def secret(self) -> int:
        return 2


@strawberry.type(name="Query")
class _GrownQuery:
    @strawberry.field
    def thing(self) -> _Thing:
        return _Thing()


@strawberry.type(name="Mutation")
class _GrownMutation:
    @strawberry.mutation(permission_classes=[IsAuthenticated])
    def launch(self) -> int:
        return 3


def test_the_guard_fails_for_a_missing_row_a_new_field_and_a_row_for_nothing():
    assert matrix_problems(set(ROWS) - {"Mutation.placeOrder"}, schema._schema) == ["no row for Mutation.placeOrder"]
    assert matrix_problems(set(ROWS) - {"Umkm.phone"}, schema._schema) == ["no row for Umkm.phone"]
    assert matrix_problems({*ROWS, "Mutation.launchRocket"}, schema._schema) == [
        "row for a field that does not exist: Mutation.launchRocket"
    ]

    # a schema that grew a mutation and a guarded object field, and kept an unguarded one
    grown = strawberry.Schema(query=_GrownQuery, mutation=_GrownMutation)._schema
    assert needs_a_row(grown) == {"Query.thing", "Mutation.launch", "Thing.secret"}
    assert matrix_problems({"Query.thing"}, grown) == ["no row for Mutation.launch", "no row for Thing.secret"]
    assert matrix_problems({"Query.thing", "Mutation.launch", "Thing.secret", "Thing.plain"}, grown) == []


# ---------------------------------------------------------------- the matrix, run


async def _setup(kind: str | None, gql, w: World) -> dict:
    if kind == "order":
        body = await gql(
            PLACE_ORDER,
            {
                "input": {
                    "items": [{"productId": gid("Product", w.product.id), "quantity": 2}],
                    "neededBy": SOON,
                    "deliveryAddress": "Jl. Jimerto 25",
                }
            },
            w.tokens["buyer"],
        )
        assert body["data"]["placeOrder"]["errors"] == [], body
        return {"order": body["data"]["placeOrder"]["orders"][0]["id"]}
    if kind == "plan":
        variables = ROWS["Mutation.planBulkOrder"].variables(w, {}, "buyer")
        body = await gql(PLAN_BULK_ORDER, variables, w.tokens["buyer"])
        assert body["data"]["planBulkOrder"]["errors"] == [], body
        return {"plan": body["data"]["planBulkOrder"]["plan"]["id"]}
    if kind == "key":
        return {"key": await partner_key_id(w)}
    if kind == "webhook":  # the partner key may hear umkm.verified; one endpoint with a dead delivery
        key = await ApiKey.get(prefix=w.partner_key[: len("pk_") + 8])
        key.scopes = [*key.scopes, "umkm:read"]
        await key.save(update_fields=["scopes"])
        hook = await Webhook.create(
            api_key_id=key.id, url="https://mitra.test/pasar", event_types=["umkm.verified"], salt="s"
        )
        now = dt.datetime.now(dt.UTC)
        event = await OutboxEvent.create(
            topic="umkm.verified", aggregate="umkm:1", payload={}, created_at=now, fanned_out_at=now
        )
        delivery = await WebhookDelivery.create(
            event_id=event.id, webhook_id=hook.id, aggregate="umkm:1", topic="umkm.verified", body="{}",
            status=DeliveryStatus.DEAD, created_at=now, finished_at=now,
        )  # fmt: skip
        return {
            "key": gid("ApiKey", key.id),
            "webhook": gid("Webhook", hook.id),
            "delivery": gid("WebhookDelivery", delivery.id),
        }
    return {}


def _callers(row: Row) -> list[str]:
    """Refused callers first: each must leave the world as it found it for the next."""
    return [c for c in CALLERS if c not in row.allowed] + [c for c in CALLERS if c in row.allowed]


@pytest.mark.parametrize("name", [k for k in ROWS if not k.startswith("Subscription.")])
async def test_each_caller_gets_what_the_row_says(gql, world, name):
    row = ROWS[name]
    field_name = name.split(".")[1]
    is_mutation = name.startswith("Mutation.")
    made = await _setup(row.setup, gql, world)
    for caller in _callers(row):
        variables = row.variables(world, made, caller) if row.variables else {}
        before = await snapshot() if is_mutation and caller not in row.allowed else None
        r = await gql.raw(row.doc, variables, token(world, caller))
        assert r.status_code == 200, (caller, r.text)
        body = r.json()
        if caller in row.allowed:
            assert "errors" not in body, (caller, body)
            if row.succeeds:
                assert body["data"][field_name]["errors"] == [], (caller, body)
            continue
        code = row.code_for(caller)
        if code in ACCESS_CODES:
            assert error_codes(body) == [code], (caller, body)
            assert body["errors"][0]["path"][-1] == field_name, (caller, body)
            if name.startswith(("Query.", "Mutation.")):
                assert body["data"] is None or body["data"][field_name] is None, (caller, body)
        else:  # let in by the field, turned away by the resolver: not their row
            assert "errors" not in body, (caller, body)
            assert [e["code"] for e in body["data"][field_name]["errors"]] == [code], (caller, body)
        if before is not None:
            assert await snapshot() == before, f"refused {name} by {caller} changed the database"


async def test_each_caller_gets_what_the_row_says_for_subscriptions(app, world):
    """Over WebSocket at /graphql: a refused subscription answers with its code at once; an allowed one stays
    open and quiet."""
    for name in (k for k in ROWS if k.startswith("Subscription.")):
        row = ROWS[name]
        for caller in CALLERS:
            async with (
                httpx.AsyncClient(transport=ASGIWebSocketTransport(app=app), base_url="http://test") as client,
                aconnect_ws("http://test/graphql", client, subprotocols=["graphql-transport-ws"]) as ws,
            ):
                tok = token(world, caller)
                await ws.send_json({"type": "connection_init", "payload": {"token": tok} if tok else {}})
                assert (await asyncio.wait_for(ws.receive_json(), 5))["type"] == "connection_ack"
                await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": row.doc}})
                if caller in row.allowed:
                    with pytest.raises(TimeoutError):
                        msg = await asyncio.wait_for(ws.receive_json(), 0.3)
                        pytest.fail(f"{caller}: expected a quiet subscription, got {msg}")
                    continue
                msg = await asyncio.wait_for(ws.receive_json(), 5)
                errors = msg["payload"] if msg["type"] == "error" else msg["payload"].get("errors") or []
                codes = [e.get("extensions", {}).get("code") for e in errors]
                assert codes == [row.code_for(caller)], (caller, msg)


# ---------------------------------------------------------------- HTTP routes join the guard

PUBLIC = "public"  # no credentials asked
PER_FIELD = "per field"  # anyone may connect; each field's row decides
PER_DOWNLOAD = "per download"  # the GraphQL field's row of each download (tests/test_exports.py compares them)
ROUTES = {
    ("GET", "/"): PUBLIC,  # a redirect to /graphql
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/graphql"): PER_FIELD,  # GraphiQL, or a query in the URL
    ("POST", "/graphql"): PER_FIELD,
    ("WEBSOCKET", "/graphql"): PER_FIELD,  # subscriptions: the token in connection_init
    ("GET", "/ekspor/{report}.{fmt}"): PER_DOWNLOAD,  # CSV / XLSX of equityReport, umkmSalesRanking, opdSpending, …
    ("GET", "/ocds/releases"): PUBLIC,  # open data: OPD orders, public facts only (docs/PRIVACY.md)
    ("GET", "/dasbor"): PUBLIC,  # the dashboard's static page: its figures come through /graphql, signed in
    ("Mount", "/dasbor/static"): PUBLIC,  # the page's script, styles, documents, chart library (no data)
    ("Mount", "/static/graphiql"): PUBLIC,  # GraphiQL's files (scripts, styles, licences), while PASAR_GRAPHIQL is on
}


def app_routes(app) -> set[tuple[str, str]]:
    out = set()
    for route in app.routes:
        if isinstance(route, WebSocketRoute):
            out.add(("WEBSOCKET", route.path))
        elif isinstance(route, Route):
            out |= {(m, route.path) for m in route.methods or () if m != "HEAD"}
        else:
            out.add((type(route).__name__, getattr(route, "path", "?")))  # a Mount or anything new: needs a row
    return out


def route_problems(table: Mapping[tuple[str, str], str], routes: set[tuple[str, str]]) -> list[str]:
    return [f"no row for route {m} {p}" for m, p in sorted(routes - set(table))] + [
        f"row for a route that does not exist: {m} {p}" for m, p in sorted(set(table) - routes)
    ]


def test_every_http_route_has_a_row(app):
    assert route_problems(ROUTES, app_routes(app)) == []
    assert route_problems(ROUTES, app_routes(app) | {("POST", "/admin")}) == ["no row for route POST /admin"]
    assert route_problems({k: v for k, v in ROUTES.items() if k != ("GET", "/healthz")}, app_routes(app)) == [
        "no row for route GET /healthz"
    ]


async def test_http_routes_answer_anonymous_callers_as_their_rows_say(http, gql, world):
    from tests.test_analytics import buy

    await buy(gql, world, world.product, 1)  # an OPD order, so that the open data has a release to answer with
    for (method, path), rule in ROUTES.items():
        if method == "WEBSOCKET":
            continue  # the subscription rows above run over it
        if method == "Mount":  # static files: one of them, read anonymously (the dashboard's: tests/test_dasbor.py)
            if path != "/static/graphiql":
                continue
            method, path = "GET", f"{path}/graphiql.min.css"
        if rule == PER_DOWNLOAD:  # as the field: `orders` asks for a caller, `opdSpending` too
            for download in ("/ekspor/orders.csv", "/ekspor/opd-spending.xlsx?year=2026"):
                r = await http.get(download)
                assert r.status_code == 401 and error_codes(r.json()) == ["UNAUTHENTICATED"], (download, r.text)
            continue
        if method == "POST":
            r = await http.post(path, json={"query": "{ __typename me { id } }"})
        else:
            params = {"query": "{ __typename }"} if path == "/graphql" else None
            r = await http.request(method, path, params=params, headers={"accept": "application/json"})
        assert r.status_code in (200, 307), (method, path, r.status_code)
        if rule == PER_FIELD:
            assert r.json()["data"]["__typename"] == "Query", (method, path, r.text)
    # and the fields behind a per-field route keep their rows: the same anonymous POST reaching a guarded field
    r = await http.post("/graphql", json={"query": "{ users { totalCount } }"})
    assert error_codes(r.json()) == ["UNAUTHENTICATED"]


# ---------------------------------------------------------------- ownership


async def test_owner_cannot_edit_another_umkm(gql, world):
    body = await gql(
        UPDATE_UMKM,
        {"input": {"id": gid("Umkm", world.other_umkm.id), "name": "Dibajak", "bankAccount": "9999999999"}},
        world.tokens["owner"],
    )
    assert body["data"] is None and error_codes(body) == ["FORBIDDEN"]
    row = await Umkm.get(id=world.other_umkm.id)
    assert (row.name, row.bank_account) == ("Batik Lain", "0011223344")


async def test_owner_cannot_edit_another_owners_suspended_or_pending_umkm(gql, world):
    for target in (world.suspended_umkm, world.pending_umkm):
        body = await gql(
            UPDATE_UMKM, {"input": {"id": gid("Umkm", target.id), "phone": "0800000000"}}, world.tokens["owner"]
        )
        assert error_codes(body) == ["FORBIDDEN"], body
        assert (await Umkm.get(id=target.id)).phone == "081234567890"


async def test_owner_cannot_edit_another_umkms_product(gql, world):
    body = await gql(
        UPDATE_PRODUCT,
        {"input": {"id": gid("Product", world.other_product.id), "price": 1, "name": "Murah sekali"}},
        world.tokens["owner"],
    )
    assert body["data"] is None and error_codes(body) == ["FORBIDDEN"]
    row = await Product.get(id=world.other_product.id)
    assert (row.price, row.name) == (200_000, "Kain batik cap")
    # and the other owner still reads its product unchanged through the API
    data = await gql.ok(
        "query($id: ID!) { node(id: $id) { ... on Product { name price } } }",
        {"id": gid("Product", world.other_product.id)},
        world.tokens["other_owner"],
    )
    assert data["node"] == {"name": "Kain batik cap", "price": 200_000}


async def test_owner_cannot_archive_another_umkms_product(gql, world):
    body = await gql(ARCHIVE_PRODUCT, {"input": {"id": gid("Product", world.other_product.id)}}, world.tokens["owner"])
    assert body["data"] is None and error_codes(body) == ["FORBIDDEN"]
    assert (await Product.get(id=world.other_product.id)).active is True


async def test_owner_cannot_list_a_product_under_another_umkm(gql, world):
    variables = {"input": product_input(world)}
    variables["input"]["umkmId"] = gid("Umkm", world.other_umkm.id)
    body = await gql(CREATE_PRODUCT, variables, world.tokens["owner"])
    assert body["data"] is None and error_codes(body) == ["FORBIDDEN"]
    assert not await Product.exists(name="Selendang batik")


async def test_owner_of_several_umkm_edits_each_of_them(gql, world):
    for target in (world.other_umkm, world.pending_umkm, world.suspended_umkm):
        data = await gql.ok(
            UPDATE_UMKM, {"input": {"id": gid("Umkm", target.id), "description": "baru"}}, world.tokens["other_owner"]
        )
        assert data["updateUmkm"]["errors"] == []
    assert await Umkm.filter(owner_id=world.users["other_owner"].id, description="baru").count() == 3


async def test_admin_edits_any_umkm_and_product_on_the_owners_behalf(gql, world):
    admin = world.tokens["admin"]
    data = await gql.ok(UPDATE_UMKM, {"input": {"id": gid("Umkm", world.other_umkm.id), "phone": "0311234567"}}, admin)
    assert data["updateUmkm"]["errors"] == []
    data = await gql.ok(
        UPDATE_PRODUCT, {"input": {"id": gid("Product", world.suspended_product.id), "price": 9}}, admin
    )
    assert data["updateProduct"] == {"product": {"price": 9}, "errors": []}
    assert (await Umkm.get(id=world.other_umkm.id)).phone == "0311234567"


async def test_owner_registering_another_umkm_owns_it_at_once(gql, world):
    variables = {"input": register_input(world)}
    doc = _m(
        "registerUmkm", "RegisterUmkmInput", "token umkm { id status phone bankAccount statusHistory { toStatus } }"
    )
    data = await gql.ok(doc, variables, world.tokens["owner"])
    payload = data["registerUmkm"]
    assert payload["token"] is None  # an existing account needs no new token
    assert payload["umkm"]["status"] == "PENDING"
    assert payload["umkm"]["phone"] == "081233344455"
    assert payload["umkm"]["statusHistory"] == [{"toStatus": "PENDING"}]
    # the next request already treats the new UMKM as the owner's
    data = await gql.ok(
        UPDATE_UMKM, {"input": {"id": payload["umkm"]["id"], "description": "Sepatu kulit"}}, world.tokens["owner"]
    )
    assert data["updateUmkm"]["errors"] == []
    body = await gql(
        UPDATE_UMKM, {"input": {"id": payload["umkm"]["id"], "description": "x"}}, world.tokens["other_owner"]
    )
    assert error_codes(body) == ["FORBIDDEN"]


async def test_anonymous_sign_up_gets_an_owner_token_that_sees_its_pending_umkm(gql, world):
    variables = {"input": register_input(world)}
    payload = (await gql.ok(REGISTER_UMKM, variables))["registerUmkm"]
    new_token = payload["token"]
    assert new_token and payload["umkm"]["status"] == "PENDING"
    data = await gql.ok(
        "{ me { role umkms { name phone status } } }",
        token=new_token,
    )
    assert data["me"] == {
        "role": "UMKM_OWNER",
        "umkms": [{"name": "Sepatu Tanggulangin", "phone": "081233344455", "status": "PENDING"}],
    }
    # and a buyer does not see it yet
    data = await gql.ok('{ umkms(filter: {search: "Tanggulangin"}) { totalCount } }', token=world.tokens["buyer"])
    assert data["umkms"]["totalCount"] == 0


# ---------------------------------------------------------------- personal fields of a UMKM

PERSONAL = ("phone", "ownerName", "bankName", "bankAccount", "bankAccountName")
UMKM_PERSONAL = "query($id: ID!) { node(id: $id) { ... on Umkm { name %s } } }" % " ".join(PERSONAL)  # noqa: UP031


@pytest.mark.parametrize("role", ROLES)
async def test_umkm_phone_and_bank_data_are_for_its_owner_and_admins_only(gql, world, role):
    body = await gql(UMKM_PERSONAL, {"id": gid("Umkm", world.umkm.id)}, token(world, role))
    node = body["data"]["node"]
    assert node["name"] == "Batik Kenongo"  # the public part is always there
    if role in ("owner", "admin"):
        assert "errors" not in body, body
        assert node == {
            "name": "Batik Kenongo",
            "phone": "081234567890",
            "ownerName": "Pak Batik Kenongo",
            "bankName": "Bank Jatim",
            "bankAccount": "0011223344",
            "bankAccountName": "Pak Batik Kenongo",
        }
    else:
        assert all(node[f] is None for f in PERSONAL), node
        assert error_codes(body) == ["FORBIDDEN"] * len(PERSONAL)
        assert sorted(e["path"][-1] for e in body["errors"]) == sorted(PERSONAL)


SELLERS = (
    "{ products(first: 100) { edges { node { name umkm { name kecamatan { name } " + " ".join(PERSONAL) + " } } } } }"
)


@pytest.mark.parametrize("role", ROLES)
async def test_the_sellers_in_a_product_listing_show_personal_data_to_their_owner_and_admins_only(gql, world, role):
    """The listing reads each seller in the same statement as its products; the field permissions hold all the same."""
    body = await gql(SELLERS, token=token(world, role))
    owned = {
        "admin": {"Batik Kenongo", "Batik Lain", "Ditangguhkan"},
        "owner": {"Batik Kenongo"},
        "other_owner": {"Batik Lain", "Ditangguhkan"},
    }.get(role, set())
    sellers = [e["node"]["umkm"] for e in body["data"]["products"]["edges"]]
    assert {u["name"] for u in sellers} >= {"Batik Kenongo", "Batik Lain"}
    assert all(u["kecamatan"]["name"] == world.kecamatan.name for u in sellers)
    for u in sellers:
        if u["name"] in owned:
            assert u["phone"] == "081234567890" and u["bankAccount"] == "0011223344", u
        else:
            assert all(u[f] is None for f in PERSONAL), u
    hidden = [u for u in sellers if u["name"] not in owned]
    assert error_codes(body) == ["FORBIDDEN"] * len(PERSONAL) * len(hidden)


async def test_partner_key_cannot_read_umkm_phone_or_bank_account(gql, world):
    doc = """{
      umkms { edges { node { name phone bankAccount } } }
      products { edges { node { name umkm { name bankAccount bankAccountName } } } }
    }"""
    body = await gql(doc, token=world.tokens["partner"])
    umkms = [e["node"] for e in body["data"]["umkms"]["edges"]]
    products = [e["node"] for e in body["data"]["products"]["edges"]]
    assert {u["name"] for u in umkms} == {"Batik Kenongo", "Batik Lain"}
    assert {p["name"] for p in products} == {"Kemeja batik tulis", "Kain batik cap"}
    assert all(u["phone"] is None and u["bankAccount"] is None for u in umkms)
    assert all(p["umkm"]["bankAccount"] is None and p["umkm"]["bankAccountName"] is None for p in products)
    assert set(error_codes(body)) == {"FORBIDDEN"} and len(body["errors"]) == 2 * 2 + 2 * 2
    assert "081234567890" not in str(body) and "0011223344" not in str(body)


async def test_other_owner_cannot_read_a_competitors_bank_account(gql, world):
    body = await gql(UMKM_PERSONAL, {"id": gid("Umkm", world.umkm.id)}, world.tokens["other_owner"])
    assert body["data"]["node"]["bankAccount"] is None
    assert set(error_codes(body)) == {"FORBIDDEN"}


@pytest.mark.parametrize("role", ROLES)
async def test_status_history_is_for_the_owner_admins_and_analysts(gql, world, role):
    doc = "query($id: ID!) { node(id: $id) { ... on Umkm { name statusHistory { toStatus note } } } }"
    body = await gql(doc, {"id": gid("Umkm", world.umkm.id)}, token(world, role))
    node = body["data"]["node"]
    assert node["name"] == "Batik Kenongo"
    if role in ("owner", "admin", "analyst"):
        assert "errors" not in body, body
        assert node["statusHistory"] == [{"toStatus": "VERIFIED", "note": "test"}]
    else:
        assert node["statusHistory"] is None
        assert error_codes(body) == ["FORBIDDEN"]
        assert body["errors"][0]["path"] == ["node", "statusHistory"]


# ---------------------------------------------------------------- unverified, suspended, archived

PUBLIC_UMKM = {"Batik Kenongo", "Batik Lain"}
HIDDEN_UMKM = {"Baru Daftar", "Ditangguhkan", "Ditolak"}  # pending, suspended, rejected: all other_owner's
PUBLIC_PRODUCTS = {"Kemeja batik tulis", "Kain batik cap"}
OWNERS_ARCHIVED = {"Batik lama"}  # owner's own, archived
OTHER_OWNERS_HIDDEN = {"Batik suspended", "Batik baru"}  # of the suspended and the pending UMKM
VISIBLE_UMKM = {
    "owner": PUBLIC_UMKM,
    "other_owner": PUBLIC_UMKM | HIDDEN_UMKM,
    "analyst": PUBLIC_UMKM | HIDDEN_UMKM,
    "admin": PUBLIC_UMKM | HIDDEN_UMKM,
}
VISIBLE_PRODUCTS = {
    "owner": PUBLIC_PRODUCTS | OWNERS_ARCHIVED,
    "other_owner": PUBLIC_PRODUCTS | OTHER_OWNERS_HIDDEN,
    "analyst": PUBLIC_PRODUCTS | OWNERS_ARCHIVED | OTHER_OWNERS_HIDDEN,
    "admin": PUBLIC_PRODUCTS | OWNERS_ARCHIVED | OTHER_OWNERS_HIDDEN,
}


@pytest.fixture
async def hidden_rows(world) -> dict[str, int]:
    """Rows only some may see, besides the world's pending and suspended UMKM and the suspended product."""
    rejected = await world.umkm_for(world.users["other_owner"], "Ditolak", UmkmStatus.REJECTED)
    archived = await world.product_for(world.umkm, "Batik lama", active=False)
    pending_product = await world.product_for(world.pending_umkm, "Batik baru")
    return {
        "Baru Daftar": gid("Umkm", world.pending_umkm.id),
        "Ditangguhkan": gid("Umkm", world.suspended_umkm.id),
        "Ditolak": gid("Umkm", rejected.id),
        "Batik suspended": gid("Product", world.suspended_product.id),
        "Batik lama": gid("Product", archived.id),
        "Batik baru": gid("Product", pending_product.id),
        "Batik Kenongo": gid("Umkm", world.umkm.id),
        "Kemeja batik tulis": gid("Product", world.product.id),
    }


@pytest.mark.parametrize("role", ROLES)
async def test_lists_show_unverified_suspended_and_archived_rows_only_to_owner_analyst_admin(
    gql, world, hidden_rows, role
):
    doc = """{
      umkms(first: 50) { totalCount edges { node { name } } }
      products(first: 50) { totalCount edges { node { name } } }
      suspended: umkms(filter: {status: SUSPENDED}) { totalCount }
    }"""
    data = await gql.ok(doc, token=token(world, role))
    umkms = {e["node"]["name"] for e in data["umkms"]["edges"]}
    products = {e["node"]["name"] for e in data["products"]["edges"]}
    assert umkms == VISIBLE_UMKM.get(role, PUBLIC_UMKM)
    assert products == VISIBLE_PRODUCTS.get(role, PUBLIC_PRODUCTS)
    assert data["umkms"]["totalCount"] == len(umkms)  # counts do not leak hidden rows either
    assert data["products"]["totalCount"] == len(products)
    assert data["suspended"]["totalCount"] == (1 if "Ditangguhkan" in umkms else 0)


@pytest.mark.parametrize("role", ROLES)
async def test_node_applies_the_same_visibility_as_the_lists(gql, world, hidden_rows, role):
    fields = "\n".join(
        f'n{i}: node(id: "{id_}") {{ ... on Umkm {{ name }} ... on Product {{ name }} }}'
        for i, id_ in enumerate(hidden_rows.values())
    )
    data = await gql.ok(f"{{ {fields} }}", token=token(world, role))
    seen = {n["name"] for n in data.values() if n is not None}
    expected = (VISIBLE_UMKM.get(role, PUBLIC_UMKM) | VISIBLE_PRODUCTS.get(role, PUBLIC_PRODUCTS)) & set(hidden_rows)
    assert seen == expected


NODE_NAME = "query($id: ID!) { node(id: $id) { id ... on Product { name } ... on Umkm { name } } }"


async def test_buyer_gets_null_for_node_of_suspended_umkms_product(gql, world):
    for role in ("buyer", "treasurer", "employee", "anonymous", "partner"):
        data = await gql.ok(NODE_NAME, {"id": gid("Product", world.suspended_product.id)}, token(world, role))
        assert data["node"] is None, role


async def test_analyst_admin_and_its_owner_see_node_of_suspended_umkms_product(gql, world):
    for role in ("analyst", "admin", "other_owner"):
        data = await gql.ok(NODE_NAME, {"id": gid("Product", world.suspended_product.id)}, token(world, role))
        assert data["node"]["name"] == "Batik suspended", role


async def test_buyer_cannot_reach_a_suspended_umkm_through_filters(gql, world):
    doc = """query($u: ID!) {
      umkms(filter: {status: SUSPENDED}) { totalCount }
      products(filter: {umkmId: $u}) { totalCount }
      node(id: $u) { id }
    }"""
    data = await gql.ok(doc, {"u": gid("Umkm", world.suspended_umkm.id)}, world.tokens["buyer"])
    assert data == {"umkms": {"totalCount": 0}, "products": {"totalCount": 0}, "node": None}


async def test_suspending_a_umkm_hides_its_products_from_buyers_at_once(gql, world):
    verify = VERIFY_UMKM
    variables = {"input": {"id": gid("Umkm", world.umkm.id), "decision": "SUSPEND", "note": "izin kedaluwarsa"}}
    assert (await gql.ok(verify, variables, world.tokens["admin"]))["verifyUmkm"]["errors"] == []
    product_id = gid("Product", world.product.id)
    assert (await gql.ok(NODE_NAME, {"id": product_id}, world.tokens["buyer"]))["node"] is None
    assert (await gql.ok(NODE_NAME, {"id": product_id}, world.tokens["owner"]))["node"]["name"] == "Kemeja batik tulis"


async def test_archived_product_disappears_for_buyers_but_not_for_its_owner(gql, world):
    product_id = gid("Product", world.product.id)
    assert (await gql.ok(ARCHIVE_PRODUCT, {"input": {"id": product_id}}, world.tokens["owner"]))["archiveProduct"][
        "errors"
    ] == []
    for role, visible in (("buyer", False), ("partner", False), ("analyst", True), ("owner", True), ("admin", True)):
        node = (await gql.ok(NODE_NAME, {"id": product_id}, token(world, role)))["node"]
        assert (node is not None) is visible, role


# ---------------------------------------------------------------- users, API keys, me


@pytest.mark.parametrize("role", ROLES)
async def test_users_and_api_keys_are_listed_for_admins_only(gql, world, role):
    for doc, field_name, count in (
        ("{ users { totalCount edges { node { email } } } }", "users", len(world.users)),
        ("{ apiKeys { totalCount edges { node { name prefix } } } }", "apiKeys", 1),
    ):
        body = await gql(doc, token=token(world, role))
        if role == "admin":
            assert "errors" not in body, body
            assert body["data"][field_name]["totalCount"] == count
        else:
            assert body["data"] is None, body
            assert error_codes(body) == ["UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"]
            assert body["errors"][0]["path"] == [field_name]


@pytest.mark.parametrize("role", ROLES)
async def test_node_of_a_user_is_for_that_user_and_admins(gql, world, role):
    doc = "query($id: ID!) { node(id: $id) { ... on User { email role } } }"
    data = await gql.ok(doc, {"id": gid("User", world.users["buyer"].id)}, token(world, role))
    if role in ("buyer", "admin"):
        assert data["node"] == {"email": world.users["buyer"].email, "role": "OPD_BUYER"}
    else:
        assert data["node"] is None


@pytest.mark.parametrize("role", USERS)
async def test_each_user_sees_their_own_user_node_and_me(gql, world, role):
    user = world.users[role]
    doc = "query($id: ID!) { node(id: $id) { ... on User { email } } me { email } }"
    data = await gql.ok(doc, {"id": gid("User", user.id)}, world.tokens[role])
    assert data == {"node": {"email": user.email}, "me": {"email": user.email}}


@pytest.mark.parametrize("role", ROLES)
async def test_node_of_an_api_key_is_for_admins_only(gql, world, role):
    key = await ApiKey.first()
    data = await gql.ok(NODE_NAME, {"id": gid("ApiKey", key.id)}, token(world, role))
    assert (data["node"] is not None) is (role == "admin")


@pytest.mark.parametrize("role", ["anonymous", "partner"])
async def test_me_is_null_without_a_signed_in_user(gql, world, role):
    assert (await gql.ok("{ me { email } }", token=token(world, role)))["me"] is None


# ---------------------------------------------------------------- partner keys and dead credentials


async def test_partner_key_reads_the_public_catalogue(gql, world):
    doc = """{
      categories { name }
      kecamatans { name }
      umkms { totalCount edges { node { name status kecamatan { name } } } }
      products { totalCount edges { node { name price umkm { name } category { name } } } }
      opds { totalCount edges { node { code name } } }
    }"""
    data = await gql.ok(doc, token=world.tokens["partner"])
    assert {c["name"] for c in data["categories"]} == {"Batik", "Konsumsi rapat"}
    assert len(data["kecamatans"]) == 31
    assert {e["node"]["status"] for e in data["umkms"]["edges"]} == {"VERIFIED"}
    assert data["umkms"]["totalCount"] == 2
    assert data["products"]["totalCount"] == 2
    assert {e["node"]["code"] for e in data["opds"]["edges"]} == {"DISPENDIK", "DINKES"}


async def test_partner_key_cannot_register_a_umkm(gql, world):
    variables = {"input": register_input(world)}
    body = await gql(REGISTER_UMKM, variables, world.tokens["partner"])
    assert body["data"] is None and error_codes(body) == ["FORBIDDEN"]
    assert not await Umkm.exists(nib="3578000000001")


async def test_revoked_partner_key_counts_as_anonymous(gql, world):
    variables = {"input": {"id": await partner_key_id(world)}}
    assert (await gql.ok(REVOKE_API_KEY, variables, world.tokens["admin"]))["revokeApiKey"]["errors"] == []
    partner = world.tokens["partner"]
    body = await gql(CREATE_CATEGORY, {"input": {"name": "Sepatu"}}, partner)
    assert error_codes(body) == ["UNAUTHENTICATED"]
    body = await gql("{ me { email } umkms { totalCount } }", None, partner)
    assert body["data"] == {"me": None, "umkms": {"totalCount": 2}}  # still the public catalogue, as anyone
    assert error_codes(body) == ["UNAUTHENTICATED"] and "session has ended" in body["errors"][0]["message"]


async def test_unknown_bearer_token_counts_as_anonymous(gql, world):
    for bogus in ("pst_not-a-token", "pk_deadbeef_nope", "garbage"):
        body = await gql(UPDATE_UMKM, {"input": {"id": gid("Umkm", world.umkm.id), "name": "x"}}, bogus)
        assert error_codes(body) == ["UNAUTHENTICATED"], bogus
    assert (await Umkm.get(id=world.umkm.id)).name == "Batik Kenongo"


async def test_logged_out_token_counts_as_anonymous(gql, world):
    owner = world.tokens["owner"]
    assert (await gql.ok(LOGOUT, token=owner))["logout"] == {"ok": True, "errors": []}
    body = await gql(UPDATE_UMKM, {"input": {"id": gid("Umkm", world.umkm.id), "name": "x"}}, owner)
    assert error_codes(body) == ["UNAUTHENTICATED"]
    ended = await gql("{ me { email } }", None, owner)
    assert ended["data"]["me"] is None and error_codes(ended) == ["UNAUTHENTICATED"]  # told its session ended


async def test_analyst_reads_everything_but_changes_nothing(gql, world):
    analyst = world.tokens["analyst"]
    body = await gql(UMKM_PERSONAL, {"id": gid("Umkm", world.pending_umkm.id)}, analyst)
    assert body["data"]["node"]["name"] == "Baru Daftar"  # sees the pending UMKM …
    assert set(error_codes(body)) == {"FORBIDDEN"}  # … but not its owner's phone or bank account
    for doc, input_ in (
        (VERIFY_UMKM, {"id": gid("Umkm", world.pending_umkm.id), "decision": "APPROVE"}),
        (UPDATE_UMKM, {"id": gid("Umkm", world.umkm.id), "description": "x"}),
        (UPDATE_PRODUCT, {"id": gid("Product", world.product.id), "price": 1}),
    ):
        body = await gql(doc, {"input": input_}, analyst)
        assert error_codes(body) == ["FORBIDDEN"], doc
