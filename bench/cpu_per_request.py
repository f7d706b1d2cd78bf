"""CPU per request: ours and the raw baseline, as the harness starts them, under the same load, one after the other.

    python -m bench.cpu_per_request --database-url postgres://postgres@127.0.0.1:5432/bench_s [--scenario S2]
        [--items 5] [--first 50] [--connections 16] [--duration 8] [--runs 2] [--log-level INFO|WARNING]

Throughput at many connections follows a server's CPU per request. Each run loads ours (`bench.harness.run`'s
`start_ours`: `app:worker_app`, the request log written, the rate limiter counting) and then the baseline with the
harness's load generator (`measure`: wrk when installed) and reads each server's user and system CPU time from
`/proc/PID/stat` before and after, divided by the requests answered. `--log-level WARNING` runs ours without its
access line, to see what the line costs. PostgreSQL only (the baseline reads PostgreSQL); Linux only (`/proc`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from pathlib import Path

import asyncpg

from bench.harness import run as h
from bench.harness import scenarios as sc


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


async def order_with(url: str, items: int) -> int:
    conn = await asyncpg.connect(h.pg_dsn(url))
    try:
        return await conn.fetchval(
            "SELECT order_id FROM order_item GROUP BY order_id HAVING count(*) = $1 ORDER BY order_id LIMIT 1", items
        )
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cpu_per_request", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--scenario", choices=["S1", "S2"], default="S2")
    parser.add_argument("--items", type=int, default=5, help="S2: the order's lines")
    parser.add_argument("--first", type=int, default=50, help="S1: the page's length")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--log-level", default="INFO", help="ours: INFO writes the access line, WARNING does not")
    args = parser.parse_args(argv)

    logdir = Path(tempfile.mkdtemp(prefix="cpu-per-request-"))
    ours = h.start_ours(args.database_url, None, logdir, count_sql=False, log_level=args.log_level)
    base = h.start_baseline(args.database_url, None, logdir)
    try:
        h.wait_ready(ours)
        h.wait_ready(base)
        token = h.login(ours.port, "admin@bench.pasar.id")
        if args.scenario == "S2":
            variables = {"id": h.sc_gid("Order", asyncio.run(order_with(args.database_url, args.items)))}
        else:
            variables = {"first": args.first}
        ours_body, base_body = logdir / "ours.json", logdir / "baseline.json"
        ours_body.write_text(json.dumps({"query": sc.OURS[args.scenario], "variables": variables}))
        base_body.write_text(json.dumps({"variables": variables}))
        for _ in range(50):  # the plan confirmed, the fast path warm
            h.gql(ours.port, sc.OURS[args.scenario], variables, token)
        servers = (("ours", ours, "/graphql", ours_body), ("baseline", base, f"/{args.scenario.lower()}", base_body))
        for run in range(1, args.runs + 1):
            out = {}
            for name, proc, url_path, body in servers:
                before = cpu_seconds(proc.popen.pid)
                measured = h.measure(proc.port, url_path, body, token, args.connections, args.duration, None)
                after = cpu_seconds(proc.popen.pid)
                answered = max(measured["requests"], 1)
                out[name] = (measured["rps"], *((a - b) / answered * 1e6 for a, b in zip(after, before, strict=True)))
            (rps, user, system), (base_rps, base_user, base_system) = out["ours"], out["baseline"]
            print(
                f"run {run}: ours {rps:,.0f} req/s, CPU {user:.0f} + {system:.0f} µs a request (user + system); "
                f"baseline {base_rps:,.0f} req/s, {base_user:.0f} + {base_system:.0f} µs; ratio {rps / base_rps:.2f}"
            )
    finally:
        ours.stop()
        base.stop()


if __name__ == "__main__":
    main()
