"""UMKM registration and verification, OPD and budgets, the category tree, the wilayah lists."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.accounts import User
from models.base import OpdKind, Role, Scale, ScaleSource, UmkmStatus
from models.catalog import Product
from models.registry import (
    Category,
    Kecamatan,
    Kelurahan,
    Opd,
    OpdBudget,
    Umkm,
    UmkmServedKecamatan,
    UmkmStatusChange,
)
from resolvers import accounts, clusters, outbox
from resolvers.categories import category_subtree
from resolvers.common import (
    AccessError,
    BadUserInput,
    Ctx,
    DomainError,
    Principal,
    Validator,
    msg,
)
from resolvers.invalidation import invalidate
from resolvers.throttle import SignUpClaim

# ---------------------------------------------------------------- visibility


def visible_umkm_q(p: Principal) -> Q:
    """Which UMKM rows the caller may see (docs/API.md): verified ones, plus own, or all for admin/analyst."""
    if p.sees_everything:
        return Q()
    if p.umkm_ids:
        return Q(status=UmkmStatus.VERIFIED) | Q(id__in=list(p.umkm_ids))
    return Q(status=UmkmStatus.VERIFIED)


MAX_SEARCH = 200  # characters of a search text; eight words are used


def words(search: str | None) -> list[str]:
    """The words of a search text (at most eight), or BAD_USER_INPUT for a text too long to be a search."""
    if search is not None and len(search) > MAX_SEARCH:
        raise BadUserInput("`search` is at most {maximum} characters.", maximum=MAX_SEARCH)
    return [w for w in re.split(r"\s+", (search or "").strip()) if w][:8]


@dataclass
class UmkmFilter:
    search: str | None = None
    category_id: int | None = None
    kecamatan_id: int | None = None
    status: UmkmStatus | None = None
    scale: Scale | None = None


async def umkm_query(ctx: Ctx, f: UmkmFilter) -> QuerySet[Umkm]:
    qs = Umkm.filter(visible_umkm_q(ctx.principal))
    for w in words(f.search):
        qs = qs.filter(Q(name__icontains=w) | Q(description__icontains=w))
    if f.kecamatan_id is not None:
        qs = qs.filter(kecamatan_id=f.kecamatan_id)
    if f.status is not None:
        qs = qs.filter(status=f.status)
    if f.scale is not None:
        qs = qs.filter(scale=f.scale)
    if f.category_id is not None:
        cats = await category_subtree(f.category_id)
        qs = qs.filter(id__in=Subquery(Product.filter(category_id__in=cats or [-1], active=True).values("umkm_id")))
    return qs


async def get_umkm(ctx: Ctx, umkm_id: int) -> Umkm | None:
    return await Umkm.filter(visible_umkm_q(ctx.principal), id=umkm_id).first()


# ---------------------------------------------------------------- UMKM registration


@dataclass
class UmkmFields:
    name: str | None = None
    nib: str | None = None
    description: str | None = None
    owner_name: str | None = None
    phone: str | None = None
    address: str | None = None
    kelurahan_id: int | None = None
    serves_city_wide: bool | None = None
    served_kecamatan_ids: list[int] | None = None
    scale: Scale | None = None
    bank_name: str | None = None
    bank_account: str | None = None
    bank_account_name: str | None = None
    owner_nik: str | None = None  # 16 digits; stored only as a keyed hash and its last four (resolvers/clusters.py)


PHONE_RE = re.compile(r"^\+?[0-9][0-9 \-]{6,18}$")


def _validate_umkm(v: Validator, f: UmkmFields, *, creating: bool) -> None:
    v.text("name", f.name, max_length=200, required=creating or f.name is not None)
    v.text("ownerName", f.owner_name, max_length=200, required=creating or f.owner_name is not None)
    v.text("address", f.address, max_length=300, required=creating or f.address is not None)
    v.text("description", f.description, max_length=5000, required=False)
    if creating and f.nib is None:
        v.add("nib", "REQUIRED", "NIB is required.")
    v.nib(f.nib)
    if creating and f.kelurahan_id is None:
        v.add("kelurahanId", "REQUIRED", "Kelurahan is required.")
    phone = f.phone.strip() if f.phone is not None else None
    if creating and not phone:
        v.add("phone", "REQUIRED", "Phone is required.")
    elif phone is not None and not PHONE_RE.match(phone):
        v.add("phone", "INVALID_PHONE", "Phone must be 7 to 19 digits, spaces or dashes, optionally with +.")
    for name, value, max_length in (  # the column widths of models.registry.Umkm
        ("bankName", f.bank_name, 100),
        ("bankAccount", f.bank_account, 50),
        ("bankAccountName", f.bank_account_name, 200),
    ):
        v.text(name, value, max_length=max_length, required=False)
    clusters.validate_nik(v, f.owner_nik)
    if f.served_kecamatan_ids is not None and len(f.served_kecamatan_ids) > 31:
        v.add("servedKecamatanIds", "TOO_MANY", "Surabaya has 31 kecamatan.")
    if f.scale is Scale.BESAR:
        v.add("scale", "NOT_UMKM", "A BESAR business is not a UMKM and cannot register.")


async def _check_refs(f: UmkmFields) -> Kelurahan | None:
    kel = None
    if f.kelurahan_id is not None:
        kel = await Kelurahan.get_or_none(id=f.kelurahan_id)
        if kel is None:
            raise DomainError("UNKNOWN_KELURAHAN", "No such kelurahan in Surabaya.", "kelurahanId")
    if f.served_kecamatan_ids:
        ids = set(f.served_kecamatan_ids)
        if await Kecamatan.filter(id__in=list(ids)).count() != len(ids):
            raise DomainError("UNKNOWN_KECAMATAN", "One of the served kecamatan does not exist.", "servedKecamatanIds")
    return kel


async def _set_served(umkm: Umkm, kecamatan_ids: list[int]) -> None:
    await UmkmServedKecamatan.filter(umkm_id=umkm.id).delete()
    ids = sorted(set(kecamatan_ids) - {umkm.kecamatan_id})
    if ids:
        await UmkmServedKecamatan.bulk_create([UmkmServedKecamatan(umkm_id=umkm.id, kecamatan_id=k) for k in ids])


@dataclass
class Registration:
    umkm: Umkm
    user: User
    token: str | None


async def register_umkm(
    ctx: Ctx, f: UmkmFields, *, email: str | None, password: str | None, full_name: str | None
) -> Registration:
    """Anonymous: create the owner account and a PENDING UMKM. Signed-in owner: add another UMKM."""
    p = ctx.principal  # anonymous or a UMKM owner: the field's rule
    v = Validator()
    _validate_umkm(v, f, creating=True)
    if p.is_anonymous:
        email = accounts.validate_new_user(v, email or "", password or "", full_name or f.owner_name or "")
    v.raise_if_any()
    # An anonymous sign-up takes one of its address's places per hour (resolvers/throttle.py), given back if it fails.
    claim = SignUpClaim(ctx) if p.is_anonymous else None
    if claim is not None:
        await claim.claim()
    try:
        return await _register(ctx, p, f, email, password, full_name)
    except IntegrityError:
        if claim is not None:
            await claim.release()
        # Two sign-ups raced past the checks below with one NIB or e-mail: the unique index kept one of them; the
        # other gets the same answer it would have got a moment later.
        if await Umkm.exists(nib=f.nib):
            raise DomainError("DUPLICATE_NIB", "This NIB is already registered.", "nib") from None
        if p.is_anonymous and await User.exists(email=email):
            raise DomainError("DUPLICATE_EMAIL", "An account with this email exists.", "email") from None
        raise
    except Exception:
        if claim is not None:
            await claim.release()
        raise


def released_nib(umkm_id: int) -> str:
    """What a released registration keeps in place of its NIB: unique, and never a NIB (not 13 digits)."""
    return f"~{umkm_id}"


async def _take_nib(ctx: Ctx, nib: str) -> int | None:
    """DUPLICATE_NIB while another UMKM holds `nib`. A PENDING UMKM left unverified for `pending_nib_hold_days` (30)
    since it registered holds it no longer: it is moved to REJECTED, its NIB column set to `released_nib`, with a
    history entry naming the NIB, in the caller's transaction, so that a squatter's sign-up cannot keep a business
    out for good."""
    holder = await Umkm.get_or_none(nib=nib)
    if holder is None:
        return None
    hold = dt.timedelta(days=getattr(ctx.settings, "pending_nib_hold_days", 30))
    if holder.status is not UmkmStatus.PENDING or holder.created_at > ctx.clock.now() - hold:
        raise DomainError("DUPLICATE_NIB", "This NIB is already registered.", "nib")
    # conditional on what was read: a verification or another newcomer in between wins
    moved = await Umkm.filter(id=holder.id, status=UmkmStatus.PENDING, nib=nib).update(
        status=UmkmStatus.REJECTED, nib=released_nib(holder.id)
    )
    if not moved:
        raise DomainError("DUPLICATE_NIB", "This NIB is already registered.", "nib")
    await UmkmStatusChange.create(
        umkm_id=holder.id,
        from_status=UmkmStatus.PENDING,
        to_status=UmkmStatus.REJECTED,
        actor_id=None,
        note=f"NIB {nib} released: not verified within {hold.days} days of registering; another registration took it",
    )
    return holder.id  # rejected: it links no one any more


async def _register(
    ctx: Ctx, p: Principal, f: UmkmFields, email: str | None, password: str | None, full_name: str | None
) -> Registration:
    async with in_transaction():
        kel = await _check_refs(f)
        assert kel is not None
        released = await _take_nib(ctx, f.nib)
        if p.is_anonymous:
            if await User.exists(email=email):
                raise DomainError("DUPLICATE_EMAIL", "An account with this email exists.", "email")
            user = await User.create(
                email=email,
                password_hash=await accounts.hash_off_loop(password or ""),
                full_name=(full_name or f.owner_name or "").strip(),
                role=Role.UMKM_OWNER,
            )
        else:
            user = await User.get(id=p.user_id)
        umkm = await Umkm.create(
            created_at=ctx.clock.now(),  # the NIB hold counts from here, on the request's clock
            owner=user,
            name=f.name.strip(),
            nib=f.nib,
            description=(f.description or "").strip(),
            owner_name=f.owner_name.strip(),
            phone=f.phone.strip(),
            address=f.address.strip(),
            kelurahan_id=kel.id,
            kecamatan_id=kel.kecamatan_id,
            serves_city_wide=bool(f.serves_city_wide),
            scale=f.scale or Scale.MIKRO,
            scale_source=ScaleSource.DECLARED,
            status=UmkmStatus.PENDING,
            bank_name=(f.bank_name or "").strip(),
            bank_account=(f.bank_account or "").strip(),
            bank_account_name=(f.bank_account_name or "").strip(),
            **clusters.taken(
                None,
                clusters.identity_columns(ctx, nik=f.owner_nik or "", bank_account=f.bank_account or "", phone=f.phone),
                ctx.clock.now(),
            ),
        )
        # one share per business actor: its cluster, held if it must wait (and a released NIB's holder links no one)
        await clusters.recluster([umkm.id] + ([released] if released else []))
        await _set_served(umkm, f.served_kecamatan_ids or [])
        await UmkmStatusChange.create(
            umkm=umkm, from_status=None, to_status=UmkmStatus.PENDING, actor_id=user.id, note="registered"
        )
        token = await accounts.issue_token(ctx, user) if p.is_anonymous else None
    # The principal was read at the start of the request: from here the caller is the (new) owner of this UMKM, so
    # the payload (phone, bank data, status history) treats them as its owner.
    ctx.principal = replace(p, user_id=user.id, role=Role.UMKM_OWNER, umkm_ids=p.umkm_ids | {umkm.id})
    return Registration(umkm=umkm, user=user, token=token)


async def _umkm_for_change(ctx: Ctx, umkm_id: int) -> Umkm:
    p = ctx.principal
    umkm = await Umkm.get_or_none(id=umkm_id)
    if umkm is None:
        raise DomainError("NOT_FOUND", "No such UMKM.", "id")
    if not p.is_admin and not p.owns_umkm(umkm.id):
        raise AccessError("You can change only your own UMKM.")
    return umkm


async def update_umkm(ctx: Ctx, umkm_id: int, f: UmkmFields) -> Umkm:
    v = Validator()
    if f.nib is not None:
        v.add("nib", "IMMUTABLE", "NIB cannot be changed; ask Dinkopumdag to correct it.")
    _validate_umkm(v, f, creating=False)
    v.raise_if_any()
    async with in_transaction():
        umkm = await _umkm_for_change(ctx, umkm_id)
        kel = await _check_refs(f)
        for attr in (
            "name",
            "description",
            "owner_name",
            "phone",
            "address",
            "bank_name",
            "bank_account",
            "bank_account_name",
        ):
            value = getattr(f, attr)
            if value is not None:
                setattr(umkm, attr, value.strip())
        if kel is not None:
            umkm.kelurahan_id, umkm.kecamatan_id = kel.id, kel.kecamatan_id
        if f.serves_city_wide is not None:
            umkm.serves_city_wide = f.serves_city_wide
        if f.scale is not None and umkm.scale_source is ScaleSource.DECLARED:
            umkm.scale = f.scale
        identity = clusters.identity_columns(ctx, nik=f.owner_nik, bank_account=f.bank_account, phone=f.phone)
        identity = clusters.taken(umkm, identity, ctx.clock.now())
        for attr, value in identity.items():
            setattr(umkm, attr, value)
        await umkm.save()
        if identity:
            await clusters.recluster([umkm.id])
        await invalidate()  # scale may have changed: every category's eligible set
        if f.served_kecamatan_ids is not None or kel is not None:
            ids = f.served_kecamatan_ids
            if ids is None:
                ids = list(await UmkmServedKecamatan.filter(umkm_id=umkm.id).values_list("kecamatan_id", flat=True))
            await _set_served(umkm, ids)
    return umkm


# decision -> (allowed from, to)
TRANSITIONS = {
    "APPROVE": ({UmkmStatus.PENDING}, UmkmStatus.VERIFIED),
    "REJECT": ({UmkmStatus.PENDING}, UmkmStatus.REJECTED),
    "SUSPEND": ({UmkmStatus.VERIFIED}, UmkmStatus.SUSPENDED),
    "REINSTATE": ({UmkmStatus.SUSPENDED}, UmkmStatus.VERIFIED),
}
NOTE_REQUIRED = {"REJECT": msg("Say why you reject this UMKM."), "SUSPEND": msg("Say why you suspend this UMKM.")}
UMKM_TOPIC = {UmkmStatus.VERIFIED: "umkm.verified", UmkmStatus.SUSPENDED: "umkm.suspended"}  # what partners hear


async def verify_umkm(ctx: Ctx, umkm_id: int, decision: str, note: str | None) -> Umkm:
    p = ctx.principal
    allowed, to_status = TRANSITIONS[decision]
    note = (note or "").strip()
    if decision in ("REJECT", "SUSPEND") and not note:
        raise DomainError("REQUIRED", NOTE_REQUIRED[decision], "note")
    async with in_transaction():
        umkm = await Umkm.get_or_none(id=umkm_id)
        if umkm is None:
            raise DomainError("NOT_FOUND", "No such UMKM.", "id")
        if umkm.status not in allowed:
            raise DomainError(
                "INVALID_TRANSITION",
                "The UMKM is {status}; {decision} needs {allowed}.",
                "decision",
                status=umkm.status.value,
                decision=decision,
                allowed="/".join(s.value for s in allowed),
            )
        changes = {"status": to_status}
        if to_status is UmkmStatus.VERIFIED and umkm.verified_at is None:
            changes["verified_at"] = ctx.clock.now()
        # Conditional on the status we read, so two admins racing cannot both apply a decision.
        moved = await Umkm.filter(id=umkm_id, status=umkm.status).update(**changes)
        if not moved:
            raise DomainError("INVALID_TRANSITION", "The UMKM changed meanwhile; reload and try again.", "id")
        await UmkmStatusChange.create(
            umkm_id=umkm_id, from_status=umkm.status, to_status=to_status, actor_id=p.user_id, note=note
        )
        if to_status is UmkmStatus.REJECTED:  # a rejected registration links no one
            await clusters.recluster([umkm_id])
        if to_status in UMKM_TOPIC:
            await outbox.record(
                ctx,
                UMKM_TOPIC[to_status],
                f"umkm:{umkm_id}",
                {
                    "umkm_id": umkm_id,
                    "name": umkm.name,
                    "kecamatan_id": umkm.kecamatan_id,
                    "from_status": umkm.status.value,
                    "to_status": to_status.value,
                    "at": ctx.clock.now().isoformat(),
                },
            )
        await invalidate()
    return await Umkm.get(id=umkm_id)


# ---------------------------------------------------------------- OPD and budgets


@dataclass
class OpdFields:
    code: str | None = None
    name: str | None = None
    kind: OpdKind | None = None
    kecamatan_id: int | None = None
    address: str | None = None
    active: bool | None = None


async def create_opd(ctx: Ctx, f: OpdFields) -> Opd:
    v = Validator()
    code = v.text("code", f.code, max_length=32)
    v.text("name", f.name, max_length=200)
    v.text("address", f.address, max_length=300, required=False)
    if f.kind is None:
        v.add("kind", "REQUIRED", "Kind is required.")
    if f.kecamatan_id is None:
        v.add("kecamatanId", "REQUIRED", "Kecamatan is required.")
    v.raise_if_any()
    async with in_transaction():
        if not await Kecamatan.exists(id=f.kecamatan_id):
            raise DomainError("UNKNOWN_KECAMATAN", "No such kecamatan.", "kecamatanId")
        if await Opd.exists(code=code):
            raise DomainError("DUPLICATE_CODE", "An OPD with this code exists.", "code")
        return await Opd.create(
            code=code,
            name=f.name.strip(),
            kind=f.kind,
            kecamatan_id=f.kecamatan_id,
            address=(f.address or "").strip(),
            active=True if f.active is None else f.active,
        )


async def update_opd(ctx: Ctx, opd_id: int, f: OpdFields) -> Opd:
    v = Validator()
    v.text("name", f.name, max_length=200, required=f.name is not None)
    v.text("address", f.address, max_length=300, required=False)
    if f.code is not None:
        v.add("code", "IMMUTABLE", "An OPD's code cannot change.")
    v.raise_if_any()
    async with in_transaction():
        opd = await Opd.get_or_none(id=opd_id)
        if opd is None:
            raise DomainError("NOT_FOUND", "No such OPD.", "id")
        if f.kecamatan_id is not None:
            if not await Kecamatan.exists(id=f.kecamatan_id):
                raise DomainError("UNKNOWN_KECAMATAN", "No such kecamatan.", "kecamatanId")
            opd.kecamatan_id = f.kecamatan_id
        for attr in ("name", "address"):
            if (value := getattr(f, attr)) is not None:
                setattr(opd, attr, value.strip())
        if f.kind is not None:
            opd.kind = f.kind
        if f.active is not None:
            opd.active = f.active
        await opd.save()
    return opd


async def set_opd_budget(ctx: Ctx, opd_id: int, year: int, amount: int) -> OpdBudget:
    v = Validator()
    v.integer("year", year, minimum=2000, maximum=2100)
    v.rupiah("amount", amount)
    v.raise_if_any()
    async with in_transaction():
        if not await Opd.exists(id=opd_id):
            raise DomainError("NOT_FOUND", "No such OPD.", "opdId")
        budget = await OpdBudget.get_or_none(opd_id=opd_id, year=year)
        if budget is None:
            return await OpdBudget.create(opd_id=opd_id, year=year, amount=amount)
        budget.amount = amount
        await budget.save(update_fields=["amount", "updated_at"])
        return budget


# ---------------------------------------------------------------- categories

SLUG_RE = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    return SLUG_RE.sub("-", text.lower()).strip("-")


async def create_category(
    ctx: Ctx, name: str, parent_id: int | None, description: str | None, slug: str | None
) -> Category:
    v = Validator()
    name = v.text("name", name, max_length=100) or ""
    slug = slugify(slug or name)
    if name and not slug:
        v.add("slug", "INVALID_SLUG", "The slug needs letters or digits.")
    elif len(slug) > 100:
        v.add("slug", "TOO_LONG", "slug must be at most 100 characters.")
    v.raise_if_any()
    async with in_transaction():
        if parent_id is not None and not await Category.exists(id=parent_id):
            raise DomainError("NOT_FOUND", "No such parent category.", "parentId")
        if await Category.exists(slug=slug):
            raise DomainError("DUPLICATE_SLUG", "A category with this slug exists.", "slug")
        category = await Category.create(
            name=name, slug=slug, parent_id=parent_id, description=(description or "").strip()
        )
        await invalidate()
        return category


async def update_category(
    ctx: Ctx, category_id: int, name: str | None, parent_id: int | None, clear_parent: bool, description: str | None
) -> Category:
    v = Validator()
    v.text("name", name, max_length=100, required=name is not None)
    v.raise_if_any()
    async with in_transaction():
        cat = await Category.get_or_none(id=category_id)
        if cat is None:
            raise DomainError("NOT_FOUND", "No such category.", "id")
        if parent_id is not None:
            if parent_id in await category_subtree(category_id):
                raise DomainError("CYCLE", "A category cannot sit under itself or its descendants.", "parentId")
            if not await Category.exists(id=parent_id):
                raise DomainError("NOT_FOUND", "No such parent category.", "parentId")
            cat.parent_id = parent_id
        elif clear_parent:
            cat.parent_id = None
        if name is not None:
            cat.name = name.strip()
        if description is not None:
            cat.description = description.strip()
        await cat.save(update_fields=["name", "parent_id", "description", "updated_at"])
        await invalidate()
    return cat


async def all_categories() -> list[Category]:
    return await Category.all().order_by("name", "id")


async def all_kecamatans() -> list[Kecamatan]:
    return await Kecamatan.all().order_by("code")


def opd_query(ctx: Ctx) -> QuerySet[Opd]:
    return Opd.all()
