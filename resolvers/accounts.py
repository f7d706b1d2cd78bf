"""Login, tokens, API keys and turning a bearer credential into a Principal."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import replace

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.accounts import ApiKey, SignInFailure, SignInFailureReason, Token, User
from models.base import OPD_ROLES, Role
from models.query import fetch_all
from models.registry import Opd, Umkm, UmkmStatusChange
from resolvers.common import (
    ANONYMOUS,
    REJECTED,
    AccessError,
    Ctx,
    DomainError,
    Principal,
    Unauthenticated,
    Validator,
    require_role,
)
from resolvers.throttle import SignInAttempt, check_key_guessing, key_failed, normalise_email

# argon2id sized for a small server (OWASP's minimum): 19 MiB, two passes, one lane. Hashes made with other
# parameters (the library's defaults before) are rehashed on the owner's next good sign-in.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Hashing runs in worker threads, never on the event loop, at most this many at once: a burst of sign-ins waits its
# turn instead of stalling every other request.
_HASH_SLOTS = asyncio.Semaphore(max(1, os.cpu_count() or 1))
TOKEN_PREFIX = "pst_"  # user session token
KEY_PREFIX = "pk_"  # partner API key
DEFAULT_SCOPES = frozenset({"catalog:read", "procurement:read"})  # a new key's, unless the admin chooses
# orders:read, umkm:read, omzet:read: the webhooks' events (resolvers/outbox.py `WEBHOOK_TOPICS`), granted by an admin
PARTNER_SCOPES = DEFAULT_SCOPES | {"orders:read", "umkm:read", "omzet:read"}
MIN_PASSWORD = 8
MAX_EMAIL = 254  # RFC 5321
MAX_PASSWORD = 1_000  # a longer one is not a password; hashing it would only cost time


def hash_password(password: str) -> str:
    """Blocking: for the command line, the demo seed and the tests; requests use `hash_off_loop`."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def hash_off_loop(password: str) -> str:
    async with _HASH_SLOTS:
        return await asyncio.to_thread(_hasher.hash, password)


async def verify_off_loop(password_hash: str, password: str) -> bool:
    async with _HASH_SLOTS:
        return await asyncio.to_thread(verify_password, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


# A valid hash to compare against when the email is unknown, so timing does not reveal which emails exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def _digest(secret: str, raw: str) -> str:
    return hmac.new(secret.encode(), raw.encode(), hashlib.sha256).hexdigest()


class CredentialCache:
    """Recently checked credentials, so that a session's requests do not each look their token up: digest ->
    (principal, when the entry stops being trusted, when the credential expires).

    An entry lives `seconds` (PASAR_CREDENTIAL_CACHE_SECONDS; 0 turns the cache off) and never past its token's
    expiry. This process forgets a credential the moment it changes here: `logout` and `revoke_api_key` drop it, and
    every mutation empties the cache (`forget_all`: a role, an activation or a membership may have changed). Another
    process learns within `seconds`. Only good credentials are kept (a bad one is looked up and counted every time);
    an owner's UMKM are read per request (`owned_umkm_ids`), since a UMKM can be created for an existing owner."""

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._entries: dict[str, tuple[Principal, float, dt.datetime | None]] = {}

    def get(self, digest: str, now: dt.datetime) -> Principal | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        principal, until, expires_at = entry
        if time.monotonic() >= until or (expires_at is not None and now >= expires_at):
            self._entries.pop(digest, None)
            return None
        return principal

    def put(self, digest: str, principal: Principal, seconds: float, expires_at: dt.datetime | None) -> None:
        if seconds <= 0:
            return
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()  # cheaper than an LRU, and rare: the entries live seconds
        self._entries[digest] = (principal, time.monotonic() + seconds, expires_at)

    def forget(self, digest: str) -> None:
        self._entries.pop(digest, None)

    def forget_all(self) -> None:
        self._entries.clear()


credentials = CredentialCache()


async def owned_umkm_ids(user_id: int) -> frozenset[int]:
    rows = await fetch_all("SELECT id FROM umkm WHERE owner_id = ?", [user_id])
    return frozenset(r["id"] for r in rows)


async def principal_for(raw: str | None, secret: str, now: dt.datetime, cache_seconds: float = 0) -> Principal:
    """Resolve `Authorization: Bearer <raw>`; an unknown, expired or revoked credential is anonymous, marked as
    rejected (`REJECTED`) so that the answer can say the session ended instead of "sign in first". With
    `cache_seconds`, a good credential checked that recently is not looked up again (`CredentialCache`)."""
    if not raw:
        return ANONYMOUS
    digest = _digest(secret, raw)
    cached = credentials.get(digest, now) if cache_seconds > 0 else None
    if cached is not None:
        if cached.role is Role.UMKM_OWNER and cached.user_id is not None:
            return replace(cached, umkm_ids=await owned_umkm_ids(cached.user_id))
        return cached
    if raw.startswith(KEY_PREFIX):
        key = await ApiKey.get_or_none(key_hash=digest, revoked_at=None)
        if key is None:
            return REJECTED
        principal = Principal(api_key_id=key.id, scopes=frozenset(key.scopes))
        credentials.put(digest, principal, cache_seconds, None)
        return principal
    token = await Token.get_or_none(token_hash=digest, revoked_at=None, expires_at__gt=now).select_related("user")
    if token is None or not token.user.active:
        return REJECTED
    user = token.user
    umkm_ids: frozenset[int] = frozenset()
    if user.role is Role.UMKM_OWNER:
        umkm_ids = await owned_umkm_ids(user.id)
    principal = Principal(user_id=user.id, role=user.role, opd_id=user.opd_id, umkm_ids=umkm_ids)
    credentials.put(digest, principal, cache_seconds, token.expires_at)
    return principal


async def session_holds(ctx: Ctx) -> bool:
    """Whether the credential the caller connected with still works (not signed out, revoked, expired, or its user
    deactivated): an open subscription asks every few seconds, so it ends everywhere soon after the session does."""
    raw = getattr(ctx, "raw_token", None)
    if not raw:
        return ctx.principal.is_anonymous
    return not (await principal_for(raw, ctx.settings.secret, ctx.clock.now())).is_anonymous


async def authenticate(ctx: Ctx, raw: str | None) -> Principal:
    """The caller of a request (`principal_for`), with partner-key guessing counted per client address: a `pk_` key
    from an address with too many failures is refused (TooManyAttempts) before it is looked up, and a key that
    matches none is recorded as BAD_API_KEY. Session tokens are random and long: they are not counted."""
    seconds = getattr(ctx.settings, "credential_cache_seconds", 0)
    if not raw or not raw.startswith(KEY_PREFIX):
        return await principal_for(raw, ctx.settings.secret, ctx.clock.now(), seconds)
    await check_key_guessing(ctx)
    principal = await principal_for(raw, ctx.settings.secret, ctx.clock.now(), seconds)
    if principal.credential_rejected:
        await key_failed(ctx)
    return principal


async def issue_token(ctx: Ctx, user: User) -> str:
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ttl = dt.timedelta(hours=ctx.settings.token_ttl_hours)
    await Token.create(user=user, token_hash=_digest(ctx.settings.secret, raw), expires_at=ctx.clock.now() + ttl)
    return raw


async def login(ctx: Ctx, email: str, password: str) -> tuple[str, User]:
    """Sign in. Every attempt is counted (resolvers/throttle.py) before the password is checked, and refused with
    TOO_MANY_ATTEMPTS past the limits; an unknown e-mail is answered, counted and throttled exactly like a known one,
    after verifying against a dummy hash."""
    email = email.strip().lower()
    too_long = len(email) > MAX_EMAIL or len(password) > MAX_PASSWORD  # no such account can exist: the same answer
    user = None if len(email) > MAX_EMAIL else await User.get_or_none(email=email)
    if user is None:
        reason = SignInFailureReason.UNKNOWN_ACCOUNT
    elif not user.active:
        reason = SignInFailureReason.INACTIVE
    else:
        reason = SignInFailureReason.WRONG_PASSWORD
    attempt = SignInAttempt(ctx, email, reason)
    await attempt.begin()
    if too_long:
        raise DomainError("INVALID_CREDENTIALS", "Email or password is wrong.", "email")
    # An inactive account is verified as well: answering it sooner would tell that it exists.
    good = await verify_off_loop(user.password_hash if user is not None else _DUMMY_HASH, password)
    if user is None or not user.active or not good:
        raise DomainError("INVALID_CREDENTIALS", "Email or password is wrong.", "email")
    await attempt.succeeded()
    if needs_rehash(user.password_hash):
        user.password_hash = await hash_off_loop(password)
        await user.save(update_fields=["password_hash", "updated_at"])
    return await issue_token(ctx, user), user


async def logout(ctx: Ctx, raw_token: str | None) -> bool:
    if not raw_token:
        return False
    credentials.forget(_digest(ctx.settings.secret, raw_token))
    revoked = await Token.filter(token_hash=_digest(ctx.settings.secret, raw_token), revoked_at=None).update(
        revoked_at=ctx.clock.now()
    )
    return bool(revoked)


def validate_new_user(v: Validator, email: str, password: str, full_name: str) -> str:
    email = (v.text("email", email, max_length=MAX_EMAIL) or "").lower()
    if email and ("@" not in email or email.startswith("@") or email.endswith("@")):
        v.add("email", "INVALID_EMAIL", "Email address is not valid.")
    if len(password or "") < MIN_PASSWORD:
        v.add("password", "PASSWORD_TOO_SHORT", "Password must be at least {minimum} characters.", minimum=MIN_PASSWORD)
    elif len(password) > MAX_PASSWORD:
        v.add("password", "PASSWORD_TOO_LONG", "Password must be at most {maximum} characters.", maximum=MAX_PASSWORD)
    v.text("fullName", full_name, max_length=200)
    return email


async def create_user(
    ctx: Ctx,
    *,
    email: str,
    password: str,
    full_name: str,
    role: Role,
    opd_id: int | None = None,
) -> User:
    """Create an account (the field is for admins; the command line acts as SYSTEM)."""
    v = Validator()
    email = validate_new_user(v, email, password, full_name)
    if role in OPD_ROLES and opd_id is None:
        v.add("opdId", "REQUIRED", "A {role} belongs to exactly one OPD.", role=role.value)
    if role not in OPD_ROLES and opd_id is not None:
        v.add("opdId", "NOT_ALLOWED", "A {role} does not belong to an OPD.", role=role.value)
    v.raise_if_any()
    async with in_transaction():
        if opd_id is not None and not await Opd.exists(id=opd_id):
            raise DomainError("NOT_FOUND", "No such OPD.", "opdId")
        if await User.exists(email=email):
            raise DomainError("DUPLICATE_EMAIL", "An account with this email exists.", "email")
        try:
            return await User.create(
                email=email,
                password_hash=await hash_off_loop(password),
                full_name=full_name.strip(),
                role=role,
                opd_id=opd_id,
            )
        except IntegrityError:  # a concurrent request took the address between the check and the insert
            raise DomainError("DUPLICATE_EMAIL", "An account with this email exists.", "email") from None


async def assign_umkm_owner(ctx: Ctx, umkm_id: int, owner_id: int) -> Umkm:
    """Hand a UMKM to another owner account (admins; no GraphQL field offers it, the command line does as SYSTEM).

    Kept in the UMKM's status history like a verification decision: the status stays, the note says who took over
    and who acted.
    """
    p = require_role(ctx, Role.ADMIN)
    async with in_transaction():
        umkm = await Umkm.get_or_none(id=umkm_id)
        if umkm is None:
            raise DomainError("NOT_FOUND", "No such UMKM.", "umkmId")
        owner = await User.get_or_none(id=owner_id)
        if owner is None:
            raise DomainError("NOT_FOUND", "No such user.", "ownerId")
        if owner.role is not Role.UMKM_OWNER:
            raise DomainError("NOT_AN_OWNER", "A {role} cannot own a UMKM.", "ownerId", role=owner.role.value)
        previous = umkm.owner_id
        if previous == owner.id:
            return umkm
        umkm.owner_id = owner.id
        await umkm.save(update_fields=["owner_id", "updated_at"])
        await UmkmStatusChange.create(
            umkm_id=umkm.id,
            from_status=umkm.status,
            to_status=umkm.status,
            actor_id=p.user_id,
            note=f"owner changed from user {previous} to user {owner.id} by {p.actor_name}",
        )
    return umkm


async def create_api_key(ctx: Ctx, name: str, scopes: list[str] | None) -> tuple[str, ApiKey]:
    p = ctx.principal
    v = Validator()
    name = v.text("name", name, max_length=200) or ""
    chosen = set(scopes or DEFAULT_SCOPES)
    if unknown := chosen - PARTNER_SCOPES:
        v.add("scopes", "UNKNOWN_SCOPE", "Unknown scopes: {scopes}.", scopes=", ".join(sorted(unknown)))
    v.raise_if_any()
    prefix = KEY_PREFIX + secrets.token_hex(4)
    raw = f"{prefix}_{secrets.token_urlsafe(32)}"
    key = await ApiKey.create(
        name=name,
        prefix=prefix,
        key_hash=_digest(ctx.settings.secret, raw),
        last_four=raw[-4:],
        scopes=sorted(chosen),
        created_by_id=p.user_id,
    )
    return raw, key


async def set_api_key_scopes(ctx: Ctx, key_id: int, scopes: list[str]) -> ApiKey:
    """An admin grants a key exactly these scopes (what its webhooks may carry, too)."""
    chosen = set(scopes)
    if unknown := sorted(chosen - PARTNER_SCOPES):
        raise DomainError(
            "UNKNOWN_SCOPE", "Unknown scopes: {scopes}.", "scopes", scopes=", ".join(u[:40] for u in unknown[:5])
        )
    async with in_transaction():
        key = await ApiKey.get_or_none(id=key_id)
        if key is None:
            raise DomainError("NOT_FOUND", "No such API key.", "id")
        if key.revoked_at is not None:
            raise DomainError("ALREADY_REVOKED", "This API key was revoked.", "id")
        key.scopes = sorted(chosen)
        await key.save(update_fields=["scopes"])
    return key


async def set_email_notifications(ctx: Ctx, enabled: bool) -> User:
    """The caller turns notification e-mails on or off for themselves."""
    user = await User.get(id=ctx.principal.user_id)
    user.email_opt_out = not enabled
    await user.save(update_fields=["email_opt_out", "updated_at"])
    return user


async def revoke_api_key(ctx: Ctx, key_id: int) -> ApiKey:
    async with in_transaction():
        key = await ApiKey.get_or_none(id=key_id)
        if key is None:
            raise DomainError("NOT_FOUND", "No such API key.", "id")
        if key.revoked_at is not None:
            raise DomainError("ALREADY_REVOKED", "This API key was revoked already.", "id")
        key.revoked_at = ctx.clock.now()
        await key.save(update_fields=["revoked_at"])
    credentials.forget_all()  # the cache is keyed by the key's digest, which is not stored
    return key


async def get_user(ctx: Ctx, user_id: int) -> User | None:
    p = ctx.principal
    if p.user_id is None:
        raise AccessError()
    if p.user_id != user_id and not p.is_admin:
        return None
    return await User.get_or_none(id=user_id)


def users_query(ctx: Ctx):
    return User.all()


def api_keys_query(ctx: Ctx):
    return ApiKey.all()


def sign_in_failures_query(ctx: Ctx, email: str | None, address: str | None):
    """Failed sign-ins and partner keys (admins), newest first; `email` as typed at sign-in (normalised)."""
    qs = SignInFailure.all()
    if email is not None:
        qs = qs.filter(email=normalise_email(email))
    if address is not None:
        qs = qs.filter(address=address.strip())
    return qs


async def me(ctx: Ctx) -> User | None:
    """The signed-in user; None for a caller who sent no credential (a stale one is told its session ended)."""
    if ctx.principal.credential_rejected:
        raise Unauthenticated.for_caller(ctx.principal)
    if ctx.principal.user_id is None:
        return None
    return await User.get_or_none(id=ctx.principal.user_id)
