"""What every rule needs: the caller, the errors a rule may raise, validation helpers, the clock."""

from __future__ import annotations

import base64
import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from models.base import Role

NIB_LENGTH = 13  # the one place that knows how long a NIB is (OSS practice today)
MAX_RUPIAH = 10**15  # a sanity bound for any single amount, far above any pagu or price


def global_id(type_name: str, pk: int) -> str:
    """The API's opaque id of a row: `Type:pk` in unpadded URL-safe base64 (the one formula; `schema.relay` and
    the webhook payloads both use it)."""
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


@dataclass(frozen=True)
class Principal:
    """The caller of one request: a user, a partner API key, or nobody."""

    user_id: int | None = None
    role: Role | None = None
    opd_id: int | None = None
    umkm_ids: frozenset[int] = frozenset()
    api_key_id: int | None = None
    scopes: frozenset[str] = frozenset()
    system: bool = False  # the platform itself (SYSTEM), not a request
    credential_rejected: bool = False  # a token or key was sent, but it is unknown, expired or revoked

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None and self.api_key_id is None and not self.system

    @property
    def actor_name(self) -> str:
        """Who acted, for audit notes: `system`, `user <id>`, `api key <id>` or `anonymous`."""
        if self.system:
            return "system"
        if self.user_id is not None:
            return f"user {self.user_id}"
        if self.api_key_id is not None:
            return f"api key {self.api_key_id}"
        return "anonymous"

    @property
    def is_partner(self) -> bool:
        return self.api_key_id is not None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def sees_everything(self) -> bool:
        """Admins and analysts read every row (analysts change nothing)."""
        return self.role in (Role.ADMIN, Role.ANALYST)

    def owns_umkm(self, umkm_id: int | None) -> bool:
        return umkm_id is not None and umkm_id in self.umkm_ids


ANONYMOUS = Principal()
REJECTED = Principal(credential_rejected=True)  # anonymous, and told so where it matters (`SESSION_ENDED`)
# The platform itself acting (the command line): admin rights, no user row. Rows it writes carry no actor user;
# audit notes name it by `actor_name`.
SYSTEM = Principal(role=Role.ADMIN, system=True)


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class OffsetClock:
    """The test clock (`PASAR_TEST_CLOCK`): the real time plus an offset that only moves forward, so that a test sees
    days pass without sleeping. Never made outside test mode (app.py)."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def advance(self, by: dt.timedelta) -> dt.datetime:
        self.offset += by
        return self.now()


class Ctx(Protocol):
    """What a rule reads from the request; the GraphQL context satisfies it, and so can a script."""

    principal: Principal
    clock: Clock
    settings: Any


@dataclass
class SystemContext:
    """The context of the platform acting itself (the command line): SYSTEM, the real clock, the settings."""

    settings: Any
    principal: Principal = SYSTEM
    clock: Clock = field(default_factory=SystemClock)


# Messages. A rule says what went wrong in English, as a fixed template with named parameters
# (`"{label} must be at most {maximum} characters."`, label=Label("name"), maximum=100), never an f-string: the
# template is the message id of the catalogues (schema/locale/), and schema/i18n.py renders it in the caller's
# language where the reply is built. Whole numbers are grouped by thousands; `Label` and `Wait` are words that each
# language renders its own way. Rules stay language-free; tests/test_i18n.py checks every template is translated.


def msg(template: str) -> str:
    """Marks a message template kept in a constant, so that the catalogue's extraction finds it."""
    return template


@dataclass(frozen=True)
class Label:
    """A field path as words in a message (`label`); `str()` is the English."""

    path: str

    def __str__(self) -> str:
        return label(self.path)


@dataclass(frozen=True)
class Wait:
    """How long to wait, in words (`3 minutes`, `45 seconds`); `str()` is the English."""

    seconds: int

    @property
    def minutes(self) -> int:
        return math.ceil(self.seconds / 60)

    def __str__(self) -> str:
        if self.seconds > 60:
            return f"{self.minutes} minute{'s' if self.minutes != 1 else ''}"
        return f"{self.seconds} seconds"


def render(template: str, params: Mapping[str, Any]) -> str:
    """The English message: the template with its parameters (whole numbers as `1,000`)."""
    if not params:
        return template
    return template.format(
        **{k: f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v) for k, v in params.items()}
    )


@dataclass
class UserErrorItem:
    field: str | None
    code: str
    message: str  # the English sentence
    template: str = ""  # its message id: the English with {named} parameters (empty: `message` is the id)
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, field_name: str | None, code: str, template: str, params: Mapping[str, Any]) -> UserErrorItem:
        return cls(
            field=field_name, code=code, message=render(template, params), template=template, params=dict(params)
        )


class DomainError(Exception):
    """An expected mistake by the caller (validation, a state that forbids the change, not found).

    Mutations turn it into payload `errors`; nothing the rule wrote survives, because every rule raises
    it inside its transaction. `message` is a template (see Messages above) filled with `params`.
    """

    def __init__(
        self,
        code: str,
        message: str,
        field: str | None = None,
        *,
        errors: Iterable[UserErrorItem] = (),
        **params: Any,
    ):
        self.errors = list(errors) or [UserErrorItem.of(field, code, message, params)]
        super().__init__(self.errors[0].message)


class TooManyAttempts(DomainError):
    """Refused by a throttle (resolvers/throttle.py): `TOO_MANY_ATTEMPTS`, and when to try again (whole seconds)."""

    def __init__(self, message: str, retry_after: int, **params: Any):
        super().__init__("TOO_MANY_ATTEMPTS", message, None, **params)
        self.retry_after = retry_after


class AccessError(Exception):
    """The caller may not do or see this: a GraphQL error with `extensions.code`."""

    code = "FORBIDDEN"

    def __init__(self, message: str = msg("You are not allowed to do this."), code: str | None = None, **params: Any):
        """`message` is a template (see Messages above) filled with `params`; `str()` is the English."""
        super().__init__(render(message, params))
        self.template, self.params = message, params
        if code:
            self.code = code


SESSION_ENDED = msg("Your session has ended (it expired, or you signed out, or the key was revoked): sign in again.")


class Unauthenticated(AccessError):
    code = "UNAUTHENTICATED"

    def __init__(self, message: str = msg("Sign in first.")):
        super().__init__(message)

    @classmethod
    def for_caller(cls, p: Principal) -> Unauthenticated:
        """ "Sign in first", or, when the caller sent a credential that no longer works, that its session ended."""
        return cls(SESSION_ENDED) if p.credential_rejected else cls()


class BadUserInput(AccessError):
    code = "BAD_USER_INPUT"


ACRONYMS = {"nib": "NIB", "opd": "OPD", "umkm": "UMKM", "id": "ID", "nik": "NIK", "bast": "BAST"}


def label(field_path: str) -> str:
    """A field path as words for a message: `offlineAmount` -> "Offline amount", `items.0.quantity` -> "Quantity
    (line 1)", `kelurahanId` -> "Kelurahan". The path itself goes in the error's `field`."""
    parts = field_path.split(".")
    name = next((p for p in reversed(parts) if not p.isdigit()), field_path)
    index = next((int(p) for p in reversed(parts) if p.isdigit()), None)
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).split()
    if len(words) > 1 and words[-1].lower() in ("id", "ids"):
        words = words[:-1]
    words = [ACRONYMS.get(w.lower(), w.lower()) for w in words] or [name]
    text = " ".join(words)
    text = text[0].upper() + text[1:]
    return f"{text} (line {index + 1})" if index is not None else text


@dataclass
class Validator:
    """Collects several field errors so one reply names every wrong field."""

    errors: list[UserErrorItem] = field(default_factory=list)

    def add(self, field_name: str, code: str, message: str, **params: Any) -> None:
        """One field's error; `message` is a template (see Messages above) filled with `params`."""
        self.errors.append(UserErrorItem.of(field_name, code, message, params))

    def text(self, field_name: str, value: str | None, *, max_length: int, required: bool = True) -> str | None:
        if value is None:
            if required:
                self.add(field_name, "REQUIRED", "{label} is required.", label=Label(field_name))
            return None
        value = value.strip()
        if required and not value:
            self.add(field_name, "REQUIRED", "{label} must not be empty.", label=Label(field_name))
        elif len(value) > max_length:
            self.add(
                field_name,
                "TOO_LONG",
                "{label} must be at most {maximum} characters.",
                label=Label(field_name),
                maximum=max_length,
            )
        return value

    def rupiah(self, field_name: str, value: int | None, *, minimum: int = 0, maximum: int = MAX_RUPIAH) -> None:
        if value is None:
            return
        if value < minimum:
            self.add(
                field_name,
                "NEGATIVE" if minimum == 0 else "TOO_SMALL",
                "{label} must be at least Rp{minimum}.",
                label=Label(field_name),
                minimum=minimum,
            )
        elif value > maximum:
            self.add(
                field_name,
                "TOO_LARGE",
                "{label} must be at most Rp{maximum}.",
                label=Label(field_name),
                maximum=maximum,
            )

    def integer(self, field_name: str, value: int | None, *, minimum: int, maximum: int = 10**9) -> None:
        if value is None:
            return
        if value < minimum:
            self.add(
                field_name, "TOO_SMALL", "{label} must be at least {minimum}.", label=Label(field_name), minimum=minimum
            )
        elif value > maximum:
            self.add(
                field_name, "TOO_LARGE", "{label} must be at most {maximum}.", label=Label(field_name), maximum=maximum
            )

    def nib(self, value: str | None) -> None:
        if value is None:
            return
        # ASCII only: str.isdigit() also accepts full-width and other Unicode digits.
        if len(value) != NIB_LENGTH or not (value.isascii() and value.isdigit()):
            self.add("nib", "INVALID_NIB", "NIB must be exactly {length} digits.", length=NIB_LENGTH)

    def raise_if_any(self) -> None:
        if self.errors:
            first = self.errors[0]
            raise DomainError(first.code, first.message, first.field, errors=self.errors)


# Who may call a GraphQL field (role, sign-in) is declared on the field (schema/permissions.py) and not checked
# again here. The helpers below decide whose row it is, or guard a rule no field exposes (the command line's).


def require_umkm_insider(ctx: Ctx, umkm_id: int, refusal: str) -> None:
    """A UMKM's own records (status history, reporting streak): its owner, admins and analysts; else `refusal` (a
    message template: "Only the owner, admins and analysts see ...")."""
    p = ctx.principal
    if not (p.sees_everything or p.owns_umkm(umkm_id)):
        raise AccessError(refusal)


def require_role(ctx: Ctx, *roles: Role) -> Principal:
    """For rules that no GraphQL field guards (run by the command line as SYSTEM)."""
    p = ctx.principal
    if p.is_anonymous:
        raise Unauthenticated()
    if p.role not in roles:
        raise AccessError()
    return p
