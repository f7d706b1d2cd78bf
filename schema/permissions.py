"""Who may call a field, declared next to the field it guards; each failure carries its error code.

The one place for role and sign-in rules: resolvers do not check them again. Whose row it is (ownership, visibility,
"your own OPD") is the resolvers' business; `OwnsUmkmOrAdmin` is the one row rule kept here, because it hides single
fields of a row everyone may read.
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from models.base import Role
from resolvers.common import Unauthenticated, msg


class IsAuthenticated(BasePermission):
    """A signed-in user or a partner key."""

    message = msg("Sign in first.")
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        p = info.context.principal
        if p.credential_rejected:
            raise Unauthenticated.for_caller(p)  # a stale token or key: say the session ended, not "sign in"
        return not p.is_anonymous


class IsUser(BasePermission):
    """A signed-in person (partner keys are not people)."""

    message = msg("Sign in as a user first.")
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        p = info.context.principal
        if p.credential_rejected:
            raise Unauthenticated.for_caller(p)
        return p.user_id is not None


class _HasRole(BasePermission):
    roles: frozenset[Role] = frozenset()
    message = msg("Your role may not do this.")
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal.role in self.roles


def roles(*allowed: Role) -> list[type[BasePermission]]:
    """Permission classes for these roles: anonymous callers get UNAUTHENTICATED, other roles FORBIDDEN."""
    name = "Is" + "Or".join(r.value.title().replace("_", "") for r in allowed)
    return [IsAuthenticated, type(name, (_HasRole,), {"roles": frozenset(allowed)})]


def anonymous_or(*allowed: Role) -> list[type[BasePermission]]:
    """Nobody signed in yet, or a user of these roles (sign-up); partner keys and other roles get FORBIDDEN."""
    name = "IsAnonymousOr" + "Or".join(r.value.title().replace("_", "") for r in allowed)

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        p = info.context.principal
        return p.is_anonymous or p.role in self.roles

    return [type(name, (_HasRole,), {"roles": frozenset(allowed), "has_permission": has_permission})]


class _IsAdminOrPartnerKey(BasePermission):
    message = "Only admins and partner keys may do this."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        p = info.context.principal
        return p.is_admin or p.is_partner


ADMIN_ONLY = roles(Role.ADMIN)
ADMIN_OR_PARTNER = [IsAuthenticated, _IsAdminOrPartnerKey]  # webhooks: admins all, a key its own (the rule decides)
USERS = roles(*Role)  # any signed-in person (a partner key has no role)
ADMIN_OR_OWNER = roles(Role.ADMIN, Role.UMKM_OWNER)


class OwnsUmkmOrAdmin(BasePermission):
    """Personal data of a UMKM (phone, bank account, owner contact): its owner and admins only."""

    message = msg("Only the UMKM's owner and admins see this.")
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        p = info.context.principal
        return p.is_admin or p.owns_umkm(source.pk)
