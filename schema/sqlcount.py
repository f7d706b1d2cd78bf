"""Counts the SQL statements a request runs while executing, reported in `extensions.sqlStatements`.

On only when the app is started with `count_sql` (tests and benchmarks). Tortoise logs each statement at DEBUG on
`tortoise.db_client` in the task that runs it, so a context variable attributes it to the right request.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

_counter: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("pasar_sql_counter", default=None)


class _Handler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        bucket = _counter.get()
        if bucket is not None and isinstance(record.msg, str) and record.args:
            bucket.append(str(record.args[0]) if isinstance(record.args, tuple) else record.msg)


_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    logger = logging.getLogger("tortoise.db_client")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(_Handler())
    _installed = True


class SqlCounter(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        settings = getattr(self.execution_context.context, "settings", None)
        if not getattr(settings, "count_sql", False):
            yield
            return
        install()
        bucket: list[str] = []
        token = _counter.set(bucket)
        self._bucket = bucket
        try:
            yield
        finally:
            _counter.reset(token)

    def get_results(self) -> dict:
        bucket = getattr(self, "_bucket", None)
        if bucket is None:
            return {}
        return {"sqlStatements": len(bucket), "sql": list(bucket)}
