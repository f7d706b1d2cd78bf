"""The database going away and coming back, on PostgreSQL: a server process reaches the database through a local TCP
proxy that the test cuts and restores (the shared PostgreSQL itself is never stopped). While it is cut every caller
gets 503 with SERVICE_UNAVAILABLE, never UNAUTHENTICATED; once it is back the same process answers again.

On SQLite the same answers are tested with a monkeypatched database (tests/test_http.py)."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests.conftest import SECRET, TEST_URL, error_codes
from tests.test_cli import HTTP_TIMEOUT, PASAR, READY_TIMEOUT, env_for, free_port

pytestmark = pytest.mark.skipif(not TEST_URL.startswith("postgres"), reason="a TCP proxy in front of PostgreSQL")


class TcpProxy:
    """Forwards 127.0.0.1:`port` to the database; `cut()` stops listening and drops every open connection (as a
    stopped database server or a broken network would), `restore()` listens again on the same port."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.server: asyncio.AbstractServer | None = None
        self.open: set[asyncio.StreamWriter] = set()
        self.tasks: set[asyncio.Task] = set()

    async def restore(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for w in list(self.open):
            w.transport.abort()
        self.open.clear()
        await self.server.wait_closed()
        self.server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.open |= {writer, up_writer}
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            dst.transport.abort()
            self.open.discard(dst)

    async def close(self) -> None:
        if self.server is not None:
            await self.cut()
        for task in list(self.tasks):
            task.cancel()


def through(proxy_port: int) -> str:
    parts = urlsplit(TEST_URL)
    netloc = f"{parts.username or 'postgres'}@127.0.0.1:{proxy_port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


async def ask(client: httpx.AsyncClient, token: str | None) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await client.post("/graphql", json={"query": "{ kecamatans { code } }"}, headers=headers)


async def until(check, within: float = READY_TIMEOUT) -> None:
    """Poll `check()` (async, truthy when done) until it holds; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if await check():
                return
        await asyncio.sleep(0.2)
    pytest.fail(f"not reached within {within:.0f} s")


async def test_a_cut_database_is_503_for_every_caller_and_the_same_process_recovers(world, tmp_path):
    target = urlsplit(TEST_URL)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await proxy.restore()
    port = free_port()
    log = tmp_path / "serve.log"
    env = env_for(through(proxy.port), PASAR_SECRET=SECRET, PASAR_FAIRNESS_REFRESH_SECONDS="0")
    with log.open("w") as out:  # a file, not a pipe: a full pipe nobody reads would stall the server
        proc = await asyncio.create_subprocess_exec(
            *PASAR, "serve", "--port", str(port), env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT
        )
    signed_in = world.tokens["buyer"]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=HTTP_TIMEOUT) as client:

            async def serving() -> bool:
                assert proc.returncode is None, log.read_text()
                return (await client.get("/healthz")).status_code == 200

            await until(serving)
            for token in (signed_in, None):
                r = await ask(client, token)
                assert r.status_code == 200 and len(r.json()["data"]["kecamatans"]) == 31, r.text

            await proxy.cut()
            for token in (signed_in, None, world.tokens["admin"]):
                r = await ask(client, token)
                assert r.status_code == 503, (r.status_code, r.text)
                assert error_codes(r.json()) == ["SERVICE_UNAVAILABLE"], r.text
                assert "UNAUTHENTICATED" not in r.text and r.json()["errors"][0]["extensions"]["requestId"]
            assert (await client.get("/healthz")).status_code == 503

            await proxy.restore()

            async def answers() -> bool:
                return (await ask(client, signed_in)).status_code == 200

            await until(answers)
            for token in (signed_in, None):
                r = await ask(client, token)
                assert r.status_code == 200 and len(r.json()["data"]["kecamatans"]) == 31, r.text
            assert proc.returncode is None  # the same process, not restarted
        served = log.read_text()
        assert "database unreachable checking the credential" in served and "unexpected error" not in served, served
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), timeout=60)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        await proxy.close()
