"""One fair share per business actor: the clusters of UMKM that are one business (docs/FAIRNESS.md).

UMKM are linked by their owner account, the owner's NIK, the bank account or the phone. A NIK is kept only as a
keyed hash (HMAC-SHA256 with the server's identity key, `PASAR_IDENTITY_KEY`) and its last four digits; the bank
account and the phone, normalised, are keyed the same way (`umkm.bank_key`, `umkm.phone_key`), so a link is found by
an index and the hashes say nothing without the key.

The links, for two UMKM that share an identifier, neither REJECTED: A took it first, B later (`umkm.owner_nik_at`,
`bank_key_at`, `phone_key_at`: set when the value is given or changed; registration time before; ties: the lower id
first). So an established UMKM that copies a newer one's bank account through `updateUmkm` is the newcomer.

- an admin's SPLIT of either (its latest decision) taken when the link existed: ignored, the owner account's link
  included;
- the same owner account: one actor;
- another owner account (NIK, bank account or phone): one actor when an admin JOINed either of them after the link
  came to be; otherwise B is **held** (`umkm.cluster_pending_on`, share 0) and the link joins nothing, so an
  identifier copied from an earlier UMKM never reduces that UMKM's share.

A cluster is a connected set of joined links (union-find); `umkm.cluster_id` is its lowest UMKM id, null for a
cluster of one. `recluster` keeps both columns at write time — registration, a change of NIK, bank account or
phone, verification decisions, an admin's JOIN or SPLIT — and invalidates the rankings of the categories of the UMKM
whose cluster changed, so the ranking reads clusters with a join (resolvers/ranking.py), never recomputes them.
Ground floor: imports models, `common` and `invalidation` only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections import defaultdict
from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.base import UmkmStatus
from models.catalog import Product
from models.query import as_datetime, fetch_all, int_list
from models.registry import Umkm, UmkmClusterDecision
from resolvers.common import Ctx, DomainError, Validator
from resolvers.invalidation import invalidate

# The key of development and tests; production sets PASAR_IDENTITY_KEY (app.Settings; README, "Configuration").
DEV_IDENTITY_KEY = "pasar-dev-identity-key-not-for-production"

NIK_RE = re.compile(r"^[0-9]{16}$")
DECISIONS = ("JOIN", "SPLIT")
LINKS = ("OWNER", "NIK", "BANK", "PHONE")
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
MAX_COMPONENT = 5_000  # a component larger than this is cut: an identifier shared that widely is not one business


def identity_key(ctx: Ctx | None) -> bytes:
    settings = getattr(ctx, "settings", None) if ctx is not None else None
    return (getattr(settings, "identity_key", None) or DEV_IDENTITY_KEY).encode()


def keyed(key: bytes, kind: str, value: str) -> str:
    """HMAC-SHA256 of `kind:value` under the server's identity key, hex."""
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def normalise_phone(phone: str | None) -> str | None:
    """Digits only, Indonesian numbers in international form (08… and 8… become 628…); None when too short."""
    digits = re.sub(r"[^0-9]", "", phone or "")
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    elif digits.startswith("8"):
        digits = "62" + digits
    return digits if len(digits) >= 8 else None


def normalise_bank_account(account: str | None) -> str | None:
    """Digits only, leading zeros kept; None when fewer than 6 digits (no account number is shorter)."""
    digits = re.sub(r"[^0-9]", "", account or "")
    return digits if len(digits) >= 6 else None


def validate_nik(v: Validator, nik: str | None) -> None:
    """16 digits; an empty value clears it."""
    if nik is not None and nik.strip() and not NIK_RE.match(nik.strip()):
        v.add("ownerNik", "INVALID_NIK", "NIK must be 16 digits.")


def identity_columns(
    ctx: Ctx | None, *, nik: str | None, bank_account: str | None, phone: str | None, key: bytes | None = None
) -> dict:
    """The keyed columns for the values given (None: not given, unchanged). An empty NIK clears it."""
    key = key or identity_key(ctx)
    out: dict = {}
    if nik is not None:
        nik = nik.strip()
        out["owner_nik_hash"] = keyed(key, "nik", nik) if nik else None
        out["owner_nik_last4"] = nik[-4:] if nik else None
    if bank_account is not None:
        account = normalise_bank_account(bank_account)
        out["bank_key"] = keyed(key, "bank", account) if account else None
    if phone is not None:
        number = normalise_phone(phone)
        out["phone_key"] = keyed(key, "phone", number) if number else None
    return out


SINCE = {"owner_nik_hash": "owner_nik_at", "bank_key": "bank_key_at", "phone_key": "phone_key_at"}


def taken(umkm: Umkm | None, columns: dict, now: dt.datetime) -> dict:
    """`columns` with the time each changed identifier was taken: `now` for a value new to this UMKM (it is the
    newcomer on that identifier), the stored time for one unchanged."""
    out = dict(columns)
    for col, at in SINCE.items():
        if col in columns and (umkm is None or getattr(umkm, col) != columns[col]):
            out[at] = now
    return out


# ---------------------------------------------------------------- computing the clusters


@dataclass
class Node:
    id: int
    owner_id: int
    nik: str | None
    bank: str | None
    phone: str | None
    status: str
    cluster_id: int | None
    pending_on: int | None
    since: dict[str, dt.datetime]  # since when it holds each identifier (OWNER: since it registered)


NODE_COLUMNS = (
    'SELECT "id", "owner_id", "owner_nik_hash" AS nik, "bank_key" AS bank, "phone_key" AS phone, "status", '
    '"cluster_id", "cluster_pending_on" AS pending_on, "created_at", "owner_nik_at", "bank_key_at", "phone_key_at" '
    'FROM "umkm" WHERE '
)


def _node(r: dict) -> Node:
    created = as_datetime(r["created_at"]) or EPOCH
    since = {
        "OWNER": created,
        "NIK": as_datetime(r["owner_nik_at"]) or created,
        "BANK": as_datetime(r["bank_key_at"]) or created,
        "PHONE": as_datetime(r["phone_key_at"]) or created,
    }
    return Node(
        r["id"], r["owner_id"], r["nik"], r["bank"], r["phone"], r["status"], r["cluster_id"], r["pending_on"], since
    )


async def component(umkm_ids: list[int]) -> dict[int, Node]:
    """Every UMKM reachable from these by any identifier, owner account or current cluster (decisions aside): the
    set whose clusters a change can move. A few statements per step of the search."""
    nodes: dict[int, Node] = {}
    frontier = set(umkm_ids)
    seen_keys: dict[str, set] = {
        "id": set(),
        "owner_id": set(),
        "nik": set(),
        "bank": set(),
        "phone": set(),
        "c": set(),
    }
    while frontier and len(nodes) < MAX_COMPONENT:
        rows = await fetch_all(NODE_COLUMNS + f'"id" IN ({int_list(sorted(frontier))})')
        new = {r["id"]: _node(r) for r in rows if r["id"] not in nodes}
        nodes.update(new)
        keys: dict[str, set] = defaultdict(set)
        for n in new.values():
            keys["owner_id"].add(n.owner_id)
            for col, val in (("nik", n.nik), ("bank", n.bank), ("phone", n.phone)):
                if val:
                    keys[col].add(val)
            for c in (n.cluster_id, n.pending_on, n.id):
                if c is not None:
                    keys["c"].add(c)
        conds, params = [], []
        column = {"nik": "owner_nik_hash", "bank": "bank_key", "phone": "phone_key"}
        for col, vals in keys.items():
            vals = vals - seen_keys[col]
            seen_keys[col] |= vals
            if not vals:
                continue
            if col == "owner_id":
                conds.append(f'"owner_id" IN ({int_list(sorted(vals))})')
            elif col == "c":
                ids = int_list(sorted(vals))
                conds.append(f'"id" IN ({ids}) OR "cluster_id" IN ({ids}) OR "cluster_pending_on" IN ({ids})')
            else:
                conds.append(f'"{column[col]}" IN ({", ".join("?" for _ in vals)})')
                params += sorted(vals)
        if not conds:
            break
        rows = await fetch_all('SELECT "id" FROM "umkm" WHERE ' + " OR ".join(f"({c})" for c in conds), params)
        frontier = {r["id"] for r in rows} - set(nodes)
    return nodes


async def latest_decisions(umkm_ids: list[int]) -> dict[int, UmkmClusterDecision]:
    out: dict[int, UmkmClusterDecision] = {}
    if umkm_ids:
        for d in await UmkmClusterDecision.filter(umkm_id__in=umkm_ids).order_by("id"):
            out[d.umkm_id] = d
    return out


@dataclass
class Link:
    older: int
    newer: int  # the one that took the identifier later (ties: the higher id)
    kind: str
    since: dt.datetime  # when the link came to be: the newer one's taking of the identifier


def links(nodes: dict[int, Node]) -> list[Link]:
    """Every pair of UMKM that share an identifier, REJECTED UMKM left out; `older` held it first."""
    groups: dict[tuple[str, object], list[Node]] = defaultdict(list)
    for n in nodes.values():
        if n.status == UmkmStatus.REJECTED.value:
            continue
        groups[("OWNER", n.owner_id)].append(n)
        for kind, val in (("NIK", n.nik), ("BANK", n.bank), ("PHONE", n.phone)):
            if val:
                groups[(kind, val)].append(n)
    out = []
    for (kind, _), group in groups.items():
        group.sort(key=lambda n: (n.since[kind], n.id))
        for j, b in enumerate(group):
            out.extend(Link(a.id, b.id, kind, b.since[kind]) for a in group[:j])
    return out


def assign(
    nodes: dict[int, Node], decisions: dict[int, UmkmClusterDecision]
) -> dict[int, tuple[int | None, int | None]]:
    """Each UMKM's (cluster_id, cluster_pending_on) by the rules of the module's docstring."""
    parent = {i: i for i in nodes}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def decided(x: int, link: Link, decision: str) -> bool:
        """x's latest decision is `decision` and was taken when the link already existed."""
        d = decisions.get(x)
        return d is not None and d.decision == decision and as_datetime(d.created_at) >= link.since

    held: dict[int, list[int]] = defaultdict(list)
    for link in links(nodes):
        a, b = link.older, link.newer
        if decided(a, link, "SPLIT") or decided(b, link, "SPLIT"):
            continue
        same_owner = link.kind == "OWNER" or nodes[a].owner_id == nodes[b].owner_id
        if same_owner or decided(b, link, "JOIN") or decided(a, link, "JOIN"):
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
        else:
            held[b].append(a)
    members: dict[int, list[int]] = defaultdict(list)
    for i in nodes:
        members[find(i)].append(i)
    root = {i: min(members[find(i)]) for i in nodes}
    out = {}
    for i in nodes:
        cluster = root[i] if len(members[find(i)]) > 1 else None
        on = None
        earlier = [a for a in held.get(i, []) if find(a) != find(i)]
        if earlier:
            on = root[min(earlier)]
        out[i] = (cluster, on)
    return out


async def recluster(umkm_ids: list[int]) -> bool:
    """Recompute the clusters around these UMKM and store what changed; invalidate the rankings of the categories
    the changed UMKM sell in. Call inside the writing transaction. True when anything changed."""
    nodes = await component(umkm_ids)
    if not nodes:
        return False
    return bool(await _store(nodes, assign(nodes, await latest_decisions(list(nodes)))))


async def _store(nodes: dict[int, Node], wanted: dict[int, tuple[int | None, int | None]]) -> int:
    """Write the cluster columns that changed, invalidate the rankings of the categories their UMKM sell in."""
    by_value: dict[tuple[int | None, int | None], list[int]] = defaultdict(list)
    for i, value in wanted.items():
        if (nodes[i].cluster_id, nodes[i].pending_on) != value:
            by_value[value].append(i)
    if not by_value:
        return 0
    changed = []
    for (cluster, on), ids in sorted(by_value.items(), key=lambda kv: min(kv[1])):
        for k in range(0, len(ids), 500):
            await Umkm.filter(id__in=ids[k : k + 500]).update(cluster_id=cluster, cluster_pending_on=on)
        changed += ids
    categories = set()
    for k in range(0, len(changed), 500):
        part = changed[k : k + 500]
        categories |= set(await Product.filter(umkm_id__in=part).distinct().values_list("category_id", flat=True))
    if categories:
        await invalidate(categories)
    return len(changed)


async def recluster_all(key: bytes) -> int:
    """Every cluster from scratch (after the migration that added them, or a bulk load; `pasar fairness rebuild`
    runs it): fills the bank account and phone keys from the stored values, then computes every cluster at once
    (one read of `umkm`, one of the decisions) and stores what changed. Returns how many UMKM changed."""
    rows = await fetch_all('SELECT "id", "bank_account", "phone", "bank_key", "phone_key" FROM "umkm" ORDER BY "id"')
    for r in rows:
        cols = identity_columns(None, nik=None, bank_account=r["bank_account"], phone=r["phone"], key=key)
        if (cols["bank_key"], cols["phone_key"]) != (r["bank_key"], r["phone_key"]):
            await Umkm.filter(id=r["id"]).update(**cols)
    async with in_transaction():
        nodes = {r["id"]: _node(r) for r in await fetch_all(NODE_COLUMNS + "1 = 1")}
        decisions: dict[int, UmkmClusterDecision] = {}
        for d in await UmkmClusterDecision.all().order_by("id"):
            decisions[d.umkm_id] = d
        return await _store(nodes, assign(nodes, decisions))


# ---------------------------------------------------------------- an admin's decision


async def decide(ctx: Ctx, umkm_id: int, decision: str, reason: str | None) -> Umkm:
    """JOIN: the UMKM shares the share of the earlier UMKM it is linked to. SPLIT: its own share, its links to every
    UMKM there is now ignored. Appends the decision (who, when, which, why) and recomputes the clusters."""
    v = Validator()
    reason = v.text("reason", reason, max_length=2000, required=True) or ""
    v.raise_if_any()
    async with in_transaction():
        umkm = await Umkm.get_or_none(id=umkm_id)
        if umkm is None:
            raise DomainError("NOT_FOUND", "No such UMKM.", "umkmId")
        newest = await fetch_all('SELECT MAX("id") AS m FROM "umkm"')
        await UmkmClusterDecision.create(
            umkm_id=umkm_id,
            decision=decision,
            reason=reason,
            upto_umkm_id=int(newest[0]["m"]),
            cluster_before=umkm.cluster_pending_on or umkm.cluster_id,
            actor_id=ctx.principal.user_id,
            created_at=ctx.clock.now(),
        )
        await recluster([umkm_id])
        return await Umkm.get(id=umkm_id)


# ---------------------------------------------------------------- what admins read


@dataclass
class ClusterMember:
    umkm: Umkm
    held: bool  # held at share 0, waiting on this cluster
    links: list[str]  # the kinds of identifier it shares with the other members shown: OWNER, NIK, BANK, PHONE


@dataclass
class Cluster:
    key: int  # the cluster's lowest UMKM id
    members: list[ClusterMember]
    held: int


def _keys_sql(only_held: bool) -> str:
    held = 'SELECT "cluster_pending_on" AS k FROM "umkm" WHERE "cluster_pending_on" IS NOT NULL'
    joined = 'SELECT "cluster_id" AS k FROM "umkm" WHERE "cluster_id" IS NOT NULL'
    return held if only_held else f"{held} UNION {joined}"


async def cluster_keys(after: int | None, limit: int, only_held: bool) -> list[int]:
    """A page of cluster keys (ascending): clusters of more than one UMKM, and the UMKM (or clusters) that a held
    newcomer waits on; `only_held`: these last ones only."""
    rows = await fetch_all(
        f"SELECT DISTINCT x.k AS k FROM ({_keys_sql(only_held)}) x WHERE x.k > ? ORDER BY x.k LIMIT {int(limit)}",
        [after if after is not None else 0],
    )
    return [int(r["k"]) for r in rows]


@dataclass
class KeyCount:
    """`totalCount` of the clusters' connection: its own statement, run only when asked for."""

    only_held: bool

    async def count(self) -> int:
        rows = await fetch_all(f"SELECT COUNT(DISTINCT x.k) AS n FROM ({_keys_sql(self.only_held)}) x")
        return int(rows[0]["n"])


async def clusters(keys: list[int], max_members: int) -> list[Cluster]:
    """The clusters of these keys with their members (at most `max_members` each, lowest ids first) and the held
    newcomers waiting on them: one statement for the members whatever the page size."""
    if not keys:
        return []
    rows = (
        await Umkm.filter(
            Q(cluster_id__in=keys) | Q(cluster_pending_on__in=keys) | Q(id__in=keys, cluster_id__isnull=True)
        )
        .order_by("id")
        .limit(max_members * len(keys) + len(keys))
    )
    out = {k: Cluster(k, [], 0) for k in keys}
    for u in rows:
        if u.cluster_pending_on in out:
            c = out[u.cluster_pending_on]
            c.held += 1
            if len(c.members) < max_members:
                c.members.append(ClusterMember(u, True, []))
        key = u.cluster_id if u.cluster_id is not None else u.id
        if key in out and (u.cluster_pending_on != key):
            c = out[key]
            if len(c.members) < max_members:
                c.members.append(ClusterMember(u, False, []))
    for c in out.values():
        _shared(c)
    return [out[k] for k in keys]


def _shared(c: Cluster) -> None:
    """Which kinds of identifier each member shares with another member shown (kinds only, never values)."""
    for m in c.members:
        kinds = []
        for other in c.members:
            if other.umkm.id == m.umkm.id:
                continue
            for kind, a, b in (
                ("OWNER", m.umkm.owner_id, other.umkm.owner_id),
                ("NIK", m.umkm.owner_nik_hash, other.umkm.owner_nik_hash),
                ("BANK", m.umkm.bank_key, other.umkm.bank_key),
                ("PHONE", m.umkm.phone_key, other.umkm.phone_key),
            ):
                if a and a == b and kind not in kinds:
                    kinds.append(kind)
        m.links = [k for k in LINKS if k in kinds]


def decisions_query(umkm_id: int | None):
    qs = UmkmClusterDecision.all()
    if umkm_id is not None:
        qs = qs.filter(umkm_id=umkm_id)
    return qs
