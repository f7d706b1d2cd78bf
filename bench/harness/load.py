"""A bounded HTTP/1.1 load client, for machines without `wrk`: N keep-alive connections POST one body for D
seconds to 127.0.0.1 and report requests/s and latency percentiles as one JSON line (the same keys as the wrk
script's summary).

    python -m bench.harness.load --url http://127.0.0.1:PORT/PATH --body FILE [--token T] [-c 16] [-d 5]

It is slower than wrk (one Python process); ratios between servers measured with it are still paired, but the
fastest server may be limited by the client: the runner says which generator it used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def run(url: str, body: bytes, token: str | None, connections: int, duration: float) -> dict:
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("load only to 127.0.0.1")
    head = (
        f"POST {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n" + (f"Authorization: Bearer {token}\r\n" if token else "") + "\r\n"
    ).encode()
    request = head + body
    latencies: list[float] = []
    errors = {"connect": 0, "read": 0, "status": 0}
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        try:
            reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        except OSError:
            errors["connect"] += 1
            return
        try:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                writer.write(request)
                status = await _read_response(reader)
                latencies.append(time.perf_counter() - t0)
                if not 200 <= status < 300:
                    errors["status"] += 1
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors["read"] += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(connections))), timeout=duration + 30)
    took = time.perf_counter() - started
    lat = sorted(latencies)

    def pct(p: float) -> int:
        return int(lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1e6) if lat else 0

    return {
        "requests": len(lat),
        "duration_us": int(took * 1e6),
        "connect": errors["connect"],
        "read": errors["read"],
        "write": 0,
        "status": errors["status"],
        "timeout": 0,
        "p50_us": pct(50),
        "p90_us": pct(90),
        "p99_us": pct(99),
        "mean_us": (sum(lat) / len(lat) * 1e6) if lat else 0.0,
        "max_us": int(lat[-1] * 1e6) if lat else 0,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.harness.load")
    parser.add_argument("--url", required=True)
    parser.add_argument("--body", required=True, help="file with the JSON body")
    parser.add_argument("--token")
    parser.add_argument("-c", "--connections", type=int, default=16)
    parser.add_argument("-d", "--duration", type=float, default=5.0)
    args = parser.parse_args(argv)
    with open(args.body, "rb") as fh:
        body = fh.read()
    result = asyncio.run(run(args.url, body, args.token, args.connections, min(args.duration, 120.0)))
    print("WRK_JSON " + json.dumps(result))


if __name__ == "__main__":
    main()
