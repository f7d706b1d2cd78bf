"""The command line as an operator uses it: migrate, seed, create-user, serve --demo, bad settings."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import fresh_database

ROOT = Path(__file__).parent.parent
PASAR = [sys.executable, "-m", "app"]
# Ceilings, not expectations: on a loaded machine a demo seed or an argon2 login can take many times its usual
# second, and a test that waits too little fails for the machine, not for the code.
RUN_TIMEOUT = 600  # one CLI command or snippet, start to exit
READY_TIMEOUT = 300  # `serve --demo`: migrate, seed, then listen
HTTP_TIMEOUT = 60  # one request to the running server


def run(args: list[str], env: dict, cwd: Path, timeout: int = RUN_TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run(PASAR + args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def fresh_db(tmp_path):
    """An empty database of the engine under test, dropped afterwards."""
    with fresh_database(tmp_path) as url:
        yield url


def env_for(url: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASAR_")}
    env.update({"DATABASE_URL": url, "PYTHONPATH": str(ROOT), **extra})
    return env


def python_with_db(url: str, body: str, timeout: int = RUN_TIMEOUT) -> str:
    """Run `body` (the inside of an async function, `config` = the app's Tortoise config for `url`) in a fresh
    interpreter, outside the server and the tests' own connections; its standard output."""
    code = (
        "import asyncio, json, models\n"
        "from tortoise import Tortoise, connections\n"
        "from tortoise.migrations.api.migrate import migrate\n"
        "async def m():\n"
        f"    config = models.tortoise_config({url!r})\n"
        + "".join(f"    {line}\n" for line in body.strip().splitlines())
        + "    await Tortoise.close_connections()\n"
        "asyncio.run(m())\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], env=env_for(url), cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


def count_rows(url: str, tables: list[str]) -> dict[str, int]:
    import json

    out = python_with_db(
        url,
        f"""
await Tortoise.init(config=config)
db = connections.get('default')
out = {{}}
for t in {tables!r}:
    out[t] = (await db.execute_query_dict(f'SELECT COUNT(*) AS n FROM "{{t}}"'))[0]['n']
print(json.dumps(out))
""",
    )
    return json.loads(out.strip().splitlines()[-1])


def test_committed_migrations_build_an_empty_database(fresh_db, tmp_path):
    r = run(["migrate"], env_for(fresh_db), tmp_path)
    assert r.returncode == 0, r.stderr
    again = run(["migrate"], env_for(fresh_db), tmp_path)  # idempotent
    assert again.returncode == 0, again.stderr
    counts = count_rows(fresh_db, ["kecamatan", "kelurahan", "umkm", "product", "user", "opd_budget"])
    assert counts == {"kecamatan": 31, "kelurahan": 153, "umkm": 0, "product": 0, "user": 0, "opd_budget": 0}


def test_migrations_apply_to_a_database_that_already_holds_rows(fresh_db, tmp_path):
    """A new NOT NULL column on a table with rows needs a database default (0006: category.ranking_generation)."""
    python_with_db(
        fresh_db,
        """
await migrate(config=config, app_labels=['models'], target='models.0005_indexes')
await Tortoise.init(config=config)
await connections.get('default').execute_query(
    "INSERT INTO category (name, slug, description, created_at, updated_at) "
    "VALUES ('Batik', 'batik', '', '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')")
""",
    )
    r = run(["migrate"], env_for(fresh_db), tmp_path)
    assert r.returncode == 0, r.stderr
    assert count_rows(fresh_db, ["category", "fairness_snapshot"]) == {"category": 1, "fairness_snapshot": 0}


def test_seed_demo_loads_a_believable_city_once(fresh_db, tmp_path):
    r = run(["seed", "--demo"], env_for(fresh_db), tmp_path)
    assert r.returncode == 0, r.stderr
    for role in ("ADMIN", "OPD_BUYER", "OPD_TREASURER", "EMPLOYEE", "UMKM_OWNER", "ANALYST"):
        assert role in r.stdout
    counts = count_rows(
        fresh_db, ["opd", "umkm", "product", "opd_budget", "order", "payment", "omzet_report", "umkm_monthly_sales"]
    )
    assert 35 <= counts["opd"] <= 45 and counts["umkm"] == 300 and counts["product"] == 1500
    # a year of orders (most paid), twelve months of omzet reports, and the maintained rollup derived from them
    assert counts["order"] > 3000 and counts["payment"] > 2000
    assert counts["omzet_report"] > 500 and counts["umkm_monthly_sales"] > 100
    again = run(["seed", "--demo"], env_for(fresh_db), tmp_path)
    assert again.returncode == 0 and "already has data" in again.stdout
    assert count_rows(fresh_db, ["umkm"])["umkm"] == 300


def test_create_user_makes_an_account_that_can_log_in(fresh_db, tmp_path):
    assert run(["seed", "--demo"], env_for(fresh_db), tmp_path).returncode == 0
    r = run(
        [
            "create-user",
            "--role",
            "OPD_BUYER",
            "--email",
            "ppk@dinkes.id",
            "--password",
            "rahasia-123",
            "--opd",
            "DINKES",
        ],
        env_for(fresh_db),
        tmp_path,
    )
    assert r.returncode == 0, r.stderr
    bad = run(
        ["create-user", "--role", "OPD_BUYER", "--email", "x@y.id", "--password", "rahasia-123"],
        env_for(fresh_db),
        tmp_path,
    )
    assert bad.returncode != 0 and "opdId" in bad.stderr
    assert count_rows(fresh_db, ["user"])["user"] >= 1


def umkm_owner(url: str, nib: str) -> dict:
    import json

    out = python_with_db(
        url,
        f"""
await Tortoise.init(config=config)
db = connections.get('default')
rows = await db.execute_query_dict(
    'SELECT u.id, u.owner_id, e.email, h.note, h.actor_id, h.from_status, h.to_status FROM umkm u '
    'JOIN "user" e ON e.id = u.owner_id LEFT JOIN umkm_status_change h ON h.umkm_id = u.id '
    "WHERE u.nib = '{nib}' ORDER BY h.id DESC LIMIT 1"
)
print(json.dumps(rows[0], default=str))
""",
    )
    return json.loads(out.strip().splitlines()[-1])


def test_create_user_hands_a_umkm_to_the_new_owner_as_the_system(fresh_db, tmp_path):
    """--umkm goes through the same rule an admin would use, recorded in the UMKM's history as done by the system;
    a takeover the rules refuse (a buyer cannot own a UMKM) leaves no account behind."""
    assert run(["seed", "--demo"], env_for(fresh_db), tmp_path).returncode == 0
    nib = python_with_db(
        fresh_db,
        """
await Tortoise.init(config=config)
rows = await connections.get('default').execute_query_dict('SELECT nib FROM umkm ORDER BY id LIMIT 1')
print(rows[0]['nib'])
""",
    ).split()[-1]
    before = umkm_owner(fresh_db, nib)
    users = count_rows(fresh_db, ["user"])["user"]
    refused = run(
        [*"create-user --role OPD_BUYER --email b@y.id --password rahasia-123 --opd DINKES --umkm".split(), nib],
        env_for(fresh_db),
        tmp_path,
    )
    assert refused.returncode != 0 and "cannot own a UMKM" in refused.stderr, refused.stderr
    assert count_rows(fresh_db, ["user"])["user"] == users
    assert umkm_owner(fresh_db, nib)["owner_id"] == before["owner_id"]
    r = run(
        [*"create-user --role UMKM_OWNER --email pemilik@baru.id --password rahasia-123 --umkm".split(), nib],
        env_for(fresh_db),
        tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("created UMKM_OWNER pemilik@baru.id (id ")
    after = umkm_owner(fresh_db, nib)
    assert after["email"] == "pemilik@baru.id"
    assert after["actor_id"] is None and after["from_status"] == after["to_status"]
    assert after["note"] == f"owner changed from user {before['owner_id']} to user {after['owner_id']} by system"


@pytest.mark.parametrize(
    ("var", "value"),
    [("PASAR_PORT", "eighty"), ("PASAR_GRAPHIQL", "maybe"), ("DATABASE_URL", "mysql://x/y"), ("PASAR_SECRET", "short")],
)
def test_invalid_settings_stop_start_up_with_one_line_saying_what_to_fix(tmp_path, var, value):
    env = env_for("sqlite://x.sqlite3", **{var: value})
    r = run(["serve"], env, tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and var in lines[0], r.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    """End a server process: terminate, and kill it if it has not stopped within a minute."""
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=60)


def wait_until_serving(proc: subprocess.Popen, port: int, log: Path, within: float = READY_TIMEOUT) -> None:
    """Poll until the server accepts connections on `port` and answers /healthz; fail at once if it exits, and
    with its output if it is not ready `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                pass
        except OSError:
            time.sleep(0.5)
            continue
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=HTTP_TIMEOUT).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"the server did not answer /healthz within {within:.0f} s:\n{log.read_text()}")


@contextlib.contextmanager
def serving_demo(url: str, folder: Path) -> Iterator[tuple[int, Path]]:
    """`pasar serve --demo` on the database `url`, its output in `folder/serve.log`; yields (port, log) once the
    server answers /healthz, and stops it afterwards."""
    port = free_port()
    log = folder / "serve.log"
    with log.open("w") as out:  # a file, not a pipe: a full pipe nobody reads would stall the server
        proc = subprocess.Popen(
            [*PASAR, "serve", "--demo", "--port", str(port)],
            env=env_for(url),
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        wait_until_serving(proc, port, log)
        yield port, log
    finally:
        stop(proc)


def test_serve_demo_answers_with_graphiql_and_demo_logins_work(fresh_db, tmp_path):
    with serving_demo(fresh_db, tmp_path) as (port, log):
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=HTTP_TIMEOUT) as client:
            page = client.get("/graphql", headers={"accept": "text/html"})
            assert page.status_code == 200 and "graphiql" in page.text.lower()
            for email, role in [
                ("admin@demo.pasar.id", "ADMIN"),
                ("pembeli@demo.pasar.id", "OPD_BUYER"),
                ("umkm@demo.pasar.id", "UMKM_OWNER"),
                ("analis@demo.pasar.id", "ANALYST"),
            ]:
                login = client.post(
                    "/graphql",
                    json={
                        "query": "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) "
                        "{ token errors { code } } }",
                        "variables": {"e": email, "p": "pasar-demo-2026"},
                    },
                ).json()
                token = login["data"]["login"]["token"]
                assert token, login
                me = client.post(
                    "/graphql",
                    json={"query": "{ me { role } products(first: 5) { totalCount } }"},
                    headers={"authorization": f"Bearer {token}"},
                ).json()
                assert me["data"]["me"]["role"] == role
                assert me["data"]["products"]["totalCount"] > 1000
            # the server's log: our access line with the path only, never uvicorn's with the query string
            client.get("/graphql", params={"query": "{ categories { name } }", "probe": "rahasia-di-url-7"})
        deadline = time.monotonic() + HTTP_TIMEOUT  # the line is written just after the response has been sent
        while "operation=categories" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        lines = [line for line in log.read_text().splitlines() if " pasar.access: " in line]
        assert len(lines) >= 10 and all(" path=/graphql " in line or " path=/healthz " in line for line in lines)
        assert "operation=categories" in lines[-1] and " method=GET " in lines[-1]
        assert "rahasia-di-url-7" not in log.read_text() and "categories { name }" not in log.read_text()
