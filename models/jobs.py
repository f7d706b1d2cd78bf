"""Background jobs that run in one process at a time, however many worker processes serve the API.

With several workers (`pasar serve --workers N`, PostgreSQL only) every worker runs the same periodic loops; a job
that writes (the fairness refresh rebuilding today's under-sold lists) must run in one of them per round. The one
mechanism for that is `single_runner(name)`: on PostgreSQL a session-level advisory lock
(`pg_try_advisory_lock`) taken without waiting on a connection held for the run, one lock key per job name; the
process that gets it runs the job, the others skip this round. A worker that dies mid-run loses its connection, and
PostgreSQL releases the lock with it. On SQLite there is one process (several workers are refused): it always runs.

    async with single_runner("fairness-refresh") as mine:
        if mine:
            ...
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator

from tortoise import connections

LOCK_NAMESPACE = "pasar-job:"  # keeps our keys apart from any other advisory lock user of the database


def lock_key(name: str) -> int:
    """The job's advisory lock key: a stable signed 64-bit number derived from its name."""
    digest = hashlib.sha256((LOCK_NAMESPACE + name).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.asynccontextmanager
async def single_runner(name: str, connection: str = "default") -> AsyncIterator[bool]:
    """Yields True in the one process that may run the job `name` now, False in the others (no waiting)."""
    client = connections.get(connection)
    if client.capabilities.dialect != "postgres":
        yield True
        return
    key = lock_key(name)
    async with client.acquire_connection() as raw:  # asyncpg connection, held (and so the lock) for the run
        mark = getattr(raw, "mark_session_state", None)  # the lock is session state: a full reset when returned
        if mark is not None:
            mark()
        mine = bool(await raw.fetchval("SELECT pg_try_advisory_lock($1)", key))
        try:
            yield mine
        finally:
            if mine:
                # If the connection broke, the lock went with it; the pool also resets a returned connection.
                with contextlib.suppress(Exception):
                    await raw.execute("SELECT pg_advisory_unlock($1)", key)
