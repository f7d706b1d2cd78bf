"""PostgreSQL through asyncpg: Tortoise's `tortoise.backends.asyncpg` engine with a cheaper way back into the pool.

asyncpg returns a connection to its pool in a task of its own (`asyncio.shield`) and sends PostgreSQL its reset
statement (`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`) every time: a round trip and a task for each
statement that Tortoise runs outside a transaction, a sixth of the CPU of a short read. Here a connection whose
statement ended well (no exception, no cancellation: the server's answer has been read whole) and has nothing to
undo goes back at once (`_Acquired`, `PasarPool.put_back`); any other goes back as asyncpg returns it, and so does
every connection of a transaction.

Nothing to undo: no transaction open, no listener, no cancellation under way, and no session state. The app keeps
session state off pooled connections: `LISTEN` runs on a connection of its own (resolvers/events.py), no statement
`SET`s a session setting or declares a cursor outside a transaction, and the one session-level advisory lock (the
single runner of a job, models/jobs.py) marks its connection (`mark_session_state`), which then gets asyncpg's full
reset. `tests/test_pg_pool.py` checks both ways back and looks through the code for statements that would leave
session state unmarked.

`tortoise_config` (models/__init__.py) names this module as the engine of a PostgreSQL URL.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from asyncpg.pool import Pool, PoolConnectionProxy
from tortoise.backends.asyncpg import AsyncpgDBClient
from tortoise.backends.base.client import PoolConnectionWrapper


class PooledConnection(asyncpg.Connection):
    """A pool's connection: reset with asyncpg's statement only after a use that marked it (`mark_session_state`)."""

    _pasar_session_state = False

    def mark_session_state(self) -> None:
        """This connection now holds session state (a session-level advisory lock): when it goes back to the pool,
        asyncpg's full reset runs."""
        self._pasar_session_state = True

    def get_reset_query(self) -> str:
        if self._pasar_session_state:
            self._pasar_session_state = False
            return super().get_reset_query()
        return ""


class PasarPool(Pool):
    """asyncpg's pool, and a way to put a connection back at once (`put_back`) for the statement that ended well."""

    def put_back(self, connection: Any) -> bool:
        """Puts a connection with nothing to undo back into the pool at once, as `Pool.release` would after its
        reset, but without the task and the reset statement; False (nothing done) for any other connection."""
        if not self._nothing_to_undo(connection):
            return False
        holder = connection._holder
        connection._con._on_release()  # what `Pool.release` does first (the proxy's users are told it is gone)
        holder._timeout = None
        holder._release()  # back in the queue, the proxy detached
        holder._setup_inactive_callback()
        return True

    def _nothing_to_undo(self, connection: Any) -> bool:
        if type(connection) is not PoolConnectionProxy or self._closing or self._closed or self._reset is not None:
            return False
        con, holder = connection._con, connection._holder
        if con is None or holder._pool is not self or holder._in_use is None:
            return False
        protocol = con._protocol
        return (
            isinstance(con, PooledConnection)
            and not con.is_closed()
            and not protocol.is_in_transaction()
            and con._top_xact is None
            and not protocol._is_cancelling()
            and protocol.queries_count < holder._max_queries
            and holder._generation == self._generation
            and not con._listeners
            and not con._log_listeners
            and not con._pasar_session_state
        )


class _Acquired(PoolConnectionWrapper):
    """Tortoise's connection from the pool for one statement (or a job's run): when the block ends without an
    exception, the statement's answer has been read whole (asyncpg returns after the server said it is ready), and
    a connection with nothing to undo is put back at once (`PasarPool.put_back`); after an exception or a
    cancellation, asyncpg's release waits for the cancelled statement and resets the connection, or drops it."""

    __slots__ = ()

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        pool = self.client._pool
        if exc_type is None and isinstance(pool, PasarPool) and pool.put_back(self.connection):
            return
        await pool.release(self.connection)


async def create_pool(dsn: str | None = None, **kwargs: Any) -> PasarPool:
    """`asyncpg.create_pool`, with its defaults, making a `PasarPool` of `PooledConnection`s."""
    options: dict[str, Any] = {
        "min_size": 10,
        "max_size": 10,
        "max_queries": 50_000,
        "max_inactive_connection_lifetime": 300.0,
        "setup": None,
        "init": None,
        "reset": None,
        "loop": None,
        "record_class": asyncpg.Record,
    }
    options.update(kwargs)
    options["connection_class"] = PooledConnection
    return await PasarPool(dsn, **options)


class PasarAsyncpgClient(AsyncpgDBClient):
    """Tortoise's asyncpg client, its pool a `PasarPool` of `PooledConnection`s."""

    connection_class = PooledConnection

    async def create_pool(self, **kwargs: Any) -> Pool:
        return await create_pool(None, **kwargs)

    def acquire_connection(self) -> PoolConnectionWrapper:
        return _Acquired(self, self._pool_init_lock)


client_class = PasarAsyncpgClient
