"""GraphQL shape of identity: users, login tokens, partner API keys."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from models import accounts as m
from models import registry as reg
from resolvers import accounts as rules
from resolvers.common import BadUserInput
from schema.common import Role, _enum, jakarta
from schema.errors import UserError, UserErrors
from schema.permissions import ADMIN_ONLY, IsUser
from schema.registry import Opd, Umkm
from schema.relay import Connection, Node, decode_id, paginate, to_global_id


@strawberry.type(description="A person with an account (visible to themselves and admins).")
class User(Node):
    email: str = strawberry.field(description="Login email.")
    full_name: str = strawberry.field(description="Name.")
    role: Role = strawberry.field(description="Role.")
    active: bool = strawberry.field(description="Inactive accounts cannot sign in.")
    created_at: dt.datetime = strawberry.field(description="Created at (Asia/Jakarta).")
    email_notifications: bool = strawberry.field(
        description="Notification e-mails are sent to this user (set with `setEmailNotifications`)."
    )
    pk: strawberry.Private[int]
    opd_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, r: m.User) -> User:
        return cls(
            id=to_global_id("User", r.id),
            email=r.email,
            full_name=r.full_name,
            role=r.role,
            active=r.active,
            created_at=jakarta(r.created_at),
            email_notifications=not r.email_opt_out,
            pk=r.id,
            opd_id=r.opd_id,
        )

    @strawberry.field(description="The OPD of an OPD buyer, treasurer or employee.")
    async def opd(self, info: Info) -> Opd | None:
        if self.opd_id is None:
            return None
        return Opd.from_row(await info.context.loaders.by_id(reg.Opd).load(self.opd_id))

    @strawberry.field(description="The UMKM this user owns.")
    async def umkms(self, info: Info) -> list[Umkm]:
        return [Umkm.from_row(r) for r in await info.context.loaders.many(reg.Umkm, "owner_id").load(self.pk)]


@strawberry.type(description="A partner system's API key; the secret itself is shown once, at creation.")
class ApiKey(Node):
    name: str = strawberry.field(description="Whose key it is.")
    prefix: str = strawberry.field(description="Visible prefix that identifies the key.")
    last_four: str = strawberry.field(description="Last four characters of the secret.")
    scopes: list[str] = strawberry.field(description="What it may read.")
    created_at: dt.datetime = strawberry.field(description="Created at (Asia/Jakarta).")
    revoked_at: dt.datetime | None = strawberry.field(description="Revoked at, if revoked.")

    @classmethod
    def from_row(cls, r: m.ApiKey) -> ApiKey:
        return cls(
            id=to_global_id("ApiKey", r.id),
            name=r.name,
            prefix=r.prefix,
            last_four=r.last_four,
            scopes=r.scopes,
            created_at=jakarta(r.created_at),
            revoked_at=jakarta(r.revoked_at),
        )


SignInFailureReason = _enum(
    m.SignInFailureReason,
    "Why a sign-in or a partner key failed.",
    WRONG_PASSWORD="The account exists and the password was wrong.",
    UNKNOWN_ACCOUNT="No account has this e-mail (answered like a wrong password).",
    THROTTLED="Refused with TOO_MANY_ATTEMPTS before any check.",
    INACTIVE="The account is deactivated (answered like a wrong password).",
    BAD_API_KEY="A partner key that matches none (unknown or revoked).",
)


@strawberry.type(
    description="A failed sign-in or partner key (admins): which account was tried, from where, when, and why it "
    "failed. Kept 90 days (PASAR_SIGN_IN_RETENTION_DAYS); never the password or the key."
)
class SignInFailure:
    email: str | None = strawberry.field(
        description="The e-mail tried, lower case, whether or not an account has it; null for a partner key."
    )
    client_address: str = strawberry.field(description="The client address the attempt came from.")
    reason: SignInFailureReason = strawberry.field(description="Why it failed.")
    at: dt.datetime = strawberry.field(description="When (Asia/Jakarta).")

    @classmethod
    def from_row(cls, r: m.SignInFailure) -> SignInFailure:
        return cls(email=r.email, client_address=r.address, reason=r.reason, at=jakarta(r.at))


@strawberry.type
class AccountsQuery:
    @strawberry.field(
        description="The signed-in user; null without a token, UNAUTHENTICATED when the token sent no longer works."
    )
    async def me(self, info: Info) -> User | None:
        user = await rules.me(info.context)
        return User.from_row(user) if user else None

    @strawberry.field(description="All users (admin).", permission_classes=ADMIN_ONLY)
    async def users(self, info: Info, first: int | None = 20, after: str | None = None) -> Connection[User]:
        return await paginate(rules.users_query(info.context), [("id", False)], first, after, User.from_row)

    @strawberry.field(description="All partner API keys (admin).", permission_classes=ADMIN_ONLY)
    async def api_keys(self, info: Info, first: int | None = 20, after: str | None = None) -> Connection[ApiKey]:
        return await paginate(rules.api_keys_query(info.context), [("id", False)], first, after, ApiKey.from_row)

    @strawberry.field(
        description="Failed sign-ins and partner keys, newest first (admin): to see which account is attacked.",
        permission_classes=ADMIN_ONLY,
    )
    async def sign_in_failures(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        email: Annotated[str | None, strawberry.argument(description="Only attempts on this e-mail.")] = None,
        client_address: Annotated[str | None, strawberry.argument(description="Only attempts from here.")] = None,
    ) -> Connection[SignInFailure]:
        if email is not None and len(email) > rules.MAX_EMAIL:
            raise BadUserInput("`email` is at most {maximum} characters.", maximum=rules.MAX_EMAIL)
        if client_address is not None and len(client_address) > 64:
            raise BadUserInput("`clientAddress` is at most 64 characters.")
        qs = rules.sign_in_failures_query(info.context, email, client_address)
        return await paginate(qs, [("id", True)], first, after, SignInFailure.from_row)


@strawberry.input(description="Email and password.")
class LoginInput:
    email: str = strawberry.field(description="Login email.")
    password: str = strawberry.field(description="Password.")


@strawberry.type(description="Result of `login`: send the token as `Authorization: Bearer <token>`.")
class LoginPayload:
    token: str | None = strawberry.field(default=None, description="Bearer token.")
    user: User | None = strawberry.field(default=None, description="Who signed in.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What was wrong, if anything.")
    retry_after: int | None = strawberry.field(
        default=None,
        description="With TOO_MANY_ATTEMPTS: seconds until a sign-in from this address may be tried again.",
    )


@strawberry.type(description="Result of `logout`.")
class LogoutPayload:
    ok: bool = strawberry.field(default=False, description="The token used for this request is revoked.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What was wrong, if anything.")


@strawberry.input(description="A new account (admin).")
class CreateUserInput:
    email: str = strawberry.field(description="Login email.")
    password: str = strawberry.field(description="Initial password, 8+ characters.")
    full_name: str = strawberry.field(description="Name.")
    role: Role = strawberry.field(description="Role.")
    opd_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required for OPD_BUYER, OPD_TREASURER, EMPLOYEE."
    )


@strawberry.type(description="Result of `createUser`.")
class UserPayload:
    user: User | None = strawberry.field(default=None, description="The new user.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What was wrong, if anything.")


@strawberry.input(description="A new partner API key.")
class CreateApiKeyInput:
    name: str = strawberry.field(description="Whose key it is.")
    scopes: list[str] | None = strawberry.field(
        default=None, description="catalog:read, procurement:read (the default), orders:read, umkm:read, omzet:read."
    )


@strawberry.type(description="Result of `createApiKey`; `secret` is shown only here, once.")
class CreateApiKeyPayload:
    api_key: ApiKey | None = strawberry.field(default=None, description="The key's record.")
    secret: str | None = strawberry.field(default=None, description="The key to give the partner; not stored.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What was wrong, if anything.")


@strawberry.input(description="Revoke a partner API key.")
class RevokeApiKeyInput:
    id: strawberry.ID = strawberry.field(description="The key.")


@strawberry.type(description="Result of `revokeApiKey`.")
class ApiKeyPayload:
    api_key: ApiKey | None = strawberry.field(default=None, description="The key after the change.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What was wrong, if anything.")


@strawberry.type
class AccountsMutation:
    @strawberry.mutation(description="Sign in with email and password.", extensions=[UserErrors()])
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        token, user = await rules.login(info.context, input.email, input.password)
        return LoginPayload(token=token, user=User.from_row(user))

    @strawberry.mutation(
        description="Revoke the token this request was made with.",
        permission_classes=[IsUser],
        extensions=[UserErrors()],
    )
    async def logout(self, info: Info) -> LogoutPayload:
        return LogoutPayload(ok=await rules.logout(info.context, info.context.raw_token))

    @strawberry.mutation(
        description="Create an account (admin).", permission_classes=ADMIN_ONLY, extensions=[UserErrors()]
    )
    async def create_user(self, info: Info, input: CreateUserInput) -> UserPayload:
        opd_id = decode_id(input.opd_id, "Opd", "opdId") if input.opd_id else None
        user = await rules.create_user(
            info.context,
            email=input.email,
            password=input.password,
            full_name=input.full_name,
            role=input.role,
            opd_id=opd_id,
        )
        return UserPayload(user=User.from_row(user))

    @strawberry.mutation(
        description="Create a partner API key (admin).", permission_classes=ADMIN_ONLY, extensions=[UserErrors()]
    )
    async def create_api_key(self, info: Info, input: CreateApiKeyInput) -> CreateApiKeyPayload:
        secret, key = await rules.create_api_key(info.context, input.name, input.scopes)
        return CreateApiKeyPayload(api_key=ApiKey.from_row(key), secret=secret)

    @strawberry.mutation(
        description="Revoke a partner API key (admin).", permission_classes=ADMIN_ONLY, extensions=[UserErrors()]
    )
    async def revoke_api_key(self, info: Info, input: RevokeApiKeyInput) -> ApiKeyPayload:
        return ApiKeyPayload(
            api_key=ApiKey.from_row(await rules.revoke_api_key(info.context, decode_id(input.id, "ApiKey")))
        )
