"""Products: listing with search and filters, and their life as the owner edits them."""

from __future__ import annotations

from dataclasses import dataclass, fields

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.base import UmkmStatus
from models.catalog import Product
from models.registry import Category, Umkm, UmkmServedKecamatan
from resolvers.categories import category_subtree
from resolvers.common import AccessError, Ctx, DomainError, Principal, Validator
from resolvers.invalidation import invalidate
from resolvers.registry import words

MAX_OPTIONS = 50
MAX_IMAGES = 10


def visible_product_q(p: Principal) -> Q:
    """Buyers and the public see active products of verified UMKM; owners also their own; admin/analyst all."""
    if p.sees_everything:
        return Q()
    public = Q(active=True, umkm__status=UmkmStatus.VERIFIED)
    if p.umkm_ids:
        return public | Q(umkm_id__in=list(p.umkm_ids))
    return public


@dataclass
class ProductFilter:
    search: str | None = None
    category_id: int | None = None
    umkm_id: int | None = None
    kecamatan_id: int | None = None
    serves_kecamatan_id: int | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool | None = None


ORDERINGS = {
    "PRICE_ASC": [("price", False), ("id", False)],
    "PRICE_DESC": [("price", True), ("id", True)],
    "NEWEST": [("created_at", True), ("id", True)],
}


async def product_query(ctx: Ctx, f: ProductFilter) -> QuerySet[Product]:
    search = words(f.search)
    subtree = await category_subtree(f.category_id) if f.category_id is not None else None
    return products_where(ctx.principal, f, search, subtree)


def products_where(p: Principal, f: ProductFilter, search: list[str], subtree: list[int] | None) -> QuerySet[Product]:
    """The products `p` may see that pass `f`, given the words of its search and its category's subtree (read by
    `product_query`; compiled reads call this with values of their own to find their places in the statement)."""
    qs = Product.filter(visible_product_q(p))
    for w in search:
        qs = qs.filter(Q(name__icontains=w) | Q(description__icontains=w))
    if subtree is not None:
        qs = qs.filter(category_id__in=subtree or [-1])
    if f.umkm_id is not None:
        qs = qs.filter(umkm_id=f.umkm_id)
    if f.kecamatan_id is not None:
        qs = qs.filter(umkm__kecamatan_id=f.kecamatan_id)
    if f.serves_kecamatan_id is not None:
        k = f.serves_kecamatan_id
        qs = qs.filter(
            Q(umkm__serves_city_wide=True)
            | Q(umkm__kecamatan_id=k)
            | Q(umkm_id__in=Subquery(UmkmServedKecamatan.filter(kecamatan_id=k).values("umkm_id")))
        )
    if f.min_price is not None:
        qs = qs.filter(price__gte=f.min_price)
    if f.max_price is not None:
        qs = qs.filter(price__lte=f.max_price)
    if f.in_stock is True:
        qs = qs.filter(Q(made_to_order=True) | Q(stock__gt=0))
    elif f.in_stock is False:
        qs = qs.filter(made_to_order=False, stock__lte=0)
    return qs


async def get_product(ctx: Ctx, product_id: int) -> Product | None:
    """The product if the caller may see it, with its UMKM (and kecamatan) and category: one statement."""
    qs = Product.filter(visible_product_q(ctx.principal), id=product_id)
    return await qs.select_related("umkm__kecamatan", "category").first()


@dataclass
class ProductFields:
    umkm_id: int | None = None
    category_id: int | None = None
    name: str | None = None
    description: str | None = None
    unit: str | None = None
    price: int | None = None
    image_urls: list[str] | None = None
    options: list[str] | None = None
    made_to_order: bool | None = None
    stock: int | None = None
    monthly_capacity: int | None = None
    lead_time_days: int | None = None
    min_order_quantity: int | None = None


def _validate(v: Validator, f: ProductFields, creating: bool) -> None:
    v.text("name", f.name, max_length=200, required=creating or f.name is not None)
    v.text("unit", f.unit, max_length=32, required=creating or f.unit is not None)
    v.text("description", f.description, max_length=5000, required=False)
    if creating and f.price is None:
        v.add("price", "REQUIRED", "Price is required.")
    if f.price is not None and f.price < 0:
        v.add("price", "NEGATIVE", "Price cannot be negative.")
    else:
        v.rupiah("price", f.price, minimum=1, maximum=10**12)
    v.integer("stock", f.stock, minimum=0)
    v.integer("monthlyCapacity", f.monthly_capacity, minimum=1)
    v.integer("leadTimeDays", f.lead_time_days, minimum=0, maximum=365)
    v.integer("minOrderQuantity", f.min_order_quantity, minimum=1)
    if f.options is not None:
        if len(f.options) > MAX_OPTIONS:
            v.add("options", "TOO_MANY", "At most {maximum} options.", maximum=MAX_OPTIONS)
        if any(not o.strip() or len(o) > 50 for o in f.options):
            v.add("options", "INVALID_OPTION", "Options must be 1 to 50 characters.")
        if len({o.strip() for o in f.options}) != len(f.options):
            v.add("options", "DUPLICATE_OPTION", "Options must be different.")
    if f.image_urls is not None:
        if len(f.image_urls) > MAX_IMAGES:
            v.add("imageUrls", "TOO_MANY", "At most {maximum} images.", maximum=MAX_IMAGES)
        if any(not u.startswith(("https://", "http://")) or len(u) > 500 for u in f.image_urls):
            v.add("imageUrls", "INVALID_URL", "Image URLs must be http(s) and at most 500 characters.")


def _check_owner(p: Principal, umkm_id: int) -> None:
    if not (p.is_admin or p.owns_umkm(umkm_id)):
        raise AccessError("You can change only your own UMKM's products.")


def _apply(product: Product, f: ProductFields) -> None:
    for fld in fields(ProductFields):
        if fld.name in ("umkm_id",):
            continue
        value = getattr(f, fld.name)
        if value is None:
            continue
        if isinstance(value, str):
            value = value.strip()
        if isinstance(value, list):
            value = [x.strip() for x in value]
        setattr(product, fld.name, value)
    if product.made_to_order and product.monthly_capacity is None:
        raise DomainError("REQUIRED", "A made-to-order product needs a monthly capacity.", "monthlyCapacity")


async def create_product(ctx: Ctx, f: ProductFields) -> Product:
    p = ctx.principal
    v = Validator()
    if f.umkm_id is None:
        v.add("umkmId", "REQUIRED", "UMKM is required.")
    if f.category_id is None:
        v.add("categoryId", "REQUIRED", "Category is required.")
    _validate(v, f, creating=True)
    v.raise_if_any()
    async with in_transaction():
        umkm = await Umkm.get_or_none(id=f.umkm_id)
        if umkm is None:
            raise DomainError("NOT_FOUND", "No such UMKM.", "umkmId")
        _check_owner(p, umkm.id)
        if not await Category.exists(id=f.category_id):
            raise DomainError("NOT_FOUND", "No such category.", "categoryId")
        product = Product(umkm_id=umkm.id, active=True)
        _apply(product, f)
        await product.save()
        await invalidate([product.category_id])
    return product


async def _product_for_change(ctx: Ctx, product_id: int) -> Product:
    p = ctx.principal
    product = await Product.get_or_none(id=product_id)
    if product is None:
        raise DomainError("NOT_FOUND", "No such product.", "id")
    _check_owner(p, product.umkm_id)
    return product


async def update_product(ctx: Ctx, product_id: int, f: ProductFields) -> Product:
    v = Validator()
    _validate(v, f, creating=False)
    v.raise_if_any()
    async with in_transaction():
        product = await _product_for_change(ctx, product_id)
        if f.category_id is not None and not await Category.exists(id=f.category_id):
            raise DomainError("NOT_FOUND", "No such category.", "categoryId")
        before = product.category_id
        _apply(product, f)
        await product.save()
        await invalidate([before, product.category_id])
    return product


async def archive_product(ctx: Ctx, product_id: int) -> Product:
    async with in_transaction():
        product = await _product_for_change(ctx, product_id)
        if not product.active:
            raise DomainError("ALREADY_ARCHIVED", "This product is archived already.", "id")
        product.active = False
        await product.save(update_fields=["active", "updated_at"])
        await invalidate([product.category_id])
    return product
