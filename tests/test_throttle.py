"""Guessing refused: failed sign-ins counted per account and client address in the database and answered with
TOO_MANY_ATTEMPTS and `retryAfter` past the limits (never a wait on the server), partner keys guessed from one
address refused with 429, anonymous sign-ups limited per address, a NIB squatted by a registration nobody verifies
released after 30 days, and the failures readable by admins and deleted after 90 days."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import subprocess

import httpx
import pytest

from models.accounts import SignInFailure, SignInFailureReason, SignUp, User
from models.base import UmkmStatus
from models.registry import Umkm, UmkmStatusChange
from resolvers import accounts, throttle
from tests.conftest import PASSWORD, TEST_URL, error_codes
from tests.test_cli import HTTP_TIMEOUT, PASAR, env_for, free_port, wait_until_serving
from tests.test_validation import sign_up

LOGIN = "mutation($i: LoginInput!) { login(input: $i) { token retryAfter errors { field code message } } }"
REGISTER = """mutation($i: RegisterUmkmInput!) {
  registerUmkm(input: $i) { token umkm { id } retryAfter errors { field code message } }
}"""
WINDOW = 15 * 60
ATTACKER_A, ATTACKER_B, OWNER_HOME = "203.0.113.10", "198.51.100.20", "192.0.2.30"


async def login(gql, email: str, password: str) -> dict:
    return (await gql.ok(LOGIN, {"i": {"email": email, "password": password}}))["login"]


def codes(payload: dict) -> list[str]:
    return [e["code"] for e in payload["errors"]]


@pytest.fixture
def limits(app, monkeypatch):
    """Change the server's throttle settings for one test: `limits(sign_in_max_per_address=8)`."""
    view = app.state.graphql_view

    def set_(**changes: int) -> None:
        monkeypatch.setattr(view, "settings", dataclasses.replace(view.settings, **changes))

    return set_


async def test_300_wrong_passwords_from_two_addresses_are_refused_and_the_owner_gets_in_from_home(
    gql_from, world, clock
):
    email = world.users["buyer"].email
    start = clock.now()
    answers = {ATTACKER_A: [], ATTACKER_B: []}
    for i in range(300):
        address = ATTACKER_A if i % 2 else ATTACKER_B
        answers[address].append(await login(gql_from(address), email, f"tebakan-{i}"))
    for address, payloads in answers.items():
        # five guesses per account and address, then refusals that say when to come back, without a token
        assert [codes(p) for p in payloads[:5]] == [["INVALID_CREDENTIALS"]] * 5, address
        assert all(codes(p) == ["TOO_MANY_ATTEMPTS"] for p in payloads[5:]), address
        assert all(p["token"] is None for p in payloads)
        assert {p["retryAfter"] for p in payloads[5:]} == {WINDOW}  # the clock stood still: the whole window
        assert all(p["retryAfter"] is None for p in payloads[:5])
    refusal = answers[ATTACKER_A][-1]["errors"][0]
    assert refusal["message"] == "Too many failed sign-ins from here. Try again in 15 minutes."
    assert refusal["field"] is None
    assert await SignInFailure.filter(email=email, reason=SignInFailureReason.WRONG_PASSWORD).count() == 10
    assert await SignInFailure.filter(email=email, reason=SignInFailureReason.THROTTLED).count() == 290

    # the right password: refused from the attacking address, accepted from one that has not failed
    right = await login(gql_from(ATTACKER_A), email, PASSWORD)
    assert codes(right) == ["TOO_MANY_ATTEMPTS"] and right["token"] is None
    home = await login(gql_from(OWNER_HOME), email, PASSWORD)
    assert home["errors"] == [] and home["token"]

    clock.at(start + dt.timedelta(minutes=10))
    later = await login(gql_from(ATTACKER_A), email, PASSWORD)
    assert codes(later) == ["TOO_MANY_ATTEMPTS"] and later["retryAfter"] == WINDOW - 10 * 60
    clock.at(start + dt.timedelta(seconds=WINDOW + 1))  # the window has passed
    after = await login(gql_from(ATTACKER_A), email, PASSWORD)
    assert after["errors"] == [] and after["token"]


async def test_simultaneous_guesses_cannot_slip_past_the_limit_together(gql_from, world):
    """Each attempt is written before the password is checked and counts every other attempt written before its
    count: of 20 guesses sent at once at most five are checked (fewer when they overlap: an attempt still being
    checked counts as a failure for the others); the rest of the five follow one by one, and no more."""
    attacker, email = gql_from(ATTACKER_A), world.users["buyer"].email
    burst = await asyncio.gather(*(login(attacker, email, f"tebakan-{i}") for i in range(20)))
    checked = sum(codes(p) == ["INVALID_CREDENTIALS"] for p in burst)
    assert checked <= 5 and sum(codes(p) == ["TOO_MANY_ATTEMPTS"] for p in burst) == 20 - checked
    for i in range(5 - checked):
        assert codes(await login(attacker, email, f"lagi-{i}")) == ["INVALID_CREDENTIALS"]
    assert codes(await login(attacker, email, "sekali-lagi")) == ["TOO_MANY_ATTEMPTS"]
    assert await SignInFailure.filter(email=email, reason=SignInFailureReason.WRONG_PASSWORD).count() == 5


async def test_an_unknown_email_is_answered_counted_and_throttled_like_a_known_one(gql_from, world, monkeypatch, clock):
    # the server's clock stands still (`clock`): retryAfter counts down in real seconds, and on a busy machine the
    # second series ran a second later than the first (900 against 899)
    verified: list[str] = []
    real = accounts.verify_password

    def counting(password_hash: str, password: str) -> bool:
        verified.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(accounts, "verify_password", counting)
    known = [await login(gql_from(ATTACKER_A), world.users["buyer"].email, "salah-123") for _ in range(7)]
    known_work = len(verified)
    unknown = [await login(gql_from(ATTACKER_B), "tidak.ada@test.id", "salah-123") for _ in range(7)]
    assert known == unknown  # token, retryAfter, every error's field, code and message
    assert [codes(p) for p in known] == [["INVALID_CREDENTIALS"]] * 5 + [["TOO_MANY_ATTEMPTS"]] * 2
    assert known_work == 5 and len(verified) == 10  # a hash verified per attempt let through, the dummy one too
    reasons = await SignInFailure.filter(address=ATTACKER_B).values_list("reason", flat=True)
    assert sorted(reasons) == ["THROTTLED"] * 2 + ["UNKNOWN_ACCOUNT"] * 5

    # a deactivated account too: the same answer, the same work
    await User.filter(id=world.users["analyst"].id).update(active=False)
    inactive = await login(gql_from(OWNER_HOME), world.users["analyst"].email, PASSWORD)
    assert inactive == known[0] and len(verified) == 11
    assert await SignInFailure.filter(address=OWNER_HOME).values_list("reason", flat=True) == ["INACTIVE"]


async def test_the_account_limit_refuses_addresses_that_failed_and_spares_those_that_did_not(gql_from, world, clock):
    """20 failures on one account from four addresses: a fifth address that then fails is refused after its first
    failure; the owner, from an address without failures, gets in."""
    email = world.users["treasurer"].email
    for n in range(4):
        for _ in range(5):
            assert codes(await login(gql_from(f"10.9.0.{n}"), email, "salah-123")) == ["INVALID_CREDENTIALS"]
    fifth = gql_from("10.9.0.99")
    assert codes(await login(fifth, email, "salah-123")) == ["INVALID_CREDENTIALS"]
    again = await login(fifth, email, PASSWORD)
    assert codes(again) == ["TOO_MANY_ATTEMPTS"] and again["retryAfter"] == WINDOW
    owner = await login(gql_from(OWNER_HOME), email, PASSWORD)
    assert owner["errors"] == [] and owner["token"]


async def test_one_address_trying_many_accounts_is_refused_on_every_account(gql_from, world, limits):
    limits(sign_in_max_per_address=8)
    attacker = gql_from(ATTACKER_A)
    for i in range(8):
        assert codes(await login(attacker, f"orang{i}@test.id", "salah-123")) == ["INVALID_CREDENTIALS"]
    refused = await login(attacker, world.users["buyer"].email, PASSWORD)  # even the right password of another one
    assert codes(refused) == ["TOO_MANY_ATTEMPTS"] and refused["token"] is None
    assert (await login(gql_from(OWNER_HOME), world.users["buyer"].email, PASSWORD))["token"]


async def test_guessing_partner_keys_from_one_address_is_refused_with_429(gql_from, world, clock):
    guesser, partner_home = gql_from(ATTACKER_A), gql_from(OWNER_HOME)
    for i in range(50):
        body = await guesser("{ me { email } }", None, f"pk_deadbeef_tebakan{i}")
        assert error_codes(body) == ["UNAUTHENTICATED"] and "session has ended" in body["errors"][0]["message"]
    r = await guesser.raw("{ products(first: 1) { totalCount } }", token="pk_deadbeef_lagi")
    assert r.status_code == 429, r.text
    (err,) = r.json()["errors"]
    assert err["extensions"] == {"code": "TOO_MANY_ATTEMPTS", "retryAfter": WINDOW}
    assert r.headers["retry-after"] == str(WINDOW)
    assert err["message"] == "Too many failed attempts from here. Try again in 15 minutes."
    # the real key from that address is refused too (without being looked up); from elsewhere it works
    assert (await guesser.raw("{ products(first: 1) { totalCount } }", token=world.partner_key)).status_code == 429
    ok = await partner_home.ok("{ products(first: 1) { totalCount } }", token=world.partner_key)
    assert ok["products"]["totalCount"] >= 1
    # without a key the address is still served: only key guessing and sign-ins are refused
    assert (await guesser.ok("{ products(first: 1) { totalCount } }"))["products"]["totalCount"] >= 1
    rows = await SignInFailure.filter(address=ATTACKER_A).values_list("reason", "email")
    assert sorted(rows) == [("BAD_API_KEY", None)] * 50 + [("THROTTLED", None)] * 2
    # and signing in from there is refused as well: the address is over its limit
    assert codes(await login(guesser, world.users["buyer"].email, PASSWORD)) == ["TOO_MANY_ATTEMPTS"]
    clock.at(clock.now() + dt.timedelta(seconds=WINDOW + 1))
    assert (await guesser.raw("{ products(first: 1) { totalCount } }", token=world.partner_key)).status_code == 200


async def test_sign_ups_are_limited_per_address(gql_from, world, clock):
    # thirty in one request: refused by the one-sign-up-per-request rule, nothing created
    aliases = " ".join(
        f'r{i}: registerUmkm(input: {{name: "U{i}", nib: "{7000000000000 + i}", ownerName: "Bu", phone: "081234567890",'
        f' address: "Jl. 1", kelurahanId: "{sign_up(world)["kelurahanId"]}", email: "u{i}@x.id", '
        f'password: "rahasia-123"}}) {{ token }}'
        for i in range(30)
    )
    body = await gql_from(ATTACKER_A)(f"mutation {{ {aliases} }}")
    assert error_codes(body) == ["TOO_MANY_MUTATIONS"]
    assert await Umkm.filter(nib__startswith="70000000000").count() == 0

    squatter = gql_from(ATTACKER_A)
    answers = []
    for i in range(30):
        values = sign_up(world, nib=f"{7100000000000 + i}", email=f"squat{i}@test.id")
        answers.append((await squatter.ok(REGISTER, {"i": values}))["registerUmkm"])
    assert [a["errors"] for a in answers[:5]] == [[]] * 5 and all(a["token"] for a in answers[:5])
    assert all(codes(a) == ["TOO_MANY_ATTEMPTS"] and a["umkm"] is None for a in answers[5:])
    assert {a["retryAfter"] for a in answers[5:]} == {3600}
    assert answers[5]["errors"][0]["message"] == "Too many sign-ups from here. Try again in 60 minutes."
    assert await Umkm.filter(nib__startswith="71000000000").count() == 5
    assert await SignUp.filter(address=ATTACKER_A).count() == 5  # a refused sign-up keeps no place

    # another address signs up; a signed-in owner adding a UMKM is not counted
    other = (await gql_from(OWNER_HOME).ok(REGISTER, {"i": sign_up(world, nib="7200000000001")}))["registerUmkm"]
    assert other["errors"] == []
    more = sign_up(world, nib="7200000000002", email=None, password=None)
    added = (await squatter.ok(REGISTER, {"i": more}, world.tokens["owner"]))["registerUmkm"]
    assert added["errors"] == []
    # an hour later the address may sign up again
    clock.at(clock.now() + dt.timedelta(hours=1, seconds=1))
    later = (await squatter.ok(REGISTER, {"i": sign_up(world, nib="7100000000099", email="x@t.id")}))["registerUmkm"]
    assert later["errors"] == []


async def test_a_failed_sign_up_gives_its_place_back(gql_from, world):
    client = gql_from(ATTACKER_B)
    for i in range(6):  # the same NIB as a verified UMKM: refused for the NIB, not for the limit
        payload = (await client.ok(REGISTER, {"i": sign_up(world, nib=world.umkm.nib, email=f"d{i}@t.id")}))[
            "registerUmkm"
        ]
        assert codes(payload) == ["DUPLICATE_NIB"]
    assert await SignUp.filter(address=ATTACKER_B).count() == 0
    assert (await client.ok(REGISTER, {"i": sign_up(world)}))["registerUmkm"]["errors"] == []


async def test_a_nib_held_by_a_pending_umkm_for_31_days_can_be_taken_for_29_it_cannot(gql_from, world, clock):
    registered = clock.now()
    first = (await gql_from(ATTACKER_A).ok(REGISTER, {"i": sign_up(world, nib="7300000000001")}))["registerUmkm"]
    assert first["errors"] == []
    stale = await Umkm.get(nib="7300000000001")
    newcomer = sign_up(world, nib="7300000000001", email="pemilik.asli@test.id")

    clock.at(registered + dt.timedelta(days=29))
    early = (await gql_from(OWNER_HOME).ok(REGISTER, {"i": newcomer}))["registerUmkm"]
    assert codes(early) == ["DUPLICATE_NIB"]
    assert (await Umkm.get(id=stale.id)).status is UmkmStatus.PENDING

    clock.at(registered + dt.timedelta(days=31))
    taken = (await gql_from(OWNER_HOME).ok(REGISTER, {"i": newcomer}))["registerUmkm"]
    assert taken["errors"] == [], taken
    released = await Umkm.get(id=stale.id)
    assert released.status is UmkmStatus.REJECTED and released.nib == f"~{stale.id}"
    assert (await Umkm.get(nib="7300000000001")).owner_id == (await User.get(email="pemilik.asli@test.id")).id
    last = await UmkmStatusChange.filter(umkm_id=stale.id).order_by("-id").first()
    assert (last.from_status, last.to_status) == (UmkmStatus.PENDING, UmkmStatus.REJECTED)
    assert last.note.startswith("NIB 7300000000001 released: not verified within 30 days")


async def test_a_verified_or_suspended_umkm_keeps_its_nib_however_old(gql_from, world, clock):
    clock.at(clock.now() + dt.timedelta(days=400))
    for umkm in (world.umkm, world.suspended_umkm):
        payload = (await gql_from(OWNER_HOME).ok(REGISTER, {"i": sign_up(world, nib=umkm.nib)}))["registerUmkm"]
        assert codes(payload) == ["DUPLICATE_NIB"]
    # the world's PENDING UMKM is 400 days old on this clock: its NIB is free
    payload = await gql_from(OWNER_HOME).ok(REGISTER, {"i": sign_up(world, nib=world.pending_umkm.nib)})
    assert payload["registerUmkm"]["errors"] == []


async def test_admins_read_the_failures_newest_first_and_old_ones_are_deleted(gql_from, world, clock, monkeypatch):
    email = world.users["buyer"].email
    await login(gql_from(ATTACKER_A), email.upper() + " ", "salah-123")
    await login(gql_from(ATTACKER_B), "tidak.ada@test.id", "salah-123")
    admin = gql_from(OWNER_HOME)
    q = """query($e: String, $a: String) { signInFailures(email: $e, clientAddress: $a) {
      totalCount edges { node { email clientAddress reason at } } } }"""
    data = (await admin.ok(q, {"e": None}, world.tokens["admin"]))["signInFailures"]
    nodes = [e["node"] for e in data["edges"]]
    assert [(n["email"], n["clientAddress"], n["reason"]) for n in nodes] == [
        ("tidak.ada@test.id", ATTACKER_B, "UNKNOWN_ACCOUNT"),
        (email, ATTACKER_A, "WRONG_PASSWORD"),
    ]
    assert nodes[0]["at"].endswith("+07:00")
    mine = (await admin.ok(q, {"e": email.upper()}, world.tokens["admin"]))["signInFailures"]
    assert mine["totalCount"] == 1
    assert (await admin.ok(q, {"a": ATTACKER_B}, world.tokens["admin"]))["signInFailures"]["totalCount"] == 1
    for role in ("owner", "analyst", "partner", None):
        body = await admin(q, {}, world.tokens[role] if role else None)
        assert body["data"] is None and error_codes(body) in (["FORBIDDEN"], ["UNAUTHENTICATED"]), role

    # retention: 90 days, deleted by an insert at most every ten minutes
    now = clock.now()
    monkeypatch.setattr(throttle, "_last_cleanup", None)
    old = await SignInFailure.create(email="lama@test.id", address="10.0.0.1", reason="WRONG_PASSWORD", at=now)
    await SignInFailure.filter(id=old.id).update(at=now - dt.timedelta(days=91))
    kept = await SignInFailure.create(
        email="lama@test.id", address="10.0.0.1", reason="WRONG_PASSWORD", at=now - dt.timedelta(days=89)
    )
    old_sign_up = await SignUp.create(address="10.0.0.1", at=now - dt.timedelta(days=91))
    await login(gql_from(ATTACKER_B), "tidak.ada@test.id", "salah-123")
    assert not await SignInFailure.exists(id=old.id) and not await SignUp.exists(id=old_sign_up.id)
    assert await SignInFailure.exists(id=kept.id)
    again = await SignInFailure.create(
        email="lama@test.id", address="10.0.0.1", reason="WRONG_PASSWORD", at=now - dt.timedelta(days=91)
    )
    await login(gql_from(ATTACKER_B), "tidak.ada@test.id", "salah-123")
    assert await SignInFailure.exists(id=again.id)  # cleaned a moment ago: not again yet
    clock.at(now + dt.timedelta(minutes=11))
    await login(gql_from(OWNER_HOME), "tidak.ada@test.id", "salah-123")
    assert not await SignInFailure.exists(id=again.id)


@pytest.mark.skipif(not TEST_URL.startswith("postgres"), reason="several server processes need PostgreSQL")
async def test_two_server_processes_count_wrong_passwords_as_one(world, tmp_path):
    """Two `pasar serve` processes on the test database; wrong passwords sent alternately to each are refused after
    five in all, not five per process."""
    servers = []
    try:
        for n in range(2):
            port, log = free_port(), tmp_path / f"serve{n}.log"
            env = env_for(TEST_URL, PASAR_SECRET=world.settings.secret, PASAR_FAIRNESS_REFRESH_SECONDS="0")
            with log.open("w") as out:  # a file, not a pipe: a full pipe nobody reads would stall the server
                proc = await asyncio.to_thread(
                    subprocess.Popen,
                    [*PASAR, "serve", "--port", str(port)],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            servers.append((proc, port, log))
        for proc, port, log in servers:
            await asyncio.to_thread(wait_until_serving, proc, port, log)
        email = world.users["buyer"].email
        seen = []
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{servers[0][1]}", timeout=HTTP_TIMEOUT) as one,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{servers[1][1]}", timeout=HTTP_TIMEOUT) as two,
        ):
            for i in range(12):
                client = (one, two)[i % 2]
                r = await client.post(
                    "/graphql", json={"query": LOGIN, "variables": {"i": {"email": email, "password": "x"}}}
                )
                seen.append(codes(r.json()["data"]["login"]))
            right = {"i": {"email": email, "password": PASSWORD}}
            for client in (one, two):
                r = await client.post("/graphql", json={"query": LOGIN, "variables": right})
                assert codes(r.json()["data"]["login"]) == ["TOO_MANY_ATTEMPTS"]
        assert seen == [["INVALID_CREDENTIALS"]] * 5 + [["TOO_MANY_ATTEMPTS"]] * 7
    finally:
        for proc, _, _ in servers:
            proc.terminate()
            try:
                await asyncio.to_thread(proc.wait, 60)
            except subprocess.TimeoutExpired:
                proc.kill()
                await asyncio.to_thread(proc.wait, 60)
