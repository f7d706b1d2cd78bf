"""Does a worker's memory stay flat under load? One server (ours, as the harness starts it) serves S1
(`products(first: 50)`, anonymous) at 16 connections: a warm-up, then the measured run; its resident set size (RSS,
from /proc) is sampled every second, and the growth from the end of the warm-up to the end of the run must stay
below the bound.

    python -m bench.memory_run --database-url postgres://postgres@127.0.0.1:5432/bench_s [--first 50]
        [--connections 16] [--warmup 20] [--duration 60] [--bound-mb 20] [--json FILE]

The load comes from the harness's bounded client (`bench.harness.load`, one Python process). Prints the samples'
summary (RSS after start-up, after the warm-up, at the end, the largest, requests served, errors) and exits 1 when
the growth reaches the bound or a request failed. Linux only (/proc/PID/status).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import threading
import time
from pathlib import Path

from bench.harness import load
from bench.harness.run import machine, start_ours, wait_ready
from bench.harness.scenarios import S1_PRODUCTS


def rss_mb(pid: int) -> float:
    """The resident set size of the process and its children (uvicorn runs the app in its own process)."""
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
    return total


class Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.samples, self.stopped = pid, [], threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(1.0):
            self.samples.append((time.monotonic(), rss_mb(self.pid)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--first", type=int, default=50)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds of load before the first measure")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--bound-mb", type=float, default=20.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    body = json.dumps({"query": S1_PRODUCTS, "variables": {"first": args.first}}).encode()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_ours(args.database_url, None, Path(tmp), count_sql=False)
        try:
            wait_ready(server)
            url = f"http://127.0.0.1:{server.port}/graphql"
            started = rss_mb(server.popen.pid)
            warm = asyncio.run(load.run(url, body, None, args.connections, args.warmup))
            before = rss_mb(server.popen.pid)
            sampler = Sampler(server.popen.pid)
            sampler.start()
            measured = asyncio.run(load.run(url, body, None, args.connections, args.duration))
            sampler.stopped.set()
            sampler.join()
            after = rss_mb(server.popen.pid)
        finally:
            server.stop()
    peak = max([after, *(mb for _t, mb in sampler.samples)])
    growth = after - before
    errors = sum(r[k] for r in (warm, measured) for k in ("connect", "read", "status"))
    summary = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
        "document": f"S1 products(first: {args.first}), anonymous",
        "connections": args.connections,
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        "rss_mb_started": round(started, 1),
        "rss_mb_after_warmup": round(before, 1),
        "rss_mb_end": round(after, 1),
        "rss_mb_peak": round(peak, 1),
        "growth_mb": round(growth, 1),
        "bound_mb": args.bound_mb,
        "requests": measured["requests"],
        "requests_per_s": round(measured["requests"] / (measured["duration_us"] / 1e6), 1),
        "p50_ms": measured["p50_us"] / 1000,
        "errors": errors,
        "samples": [round(mb, 1) for _t, mb in sampler.samples],
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "samples"}, indent=1))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))
    ok = growth < args.bound_mb and errors == 0
    verdict = "PASS" if ok else "FAIL"
    print(f"{verdict}: grew {growth:.1f} MB after the warm-up (bound {args.bound_mb:g} MB), {errors} errors")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
