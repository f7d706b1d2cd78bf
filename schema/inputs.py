"""A bound on all text a request sends, before any resolver runs: no NUL characters, no string longer than
`MAX_TEXT`. Each field's own validator sets tighter limits (a name 200, a note 1,000…); this is the ceiling for text
that reaches the database without one (PostgreSQL refuses NUL in text; SQLite would store it), in variables and in
the document's own string literals alike."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import ExecutionResult, GraphQLError, StringValueNode, visit
from graphql.language import Visitor
from strawberry.extensions import SchemaExtension

MAX_TEXT = 20_000


def _problem(text: str) -> str | None:
    if "\x00" in text:
        return "may not contain NUL characters"
    if len(text) > MAX_TEXT:
        return f"is longer than {MAX_TEXT:,} characters"
    return None


def bad_variable(value: Any, path: str) -> tuple[str, str] | None:
    """(path, problem) of the first string in a variables value that breaks the bound; keys are checked too."""
    if isinstance(value, str):
        problem = _problem(value)
        return (path, problem) if problem else None
    if isinstance(value, dict):
        for k, v in value.items():
            found = bad_variable(str(k), f"{path} key") or bad_variable(v, f"{path}.{k}")
            if found:
                return found
    if isinstance(value, list):
        for i, v in enumerate(value):
            found = bad_variable(v, f"{path}.{i}")
            if found:
                return found
    return None


class _Literals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: tuple[StringValueNode, str] | None = None

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> Any:
        problem = _problem(node.value)
        if problem and self.found is None:
            self.found = (node, problem)
            return self.BREAK
        return None


class InputText(SchemaExtension):
    """Refuses the request with a BAD_USER_INPUT error naming where the text is, and runs nothing."""

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        error = None
        found = bad_variable(ec.variables or {}, "variables")
        if found:
            error = GraphQLError(f"Text in `{found[0]}` {found[1]}.", extensions={"code": "BAD_USER_INPUT"})
        elif ec.graphql_document is not None:
            literals = _Literals()
            visit(ec.graphql_document, literals)
            if literals.found:
                node, problem = literals.found
                error = GraphQLError(
                    f"A text in the query {problem}.", nodes=[node], extensions={"code": "BAD_USER_INPUT"}
                )
        if error is not None:
            ec.result = ExecutionResult(data=None, errors=[error])
        yield
