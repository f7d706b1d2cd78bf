"""The SQL a read needs is owned by models/: a listing reads light rows (`models.query.joined_rows`), every column of
each joined table (`light_columns`), and the GraphQL types build themselves from them (`from_row`).

A type that starts reading something its light row does not carry (a new field computed from a column of another
table, a relation that is not joined) would break lists with a masked error while `node` still works: these tests
read real rows through every read shape the app uses and fail when a type's `from_row` reads an attribute that is not
a column (or a joined relation) of its row.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from models.catalog import PRODUCT_LISTING
from models.catalog import Product as ProductRow
from models.orders import ITEM_READ, ORDER_READ
from models.orders import Order as OrderRow
from models.query import Row, joined_rows, light_columns
from schema.catalog import Product
from schema.orders import Order, OrderItem
from schema.registry import Category, Kecamatan, Opd, Umkm
from tests.test_orders import place

READ_SHAPES = {"PRODUCT_LISTING": PRODUCT_LISTING, "ORDER_READ": ORDER_READ, "ITEM_READ": ITEM_READ}

# Every path of every read shape, and the GraphQL type built from the rows found there.
LIGHT_TYPES = {
    ("PRODUCT_LISTING", ""): Product,
    ("PRODUCT_LISTING", "umkm"): Umkm,
    ("PRODUCT_LISTING", "umkm__kecamatan"): Kecamatan,
    ("PRODUCT_LISTING", "category"): Category,
    ("ORDER_READ", ""): Order,
    ("ORDER_READ", "umkm"): Umkm,
    ("ORDER_READ", "opd"): Opd,
    ("ITEM_READ", ""): OrderItem,
    ("ITEM_READ", "product"): Product,
    ("ITEM_READ", "product__umkm"): Umkm,
}


class Recording(Row):
    """A light row that remembers which attributes were read from it."""

    def __getattribute__(self, name: str) -> Any:
        if not name.startswith("__"):
            object.__getattribute__(self, "__dict__").setdefault("__read__", set()).add(name)
        return object.__getattribute__(self, name)


def at(row: Row, path: str) -> Row:
    for part in filter(None, path.split("__")):
        row = row.__dict__["_" + part]
    return row


def recording(row: Row) -> Recording:
    return Recording(**{k: v for k, v in row.__dict__.items() if k != "__read__"})


def unread_columns(type_: Any, row: Row, model: Any, joined: set[str]) -> set[str]:
    """What `type_.from_row` reads from `row` that is neither a column of `model` nor a joined relation."""
    rec = recording(row)
    type_.from_row(rec)
    read = rec.__dict__.get("__read__", set())
    assert read, f"{type_.__name__}.from_row read nothing: the recording is broken"
    return read - set(light_columns(model)) - {"_" + j for j in joined}


def test_every_path_of_every_read_shape_names_its_graphql_type():
    paths = {(name, path) for name, shape in READ_SHAPES.items() for path in shape}
    assert paths == set(LIGHT_TYPES)


async def test_every_type_reads_only_columns_its_light_row_carries(gql, world):
    await place(gql, world.tokens["buyer"], (world.product, 2, None))
    order = await OrderRow.first()
    reads = {
        "PRODUCT_LISTING": (await listing_rows())[0],
        "ORDER_READ": (await joined_rows(OrderRow.filter(id=order.id), ORDER_READ))[0],
        "ITEM_READ": (await joined_rows(order.items.all(), ITEM_READ))[0],
    }
    for (shape, path), type_ in LIGHT_TYPES.items():
        joined = {p.rpartition("__")[2] for p in READ_SHAPES[shape] if p and p.rpartition("__")[0] == path}
        row = at(reads[shape], path)
        assert unread_columns(type_, row, READ_SHAPES[shape][path], joined) == set(), (shape, path)
        node = type_.from_row(row)  # and the GraphQL object is whole: every plain field has its value
        for f in dataclasses.fields(node):
            assert getattr(node, f.name) is not dataclasses.MISSING, (shape, path, f.name)


async def listing_rows() -> list[Row]:
    """The listing's read, as `products(first:)` runs it."""
    return await joined_rows(ProductRow.all().order_by("id"), PRODUCT_LISTING)


async def test_a_type_reading_a_column_the_row_lacks_is_caught(world):
    """The check fails for a Product type that reads a field no table has (say `halalCertified` added to the type
    but not to the model), and for one that reads a relation the listing does not join."""
    row = (await listing_rows())[0]

    class HalalProduct:
        @staticmethod
        def from_row(r):
            return Product.from_row(r), r.halal_certified

    class SellerCity:
        @staticmethod
        def from_row(r):
            return r._kelurahan

    product_model = PRODUCT_LISTING[""]
    joined = {"umkm", "category"}
    assert unread_columns(Product, row, product_model, joined) == set()
    for bad in (HalalProduct, SellerCity):
        try:
            missing = unread_columns(bad, row, product_model, joined)
        except AttributeError as e:  # read and not there at all: the listing would fail just the same
            missing = {str(e)}
        assert missing, bad
