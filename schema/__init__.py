"""The GraphQL schema, built once at import (building it twice from the same types fails)."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from resolvers.nodes import get_node
from schema.accounts import AccountsMutation, AccountsQuery, ApiKey, User
from schema.catalog import CatalogMutation, CatalogQuery, Product
from schema.errors import ErrorCodes
from schema.limits import limit_extensions
from schema.registry import Category, Kecamatan, Kelurahan, Opd, RegistryMutation, RegistryQuery, Umkm
from schema.relay import Node, from_global_id
from schema.scalars import SCALAR_MAP
from schema.sqlcount import SqlCounter

NODE_TYPES = {
    "Umkm": Umkm,
    "Product": Product,
    "Opd": Opd,
    "Category": Category,
    "Kecamatan": Kecamatan,
    "Kelurahan": Kelurahan,
    "User": User,
    "ApiKey": ApiKey,
}


@strawberry.type(description="Read the platform.")
class Query(AccountsQuery, RegistryQuery, CatalogQuery):
    @strawberry.field(description="Any object by its global ID, with the same visibility as the lists; null if unseen.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        parsed = from_global_id(id)
        if parsed is None or parsed[0] not in NODE_TYPES:
            return None
        row = await get_node(info.context, *parsed)
        return NODE_TYPES[parsed[0]].from_row(row) if row is not None else None


@strawberry.type(description="Change the platform; every mutation returns a payload with `errors`.")
class Mutation(AccountsMutation, RegistryMutation, CatalogMutation):
    pass


def build_schema() -> strawberry.Schema:
    # SqlCounter does nothing unless the app's settings ask for it (tests, benchmarks).
    extensions = [ErrorCodes, *limit_extensions(), SqlCounter]
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=list(NODE_TYPES.values()),
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
    )


schema = build_schema()
