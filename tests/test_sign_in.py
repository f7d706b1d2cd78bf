"""Passwords: argon2id at the parameters chosen for this kind of server, hashing and verification off the event loop,
older hashes brought up to date on the next good sign-in."""

from __future__ import annotations

import asyncio
import threading

from argon2 import PasswordHasher

from models.accounts import User
from resolvers import accounts
from tests.conftest import PASSWORD, gid
from tests.test_validation import REGISTER, sign_up

LOGIN = """mutation($i: LoginInput!) { login(input: $i) { token errors { code } } }"""
PARAMS = "$argon2id$v=19$m=19456,t=2,p=1$"


async def test_new_passwords_are_argon2id_at_19_mib_two_passes_one_lane(gql, world):
    payload = (await gql.ok(REGISTER, {"i": sign_up(world)}))["registerUmkm"]
    assert payload["errors"] == []
    user = await User.get(email="rini@tas.id")
    assert user.password_hash.startswith(PARAMS)
    q = "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } errors { code } } }"
    made = {"email": "bendahara2@test.id", "password": "rahasia-456", "fullName": "B", "role": "OPD_TREASURER"}
    made["opdId"] = gid("Opd", world.opd.id)
    assert (await gql.ok(q, {"i": made}, world.tokens["admin"]))["createUser"]["errors"] == []
    assert (await User.get(email="bendahara2@test.id")).password_hash.startswith(PARAMS)


async def test_an_older_hash_is_rehashed_on_the_next_good_sign_in_only(gql, world):
    user = world.users["buyer"]
    old = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash(PASSWORD)  # the library's old defaults
    await User.filter(id=user.id).update(password_hash=old)

    wrong = (await gql.ok(LOGIN, {"i": {"email": user.email, "password": "salah-total"}}))["login"]
    assert [e["code"] for e in wrong["errors"]] == ["INVALID_CREDENTIALS"]
    assert (await User.get(id=user.id)).password_hash == old  # a wrong password changes nothing

    ok = (await gql.ok(LOGIN, {"i": {"email": user.email, "password": PASSWORD}}))["login"]
    assert ok["errors"] == [] and ok["token"]
    fresh = (await User.get(id=user.id)).password_hash
    assert fresh != old and fresh.startswith(PARAMS)
    again = (await gql.ok(LOGIN, {"i": {"email": user.email, "password": PASSWORD}}))["login"]
    assert again["errors"] == [] and (await User.get(id=user.id)).password_hash == fresh


async def test_verification_runs_off_the_event_loop(gql, world, monkeypatch):
    """While a sign-in verifies, the loop serves others: the verifying thread waits for a task on the loop to let it
    go. Verified on the loop, that task could never run and the sign-in would fail after the wait."""
    release = threading.Event()
    real = accounts.verify_password

    def held(password_hash: str, password: str) -> bool:
        assert release.wait(timeout=120), "the event loop was blocked while a password was verified"
        return real(password_hash, password)

    monkeypatch.setattr(accounts, "verify_password", held)
    login = asyncio.create_task(gql(LOGIN, {"i": {"email": world.users["buyer"].email, "password": PASSWORD}}))
    me = await gql.ok("{ products(first: 1) { totalCount } }")  # served meanwhile
    assert me["products"]["totalCount"] >= 1
    release.set()
    body = await asyncio.wait_for(login, timeout=120)
    assert body["data"]["login"]["errors"] == [] and body["data"]["login"]["token"]


async def test_a_token_that_no_longer_works_says_the_session_ended(gql, world):
    """Not `me: null` and "Sign in first" (a client would not know its token died): UNAUTHENTICATED with a message
    that says so, wherever the caller needs to be someone; public reads still answer, as for anyone."""
    token = (await gql.ok(LOGIN, {"i": {"email": world.users["buyer"].email, "password": PASSWORD}}))["login"]["token"]
    await gql.ok("mutation { logout { ok } }", token=token)
    for stale in (token, "pst_not-a-token-at-all", "pk_deadbeef_nothing"):
        for doc in ("{ me { email } }", "{ orders { totalCount } }", "{ users { totalCount } }"):
            body = await gql(doc, None, stale)
            assert body["data"] is None or next(iter(body["data"].values())) is None, body
            (err,) = body["errors"]
            assert err["extensions"]["code"] == "UNAUTHENTICATED", body
            assert "session has ended" in err["message"], body
        public = await gql.ok("{ products(first: 1) { totalCount } }", token=stale)
        assert public["products"]["totalCount"] >= 1
    # without any token: "sign in first", and `me` is simply null
    assert (await gql.ok("{ me { email } }"))["me"] is None
    body = await gql("{ orders { totalCount } }")
    assert body["errors"][0]["message"] == "Sign in first."
