"""GraphQL shape of the catalogue: products."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from models import catalog as m
from models import registry as reg
from models.query import fetched
from resolvers import catalog as rules
from schema.common import jakarta
from schema.context import load_as
from schema.errors import UserError, UserErrors
from schema.permissions import ADMIN_OR_OWNER
from schema.registry import Category, Umkm
from schema.relay import Connection, Node, decode_id, paginate, to_global_id
from schema.scalars import Rupiah


@strawberry.type(description="Something a UMKM sells.")
class Product(Node):
    name: str = strawberry.field(description="Name.")
    description: str = strawberry.field(description="Description.")
    unit: str = strawberry.field(description="Unit sold: box, piece, pair, set…")
    price: Rupiah = strawberry.field(description="Unit price in whole rupiah.")
    image_urls: list[str] = strawberry.field(description="Pictures.")
    options: list[str] = strawberry.field(description="Choices a buyer picks one of, e.g. sizes 36–44.")
    made_to_order: bool = strawberry.field(description="Made per order within a monthly capacity (no stock).")
    stock: int = strawberry.field(description="Units in stock (stocked products).")
    monthly_capacity: int | None = strawberry.field(description="Units per month (made-to-order products).")
    lead_time_days: int = strawberry.field(description="Days needed from order to delivery.")
    min_order_quantity: int = strawberry.field(description="Smallest quantity per order.")
    active: bool = strawberry.field(description="False once archived.")
    created_at: dt.datetime = strawberry.field(description="Listed at (Asia/Jakarta).")
    umkm_id: strawberry.Private[int]
    category_id: strawberry.Private[int]
    _umkm: strawberry.Private[Umkm | None] = None
    _category: strawberry.Private[Category | None] = None

    @classmethod
    def from_row(cls, r: m.Product) -> Product:
        umkm, category = fetched(r, "umkm"), fetched(r, "category")
        return cls(
            id=to_global_id("Product", r.id),
            name=r.name,
            description=r.description,
            unit=r.unit,
            price=r.price,
            image_urls=r.image_urls,
            options=r.options,
            made_to_order=r.made_to_order,
            stock=r.stock,
            monthly_capacity=r.monthly_capacity,
            lead_time_days=r.lead_time_days,
            min_order_quantity=r.min_order_quantity,
            active=r.active,
            created_at=jakarta(r.created_at),
            umkm_id=r.umkm_id,
            category_id=r.category_id,
            _umkm=Umkm.from_row(umkm) if umkm is not None else None,
            _category=Category.from_row(category) if category is not None else None,
        )

    # Plain (no coroutine, no batch) when the row came with its relations (listings, `node`), else batch-loaded: an
    # awaitable, which GraphQL awaits.

    @strawberry.field(description="The seller.")
    def umkm(self, info: Info) -> Umkm:
        if self._umkm is not None:
            return self._umkm
        return load_as(info.context.loaders.by_id(reg.Umkm), self.umkm_id, Umkm.from_row)

    @strawberry.field(description="The category.")
    def category(self, info: Info) -> Category:
        if self._category is not None:
            return self._category
        return load_as(info.context.loaders.by_id(reg.Category), self.category_id, Category.from_row)


@strawberry.input(description="Filters for `products`; they combine with AND.")
class ProductFilter:
    search: str | None = strawberry.field(
        default=None, description="Every word must appear in the name or description."
    )
    category_id: strawberry.ID | None = strawberry.field(default=None, description="In this category or below it.")
    umkm_id: strawberry.ID | None = strawberry.field(default=None, description="Sold by this UMKM.")
    kecamatan_id: strawberry.ID | None = strawberry.field(default=None, description="Seller located in this kecamatan.")
    serves_kecamatan_id: strawberry.ID | None = strawberry.field(
        default=None, description="Seller delivers to this kecamatan."
    )
    min_price: Rupiah | None = strawberry.field(default=None, description="Unit price at least this.")
    max_price: Rupiah | None = strawberry.field(default=None, description="Unit price at most this.")
    in_stock: bool | None = strawberry.field(default=None, description="True: in stock or made to order.")


@strawberry.enum(description="Order of `products`.")
class ProductOrder(Enum):
    PRICE_ASC = strawberry.enum_value("PRICE_ASC", description="Cheapest first.")
    PRICE_DESC = strawberry.enum_value("PRICE_DESC", description="Dearest first.")
    NEWEST = strawberry.enum_value("NEWEST", description="Newest first.")


def _id(value: str | None, type_name: str, field: str) -> int | None:
    return decode_id(value, type_name, field) if value else None


def product_filter(f: ProductFilter | None) -> rules.ProductFilter:
    """The rule's filter of `products(filter:)`, its IDs decoded (compiled reads use it too)."""
    f = f or ProductFilter()
    return rules.ProductFilter(
        search=f.search,
        category_id=_id(f.category_id, "Category", "categoryId"),
        umkm_id=_id(f.umkm_id, "Umkm", "umkmId"),
        kecamatan_id=_id(f.kecamatan_id, "Kecamatan", "kecamatanId"),
        serves_kecamatan_id=_id(f.serves_kecamatan_id, "Kecamatan", "servesKecamatanId"),
        min_price=f.min_price,
        max_price=f.max_price,
        in_stock=f.in_stock,
    )


@strawberry.type
class CatalogQuery:
    @strawberry.field(
        description="Products the caller may see: active products of verified UMKM (owners: also their own)."
    )
    async def products(
        self,
        info: Info,
        filter: ProductFilter | None = None,
        first: int | None = 20,
        after: str | None = None,
        order_by: ProductOrder = ProductOrder.NEWEST,
    ) -> Connection[Product]:
        qs = await rules.product_query(info.context, product_filter(filter))
        order = rules.ORDERINGS[order_by.value]
        return await paginate(qs, order, first, after, Product.from_row, joins=m.PRODUCT_LISTING)


@strawberry.input(description="A new product.")
class CreateProductInput:
    umkm_id: strawberry.ID = strawberry.field(description="The seller (your own UMKM).")
    category_id: strawberry.ID = strawberry.field(description="Category.")
    name: str = strawberry.field(description="Name.")
    unit: str = strawberry.field(description="Unit sold.")
    price: Rupiah = strawberry.field(description="Unit price, whole rupiah, above 0.")
    description: str | None = strawberry.field(default=None, description="Description.")
    image_urls: list[str] | None = strawberry.field(default=None, description="Pictures (http/https).")
    options: list[str] | None = strawberry.field(default=None, description="Choices, e.g. sizes.")
    made_to_order: bool = strawberry.field(default=False, description="Made per order within monthly capacity.")
    stock: int | None = strawberry.field(default=None, description="Units in stock.")
    monthly_capacity: int | None = strawberry.field(default=None, description="Units per month (made to order).")
    lead_time_days: int | None = strawberry.field(default=None, description="Days from order to delivery.")
    min_order_quantity: int | None = strawberry.field(default=None, description="Smallest quantity per order (≥ 1).")


@strawberry.input(description="Changes to a product; omitted fields stay.")
class UpdateProductInput:
    id: strawberry.ID = strawberry.field(description="The product.")
    category_id: strawberry.ID | None = strawberry.field(default=None, description="Category.")
    name: str | None = strawberry.field(default=None, description="Name.")
    unit: str | None = strawberry.field(default=None, description="Unit sold.")
    price: Rupiah | None = strawberry.field(default=None, description="Unit price.")
    description: str | None = strawberry.field(default=None, description="Description.")
    image_urls: list[str] | None = strawberry.field(default=None, description="Pictures.")
    options: list[str] | None = strawberry.field(default=None, description="Choices.")
    made_to_order: bool | None = strawberry.field(default=None, description="Made per order.")
    stock: int | None = strawberry.field(default=None, description="Units in stock.")
    monthly_capacity: int | None = strawberry.field(default=None, description="Units per month.")
    lead_time_days: int | None = strawberry.field(default=None, description="Days from order to delivery.")
    min_order_quantity: int | None = strawberry.field(default=None, description="Smallest quantity per order.")


@strawberry.input(description="Archive a product: it stays in history but is no longer sold.")
class ArchiveProductInput:
    id: strawberry.ID = strawberry.field(description="The product.")


@strawberry.type(description="Result of a change to one product.")
class ProductPayload:
    product: Product | None = strawberry.field(default=None, description="The product after the change.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What was wrong, if anything.")


def _fields(i: CreateProductInput | UpdateProductInput) -> rules.ProductFields:
    return rules.ProductFields(
        umkm_id=_id(getattr(i, "umkm_id", None), "Umkm", "umkmId"),
        category_id=_id(i.category_id, "Category", "categoryId"),
        name=i.name,
        description=i.description,
        unit=i.unit,
        price=i.price,
        image_urls=i.image_urls,
        options=i.options,
        made_to_order=i.made_to_order,
        stock=i.stock,
        monthly_capacity=i.monthly_capacity,
        lead_time_days=i.lead_time_days,
        min_order_quantity=i.min_order_quantity,
    )


@strawberry.type
class CatalogMutation:
    @strawberry.mutation(
        description="List a product (owner for own UMKM, or admin).",
        permission_classes=ADMIN_OR_OWNER,
        extensions=[UserErrors()],
    )
    async def create_product(self, info: Info, input: CreateProductInput) -> ProductPayload:
        return ProductPayload(product=Product.from_row(await rules.create_product(info.context, _fields(input))))

    @strawberry.mutation(
        description="Change a product (owner or admin).", permission_classes=ADMIN_OR_OWNER, extensions=[UserErrors()]
    )
    async def update_product(self, info: Info, input: UpdateProductInput) -> ProductPayload:
        product = await rules.update_product(info.context, decode_id(input.id, "Product"), _fields(input))
        return ProductPayload(product=Product.from_row(product))

    @strawberry.mutation(
        description="Archive a product (owner or admin).", permission_classes=ADMIN_OR_OWNER, extensions=[UserErrors()]
    )
    async def archive_product(self, info: Info, input: ArchiveProductInput) -> ProductPayload:
        return ProductPayload(
            product=Product.from_row(await rules.archive_product(info.context, decode_id(input.id, "Product")))
        )
