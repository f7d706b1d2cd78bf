"""Query helpers every caller shares: keyset paging, fetched relations, raw reads."""

from __future__ import annotations

import datetime as dt
import operator
import re
import sqlite3
import types
from collections.abc import Callable, Iterable, Mapping
from types import SimpleNamespace
from typing import Any

import asyncpg
from tortoise import connections
from tortoise.exceptions import DBConnectionError
from tortoise.expressions import Q
from tortoise.filters import escape_like
from tortoise.models import Model
from tortoise.queryset import QuerySet


def fetched(row: Any, relation: str) -> Any | None:
    """The row a foreign key points to if it came with `row` (select_related, fetch_related), else None; no query.

    Tortoise keeps a fetched relation in `_<name>`; `row.<name>` of an unfetched one is a query to await."""
    return row.__dict__.get(f"_{relation}")


class Row(SimpleNamespace):
    """A light row: its columns as attributes and each relation joined in as `_<name>` (what `fetched` reads).

    Much cheaper to build than model instances: a page of 50 products with their UMKM, kecamatan and category takes
    ~5 ms of CPU as light rows on SQLite, ~12 ms as `select_related` models."""


def light_columns(model: type[Model]) -> tuple[str, ...]:
    """Every column of the model's table, foreign keys as `<name>_id`: what a light row of it carries. A column added
    to a model is in every light row of it, so a GraphQL type that starts reading it cannot break a listing."""
    return tuple(model._meta.fields_db_projection)


Joins = Mapping[str, type[Model]]  # relation path ("" for the rows themselves, "umkm", "umkm__kecamatan"…) -> model


def _row_plan(joins: Joins) -> list[tuple[str, list[tuple[str, str]], list[tuple[str, str]]]]:
    plan = []  # deepest paths first, so that a parent finds its children built
    for path in sorted(joins, key=lambda p: -len(p.split("__")) if p else 0):
        prefix = f"{path}__" if path else ""
        children = [(c, "_" + c.rpartition("__")[2]) for c in joins if c and c.rpartition("__")[0] == path]
        plan.append((path, [(prefix + col, col) for col in light_columns(joins[path])], children))
    return plan


def _build_rows(plan: list, records: Iterable[Mapping[str, Any]]) -> list[Row]:
    out = []
    for values in records:
        made: dict[str, Row] = {}
        for path, keys, children in plan:
            row = Row(**{col: values[key] for key, col in keys})
            for child, attr in children:
                setattr(row, attr, made[child])
            made[path] = row
        out.append(made[""])
    return out


async def joined_rows(qs: QuerySet, joins: Joins) -> list[Row]:
    """The rows of `qs` with relations joined in, in one statement, every column of each (`light_columns`): `joins`
    maps a relation path to its model. Every related path must name a non-null foreign key, and its parent path must
    be listed too."""
    plan = _row_plan(joins)
    fields = [key for _path, keys, _children in plan for key, _col in keys]
    return _build_rows(plan, await qs.values(*fields))


def _picker(positions: list[int]) -> Callable[[list[Any]], tuple[Any, ...]]:
    """The values at these positions, as a tuple (`itemgetter` of one position gives the value itself)."""
    if len(positions) == 1:
        return lambda values: (values[positions[0]],)
    return operator.itemgetter(*positions)


class PreparedRows:
    """`joined_rows` of a query built once: Tortoise writes the statement (its SQL, its parameters) when the plan is
    made, and each run only puts the values of that run into their places and converts the columns the way Tortoise
    does (`ValuesQuery._execute`). Building a statement that names every column of four tables costs Tortoise a few
    milliseconds; running it this way, nothing.

    `slots` are values the query was built with (the limit, a cursor's values: values no real request uses) that are
    looked for among the statement's parameters; `run(values)` puts `values[name]` wherever the slot `name` was found.
    A slot that is not found makes the preparation fail (ValueError): the caller then keeps the general path; an
    `optional` slot may be absent (a value the query of some callers has, e.g. the caller's OPD)."""

    def __init__(
        self,
        qs: QuerySet,
        joins: Joins,
        slots: Mapping[str, Any],
        optional: Mapping[str, Any] | None = None,
        columns: Iterable[str] | None = None,
    ) -> None:
        optional = optional or {}
        self.plan = _row_plan(joins)
        fields = [key for _path, keys, _children in self.plan for key, _col in keys]
        if columns is not None:  # only these columns (read by `records`; the light rows of `run` need them all)
            wanted = set(columns)
            if not wanted <= set(fields):
                raise ValueError(f"columns {sorted(wanted - set(fields))} are not read with these joins")
            fields = [key for key in fields if key in wanted]
            self.plan = []
        self.fields = fields  # the statement's columns, named as `values` names them
        values_query = qs.values(*fields)
        values_query._choose_db_if_not_chosen()
        values_query._make_query()
        self.sql, params = values_query.query.get_parameterized_sql()
        self.params = list(params)
        self.places: dict[str, list[int]] = {}
        for name, value in {**optional, **slots}.items():
            found = [i for i, p in enumerate(self.params) if type(p) is type(value) and p == value]
            if not found and name not in optional:
                raise ValueError(f"slot {name} is not among the statement's parameters")
            if found:
                self.places[name] = found
        if len({i for places in self.places.values() for i in places}) != sum(map(len, self.places.values())):
            raise ValueError("two slots share a parameter")
        self.columns = [
            (alias, func)
            for alias, func in (
                (alias, values_query.resolve_to_python_value(values_query.model, name))
                for alias, name in values_query._fields_for_select.items()
            )
            if not isinstance(func, types.LambdaType)
        ]
        self.db = values_query._db
        self.layout: tuple[list, list] | None = None
        self.direct: Any = None  # a compiled writer of these records, bound to their column positions

    def _layout(self, names: list[str]) -> tuple[list, list]:
        """Where each converted column and each light row's columns are in a record (its columns by position)."""
        at = {name: i for i, name in enumerate(names)}
        convert = [(at[col], func) for col, func in self.columns]
        paths = [
            (path, [col for _key, col in keys], _picker([at[key] for key, _col in keys]), children)
            for path, keys, children in self.plan
        ]
        return convert, paths

    async def records(self, values: Mapping[str, Any]) -> list[Any]:
        """The statement's records as the driver returns them (columns by position; `converters` converts them)."""
        return await _records(self.db, self.sql, self.params, self.places, values)

    @property
    def converters(self) -> dict[str, Callable[[Any], Any]]:
        """How Tortoise converts a column to its Python value, by column name (a column missing needs nothing)."""
        return dict(self.columns)

    async def run(self, values: Mapping[str, Any]) -> list[Row]:
        records = await self.records(values)
        if not records:
            return []
        if self.layout is None:
            self.layout = self._layout(list(records[0].keys()))
        convert, paths = self.layout
        out = []
        for record in records:  # what `_build_rows` makes of `execute_query_dict`'s dicts, by position
            vals = list(record)
            for i, func in convert:
                vals[i] = func(vals[i])
            made: dict[str, Row] = {}
            for path, cols, pick, children in paths:
                row = Row.__new__(Row)
                row.__dict__.update(zip(cols, pick(vals), strict=True))
                for child, attr in children:
                    setattr(row, attr, made[child])
                made[path] = row
            out.append(made[""])
        return out


async def _records(
    db: Any, sql: str, params: list[Any], places: dict[str, list[int]], values: Mapping[str, Any]
) -> Any:
    bound = list(params)
    for name, at in places.items():
        for place in at:
            bound[place] = values[name]
    _count, records = await db.execute_query(sql, bound)
    return records


_PLACEHOLDER = re.compile(r"\$(\d+)")


class RowWithLines:
    """One statement for a row and its lines (an order and its items) instead of two: `head`'s statement (at most
    one row: it ends with LIMIT 1) left-joined to `lines`' statement, both kept whole as subqueries (their WHERE, the
    head's visibility included, their parameters; a slot both have is bound to the same value), each line's column
    named `<prefix><column>`, in the order of the lines' `key` (their statement's own order, read with them). A
    record per line, the head's columns repeated; one record with the lines' columns NULL when there is none; no
    record when the head's statement finds no row, so no line is read beside a row the caller may not see.
    Parameters are positional on SQLite (`?`, in the order of the text) and numbered on PostgreSQL (`$n`: the lines'
    numbers follow the head's)."""

    def __init__(self, head: PreparedRows, lines: PreparedRows, prefix: str, key: str) -> None:
        if key not in lines.fields or head.db is not lines.db:
            raise ValueError(f"the lines are not read with their {key}")
        shift = len(head.params)
        lines_sql = lines.sql
        if _PLACEHOLDER.search(head.sql) or _PLACEHOLDER.search(lines_sql):
            lines_sql = _PLACEHOLDER.sub(lambda m: f"${int(m.group(1)) + shift}", lines_sql)
        columns = [f'"h"."{c}"' for c in head.fields] + [f'"l"."{c}" "{prefix}{c}"' for c in lines.fields]
        self.sql = (
            f'SELECT {",".join(columns)} FROM ({head.sql}) "h" LEFT OUTER JOIN ({lines_sql}) "l" ON 1=1'
            f' ORDER BY "l"."{key}"'
        )
        self.params = head.params + lines.params
        self.places: dict[str, list[int]] = {name: list(at) for name, at in head.places.items()}
        for name, at in lines.places.items():
            self.places.setdefault(name, []).extend(i + shift for i in at)
        self.db = head.db
        self.prefix = prefix
        self.converters = {**head.converters, **{prefix + name: f for name, f in lines.converters.items()}}
        self.direct: Any = None  # compiled writers of these records, bound to their column positions

    async def records(self, values: Mapping[str, Any]) -> list[Any]:
        """The records as the driver returns them: none, or one per line (one with the lines' columns NULL)."""
        return await _records(self.db, self.sql, self.params, self.places, values)


def row_key(row: Any, order: list[tuple[str, bool]]) -> list[Any]:
    """The values of a row's sort keys, JSON-ready (datetimes as ISO strings)."""
    out = []
    for name, _desc in order:
        value = row[name] if isinstance(row, dict) else getattr(row, name)
        out.append({"dt": value.isoformat()} if isinstance(value, dt.datetime) else value)
    return out


def like_contains(word: str) -> str:
    """The parameter Tortoise binds for `field__icontains=word` (`tortoise.filters`): `%word%`, LIKE's own
    characters escaped. Compiled reads bind it in place of a sentinel word; a Tortoise that binds something else
    leaves the sentinel unfound and the statement unprepared."""
    return f"%{escape_like(word)}%"


def cursor_value(value: Any) -> Any:
    """A cursor value as the database compares it (datetimes come as {"dt": ISO text})."""
    if isinstance(value, dict) and "dt" in value:
        return dt.datetime.fromisoformat(value["dt"])
    return value


def after_filter(order: list[tuple[str, bool]], after: list[Any]) -> Q:
    """Rows strictly after `after` in the order (a, b, ...): a > va OR (a = va AND b > vb) ..."""
    values = [cursor_value(v) for v in after]
    disjuncts = []
    for i, (name, desc) in enumerate(order):
        eq = {f"{n}": values[j] for j, (n, _) in enumerate(order[:i])}
        cmp = {f"{name}__{'lt' if desc else 'gt'}": values[i]}
        disjuncts.append(Q(**eq, **cmp))
    q = disjuncts[0]
    for d in disjuncts[1:]:
        q = q | d
    return q


async def keyset_page(
    qs: QuerySet,
    order: list[tuple[str, bool]],
    first: int,
    after: list[Any] | None,
    joins: Joins | None = None,
) -> tuple[list[Any], bool]:
    """One page of `first` rows after the cursor, and whether more follow; one SQL statement. Model instances, or
    light rows with relations joined in when `joins` says what to read (`joined_rows`)."""
    if after is not None:
        if len(after) != len(order):
            raise ValueError("cursor does not fit this ordering")
        qs = qs.filter(after_filter(order, after))
    qs = qs.order_by(*[("-" if desc else "") + name for name, desc in order]).limit(first + 1)
    rows = await (joined_rows(qs, joins) if joins is not None else qs)
    return rows[:first], len(rows) > first


def int_list(ids: Iterable[int]) -> str:
    """An SQL list of integers for `IN (...)`, written inline (every value forced through `int`, so no text can get
    in); `NULL` for none, which matches no row."""
    return ", ".join(str(int(i)) for i in ids) or "NULL"


def numbered_placeholders(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2…`. Only a `?` outside quotes is a placeholder: one inside a string
    literal ('…') or a quoted name ("…") is text and stays as it is."""
    out, n, quote = [], 0, None
    for ch in sql:
        if quote is not None:
            if ch == quote:
                quote = None  # a doubled quote ('') closes and reopens: the same result
        elif ch in "'\"":
            quote = ch
        elif ch == "?":
            n += 1
            out.append(f"${n}")
            continue
        out.append(ch)
    if quote is not None:
        raise ValueError("unbalanced quote in SQL")
    return "".join(out)


async def fetch_all(sql: str, params: list[Any] | None = None) -> list[dict]:
    """Run a read-only SQL statement written with `?` placeholders on either engine (PostgreSQL wants $1, $2…)."""
    db = connections.get("default")
    if db.capabilities.dialect == "postgres":
        sql = numbered_placeholders(sql)
    return await db.execute_query_dict(sql, params or [])


async def empty_tables(tables: list[str]) -> None:
    """Delete every row of `tables` and restart their ids (tests between cases, `bench.dataset --fresh`): one
    TRUNCATE on PostgreSQL; on SQLite DELETEs with foreign keys off and the `sqlite_sequence` rows reset, so that
    both engines number new rows alike."""
    db = connections.get("default")
    if db.capabilities.dialect == "postgres":
        quoted = ", ".join(f'"{t}"' for t in tables)
        await db.execute_script(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
        return
    names = ", ".join(f"'{t}'" for t in tables)
    deletes = "".join(f'DELETE FROM "{t}"; ' for t in tables)
    # one script, one transaction (the pragma cannot change inside one): a single commit instead of one per table
    await db.execute_script(
        f"PRAGMA foreign_keys = OFF; BEGIN; {deletes}DELETE FROM sqlite_sequence WHERE name IN ({names}); COMMIT; "
        "PRAGMA foreign_keys = ON;"
    )


def dialect() -> str:
    return connections.get("default").capabilities.dialect


def jakarta_month_sql(column: str) -> str:
    """SQL for the Asia/Jakarta YYYY-MM of a UTC timestamp column (Jakarta has no daylight saving: UTC+7)."""
    if dialect() == "postgres":
        return f"to_char({column} AT TIME ZONE 'Asia/Jakarta', 'YYYY-MM')"
    return f"strftime('%Y-%m', {column}, '+7 hours')"


def days_since_jakarta_day_sql(day_column: str, instant_column: str) -> str:
    """SQL for the whole days from the Asia/Jakarta date of a UTC timestamp column to a date column (day − date), an
    integer on both engines (Jakarta has no daylight saving: UTC+7)."""
    if dialect() == "postgres":
        return f"({day_column} - CAST({instant_column} AT TIME ZONE 'Asia/Jakarta' AS DATE))"
    return f"CAST(julianday({day_column}) - julianday(date({instant_column}, '+7 hours')) AS INTEGER)"


def as_datetime(value: Any) -> dt.datetime | None:
    """A timestamp read by raw SQL as an aware datetime (SQLite gives Tortoise's stored text; naive means UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def sql_time(value: dt.datetime) -> Any:
    """A timestamp parameter for `fetch_all`: a datetime for PostgreSQL, Tortoise's stored text form for SQLite —
    `isoformat`, which leaves out the microseconds when they are zero: written with `.000000` the bound would sort
    after the same instant stored without them, and a row exactly at a bound would compare as earlier on SQLite."""
    value = value.astimezone(dt.UTC)
    if dialect() == "postgres":
        return value
    return value.isoformat(sep=" ")


async def begin_writing(conn: Any) -> None:
    """Inside a transaction that reads and then writes (a rebuild): take the write lock first. On SQLite a transaction
    begins as a reader and fails at once with "database is locked" when it upgrades after another connection wrote;
    a first (empty) write waits for the lock instead, up to the busy timeout. PostgreSQL locks rows as it writes."""
    if conn.capabilities.dialect == "sqlite":
        await conn.execute_query('UPDATE "category" SET "ranking_generation" = "ranking_generation" WHERE 0 = 1')


# Errors that say the database cannot be reached (stopped, restarting, the network cut), not that a statement was
# wrong: PostgreSQL's connection exceptions (class 08) and shutdown codes, a closed or vanished connection, a socket
# error, a pool or connect timeout, Tortoise's own connection error, SQLite failing to open its file.
UNREACHABLE_TYPES: tuple[type[BaseException], ...] = (
    OSError,  # ConnectionError, ConnectionRefusedError, socket.gaierror…
    TimeoutError,
    DBConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
)
SQLITE_UNREACHABLE = ("unable to open database file", "disk i/o error")


def database_unreachable(error: BaseException | None) -> bool:
    """Whether `error`, or an error it was raised from, says the database is unreachable (see `UNREACHABLE_TYPES`)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, UNREACHABLE_TYPES):
            return True
        if isinstance(error, sqlite3.OperationalError) and str(error).lower().startswith(SQLITE_UNREACHABLE):
            return True
        if isinstance(error, asyncpg.InterfaceError) and "clos" in str(error):  # connection closed, pool closing
            return True
        args = getattr(error, "args", ())  # Tortoise wraps a driver error as its first argument
        if args and isinstance(args[0], BaseException):
            if database_unreachable(args[0]):
                return True
        error = error.__cause__ or error.__context__
    return False
