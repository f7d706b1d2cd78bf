"""Where the fixed cost of one request goes: a loop of S1/S2 requests through the real ASGI app (httpx's ASGI
transport, no sockets), profiled with cProfile, summed by the stage each function belongs to.

    python -m bench.profile_request --database-url postgres://postgres@127.0.0.1:5432/bench_s [--requests 300]
        [--scenario S1|S2] [--first 50] [--items 5] [--top 30] [--pyinstrument FILE.html]

The server is built as the harness runs it (rate limits off, no SQL counting). S2 reads an order with `--items`
lines as the data set's administrator (a token issued directly). The stages are a rough map from a function's file
to what it does (`STAGES`); a function is counted in the first stage its file matches, by its own time (tottime),
so the stages add up to the total.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import functools
import inspect
import json
import pstats
import statistics
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import strawberry.schema.schema as strawberry_schema_module
from tortoise import Tortoise, connections
from tortoise.backends.asyncpg.client import AsyncpgDBClient

import app as app_module
from app import PasarGraphQL, Settings, create_app
from bench.harness import baseline
from bench.harness import scenarios as sc
from models import query as query_module
from models.accounts import User
from models.query import PreparedRows
from resolvers import accounts
from resolvers.common import SystemClock
from schema import PasarSchema, compiled, fast
from schema import cost as cost_module
from schema import relay as relay_module
from schema.logs import RequestLine, RequestLog
from schema.ratelimit import RateLimits

# (stage, substrings of the file path); first match wins.
STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("logging (schema/logs.py, logging)", ("schema/logs.py", "/logging/")),
    ("cost (schema/cost.py)", ("schema/cost.py",)),
    ("rate limits (schema/ratelimit.py)", ("schema/ratelimit.py",)),
    ("token lookup (resolvers/accounts.py)", ("resolvers/accounts.py", "resolvers/throttle.py")),
    ("permissions (schema/permissions.py)", ("schema/permissions.py",)),
    ("parse (graphql/language)", ("graphql/language/",)),
    ("validation (graphql/validation, schema/limits.py)", ("graphql/validation/", "schema/limits.py")),
    ("execution (graphql/execution)", ("graphql/execution/", "graphql/pyutils/")),
    ("strawberry (schema, extensions, http)", ("strawberry/",)),
    ("our schema/ and resolvers/", ("/schema/", "/resolvers/")),
    ("ORM (tortoise, pypika)", ("tortoise/", "pypika")),
    ("driver (asyncpg, aiosqlite, sqlite3)", ("asyncpg", "aiosqlite", "sqlite3")),
    ("JSON (json, orjson)", ("/json/", "orjson")),
    ("HTTP/ASGI (starlette, httpx, app.py)", ("starlette/", "httpx/", "httpcore/", "/app.py", "h11")),
    ("event loop (asyncio)", ("asyncio/",)),
]


class Timers:
    """Wall time spent inside chosen functions, summed over the requests (they run one at a time, so a nested
    function's time is part of its caller's). A re-entered function is timed at its outermost call only."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.order: list[tuple[str, int]] = []
        self._depth: dict[str, int] = defaultdict(int)

    def wrap(self, owner: Any, name: str, label: str, level: int) -> None:
        original = getattr(owner, name)
        self.order.append((label, level))
        timers = self

        if inspect.iscoroutinefunction(original):

            async def timed_async(*a: Any, **kw: Any) -> Any:
                timers._depth[label] += 1
                started = time.perf_counter()
                try:
                    return await original(*a, **kw)
                finally:
                    timers._depth[label] -= 1
                    if not timers._depth[label]:
                        timers.seconds[label] += time.perf_counter() - started
                        timers.calls[label] += 1

            setattr(owner, name, functools.wraps(original)(timed_async))
        else:

            def timed(*a: Any, **kw: Any) -> Any:
                timers._depth[label] += 1
                started = time.perf_counter()
                try:
                    return original(*a, **kw)
                finally:
                    timers._depth[label] -= 1
                    if not timers._depth[label]:
                        timers.seconds[label] += time.perf_counter() - started
                        timers.calls[label] += 1

            setattr(owner, name, functools.wraps(original)(timed))

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()


def install_timers() -> Timers:
    """The points of the request path, outermost first (indentation = nesting)."""
    t = Timers()
    t.wrap(RequestLog, "__call__", "whole request in the app (from the outermost middleware)", 0)
    t.wrap(PasarGraphQL, "get_context", "context: Context, token lookup, rate limit", 1)
    t.wrap(app_module, "authenticate", "token lookup (authenticate)", 2)
    t.wrap(RateLimits, "hit", "rate limit decision", 2)
    t.wrap(PasarGraphQL, "parse_http_body", "body: JSON, variable limits", 1)
    t.wrap(PasarSchema, "execute", "Strawberry schema.execute (extensions, parse .. result)", 1)
    t.wrap(strawberry_schema_module, "parse", "parse (cache misses only)", 2)
    t.wrap(strawberry_schema_module, "validate", "validation (cache misses only)", 2)
    t.wrap(cost_module, "get_variable_values", "cost: variable coercion", 2)
    t.wrap(cost_module._Walk, "requested", "cost: requested (before execution)", 2)
    t.wrap(cost_module._Walk, "actual", "cost: actual (after execution)", 2)
    t.wrap(PasarSchema, "_execute_operation", "execution (graphql-core: resolvers, completion)", 2)
    t.wrap(relay_module, "keyset_page", "SQL page + light rows (models.query.keyset_page)", 3)
    t.wrap(query_module, "fetch_all", "SQL through models.query.fetch_all", 3)
    t.wrap(AsyncpgDBClient, "execute_query_dict", "SQL (the driver's execute_query_dict)", 3)
    t.wrap(PasarGraphQL, "fast_run", "fast path: body, context, plan, answer, headers (app.py)", 1)
    t.wrap(fast, "answer", "fast path: variables, cost, statements, writing (schema/fast.py)", 2)
    t.wrap(fast, "cheap_query", "cost and input lists (memo misses only)", 3)
    t.wrap(compiled, "run_plan", "the plan: statements and writing (compiled.run_plan)", 3)
    t.wrap(PreparedRows, "records", "the statement: driver, records (PreparedRows.records)", 4)
    t.wrap(PasarGraphQL, "process_result", "process_result (error codes)", 1)
    t.wrap(app_module, "encode_body", "encode the response body (app.encode_body)", 1)
    t.wrap(RequestLine, "write", "the access log line", 1)
    return t


def stage_of(filename: str) -> str:
    for name, needles in STAGES:
        if any(n in filename for n in needles):
            return name
    return "other (builtins, interpreter)"


async def _setup(settings: Settings, items: int) -> tuple[str, int]:
    url = settings.database_url or ""
    admin = await User.get(email="admin@bench.pasar.id")
    ctx = type("Ctx", (), {"settings": settings, "clock": SystemClock()})()
    token = await accounts.issue_token(ctx, admin)
    rows = await connections.get("default").execute_query_dict(
        "SELECT order_id FROM order_item GROUP BY order_id HAVING count(*) = $1 ORDER BY order_id LIMIT 1"
        if url.startswith("postgres")
        else "SELECT order_id FROM order_item GROUP BY order_id HAVING count(*) = ? ORDER BY order_id LIMIT 1",
        [items],
    )
    return token, rows[0]["order_id"]


async def compare(args: argparse.Namespace) -> None:
    """Compiled reads on and off (and the credential cache, which only S2 uses), in one process, in alternating
    batches of 20 requests: per-request medians of each, so that a loaded machine slows both alike."""
    base = Settings(database_url=args.database_url, secret="pasar-profile-secret-0001", rate_limits="off")
    await Tortoise.init(config=base.tortoise_config())
    try:
        token, order_id = await _setup(base, args.items)
        variants = {
            "general executor, no credential cache": replace(base, compiled_reads=False, credential_cache_seconds=0),
            "general executor": replace(base, compiled_reads=False),
            "compiled reads": base,
        }
        if args.scenario == "S1":
            body = {"query": sc.OURS["S1"], "variables": {"first": args.first}}
            headers: dict[str, str] = {}
        else:
            body = {"query": sc.OURS["S2"], "variables": {"id": sc_gid(order_id)}}
            headers = {"authorization": f"Bearer {token}"}
        clients = {
            name: httpx.AsyncClient(
                transport=httpx.ASGITransport(app=create_app(s, manage_database=False)), base_url="http://bench"
            )
            for name, s in variants.items()
        }
        paths = dict.fromkeys(variants, "/graphql")
        baseline_app = None
        if args.baseline:  # the harness's raw baseline, in this process: its own asyncpg pool, the same token
            baseline_app = baseline.create_app(args.database_url, pool_size=10, secret=base.secret)
            clients["raw baseline (bench.harness.baseline)"] = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=baseline_app), base_url="http://bench"
            )
            paths["raw baseline (bench.harness.baseline)"] = f"/{args.scenario.lower()}"
        times: dict[str, list[float]] = {name: [] for name in clients}
        answers = {}
        async with baseline_app.router.lifespan_context(baseline_app) if baseline_app else contextlib.nullcontext():
            for _round in range(max(1, args.requests // 20) + 1):
                for name, client in clients.items():
                    for _ in range(20):
                        started = time.perf_counter()
                        r = await client.post(paths[name], json=body, headers=headers)
                        times[name].append(time.perf_counter() - started)
                        assert r.status_code == 200 and "errors" not in r.json(), r.text
                        answers[name] = r.json()["data"]
                if _round == 0:
                    times = {name: [] for name in clients}  # the first round warms up
        canonical = {json.dumps(a, sort_keys=True) for a in answers.values()}
        assert len(canonical) == 1, "the variants answered differently"
        for client in clients.values():
            await client.aclose()
    finally:
        await Tortoise.close_connections()
    first = None
    size = f"first: {args.first}" if args.scenario == "S1" else f"{args.items} items"
    print(
        f"{args.scenario} ({size}); requests answered by a compiled plan: {compiled.plans.compiled}, "
        f"of which by the fast path: {compiled.plans.fast}"
    )
    for name, ts in times.items():
        median = statistics.median(ts) * 1000
        first = first or median
        q = statistics.quantiles(ts, n=10)
        print(
            f"  {name:<40} median {median:7.2f} ms  p10 {q[0] * 1000:7.2f}  p90 {q[-1] * 1000:7.2f}  "
            f"{first / median:5.2f}x"
        )


async def main_async(args: argparse.Namespace) -> None:
    if args.compare:
        await compare(args)
        return
    settings = Settings(database_url=args.database_url, secret="pasar-profile-secret-0001", rate_limits="off")
    await Tortoise.init(config=settings.tortoise_config())
    try:
        token, order_id = await _setup(settings, args.items)
        timers = install_timers()
        app = create_app(settings, manage_database=False)
        if args.scenario == "S1":
            body = {"query": sc.OURS["S1"], "variables": {"first": args.first}}
            headers: dict[str, str] = {}
        else:
            body = {"query": sc.OURS["S2"], "variables": {"id": sc_gid(order_id)}}
            headers = {"authorization": f"Bearer {token}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def once() -> None:
                r = await client.post("/graphql", json=body, headers=headers)
                data = r.json()
                assert r.status_code == 200 and "errors" not in data and all(data["data"].values()), r.text

            for _ in range(30):  # warm-up: caches, pool connections
                await once()
            started = time.perf_counter()
            for _ in range(args.requests):
                await once()
            plain = (time.perf_counter() - started) / args.requests * 1000
            timers.reset()
            for _ in range(args.requests):
                await once()
            timed = dict(timers.seconds), dict(timers.calls)
            profiler = cProfile.Profile()
            if args.pyinstrument:
                from pyinstrument import Profiler

                pi = Profiler(async_mode="enabled")
                pi.start()
            profiler.enable()
            for _ in range(args.requests):
                await once()
            profiler.disable()
            if args.pyinstrument:
                pi.stop()
                Path(args.pyinstrument).write_text(pi.output_html())  # noqa: ASYNC240 (after the measurement)
    finally:
        await Tortoise.close_connections()
    stats = pstats.Stats(profiler)
    by_stage: dict[str, float] = defaultdict(float)
    total = 0.0
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        by_stage[stage_of(filename)] += tottime
        total += tottime
    n = args.requests
    print(f"{args.scenario}: {plain:.2f} ms per request untimed ({n} requests); profiled {total / n * 1000:.2f} ms")
    print(f"{'stage':<52} {'ms/request':>10} {'share':>6}")
    for stage, seconds in sorted(by_stage.items(), key=lambda kv: -kv[1]):
        print(f"{stage:<52} {seconds / n * 1000:>10.3f} {seconds / total:>6.1%}")
    print()
    print(f"{'wall time inside (timed, unprofiled pass; nested)':<66} {'ms/request':>10} {'calls/req':>9}")
    seconds, calls = timed
    for label, level in timers.order:
        print(f"{'  ' * level + label:<66} {seconds.get(label, 0) / n * 1000:>10.3f} {calls.get(label, 0) / n:>9.1f}")
    print()
    stats.sort_stats("cumulative").print_stats(args.top)


def sc_gid(order_id: int) -> str:
    return baseline.gid("Order", order_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--scenario", choices=["S1", "S2"], default="S1")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--first", type=int, default=50)
    parser.add_argument("--items", type=int, default=5)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--compare", action="store_true", help="compiled reads and the credential cache on vs off")
    parser.add_argument("--pyinstrument", help="also write pyinstrument's HTML report here")
    parser.add_argument("--baseline", action="store_true", help="with --compare: the raw baseline too, in-process")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
