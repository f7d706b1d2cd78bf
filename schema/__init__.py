"""The GraphQL schema, built once at import (building it twice from the same types fails)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from resolvers.nodes import get_node
from schema.accounts import AccountsMutation, AccountsQuery, ApiKey, User
from schema.analytics import AnalyticsQuery
from schema.bulk import BulkMutation, BulkPlan, BulkQuery
from schema.catalog import CatalogMutation, CatalogQuery, Product
from schema.clocks import ClocksMutation
from schema.compiled import compiled_execute
from schema.documents import DocumentsMutation, DocumentsQuery
from schema.errors import ErrorCodes
from schema.fairness import FairnessQuery
from schema.inputs import InputText
from schema.limits import limit_extensions
from schema.logs import RequestFacts
from schema.omzet import OmzetMutation, OmzetQuery, OmzetReport
from schema.orders import Order, OrdersMutation, OrdersQuery, OrdersSubscription, orders_by_ids
from schema.registry import Category, Kecamatan, Kelurahan, Opd, RegistryMutation, RegistryQuery, Umkm
from schema.relay import Node, from_global_id
from schema.scalars import SCALAR_MAP
from schema.sessions import ForgetCredentialsAfterMutations
from schema.sqlcount import SqlCounter
from schema.webhooks import WebhooksMutation, WebhooksQuery

NODE_TYPES = {
    "Umkm": Umkm,
    "Product": Product,
    "Opd": Opd,
    "Category": Category,
    "Kecamatan": Kecamatan,
    "Kelurahan": Kelurahan,
    "User": User,
    "ApiKey": ApiKey,
    "Order": Order,
    "OmzetReport": OmzetReport,
    "BulkPlan": BulkPlan,
}


@strawberry.type(description="Read the platform.")
class Query(
    AccountsQuery,
    RegistryQuery,
    CatalogQuery,
    OrdersQuery,
    OmzetQuery,
    FairnessQuery,
    AnalyticsQuery,
    BulkQuery,
    WebhooksQuery,
    DocumentsQuery,
):
    @strawberry.field(description="Any object by its global ID, with the same visibility as the lists; null if unseen.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        parsed = from_global_id(id)
        if parsed is None or parsed[0] not in NODE_TYPES:
            return None
        row = await get_node(info.context, *parsed)
        if row is None:
            return None
        if parsed[0] == "Order":
            return (await orders_by_ids([row.id]))[0]
        return NODE_TYPES[parsed[0]].from_row(row)


@strawberry.type(description="Change the platform; every mutation returns a payload with `errors`.")
class Mutation(
    AccountsMutation,
    RegistryMutation,
    CatalogMutation,
    OrdersMutation,
    OmzetMutation,
    BulkMutation,
    ClocksMutation,
    DocumentsMutation,
    WebhooksMutation,
):
    pass


@strawberry.type(description="Live updates over WebSocket (graphql-transport-ws; send `token` in connection_init).")
class Subscription(OrdersSubscription):
    pass


class PasarSchema(strawberry.Schema):
    """Strawberry logs every GraphQL error at ERROR with its traceback, before masking and with the caller's literals
    in the messages; here `ErrorCodes` logs instead: expected errors at INFO as a code and a path, unexpected ones at
    ERROR with their traceback and request id."""

    def process_errors(self, errors: list, execution_context: Any = None) -> None:
        return None

    def _get_execute_function(self) -> Any:
        """graphql-core's executor, or a compiled plan for a document that has one (schema/compiled.py)."""
        return compiled_execute(super()._get_execute_function())


def build_schema() -> strawberry.Schema:
    # SqlCounter does nothing unless the app's settings ask for it (tests, benchmarks).
    # RequestFacts first: it leaves last, when ErrorCodes has coded the errors (schema/logs.py).
    extensions = [RequestFacts, ErrorCodes, *limit_extensions(), InputText, SqlCounter, ForgetCredentialsAfterMutations]
    return PasarSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=list(NODE_TYPES.values()),
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
    )


schema = build_schema()
