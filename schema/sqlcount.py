"""Counts the SQL statements a request runs, and keeps their parameters out of the log.

Tortoise logs each statement at DEBUG on `tortoise.db_client` (`"%s: %s"`, the statement and its parameters) in the
task that runs it, so a context variable attributes it to the right request. `install()` sets that logger to DEBUG and
puts a counter in front of its `debug` (`_counted`): each statement is counted there, and a record is made, with the
statement only, when a handler would write a DEBUG record (the log at `PASAR_LOG_LEVEL=DEBUG`, a test's capture);
`WithoutParameters` on the logger takes the parameters out of any other record. No handler ever sees a password
hash, an e-mail address or any other value a statement carries.

Two counts take the same statements:
- `SqlCounter` counts while the operation executes and reports `extensions.sqlStatements` and `extensions.sql`, only
  when the app is started with `count_sql` (tests and benchmarks);
- `tally()` counts a whole request (the caller's lookup included) for the request's log line, always.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from strawberry.extensions import SchemaExtension

STATEMENT = "%s: %s"  # how every Tortoise backend logs a statement with its parameters

_counter: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("pasar_sql_counter", default=None)


@dataclass
class Tally:
    statements: int = 0


_tally: contextvars.ContextVar[Tally | None] = contextvars.ContextVar("pasar_sql_tally", default=None)


class WithoutParameters(logging.Filter):
    """On `tortoise.db_client`: a statement's record keeps the statement and loses its parameters; a connection's
    record ("… with params: …", the pool's settings) loses the settings."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == STATEMENT and isinstance(record.args, tuple) and len(record.args) == 2:
            record.msg, record.args = "%s", (record.args[0],)
        elif isinstance(record.msg, str) and " with params" in record.msg:
            kept = record.msg.split(" with params", 1)[0]
            args = record.args if isinstance(record.args, tuple) else ()
            record.msg, record.args = kept, args[: kept.count("%s")]
        return True


def _note(statement: Any) -> None:
    tally = _tally.get()
    if tally is not None:
        tally.statements += 1
    bucket = _counter.get()
    if bucket is not None:
        bucket.append(str(statement))


def _writes_debug(logger: logging.Logger) -> bool:
    """Whether a DEBUG record of `logger` would reach a handler that takes DEBUG (the logger's level is DEBUG)."""
    current: logging.Logger | None = logger
    while current is not None:
        if any(h.level <= logging.DEBUG for h in current.handlers):
            return True
        if not current.propagate:
            return False
        current = current.parent
    return False


def _counted(logger: logging.Logger) -> Callable[..., None]:
    """`logger.debug` with the statements counted first; a statement's record (only when a handler would take it)
    carries the statement without its parameters."""
    debug = logger.debug

    def counted_debug(msg: Any, *args: Any, **kwargs: Any) -> None:
        if msg == STATEMENT and len(args) == 2:
            _note(args[0])
            if _writes_debug(logger):
                debug("%s", args[0], **kwargs)
            return
        debug(msg, *args, **kwargs)

    return counted_debug


_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    logger = logging.getLogger("tortoise.db_client")  # the object every Tortoise client logs with
    logger.addFilter(WithoutParameters())
    logger.setLevel(logging.DEBUG)
    logger.debug = _counted(logger)  # type: ignore[method-assign]
    _installed = True


@contextlib.contextmanager
def tally() -> Iterator[Tally]:
    """Counts the statements run in this context (and the tasks it starts) until the block ends."""
    install()
    counted = Tally()
    token = _tally.set(counted)
    try:
        yield counted
    finally:
        _tally.reset(token)


@contextlib.contextmanager
def counting(settings: object) -> Iterator[list[str] | None]:
    """The statements run in this context while the operation executes (their text), when the app counts them
    (`count_sql`); None, counting nothing, when it does not. The schema extension and the fast path both use it."""
    if not getattr(settings, "count_sql", False):
        yield None
        return
    install()
    bucket: list[str] = []
    token = _counter.set(bucket)
    try:
        yield bucket
    finally:
        _counter.reset(token)


def results(bucket: list[str] | None) -> dict:
    """What a request's `extensions` say of its statements."""
    if bucket is None:
        return {}
    return {"sqlStatements": len(bucket), "sql": list(bucket)}


class SqlCounter(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        with counting(getattr(self.execution_context.context, "settings", None)) as bucket:
            self._bucket = bucket
            yield

    def get_results(self) -> dict:
        return results(getattr(self, "_bucket", None))
