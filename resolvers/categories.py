"""The category tree: a category with its descendants, each category's top-level ancestor.

Ground floor of resolvers/: it imports models only, so that every domain module may use it.
"""

from __future__ import annotations

from models.registry import Category


async def category_subtree(category_id: int) -> list[int]:
    """The category and all its descendants (a parent includes its children in every filter); [] when unknown."""
    rows = await Category.all().values_list("id", "parent_id")
    children: dict[int | None, list[int]] = {}
    for cid, parent in rows:
        children.setdefault(parent, []).append(cid)
    if category_id not in {cid for cid, _ in rows}:
        return []
    out, stack = [], [category_id]
    while stack:
        cid = stack.pop()
        out.append(cid)
        stack.extend(children.get(cid, []))
    return out


def roots_of(parent: dict[int, int | None]) -> dict[int, int]:
    """Each category's top-level ancestor (itself for a top-level one), given each category's parent."""
    roots = {}
    for cid in parent:
        r = cid
        while parent.get(r) is not None:
            r = parent[r]
        roots[cid] = r
    return roots


async def category_roots() -> dict[int, int]:
    """Each category's top-level ancestor (itself for a top-level one)."""
    return roots_of(dict(await Category.all().values_list("id", "parent_id")))


async def categories_with_roots() -> tuple[list[Category], dict[int, int]]:
    """Every category, by name then id (the database's order), and each one's top-level ancestor: one statement."""
    rows = await Category.all().order_by("name", "id")
    return rows, roots_of({c.id: c.parent_id for c in rows})
