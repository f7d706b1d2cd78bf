"""Ranking invalidation: every write that changes an input of a category's under-sold ranking says so here.

Each category carries a `ranking_generation`; a stored ranking (resolvers/fairness_snapshot.py) records the
generation it was built from, and is rebuilt when the category's has moved on. Ground floor of resolvers/: it imports
models only, so that catalog, orders, registry, omzet and the sales statistics can all call it.
"""

from __future__ import annotations

from tortoise.expressions import F

from models.registry import Category


async def invalidate(category_ids: list[int] | set[int] | None = None) -> None:
    """Mark the rankings of these categories and their ancestors stale (every category when None).

    Call inside the transaction that makes the change, after its other row locks (products, orders): the increment
    is committed with it, and it row-locks the categories until then, in id order, so that two writers never wait
    for each other's categories in opposite orders.
    """
    parent = dict(await Category.all().values_list("id", "parent_id"))
    touched: set[int] = set()
    for cid in parent if category_ids is None else category_ids:
        while cid is not None and cid not in touched:
            touched.add(cid)
            cid = parent.get(cid)
    ids = sorted(touched & set(parent))
    if not ids:
        return
    if Category._meta.db.capabilities.dialect == "postgres":
        # Lock in id order first: an UPDATE locks rows in the order it meets them, and two writers taking the same
        # categories in different orders would deadlock (SQLite has one writer at a time).
        await Category.filter(id__in=ids).order_by("id").select_for_update(no_key=True).values_list("id", flat=True)
    await Category.filter(id__in=ids).update(ranking_generation=F("ranking_generation") + 1)
