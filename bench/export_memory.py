"""How much memory a large download takes: the server's resident memory while it streams a year of orders.

Starts `pasar serve` on a benchmark database (bench/dataset.py), signs in as the admin, reads the server's RSS while
idle, then downloads `/ekspor/orders.{csv,xlsx}` for the last 365 days while sampling the server's RSS every 20 ms
(from /proc), and prints, per format: rows, bytes, seconds, idle RSS, the peak during the download and the
difference. The goal: under 200 MB above idle for a year of orders at preset L. Not a test: run it by hand.

    python -m bench.export_memory --database-url postgres://postgres@127.0.0.1:5432/bench_l [--formats csv xlsx]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 300  # seconds: a loaded machine starts slowly
LOGIN = "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token errors { code } } }"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class Sampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.peak, self.stop = pid, every, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_bytes(self.pid))
            time.sleep(self.every)


def start_server(database_url: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PASAR_RATE_LIMITS": "off",
        "PASAR_FAIRNESS_REFRESH_SECONDS": "0",
        "PASAR_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            raise SystemExit("the server stopped while starting")
        time.sleep(0.5)
    server.terminate()
    raise SystemExit("the server did not answer /healthz in time")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--formats", nargs="+", default=["csv", "xlsx"], choices=["csv", "xlsx"])
    parser.add_argument("--email", default="admin@bench.pasar.id")
    parser.add_argument("--password", default="pasar-bench-2026")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    port = free_port()
    server = start_server(args.database_url, port)
    base = f"http://127.0.0.1:{port}"
    out = {"database": args.database_url.rsplit("/", 1)[-1], "date": dt.date.today().isoformat(), "runs": []}
    try:
        with httpx.Client(base_url=base, timeout=None) as client:
            body = client.post("/graphql", json={"query": LOGIN, "variables": {"e": args.email, "p": args.password}})
            token = body.json()["data"]["login"]["token"]
            headers = {"authorization": f"Bearer {token}"}
            today = dt.datetime.now(ZoneInfo("Asia/Jakarta")).date()
            query = f"createdFrom={(today - dt.timedelta(days=364)).isoformat()}&createdTo={today.isoformat()}"
            client.get("/ekspor/opd-spending.csv?year=2026", headers=headers)  # warm: the modules and the pool
            for fmt in args.formats:
                time.sleep(1)
                samples = []
                for _ in range(5):
                    samples.append(rss_bytes(server.pid))
                    time.sleep(0.1)
                idle = min(samples)
                sampler = Sampler(server.pid)
                sampler.start()
                started = time.perf_counter()
                size, lines = 0, 0
                with client.stream("GET", f"/ekspor/orders.{fmt}?{query}", headers=headers) as r:
                    assert r.status_code == 200, r.read()
                    for chunk in r.iter_bytes():
                        size += len(chunk)
                        lines += chunk.count(b"\n")
                took = time.perf_counter() - started
                sampler.stop.set()
                sampler.join()
                run = {
                    "format": fmt,
                    "bytes": size,
                    "csv_lines": lines if fmt == "csv" else None,
                    "seconds": round(took, 1),
                    "idle_rss_mb": round(idle / 2**20, 1),
                    "peak_rss_mb": round(sampler.peak / 2**20, 1),
                    "above_idle_mb": round((sampler.peak - idle) / 2**20, 1),
                }
                out["runs"].append(run)
                print(json.dumps(run), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=60)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2), encoding="utf-8")
    return 0 if all(r["above_idle_mb"] < 200 for r in out["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
