"""GraphQL shape of the registry: wilayah, OPD and budgets, categories, UMKM."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from models import registry as m
from models.base import Role as RoleValue
from models.query import fetched
from resolvers import analytics as analytics_rules
from resolvers import clusters as cluster_rules
from resolvers import registry as rules
from resolvers.common import msg, require_umkm_insider
from resolvers.omzet import streaks
from resolvers.orders import rating_averages
from schema.common import OpdKind, Scale, ScaleSource, UmkmStatus, jakarta
from schema.context import load_as
from schema.errors import UserError, UserErrors
from schema.permissions import ADMIN_ONLY, IsAuthenticated, OwnsUmkmOrAdmin, anonymous_or, roles
from schema.relay import (
    Connection,
    Edge,
    Node,
    PageInfo,
    check_first,
    decode_id,
    decode_ids,
    decode_int_cursor,
    encode_cursor,
    paginate,
    to_global_id,
)
from schema.scalars import Rupiah

# ---------------------------------------------------------------- types


@strawberry.type(description="A kelurahan (urban village) of Surabaya.")
class Kelurahan(Node):
    code: str = strawberry.field(description="Kemendagri code, e.g. 35.78.01.1001.")
    name: str = strawberry.field(description="Name.")
    kecamatan_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, r: m.Kelurahan) -> Kelurahan:
        return cls(id=to_global_id("Kelurahan", r.id), code=r.code, name=r.name, kecamatan_id=r.kecamatan_id)

    @strawberry.field(description="The kecamatan it belongs to.")
    async def kecamatan(self, info: Info) -> Kecamatan:
        return Kecamatan.from_row(await info.context.loaders.by_id(m.Kecamatan).load(self.kecamatan_id))


@strawberry.type(description="A kecamatan (district) of Surabaya; 31 in all.")
class Kecamatan(Node):
    code: str = strawberry.field(description="Kemendagri code, e.g. 35.78.01.")
    name: str = strawberry.field(description="Name.")
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, r: m.Kecamatan) -> Kecamatan:
        return cls(id=to_global_id("Kecamatan", r.id), code=r.code, name=r.name, pk=r.id)

    @strawberry.field(description="Its kelurahan, by code.")
    async def kelurahans(self, info: Info) -> list[Kelurahan]:
        rows = await info.context.loaders.many(m.Kelurahan, "kecamatan_id", ("code",)).load(self.pk)
        return [Kelurahan.from_row(r) for r in rows]


@strawberry.type(description="A product category; a parent includes its descendants in every filter and figure.")
class Category(Node):
    name: str = strawberry.field(description="Name, e.g. Konsumsi rapat.")
    slug: str = strawberry.field(description="Stable URL-safe name.")
    description: str = strawberry.field(description="What belongs here.")
    pk: strawberry.Private[int]
    parent_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, r: m.Category) -> Category:
        return cls(
            id=to_global_id("Category", r.id),
            name=r.name,
            slug=r.slug,
            description=r.description,
            pk=r.id,
            parent_id=r.parent_id,
        )

    @strawberry.field(description="The parent category, if any.")
    async def parent(self, info: Info) -> Category | None:
        if self.parent_id is None:
            return None
        row = await info.context.loaders.by_id(m.Category).load(self.parent_id)
        return Category.from_row(row) if row else None

    @strawberry.field(description="Direct sub-categories.")
    async def children(self, info: Info) -> list[Category]:
        rows = await info.context.loaders.many(m.Category, "parent_id", ("name", "id")).load(self.pk)
        return [Category.from_row(r) for r in rows]


@strawberry.type(description="An OPD's budget ceiling (pagu) for goods and services in one year.")
class OpdBudget:
    year: int = strawberry.field(description="Budget year.")
    amount: Rupiah = strawberry.field(description="Pagu in whole rupiah.")

    @classmethod
    def from_row(cls, r: m.OpdBudget) -> OpdBudget:
        return cls(year=r.year, amount=r.amount)


@strawberry.type(description="A city department, agency, kecamatan or kelurahan office: an institutional buyer.")
class Opd(Node):
    code: str = strawberry.field(description="Short code, unique.")
    name: str = strawberry.field(description="Name.")
    kind: OpdKind = strawberry.field(description="Kind of body.")
    address: str = strawberry.field(description="Office address.")
    active: bool = strawberry.field(description="Inactive OPD cannot order.")
    pk: strawberry.Private[int]
    kecamatan_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, r: m.Opd) -> Opd:
        return cls(
            id=to_global_id("Opd", r.id),
            code=r.code,
            name=r.name,
            kind=r.kind,
            address=r.address,
            active=r.active,
            pk=r.id,
            kecamatan_id=r.kecamatan_id,
        )

    @strawberry.field(description="The kecamatan the office is in; its buyers' 'nearby'.")
    async def kecamatan(self, info: Info) -> Kecamatan:
        return Kecamatan.from_row(await info.context.loaders.by_id(m.Kecamatan).load(self.kecamatan_id))

    @strawberry.field(
        description="The top-level categories this OPD buys in, with spend and the fairness list for each.",
        permission_classes=[IsAuthenticated],
    )
    async def purchase_categories(
        self, info: Info
    ) -> list[Annotated["PurchaseCategory", strawberry.lazy("schema.analytics")]]:  # noqa: F821, UP037
        # The rows as resolvers/analytics.py makes them: the lazily referenced type reads their attributes.
        return await analytics_rules.purchase_categories(self.pk)

    @strawberry.field(description="Pagu per year, newest first.")
    async def budgets(self, info: Info) -> list[OpdBudget]:
        rows = await info.context.loaders.many(m.OpdBudget, "opd_id", ("-year",)).load(self.pk)
        return [OpdBudget.from_row(r) for r in rows]


@strawberry.type(description="One decision on a UMKM's verification status: who, when, why.")
class UmkmStatusChange:
    from_status: UmkmStatus | None = strawberry.field(description="Status before (null at registration).")
    to_status: UmkmStatus = strawberry.field(description="Status after.")
    note: str = strawberry.field(description="Why.")
    at: dt.datetime = strawberry.field(description="When (Asia/Jakarta).")
    actor_id: strawberry.Private[int | None]

    @strawberry.field(description="Who decided (a user ID), if the account still exists.")
    def actor(self) -> strawberry.ID | None:
        return to_global_id("User", self.actor_id) if self.actor_id else None


@strawberry.type(description="A micro, small or medium business selling on the platform.")
class Umkm(Node):
    name: str = strawberry.field(description="Business name.")
    nib: str = strawberry.field(description="Nomor induk berusaha (13 digits), unique.")
    description: str = strawberry.field(description="What the business makes.")
    address: str = strawberry.field(description="Business address.")
    serves_city_wide: bool = strawberry.field(description="Delivers anywhere in the city.")
    scale: Scale = strawberry.field(description="Size class (PP 7/2021).")
    scale_source: ScaleSource = strawberry.field(description="DECLARED at sign-up; later from omzet reports.")
    status: UmkmStatus = strawberry.field(description="Verification status.")
    verified_at: dt.datetime | None = strawberry.field(description="First verification (Asia/Jakarta).")
    created_at: dt.datetime = strawberry.field(description="Registration time (Asia/Jakarta).")
    pk: strawberry.Private[int]
    kelurahan_id: strawberry.Private[int]
    kecamatan_id: strawberry.Private[int]
    owner_id: strawberry.Private[int]
    _owner_name: strawberry.Private[str]
    _phone: strawberry.Private[str]
    _bank: strawberry.Private[tuple[str, str, str]]
    _nik_last4: strawberry.Private[str | None] = None
    _kecamatan: strawberry.Private[Kecamatan | None] = None

    @classmethod
    def from_row(cls, r: m.Umkm) -> Umkm:
        kecamatan = fetched(r, "kecamatan")
        return cls(
            id=to_global_id("Umkm", r.id),
            name=r.name,
            nib=r.nib,
            description=r.description,
            address=r.address,
            serves_city_wide=r.serves_city_wide,
            scale=r.scale,
            scale_source=r.scale_source,
            status=r.status,
            verified_at=jakarta(r.verified_at),
            created_at=jakarta(r.created_at),
            pk=r.id,
            kelurahan_id=r.kelurahan_id,
            kecamatan_id=r.kecamatan_id,
            owner_id=r.owner_id,
            _owner_name=r.owner_name,
            _phone=r.phone,
            _bank=(r.bank_name, r.bank_account, r.bank_account_name),
            _nik_last4=getattr(r, "owner_nik_last4", None),
            _kecamatan=Kecamatan.from_row(kecamatan) if kecamatan is not None else None,
        )

    @strawberry.field(description="Owner's name (owner and admins only).", permission_classes=[OwnsUmkmOrAdmin])
    def owner_name(self) -> str | None:
        return self._owner_name

    @strawberry.field(description="Phone (owner and admins only).", permission_classes=[OwnsUmkmOrAdmin])
    def phone(self) -> str | None:
        return self._phone

    @strawberry.field(description="Bank name (owner and admins only).", permission_classes=[OwnsUmkmOrAdmin])
    def bank_name(self) -> str | None:
        return self._bank[0]

    @strawberry.field(description="Bank account number (owner and admins only).", permission_classes=[OwnsUmkmOrAdmin])
    def bank_account(self) -> str | None:
        return self._bank[1]

    @strawberry.field(
        description="Name on the bank account (owner and admins only).", permission_classes=[OwnsUmkmOrAdmin]
    )
    def bank_account_name(self) -> str | None:
        return self._bank[2]

    @strawberry.field(
        description="The last four digits of the owner's NIK (admins only; the NIK itself is kept only as a keyed "
        "hash).",
        permission_classes=ADMIN_ONLY,
    )
    def owner_nik_last4(self) -> str | None:
        return self._nik_last4

    @strawberry.field(description="Kelurahan of the business address.")
    async def kelurahan(self, info: Info) -> Kelurahan:
        return Kelurahan.from_row(await info.context.loaders.by_id(m.Kelurahan).load(self.kelurahan_id))

    @strawberry.field(description="Kecamatan of the business address.")
    def kecamatan(self, info: Info) -> Kecamatan:
        # Plain when the row came with its kecamatan (product listings), else batch-loaded (an awaitable).
        if self._kecamatan is not None:
            return self._kecamatan
        return load_as(info.context.loaders.by_id(m.Kecamatan), self.kecamatan_id, Kecamatan.from_row)

    @strawberry.field(description="Other kecamatan it declares it serves (besides its own).")
    async def served_kecamatans(self, info: Info) -> list[Kecamatan]:
        links = await info.context.loaders.many(m.UmkmServedKecamatan, "umkm_id").load(self.pk)
        rows = await info.context.loaders.by_id(m.Kecamatan).load_many([x.kecamatan_id for x in links])
        return [Kecamatan.from_row(r) for r in rows if r]

    @strawberry.field(description="Average buyer rating (1-5) over rated orders; null before the first rating.")
    async def rating_average(self, info: Info) -> float | None:
        return await info.context.loaders.batch("rating_average", rating_averages).load(self.pk)

    @strawberry.field(
        description="Months in a row the omzet was reported, up to the last finished month (owner, admins, analysts)."
    )
    async def omzet_streak(self, info: Info) -> int | None:
        require_umkm_insider(info.context, self.pk, msg("Only the owner, admins and analysts see reporting streaks."))
        return await info.context.loaders.batch("omzet_streak", lambda ids: streaks(info.context, ids)).load(self.pk)

    @strawberry.field(description="Every verification decision, oldest first (owner, admins, analysts).")
    async def status_history(self, info: Info) -> list[UmkmStatusChange] | None:
        require_umkm_insider(info.context, self.pk, msg("Only the owner, admins and analysts see the status history."))
        rows = await info.context.loaders.many(m.UmkmStatusChange, "umkm_id").load(self.pk)
        return [
            UmkmStatusChange(
                from_status=r.from_status,
                to_status=r.to_status,
                note=r.note,
                at=jakarta(r.created_at),
                actor_id=r.actor_id,
            )
            for r in rows
        ]


# ---------------------------------------------------------------- business actors (clusters)


@strawberry.enum(description="An identifier two UMKM share (its value is never shown).")
class ClusterLink(Enum):
    OWNER = strawberry.enum_value("OWNER", description="The same owner account.")
    NIK = strawberry.enum_value("NIK", description="The same owner NIK.")
    BANK = strawberry.enum_value("BANK", description="The same bank account number.")
    PHONE = strawberry.enum_value("PHONE", description="The same phone number.")


@strawberry.enum(description="An admin's decision on a UMKM's cluster.")
class ClusterDecision(Enum):
    JOIN = strawberry.enum_value("JOIN", description="One business actor with the UMKM it is linked to: one share.")
    SPLIT = strawberry.enum_value("SPLIT", description="A business actor of its own: its own share.")


@strawberry.type(description="A UMKM of a cluster, or a newcomer held at share 0 waiting on it.")
class UmkmClusterMember:
    umkm: Umkm = strawberry.field(description="The UMKM.")
    held: bool = strawberry.field(description="Held at share 0 until an admin joins or splits it.")
    links: list[ClusterLink] = strawberry.field(description="The identifiers it shares with the members shown.")


@strawberry.type(description="UMKM that are one business actor and share one fair share (admins).")
class UmkmCluster:
    size: int = strawberry.field(description="Its members, held newcomers not counted.")
    held: int = strawberry.field(description="Newcomers held at share 0 waiting on it.")
    members: list[UmkmClusterMember] = strawberry.field(
        description="Members and held newcomers, oldest first (at most 50)."
    )

    @classmethod
    def of(cls, c: cluster_rules.Cluster) -> UmkmCluster:
        members = [
            UmkmClusterMember(umkm=Umkm.from_row(m.umkm), held=m.held, links=[ClusterLink(k) for k in m.links])
            for m in c.members
        ]
        return cls(size=sum(1 for m in c.members if not m.held), held=c.held, members=members)


@strawberry.type(description="One admin decision on a UMKM's cluster: who, when, which, why (append-only).")
class UmkmClusterDecision:
    decision: ClusterDecision = strawberry.field(description="JOIN or SPLIT.")
    reason: str = strawberry.field(description="Why.")
    at: dt.datetime = strawberry.field(description="When (Asia/Jakarta).")
    umkm_id: strawberry.Private[int]
    actor_id: strawberry.Private[int | None]
    before_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, r) -> UmkmClusterDecision:
        return cls(
            decision=ClusterDecision(r.decision),
            reason=r.reason,
            at=jakarta(r.created_at),
            umkm_id=r.umkm_id,
            actor_id=r.actor_id,
            before_id=r.cluster_before,
        )

    @strawberry.field(description="The UMKM decided on.")
    async def umkm(self, info: Info) -> Umkm:
        return Umkm.from_row(await info.context.loaders.by_id(m.Umkm).load(self.umkm_id))

    @strawberry.field(description="Who decided (a user ID), if the account still exists.")
    def actor(self) -> strawberry.ID | None:
        return to_global_id("User", self.actor_id) if self.actor_id else None

    @strawberry.field(description="The earliest UMKM of the cluster it was in or held against before (an ID).")
    def cluster_before(self) -> strawberry.ID | None:
        return to_global_id("Umkm", self.before_id) if self.before_id else None


CLUSTER_MEMBERS_SHOWN = 50


# ---------------------------------------------------------------- queries


@strawberry.input(description="Filters for `umkms`; they combine with AND.")
class UmkmFilter:
    search: str | None = strawberry.field(default=None, description="Words in name or description.")
    category_id: strawberry.ID | None = strawberry.field(default=None, description="Sells in this category (or below).")
    kecamatan_id: strawberry.ID | None = strawberry.field(default=None, description="Located in this kecamatan.")
    status: UmkmStatus | None = strawberry.field(
        default=None, description="Verification status (admins/analysts see all)."
    )
    scale: Scale | None = strawberry.field(default=None, description="Size class.")


UMKM_ORDER = [("name", False), ("id", False)]


@strawberry.type
class RegistryQuery:
    @strawberry.field(description="The 31 kecamatan of Surabaya with their kelurahan.")
    async def kecamatans(self) -> list[Kecamatan]:
        return [Kecamatan.from_row(r) for r in await rules.all_kecamatans()]

    @strawberry.field(description="Every category; build the tree with `parent` / `children`.")
    async def categories(self) -> list[Category]:
        return [Category.from_row(r) for r in await rules.all_categories()]

    @strawberry.field(
        description="UMKM the caller may see: verified ones; owners also their own; admins and analysts all."
    )
    async def umkms(
        self, info: Info, filter: UmkmFilter | None = None, first: int | None = 20, after: str | None = None
    ) -> Connection[Umkm]:
        f = filter or UmkmFilter()
        qs = await rules.umkm_query(
            info.context,
            rules.UmkmFilter(
                search=f.search,
                category_id=decode_id(f.category_id, "Category", "categoryId") if f.category_id else None,
                kecamatan_id=decode_id(f.kecamatan_id, "Kecamatan", "kecamatanId") if f.kecamatan_id else None,
                status=f.status,
                scale=f.scale,
            ),
        )
        return await paginate(qs, UMKM_ORDER, first, after, Umkm.from_row)

    @strawberry.field(
        description="Business actors: UMKM linked by owner account, NIK, bank account or phone, which share one fair "
        "share, with the newcomers held at share 0 (admins).",
        permission_classes=ADMIN_ONLY,
    )
    async def umkm_clusters(
        self, info: Info, held_only: bool = False, first: int | None = 20, after: str | None = None
    ) -> Connection[UmkmCluster]:
        n = check_first(first)
        cursor = decode_int_cursor(after, 1)
        keys = await cluster_rules.cluster_keys(cursor[0] if cursor else None, n + 1, held_only)
        page = await cluster_rules.clusters(keys[:n], CLUSTER_MEMBERS_SHOWN)
        edges = [Edge(cursor=encode_cursor([c.key]), node=UmkmCluster.of(c)) for c in page]
        info_ = PageInfo(
            has_next_page=len(keys) > n,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        )
        return Connection(edges=edges, page_info=info_, _count_qs=cluster_rules.KeyCount(held_only))

    @strawberry.field(
        description="Admins' decisions on clusters, newest first; of one UMKM with `umkmId` (admins).",
        permission_classes=ADMIN_ONLY,
    )
    async def umkm_cluster_decisions(
        self, info: Info, umkm_id: strawberry.ID | None = None, first: int | None = 20, after: str | None = None
    ) -> Connection[UmkmClusterDecision]:
        qs = cluster_rules.decisions_query(decode_id(umkm_id, "Umkm", "umkmId") if umkm_id else None)
        return await paginate(qs, [("id", True)], first, after, UmkmClusterDecision.from_row)

    @strawberry.field(description="City OPD (public bodies), by code.")
    async def opds(self, info: Info, first: int | None = 20, after: str | None = None) -> Connection[Opd]:
        return await paginate(
            rules.opd_query(info.context), [("code", False), ("id", False)], first, after, Opd.from_row
        )


# ---------------------------------------------------------------- mutations


@strawberry.input(description="Sign-up of a UMKM. Anonymous callers also give the owner's account (email, password).")
class RegisterUmkmInput:
    name: str = strawberry.field(description="Business name.")
    nib: str = strawberry.field(description="NIB, 13 digits.")
    owner_name: str = strawberry.field(description="Owner's name.")
    phone: str = strawberry.field(description="Phone.")
    address: str = strawberry.field(description="Business address.")
    kelurahan_id: strawberry.ID = strawberry.field(description="Kelurahan of the address.")
    email: str | None = strawberry.field(default=None, description="New account's email (anonymous sign-up).")
    password: str | None = strawberry.field(default=None, description="New account's password, 8+ characters.")
    full_name: str | None = strawberry.field(default=None, description="New account's name (default: owner name).")
    description: str | None = strawberry.field(default=None, description="What the business makes.")
    serves_city_wide: bool = strawberry.field(default=False, description="Delivers anywhere in the city.")
    served_kecamatan_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Other kecamatan served."
    )
    scale: Scale | None = strawberry.field(default=None, description="Declared size class (default MIKRO).")
    bank_name: str | None = strawberry.field(default=None, description="Bank name.")
    bank_account: str | None = strawberry.field(default=None, description="Bank account number.")
    bank_account_name: str | None = strawberry.field(default=None, description="Name on the account.")
    owner_nik: str | None = strawberry.field(
        default=None, description="The owner's NIK, 16 digits: kept only as a keyed hash and its last four digits."
    )


@strawberry.type(description="Result of `registerUmkm`.")
class RegisterUmkmPayload:
    umkm: Umkm | None = strawberry.field(default=None, description="The new PENDING UMKM.")
    token: str | None = strawberry.field(
        default=None, description="A login token for a new account (anonymous sign-up)."
    )
    errors: list[UserError] = strawberry.field(default_factory=list, description="What was wrong, if anything.")
    retry_after: int | None = strawberry.field(
        default=None, description="With TOO_MANY_ATTEMPTS: seconds until a sign-up from this address may be tried."
    )


@strawberry.input(description="Changes to a UMKM; omitted fields stay as they are.")
class UpdateUmkmInput:
    id: strawberry.ID = strawberry.field(description="The UMKM.")
    name: str | None = strawberry.field(default=None, description="Business name.")
    nib: str | None = strawberry.field(default=None, description="Cannot change (an error says so).")
    description: str | None = strawberry.field(default=None, description="What the business makes.")
    owner_name: str | None = strawberry.field(default=None, description="Owner's name.")
    phone: str | None = strawberry.field(default=None, description="Phone.")
    address: str | None = strawberry.field(default=None, description="Business address.")
    kelurahan_id: strawberry.ID | None = strawberry.field(default=None, description="Kelurahan of the address.")
    serves_city_wide: bool | None = strawberry.field(default=None, description="Delivers anywhere in the city.")
    served_kecamatan_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Replaces the served list."
    )
    scale: Scale | None = strawberry.field(default=None, description="Declared size class (only while DECLARED).")
    bank_name: str | None = strawberry.field(default=None, description="Bank name.")
    bank_account: str | None = strawberry.field(default=None, description="Bank account number.")
    bank_account_name: str | None = strawberry.field(default=None, description="Name on the account.")
    owner_nik: str | None = strawberry.field(
        default=None, description="The owner's NIK, 16 digits (an empty string clears it)."
    )


@strawberry.type(description="Result of a change to one UMKM.")
class UmkmPayload:
    umkm: Umkm | None = strawberry.field(default=None, description="The UMKM after the change.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What was wrong, if anything.")


@strawberry.enum(description="An admin's verification decision.")
class VerifyDecision(Enum):
    APPROVE = strawberry.enum_value("APPROVE", description="PENDING to VERIFIED.")
    REJECT = strawberry.enum_value("REJECT", description="PENDING to REJECTED (say why in `note`).")
    SUSPEND = strawberry.enum_value("SUSPEND", description="VERIFIED to SUSPENDED (say why in `note`).")
    REINSTATE = strawberry.enum_value("REINSTATE", description="SUSPENDED to VERIFIED.")


@strawberry.input(description="Approve or reject a PENDING UMKM, suspend a VERIFIED one, reinstate a SUSPENDED one.")
class VerifyUmkmInput:
    id: strawberry.ID = strawberry.field(description="The UMKM.")
    decision: VerifyDecision = strawberry.field(description="The decision.")
    note: str | None = strawberry.field(default=None, description="Why; required to reject or suspend.")


@strawberry.input(description="A new OPD.")
class CreateOpdInput:
    code: str = strawberry.field(description="Short unique code.")
    name: str = strawberry.field(description="Name.")
    kind: OpdKind = strawberry.field(description="Kind of body.")
    kecamatan_id: strawberry.ID = strawberry.field(description="Where the office is.")
    address: str | None = strawberry.field(default=None, description="Office address.")


@strawberry.input(description="Changes to an OPD; omitted fields stay.")
class UpdateOpdInput:
    id: strawberry.ID = strawberry.field(description="The OPD.")
    name: str | None = strawberry.field(default=None, description="Name.")
    kind: OpdKind | None = strawberry.field(default=None, description="Kind of body.")
    kecamatan_id: strawberry.ID | None = strawberry.field(default=None, description="Where the office is.")
    address: str | None = strawberry.field(default=None, description="Office address.")
    active: bool | None = strawberry.field(default=None, description="Inactive OPD cannot order.")


@strawberry.type(description="Result of a change to one OPD.")
class OpdPayload:
    opd: Opd | None = strawberry.field(default=None, description="The OPD after the change.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What was wrong, if anything.")


@strawberry.input(description="Set an OPD's pagu for a year.")
class SetOpdBudgetInput:
    opd_id: strawberry.ID = strawberry.field(description="The OPD.")
    year: int = strawberry.field(description="Budget year.")
    amount: Rupiah = strawberry.field(description="Pagu in whole rupiah.")


@strawberry.type(description="Result of `setOpdBudget`.")
class OpdBudgetPayload:
    opd: Opd | None = strawberry.field(default=None, description="The OPD.")
    budget: OpdBudget | None = strawberry.field(default=None, description="The budget as stored.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What was wrong, if anything.")


@strawberry.input(description="A new category.")
class CreateCategoryInput:
    name: str = strawberry.field(description="Name.")
    parent_id: strawberry.ID | None = strawberry.field(default=None, description="Parent category.")
    slug: str | None = strawberry.field(default=None, description="URL-safe name (default: from the name).")
    description: str | None = strawberry.field(default=None, description="What belongs here.")


@strawberry.input(description="Changes to a category; omitted fields stay.")
class UpdateCategoryInput:
    id: strawberry.ID = strawberry.field(description="The category.")
    name: str | None = strawberry.field(default=None, description="Name.")
    parent_id: strawberry.ID | None = strawberry.field(default=None, description="New parent.")
    clear_parent: bool = strawberry.field(default=False, description="Make it a top-level category.")
    description: str | None = strawberry.field(default=None, description="What belongs here.")


@strawberry.type(description="Result of a change to one category.")
class CategoryPayload:
    category: Category | None = strawberry.field(default=None, description="The category after the change.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What was wrong, if anything.")


def _umkm_fields(i: RegisterUmkmInput | UpdateUmkmInput) -> rules.UmkmFields:
    return rules.UmkmFields(
        name=i.name,
        nib=i.nib,
        description=i.description,
        owner_name=i.owner_name,
        phone=i.phone,
        address=i.address,
        kelurahan_id=decode_id(i.kelurahan_id, "Kelurahan", "kelurahanId") if i.kelurahan_id else None,
        serves_city_wide=i.serves_city_wide,
        served_kecamatan_ids=decode_ids(i.served_kecamatan_ids, "Kecamatan", "servedKecamatanIds"),
        scale=i.scale,
        bank_name=i.bank_name,
        bank_account=i.bank_account,
        bank_account_name=i.bank_account_name,
        owner_nik=i.owner_nik,
    )


@strawberry.input(description="An admin's decision on a UMKM's cluster.")
class UmkmClusterInput:
    umkm_id: strawberry.ID = strawberry.field(description="The UMKM (a held newcomer, or a member of a cluster).")
    reason: str = strawberry.field(description="Why; kept in the cluster's history.")


@strawberry.type
class RegistryMutation:
    @strawberry.mutation(
        description="Sign up a UMKM: anonymous creates the owner account too; an owner adds another.",
        permission_classes=anonymous_or(RoleValue.UMKM_OWNER),
        extensions=[UserErrors()],
    )
    async def register_umkm(self, info: Info, input: RegisterUmkmInput) -> RegisterUmkmPayload:
        reg = await rules.register_umkm(
            info.context, _umkm_fields(input), email=input.email, password=input.password, full_name=input.full_name
        )
        return RegisterUmkmPayload(umkm=Umkm.from_row(reg.umkm), token=reg.token)

    @strawberry.mutation(
        description="Change a UMKM's details (its owner or an admin).",
        permission_classes=roles(RoleValue.ADMIN, RoleValue.UMKM_OWNER),
        extensions=[UserErrors()],
    )
    async def update_umkm(self, info: Info, input: UpdateUmkmInput) -> UmkmPayload:
        umkm_id = decode_id(input.id, "Umkm")
        return UmkmPayload(umkm=Umkm.from_row(await rules.update_umkm(info.context, umkm_id, _umkm_fields(input))))

    @strawberry.mutation(
        description="Verification decision by Dinkopumdag; every decision is kept.",
        permission_classes=ADMIN_ONLY,
        extensions=[UserErrors()],
    )
    async def verify_umkm(self, info: Info, input: VerifyUmkmInput) -> UmkmPayload:
        umkm = await rules.verify_umkm(info.context, decode_id(input.id, "Umkm"), input.decision.value, input.note)
        return UmkmPayload(umkm=Umkm.from_row(umkm))

    @strawberry.mutation(
        description="One business actor: the UMKM shares the fair share of the earlier UMKM it is linked to (admin).",
        permission_classes=ADMIN_ONLY,
        extensions=[UserErrors()],
    )
    async def join_umkm_cluster(self, info: Info, input: UmkmClusterInput) -> UmkmPayload:
        umkm_id = decode_id(input.umkm_id, "Umkm", "umkmId")
        return UmkmPayload(umkm=Umkm.from_row(await cluster_rules.decide(info.context, umkm_id, "JOIN", input.reason)))

    @strawberry.mutation(
        description="A business actor of its own: the UMKM gets its own fair share, its links ignored (admin).",
        permission_classes=ADMIN_ONLY,
        extensions=[UserErrors()],
    )
    async def split_umkm_cluster(self, info: Info, input: UmkmClusterInput) -> UmkmPayload:
        umkm_id = decode_id(input.umkm_id, "Umkm", "umkmId")
        return UmkmPayload(umkm=Umkm.from_row(await cluster_rules.decide(info.context, umkm_id, "SPLIT", input.reason)))

    @strawberry.mutation(description="Add an OPD (admin).", permission_classes=ADMIN_ONLY, extensions=[UserErrors()])
    async def create_opd(self, info: Info, input: CreateOpdInput) -> OpdPayload:
        f = rules.OpdFields(
            code=input.code,
            name=input.name,
            kind=input.kind,
            address=input.address,
            kecamatan_id=decode_id(input.kecamatan_id, "Kecamatan", "kecamatanId"),
        )
        return OpdPayload(opd=Opd.from_row(await rules.create_opd(info.context, f)))

    @strawberry.mutation(description="Change an OPD (admin).", permission_classes=ADMIN_ONLY, extensions=[UserErrors()])
    async def update_opd(self, info: Info, input: UpdateOpdInput) -> OpdPayload:
        f = rules.OpdFields(
            name=input.name,
            kind=input.kind,
            address=input.address,
            active=input.active,
            kecamatan_id=decode_id(input.kecamatan_id, "Kecamatan", "kecamatanId") if input.kecamatan_id else None,
        )
        return OpdPayload(opd=Opd.from_row(await rules.update_opd(info.context, decode_id(input.id, "Opd"), f)))

    @strawberry.mutation(
        description="Set an OPD's pagu for a year (admin).", permission_classes=ADMIN_ONLY, extensions=[UserErrors()]
    )
    async def set_opd_budget(self, info: Info, input: SetOpdBudgetInput) -> OpdBudgetPayload:
        opd_id = decode_id(input.opd_id, "Opd", "opdId")
        budget = await rules.set_opd_budget(info.context, opd_id, input.year, input.amount)
        opd = await info.context.loaders.by_id(m.Opd).load(opd_id)
        return OpdBudgetPayload(opd=Opd.from_row(opd), budget=OpdBudget.from_row(budget))

    @strawberry.mutation(
        description="Add a category (admin).", permission_classes=ADMIN_ONLY, extensions=[UserErrors()]
    )
    async def create_category(self, info: Info, input: CreateCategoryInput) -> CategoryPayload:
        parent = decode_id(input.parent_id, "Category", "parentId") if input.parent_id else None
        cat = await rules.create_category(info.context, input.name, parent, input.description, input.slug)
        return CategoryPayload(category=Category.from_row(cat))

    @strawberry.mutation(
        description="Change a category (admin).", permission_classes=ADMIN_ONLY, extensions=[UserErrors()]
    )
    async def update_category(self, info: Info, input: UpdateCategoryInput) -> CategoryPayload:
        parent = decode_id(input.parent_id, "Category", "parentId") if input.parent_id else None
        cat = await rules.update_category(
            info.context, decode_id(input.id, "Category"), input.name, parent, input.clear_parent, input.description
        )
        return CategoryPayload(category=Category.from_row(cat))
