"""Replays the requests that could take the platform down and prints, per attack, what the server answered, how fast,
and how much its memory grew (README.md, *Limits*).

    python -m bench.abuse                      # starts a server on 127.0.0.1 with the demo data (SQLite, temporary)
    python -m bench.abuse --app-dir DIR        # the same with another checkout's code (e.g. before the limits)
    python -m bench.abuse --url http://127.0.0.1:8000 --pid PID   # a server already running on this machine

Loopback only (127.0.0.1 / localhost). Each attack runs once, with a client time limit (`--request-timeout`); a server
this script started is killed and restarted when its memory passes `--max-rss-mb` or it stays busy after an answer,
and no attack starts after `--budget` seconds: the run stops by itself. Memory is the server process's VmRSS
(/proc/<pid>/status): before the attack, after the answer, and the peak in between (sampled every 20 ms).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = {"127.0.0.1", "localhost"}

# Runs the server from `app_dir`, past the editable install of this checkout (its finder would win over sys.path).
BOOT = """
import sys
app_dir, port = sys.argv[1], sys.argv[2]
sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "__module__", "").startswith("__editable__")]
sys.path.insert(0, app_dir)
import app
app.main(["serve", "--demo", "--port", port])
"""


def cycle(depth: int) -> str:
    names = ["kecamatans"] + ["kelurahans" if i % 2 == 0 else "kecamatan" for i in range(depth - 1)]
    return "{ " + " { ".join(names) + " { name" + " }" * depth + " }"


PER_SELLER = (
    "query Spread($n: Int) { products(first: $n) { edges { node { name umkm { name "
    "servedKecamatans { name kelurahans { name code } } } } } } }"
)
PLACE = "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { orders { id } errors { code } } }"
LOGIN = 'l%d: login(input: {email: "pembeli@demo.pasar.id", password: "salah-%d"}) { token }'


# ---------------------------------------------------------------- the server


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    host: str
    port: int
    pid: int | None
    popen: subprocess.Popen | None = None
    restart: Callable[[], Server] | None = None

    def alive(self) -> bool:
        return self.popen is None or self.popen.poll() is None

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)


def start_server(app_dir: Path, database_url: str, logdir: Path, extra_env: dict[str, str]) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PASAR_GRAPHIQL": "false",
        "PASAR_FAIRNESS_REFRESH_SECONDS": "0",
        "PASAR_CLOCKS_SECONDS": "0",  # no background writes while an attack is measured
        "PASAR_RATE_LIMITS": "off",  # each attack meets the limit it is about, not the per-caller rate limit
        **extra_env,
    }
    env.pop("PASAR_COUNT_SQL", None)
    log = (logdir / f"server-{port}.log").open("wb")
    popen = subprocess.Popen(
        [sys.executable, "-c", BOOT, str(app_dir), str(port)],
        cwd=app_dir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server("127.0.0.1", port, popen.pid, popen)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise SystemExit(f"the server exited: see {log.name}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                if r.status == 200:
                    server.restart = lambda: start_server(app_dir, database_url, logdir, extra_env)
                    return server
        time.sleep(0.3)
    server.stop()
    raise SystemExit("the server did not become ready in 300 s")


# ---------------------------------------------------------------- one exchange


@dataclass
class Answer:
    status: int | None = None
    body: bytes = b""
    seconds: float | None = None
    note: str = ""


def exchange(
    server: Server,
    body: bytes | Iterable[bytes],
    timeout: float,
    hang_up_after: float | None = None,
    token: str | None = None,
) -> Answer:
    """POST /graphql over a fresh connection; the body is sent from a thread while the answer is read (a server may
    answer before reading the body). `hang_up_after`: close the connection after that many seconds."""
    chunked = not isinstance(body, bytes)
    head = [
        "POST /graphql HTTP/1.1",
        f"Host: {server.host}:{server.port}",
        "Content-Type: application/json",
        "Accept: application/json",
        "Connection: close",
        "Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}",
        *([f"Authorization: Bearer {token}"] if token else []),
    ]
    sock = socket.create_connection((server.host, server.port), timeout=timeout)
    started = time.perf_counter()

    def send() -> None:
        with contextlib.suppress(OSError):
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
            if not chunked:
                view = memoryview(body)
                for i in range(0, len(view), 1 << 20):
                    sock.sendall(view[i : i + (1 << 20)])
                return
            for chunk in body:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sock.sendall(b"0\r\n\r\n")

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    answer = Answer()
    data = bytearray()
    wait = timeout if hang_up_after is None else hang_up_after
    sock.settimeout(wait)
    try:
        while True:
            part = sock.recv(1 << 16)
            if not part:
                break
            if not data:
                answer.seconds = time.perf_counter() - started
            data += part
    except TimeoutError:
        answer.note = "client hung up" if hang_up_after is not None else f"no answer in {timeout:g} s"
    except OSError as e:
        answer.note = f"connection: {e.__class__.__name__}"
    finally:
        sock.close()
    if data:
        head_raw, _, rest = bytes(data).partition(b"\r\n\r\n")
        with contextlib.suppress(ValueError, IndexError):
            answer.status = int(head_raw.split(b" ", 2)[1])
        answer.body = _dechunk(rest) if b"transfer-encoding: chunked" in head_raw.lower() else rest
    return answer


def _dechunk(raw: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(raw):
        end = raw.find(b"\r\n", i)
        if end < 0:
            break
        size = int(raw[i:end].split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += raw[end + 2 : end + 2 + size]
        i = end + 2 + size + 2
    return bytes(out)


def error_code(body: bytes) -> str:
    try:
        parsed = json.loads(body)
    except ValueError:
        return body[:40].decode(errors="replace").strip() or "-"
    errors = parsed.get("errors") or []
    if errors:
        return (errors[0].get("extensions") or {}).get("code") or errors[0].get("message", "")[:40]
    return "data" if parsed.get("data") is not None else "-"


# ---------------------------------------------------------------- the attacks


@dataclass
class Attack:
    name: str
    body: Callable[[dict], bytes | Iterable[bytes]]
    hang_up_after: float | None = None
    copies: int = 1


def doc(query: str, variables: dict | None = None) -> bytes:
    return json.dumps({"query": query, "variables": variables or {}}).encode()


def basket(ctx: dict, lines: int) -> bytes:
    line = {"productId": ctx["product"], "quantity": 1}
    return doc(PLACE, {"input": {"items": [line] * lines, "neededBy": "2030-01-01", "deliveryAddress": "Jl. Pemuda"}})


def streamed(total: int) -> Iterable[bytes]:
    yield b'{"query": "{ kecamatans { name } }", "variables": {"s": "'
    for _ in range(total // (1 << 16)):
        yield b"x" * (1 << 16)
    yield b'"}}'


ATTACKS = [
    Attack("cheap query (reference)", lambda c: doc("{ kecamatans { name } }")),
    Attack("depth-12 kecamatan/kelurahan cycle", lambda c: doc(cycle(12))),
    Attack(
        "30 aliases of the depth-8 cycle",
        lambda c: doc("{ " + " ".join(f"a{i}: {cycle(8)[2:-2]}" for i in range(30)) + " }"),
    ),
    Attack("first: $n = 100 via variables", lambda c: doc(PER_SELLER, {"n": 100})),
    Attack("50 MB variable", lambda c: doc("query($s: ID!) { node(id: $s) { id } }", {"s": "x" * 50_000_000})),
    Attack("50 MB variable, chunked", lambda c: streamed(50_000_000)),
    Attack(
        "variables nested 1,000 deep",
        lambda c: (
            b'{"query": "query($v: [Int]) { kecamatans { name } }", "variables": {"v": '
            + b"[" * 1000
            + b"]" * 1000
            + b"}}"
        ),
    ),
    Attack("200,000-line anonymous basket", lambda c: basket(c, 200_000)),
    Attack("101-line anonymous basket", lambda c: basket(c, 101)),
    Attack(
        "2 x login in one request", lambda c: doc("mutation { " + " ".join(LOGIN % (i, i) for i in range(2)) + " }")
    ),
    Attack(
        "30 x login in one request", lambda c: doc("mutation { " + " ".join(LOGIN % (i, i) for i in range(30)) + " }")
    ),
    Attack("client hangs up after 3 s (depth-12 cycle)", lambda c: doc(cycle(12)), hang_up_after=3.0),
    Attack("8 depth-12 cycles at once", lambda c: doc(cycle(12)), copies=8),
]


@dataclass
class Row:
    name: str
    status: str
    code: str
    seconds: str
    rss_after_mb: str
    rss_peak_mb: str
    note: str = ""
    extra: dict = field(default_factory=dict)


def run_attack(server: Server, attack: Attack, ctx: dict, args: argparse.Namespace) -> Row:
    body = attack.body(ctx)
    sampler_stop = threading.Event()
    peak = [0]
    before = rss_kb(server.pid) if server.pid else 0
    killed = [False]

    def sample() -> None:
        while not sampler_stop.is_set() and server.pid:
            try:
                kb = rss_kb(server.pid)
            except OSError:
                return
            peak[0] = max(peak[0], kb)
            if server.popen is not None and kb > args.max_rss_mb * 1024:
                killed[0] = True
                server.stop()
                return
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu_before = cpu_seconds(server.pid) if server.pid else 0.0
    if attack.copies == 1:
        answers = [exchange(server, body, args.request_timeout, attack.hang_up_after)]
    else:
        answers = [Answer()] * attack.copies
        threads = []
        for i in range(attack.copies):

            def one(i: int = i) -> None:
                answers[i] = exchange(server, body, args.request_timeout)

            threads.append(threading.Thread(target=one, daemon=True))
        for t in threads:
            t.start()
        time.sleep(0.2)
        probe = exchange(server, doc("{ kecamatans { name } }"), args.request_timeout)
        for t in threads:
            t.join(args.request_timeout + 5)
    after = rss_kb(server.pid) if server.pid and server.alive() else 0
    note = ""
    if attack.hang_up_after is not None and server.alive() and server.pid:
        spent = cpu_seconds(server.pid)
        time.sleep(5)
        note = f"server CPU in the 5 s after the hang-up: {cpu_seconds(server.pid) - spent:.1f} s"
    sampler_stop.set()
    sampler.join(1)
    first = answers[0]
    if attack.copies > 1:
        done = [a.seconds for a in answers if a.seconds is not None]
        cheap = f"{probe.seconds * 1000:.0f} ms" if probe.seconds is not None else probe.note or "-"
        note = f"cheap query during them: {cheap}; {len(done)}/{attack.copies} answered"
        note += f", the last in {max(done) * 1000:.0f} ms" if done else ""
    if killed[0]:
        note = f"server killed: RSS passed {args.max_rss_mb} MB"
    elif first.note and not note:
        note = first.note
    if server.pid and server.alive() and not killed[0]:
        note = (note + "; " if note else "") + f"CPU {cpu_seconds(server.pid) - cpu_before:.2f} s"
    return Row(
        attack.name,
        str(first.status or "-"),
        error_code(first.body) if first.body else "-",
        f"{first.seconds * 1000:.0f} ms" if first.seconds is not None else "-",
        f"{(after - before) / 1024:+.1f}" if after else "-",
        f"{(peak[0] - before) / 1024:+.1f}" if peak[0] else "-",
        note,
    )


def settle(server: Server, seconds: float) -> bool:
    """Waits until the server is idle (under 10% of a core over half a second); False if it stays busy."""
    if not server.pid or not server.alive():
        return False
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        a = cpu_seconds(server.pid)
        time.sleep(0.5)
        if not server.alive():
            return False
        if cpu_seconds(server.pid) - a < 0.05:
            return True
    return False


def first_product(server: Server) -> str:
    answer = exchange(server, doc("{ products(first: 1) { edges { node { id } } } }"), 30)
    edges = json.loads(answer.body)["data"]["products"]["edges"]
    return edges[0]["node"]["id"] if edges else "UHJvZHVjdDox"


# ---------------------------------------------------------------- sign-ins beside cheap queries

CHEAP = doc("{ kecamatans { code } }")


def p50(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else float("nan")


def login_load(server: Server, rate: float, seconds: float, timeout: float) -> dict:
    """A cheap query's p50 when idle, then while `rate` correct sign-ins a second arrive for `seconds` (each
    argon2id: worker threads, at most one per core at once): the event loop must go on serving the cheap query."""
    login = doc('mutation { login(input: {email: "pembeli@demo.pasar.id", password: "pasar-demo-2026"}) { token } }')
    idle = [a.seconds for a in (exchange(server, CHEAP, timeout) for _ in range(60)) if a.status == 200]
    answers: list[Answer] = []
    stop = time.monotonic() + seconds

    def sign_ins() -> None:
        threads = []
        while time.monotonic() < stop:
            t = threading.Thread(target=lambda: answers.append(exchange(server, login, timeout)), daemon=True)
            t.start()
            threads.append(t)
            time.sleep(1 / rate)
        for t in threads:
            t.join(timeout)

    loader = threading.Thread(target=sign_ins, daemon=True)
    loader.start()
    loaded = []
    while time.monotonic() < stop:
        a = exchange(server, CHEAP, timeout)
        if a.status == 200:
            loaded.append(a.seconds)
    loader.join(timeout + seconds)
    ok = [a.seconds for a in answers if a.status == 200 and b'"token": "' in a.body.replace(b'":"', b'": "')]
    return {
        "idle_p50_ms": round(p50(idle) * 1000, 1),
        "loaded_p50_ms": round(p50(loaded) * 1000, 1),
        "ratio": round(p50(loaded) / p50(idle), 2),
        "sign_ins": len(answers),
        "signed_in": len(ok),
        "sign_in_p50_ms": round(p50(ok) * 1000, 1),
        "cheap_queries": len(loaded),
    }


# ---------------------------------------------------------------- costly documents beside cheap queries

# Just under the default cost limit (50,000): 31 kecamatan, each kelurahan's kecamatan's kelurahans twice over.
COSTLY = doc(
    "{ kecamatans { code name kelurahans { code name kecamatan { code name kelurahans { code name "
    "kecamatan { code name } } } } } }"
)


def partner_keys(server: Server, count: int, timeout: float) -> list[str]:
    """`count` partner keys, made by the demo admin (each copy of the costly document comes from its own caller)."""
    login = exchange(
        server,
        doc('mutation { login(input: {email: "admin@demo.pasar.id", password: "pasar-demo-2026"}) { token } }'),
        timeout,
    )
    admin = json.loads(login.body)["data"]["login"]["token"]
    keys = []
    for i in range(count):
        made = exchange(
            server,
            doc(f'mutation {{ createApiKey(input: {{name: "abuse-{i}"}}) {{ secret errors {{ code }} }} }}'),
            timeout,
            token=admin,
        )
        keys.append(json.loads(made.body)["data"]["createApiKey"]["secret"])
    return keys


def costly_load(server: Server, copies: int, seconds: float, timeout: float) -> dict:
    """A cheap query's p50 when idle, then while `copies` partner keys each send the costly document in a loop for
    `seconds`: admission control on the estimated cost must keep the event loop serving the cheap query."""
    keys = partner_keys(server, copies, timeout)
    probe = exchange(server, COSTLY, timeout, token=keys[0])
    cost = (json.loads(probe.body).get("extensions") or {}).get("cost", {})
    idle = [a.seconds for a in (exchange(server, CHEAP, timeout) for _ in range(60)) if a.status == 200]
    outcomes: dict[str, int] = {}
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def loop(key: str) -> None:
        while time.monotonic() < stop:
            a = exchange(server, COSTLY, timeout, token=key)
            what = str(a.status) if a.status != 200 else ("200 " + error_code(a.body))
            with lock:
                outcomes[what] = outcomes.get(what, 0) + 1

    threads = [threading.Thread(target=loop, args=(k,), daemon=True) for k in keys]
    for t in threads:
        t.start()
    loaded = []
    while time.monotonic() < stop:
        a = exchange(server, CHEAP, timeout)
        if a.status == 200:
            loaded.append(a.seconds)
    for t in threads:
        t.join(timeout + seconds)
    return {
        "cost": cost.get("requestedQueryCost"),
        "limit": cost.get("maximumQueryCost"),
        "idle_p50_ms": round(p50(idle) * 1000, 1),
        "loaded_p50_ms": round(p50(loaded) * 1000, 1),
        "ratio": round(p50(loaded) / p50(idle), 2),
        "cheap_queries": len(loaded),
        "costly_answers": outcomes,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.abuse", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="a running server (loopback only); default: start one")
    p.add_argument("--pid", type=int, help="its process id, to read its memory")
    p.add_argument("--app-dir", type=Path, default=ROOT, help="the checkout whose code the started server runs")
    p.add_argument("--database-url", help="default: a temporary SQLite file with the demo data")
    p.add_argument("--request-timeout", type=float, default=60.0, help="client time limit per request (s)")
    p.add_argument("--max-rss-mb", type=int, default=1500, help="kill a started server whose memory passes this")
    p.add_argument("--budget", type=float, default=900.0, help="start no attack after this many seconds")
    p.add_argument("--only", help="comma-separated substrings of attack names to run")
    p.add_argument("--json", type=Path, help="also write the rows here")
    p.add_argument(
        "--login-load", type=float, metavar="PER_SECOND", help="then sign-ins at this rate beside cheap queries"
    )
    p.add_argument(
        "--costly-load",
        type=int,
        metavar="KEYS",
        help="then KEYS partner keys each loop a document just under the cost limit, beside cheap queries",
    )
    p.add_argument("--load-seconds", type=float, default=15.0, help="how long each load lasts")
    p.add_argument(
        "--server-env",
        action="append",
        default=[],
        type=lambda text: tuple(text.split("=", 1)),
        metavar="NAME=VALUE",
        help="a setting of the started server, e.g. PASAR_RATE_LIMITS= for the default rate limits (repeatable)",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pasar-abuse-") as tmp:
        if args.url:
            parsed = urllib.parse.urlparse(args.url)
            if parsed.hostname not in LOOPBACK:
                raise SystemExit("bench.abuse attacks loopback servers only (127.0.0.1 or localhost)")
            server = Server(parsed.hostname, parsed.port or 80, args.pid)
        else:
            url = args.database_url or f"sqlite://{tmp}/abuse.sqlite3"
            print(f"starting a server from {args.app_dir} with the demo data ({url}) …", flush=True)
            server = start_server(args.app_dir.resolve(), url, Path(tmp), dict(args.server_env))
        try:
            ctx = {"product": first_product(server)}
            rows = []
            wanted = [w.strip() for w in (args.only or "").split(",") if w.strip()]
            for attack in ATTACKS:
                if wanted and not any(w in attack.name for w in wanted):
                    continue
                if time.monotonic() - started > args.budget:
                    print(f"budget of {args.budget:g} s spent: stopping before {attack.name!r}")
                    break
                if not server.alive() or not settle(server, 120):
                    if server.restart is None:
                        raise SystemExit("the server is gone or stays busy; restart it and run again")
                    server.stop()
                    server = server.restart()
                row = run_attack(server, attack, ctx, args)
                rows.append(row)
                print(
                    f"{row.name:<44} {row.status:>4} {row.code:<22} {row.seconds:>9} "
                    f"RSS {row.rss_after_mb:>6} MB after, {row.rss_peak_mb:>6} MB peak  {row.note}",
                    flush=True,
                )
            if args.login_load:
                if not server.alive() or not settle(server, 120):
                    server.stop()
                    server = server.restart()
                load = login_load(server, args.login_load, args.load_seconds, args.request_timeout)
                print(
                    f"{args.login_load:g} sign-ins/s for {args.load_seconds:g} s beside a cheap query: {load}",
                    flush=True,
                )
            if args.costly_load:
                if not server.alive() or not settle(server, 120):
                    server.stop()
                    server = server.restart()
                load = costly_load(server, args.costly_load, args.load_seconds, args.request_timeout)
                print(
                    f"{args.costly_load} partner keys looping a costly document for {args.load_seconds:g} s "
                    f"beside a cheap query: {load}",
                    flush=True,
                )
        finally:
            server.stop()
    if args.json:
        args.json.write_text(json.dumps([row.__dict__ for row in rows], indent=2))


if __name__ == "__main__":
    main()
