"""Credentials checked recently are trusted for a couple of seconds (resolvers.accounts.CredentialCache); a mutation
may change what a credential stands for (a role, an activation, a revoked key), so after one the cache is emptied."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from resolvers.accounts import credentials


class ForgetCredentialsAfterMutations(SchemaExtension):
    """Empties this process's credential cache after every mutation, whatever it changed."""

    def on_execute(self) -> Iterator[None]:
        yield
        if self.execution_context.operation_type is OperationType.MUTATION:
            credentials.forget_all()
