"""`node(id:)`: the same visibility as the lists, by type."""

from __future__ import annotations

from typing import Any

from models.accounts import ApiKey
from models.registry import Category, Kecamatan, Kelurahan, Opd
from resolvers import accounts, bulk, catalog, omzet, orders, registry
from resolvers.common import Ctx


async def get_node(ctx: Ctx, type_name: str, pk: int) -> Any | None:
    p = ctx.principal
    if type_name == "Umkm":
        return await registry.get_umkm(ctx, pk)
    if type_name == "Product":
        return await catalog.get_product(ctx, pk)
    if type_name == "Order":
        return await orders.get_order(ctx, pk)
    if type_name == "OmzetReport":
        return await omzet.get_report(ctx, pk)
    if type_name == "BulkPlan":
        return await bulk.get_plan(ctx, pk)
    if type_name == "User":
        return await accounts.get_user(ctx, pk) if p.user_id is not None else None
    if type_name == "ApiKey":
        return await ApiKey.get_or_none(id=pk) if p.is_admin else None
    public = {"Opd": Opd, "Category": Category, "Kecamatan": Kecamatan, "Kelurahan": Kelurahan}
    if type_name in public:
        return await public[type_name].get_or_none(id=pk)
    return None
