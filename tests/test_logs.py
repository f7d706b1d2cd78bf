"""The log an operator reads, after a session of mistakes through /graphql, captured at DEBUG from the root logger
with the app's own handler, formatter and filters (`schema/logs.py`): one access line per request with the path
only, exactly one traceback (the masked error, with its request id), none of the secrets that were sent, every
record bounded. And the filters on their own, failing synthetic records without them."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging
import re
import string
import time
import types
from typing import Any

import pytest
from httpx_ws import aconnect_ws
from hypothesis import given
from hypothesis import strategies as st

from app import Settings
from resolvers import registry
from schema import logs, sqlcount
from tests.conftest import PASSWORD, error_codes, gid
from tests.test_input_bounds import LOGIN
from tests.test_subscriptions import init, receive, ws_client
from tests.test_validation import CREATE_USER, REGISTER, sign_up

TRACEBACK = "Traceback (most recent call last)"
RECORD_BOUND = logs.MAX_MESSAGE + logs.MAX_TRACEBACK + 600  # message, traceback, markers, time, level, logger, fields


@pytest.fixture(params=["text", "json"])
def captured(request):
    """The app's real handler on the root logger at DEBUG, writing into a buffer; everything put back afterwards."""
    root = logging.getLogger()
    before = (root.level, list(root.handlers), logging.getLogger("uvicorn.access").disabled)
    aiosqlite_level = logging.getLogger("aiosqlite").level
    buffer = io.StringIO()
    client_log = logging.getLogger("httpx")  # the test's own client logs the URLs it calls; the server has no such log
    client_log.setLevel(logging.WARNING)
    handler = logs.configure_logging(Settings(log_format=request.param, log_level="DEBUG"), stream=buffer)
    try:
        yield request.param, buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(before[0])
        logging.getLogger("uvicorn.access").disabled = before[2]
        logging.captureWarnings(False)
        client_log.setLevel(logging.NOTSET)
        logging.getLogger("aiosqlite").setLevel(aiosqlite_level)


def records(fmt: str, text: str) -> list[dict]:
    """The log as records: JSON lines parsed; text lines grouped (a traceback continues its record)."""
    if fmt == "json":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    out: list[dict] = []
    start = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z (\w+) ([\w.]+): ")
    for line in text.splitlines():
        m = start.match(line)
        if m:
            out.append({"level": m.group(1), "logger": m.group(2), "message": line[m.end() :], "raw": line})
        else:
            out[-1]["raw"] += "\n" + line
            out[-1]["traceback"] = out[-1].get("traceback", "") + line + "\n"
    return out


def access_lines(fmt: str, recs: list[dict]) -> list[dict]:
    lines = [r for r in recs if r["logger"] == "pasar.access"]
    if fmt == "text":
        return [dict(re.findall(r'(\w+)=("[^"]*"|\S+)', r["message"])) for r in lines]
    return lines


async def test_a_session_of_mistakes_leaves_a_short_clean_log(captured, app, http, world, monkeypatch):
    fmt, buffer = captured
    admin = {"authorization": f"Bearer {world.tokens['admin']}"}
    wrong_password = "salah-sandi-98765"
    long_email = "x" * 15_000 + "@contoh.id"
    huge_email = "y" * 5_000_000 + "@contoh.id"
    twin = "kembar.sekali@contoh.id"
    phone, bank = "081377788899", "7788990011223"
    owner_email = world.users["owner"].email
    secrets = [
        wrong_password,
        PASSWORD,
        owner_email,
        twin,
        phone,
        bank,
        "pendaftar@contoh.id",
        long_email[:200],
        world.tokens["admin"],
        world.tokens["owner"],
        world.partner_key,
        "hunter2",
    ]
    requests = 0

    async def post(body: dict, headers: dict | None = None, **kw):
        nonlocal requests
        requests += 1
        return await http.post(
            "/graphql?query=%7Bme%7Bid%7D%7D&token=pst_inthequerystring", json=body, headers=headers or {}, **kw
        )

    # a wrong password (a real account: the password is checked against its hash)
    r = await post({"query": LOGIN, "variables": {"e": owner_email, "p": wrong_password}})
    assert r.json()["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    # a right one, whose token is in the answer and must not be in the log
    r = await post({"query": LOGIN, "variables": {"e": owner_email, "p": PASSWORD}})
    secrets.append(r.json()["data"]["login"]["token"])
    # a forbidden field: the owner asks for the users list; an anonymous caller for `me`
    r = await post(
        {"query": "query Staff { users(first: 5) { totalCount } }"},
        {"authorization": f"Bearer {world.tokens['owner']}"},
    )
    assert error_codes(r.json()) == ["FORBIDDEN"]
    r = await post({"query": "{ users(first: 5) { totalCount } login: me { email } }"})
    assert "UNAUTHENTICATED" in error_codes(r.json())
    # bad input: a registration with a phone number and an e-mail address that breaks a rule
    bad = sign_up(world, phone=phone, nib="12", email="pendaftar@contoh.id", password=PASSWORD)
    r = await post({"query": REGISTER, "variables": {"i": bad}})
    assert r.json()["data"]["registerUmkm"]["errors"], r.json()
    # a bank account in a literal that is not a number
    r = await post({"query": f'{{ products(filter: {{minPrice: "{bank}"}}) {{ totalCount }} }}'})
    assert error_codes(r.json()) and "INTERNAL_SERVER_ERROR" not in error_codes(r.json())
    # a document that does not validate, quoting the bank account
    r = await post({"query": f'{{ products(filter: {{search: "{bank}", nosuch: 1}}) {{ totalCount }} }}'})
    assert "GRAPHQL_VALIDATION_FAILED" in error_codes(r.json())
    # a 5 MB e-mail at login: over the body limit, refused before a byte is parsed
    r = await post({"query": LOGIN, "variables": {"e": huge_email, "p": wrong_password}})
    assert r.status_code == 413
    # a 15,000-character e-mail: under the body and text limits, refused by the login rule
    r = await post({"query": LOGIN, "variables": {"e": long_email, "p": wrong_password}})
    assert r.json()["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    # the same e-mail in a literal, over the text limit of schema/inputs.py when doubled
    r = await post(
        {
            "query": f'mutation {{ login(input: {{email: "{long_email * 2}", password: "{wrong_password}"}}) {{ token }} }}'
        }
    )
    assert "BAD_USER_INPUT" in error_codes(r.json())

    # one e-mail at createUser, ten times at once: the unique index decides
    async def create(i: int):
        nonlocal requests
        requests += 1
        variables = {"i": {"email": twin, "password": PASSWORD, "fullName": f"Kembar {i}", "role": "ANALYST"}}
        return await http.post("/graphql", json={"query": CREATE_USER, "variables": variables}, headers=admin)

    answers = [r.json()["data"]["createUser"] for r in await asyncio.gather(*(create(i) for i in range(10)))]
    assert sum(a["user"] is not None for a in answers) == 1
    assert {e["code"] for a in answers for e in a["errors"]} == {"DUPLICATE_EMAIL"}

    # a failure nobody expected: masked, and logged once with its traceback and request id
    async def boom(*args, **kwargs):
        raise RuntimeError(f"cannot reach {twin} at {phone}, password={wrong_password}, account {bank}")

    monkeypatch.setattr(registry, "create_opd", boom)
    kec = gid("Kecamatan", world.kecamatan.id)
    r = await post(
        {
            "query": 'mutation($k: ID!) { createOpd(input: {code: "X", name: "X", kind: DINAS, kecamatanId: $k}) { errors { code } } }',
            "variables": {"k": kec},
        },
        admin,
    )
    masked = r.json()["errors"][0]["extensions"]
    assert masked["code"] == "INTERNAL_SERVER_ERROR"
    assert r.headers["x-request-id"] == masked["requestId"]

    # a client's own request id is kept; one that could forge a log line is replaced
    r = await post({"query": "{ categories { name } }"}, {"x-request-id": "klien-42"})
    assert r.headers["x-request-id"] == "klien-42"
    r = await post({"query": "{ categories { name } }"}, {"x-request-id": "a\tb status=200"})
    assert r.headers["x-request-id"] != "a\tb status=200"

    # an operation on a WebSocket gets its own line
    async with ws_client(app) as client:
        forged = {"x-request-id": "forged status=500 role=ADMIN"}
        async with aconnect_ws(
            "http://test/graphql", client, subprotocols=["graphql-transport-ws"], headers=forged
        ) as ws:
            await init(ws, world.tokens["owner"])
            await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": "query Saya { me { role } }"}})
            assert (await receive(ws))["type"] == "next"
            assert (await receive(ws))["type"] == "complete"

    text = buffer.getvalue()
    recs = records(fmt, text)
    # debug records of the database were written (the check below is about something): parameter-free
    assert any(r["logger"] == "tortoise.db_client" and "SELECT" in r["message"] for r in recs)
    for secret in secrets:
        assert secret not in text, f"{secret[:40]!r} is in the log"
    assert "yyyyyyyyyy" not in text and "xxxxxxxxxxxxxxxxxxxx" not in text
    assert "inthequerystring" not in text and "query=" not in text
    assert "salah" not in text and "kembar.sekali" not in text
    assert "$argon2" not in text and "Kembar" not in text and "Rini" not in text  # hashes and names: parameters

    # exactly one traceback, the masked one, at ERROR, with its request id
    tracebacks = [r for r in recs if TRACEBACK in (r.get("traceback") or "")]
    assert len(tracebacks) == 1, [r["message"][:200] for r in tracebacks]
    assert tracebacks[0]["level"] == "ERROR" and masked["requestId"] in tracebacks[0]["message"]
    assert "RuntimeError" in tracebacks[0]["traceback"] and "<email>" in tracebacks[0]["traceback"]
    assert [r["level"] for r in recs].count("ERROR") == 1
    assert text.count(TRACEBACK) == 1
    # expected errors at INFO, without a traceback
    assert any(r["logger"] == "pasar.errors" and r["level"] == "INFO" and "FORBIDDEN" in r["message"] for r in recs)

    for r in recs:
        raw = r["raw"] if fmt == "text" else json.dumps(r)
        assert len(raw) <= RECORD_BOUND, (r["logger"], len(raw))

    # one access line per HTTP request, the path without its query string, and one for the WebSocket operation
    lines = access_lines(fmt, recs)
    http_lines = [a for a in lines if a["transport"] == "http"]
    assert len(http_lines) == requests
    assert {a["path"] for a in http_lines} == {"/graphql"}
    by_status = {str(a["status"]) for a in http_lines}
    assert {"200", "413"} <= by_status
    ops = [a["operation"] for a in http_lines]
    assert "Staff" in ops and "login" in ops and "createUser" in ops and "createOpd" in ops
    masked_line = next(a for a in http_lines if a["request_id"] == masked["requestId"])
    assert "INTERNAL_SERVER_ERROR" in str(masked_line["errors"])
    assert str(masked_line["user_id"]) == str(world.users["admin"].id) and masked_line["role"] == "ADMIN"
    assert any(a["request_id"] == "klien-42" for a in http_lines)
    assert all(int(a["sql_statements"]) >= 0 for a in http_lines)
    assert any(int(a["sql_statements"]) > 0 for a in http_lines if a["operation"] == "createUser")
    assert "PAYLOAD_TOO_LARGE" in str(next(a for a in http_lines if str(a["status"]) == "413")["errors"])
    (ws_line,) = [a for a in lines if a["transport"] == "ws"]
    assert ws_line["operation"] == "Saya" and ws_line["role"] == "UMKM_OWNER"
    assert "forged" not in text and re.fullmatch(r"[0-9a-f]{32}", ws_line["request_id"])


async def test_the_statement_count_is_logged_without_extensions_sql(app, http, world, captured):
    fmt, buffer = captured
    settings = app.state.settings
    view = app.state.graphql_view
    quiet = Settings(database_url=settings.database_url, secret=settings.secret, count_sql=False)
    original = view.settings
    view.settings = quiet
    try:
        r = await http.post("/graphql", json={"query": "{ products(first: 5) { totalCount } }"})
    finally:
        view.settings = original
    assert "extensions" not in r.json() or "sql" not in r.json()["extensions"], r.json()
    (line,) = access_lines(fmt, records(fmt, buffer.getvalue()))
    assert int(line["sql_statements"]) >= 1


# ---------------------------------------------------------------- the filters on their own


def _record(msg: str, *args, exc_info=None, name: str = "pasar.test") -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, exc_info)


def _through(handler_filters: bool, record: logging.LogRecord) -> str:
    out = io.StringIO()
    handler = logs.make_handler("text", "DEBUG", out)
    if not handler_filters:
        handler.filters.clear()
    handler.handle(record)
    return out.getvalue()


SYNTHETIC = (
    "duplicate key value violates unique constraint: Key (email)=(rini.lestari@tas.id) already exists; "
    "phone 0812-9876-5432, bank account 7788990011223, NIK 3578012345678901, password=anyaman-123, "
    "Authorization: Bearer pst_abcDEF123456789xyz and key pk_1a2b3c4d_SECRETSECRET"
)
SYNTHETIC_SECRETS = [
    "rini.lestari@tas.id",
    "0812-9876-5432",
    "7788990011223",
    "3578012345678901",
    "anyaman-123",
    "pst_abcDEF123456789xyz",
    "pk_1a2b3c4d_SECRETSECRET",
]


def test_the_redaction_filter_removes_what_the_record_would_leak():
    try:
        raise ValueError(SYNTHETIC)
    except ValueError as e:
        exc = (type(e), e, e.__traceback__)
    leaky = _through(False, _record("insert failed: %s", SYNTHETIC, exc_info=exc))
    assert all(s in leaky for s in SYNTHETIC_SECRETS)  # without the filter, every one of them is written
    clean = _through(True, _record("insert failed: %s", SYNTHETIC, exc_info=exc))
    assert not [s for s in SYNTHETIC_SECRETS if s in clean], clean
    assert "<email>" in clean and "<number>" in clean and "<token>" in clean and "password=<redacted>" in clean
    assert TRACEBACK in clean and "ValueError" in clean  # the traceback stays, redacted


def test_the_access_line_is_written_from_its_redacted_fields():
    """An access line whose fields carry what must not be written (an operation named after an address, a request id
    that is a phone number, an error code list with a token): without the filter every one is written; with it, the
    text line (written from the redacted fields, not redacted whole) and the JSON line hold none of them, and the
    ordinary fields are as they were."""
    line = logs.RequestLine(
        request_id="081298765432",
        method="POST",
        path="/graphql",
        status=200,
        operations=["rini.lestari@tas.id"],
        operation_types=["query"],
        user_id=7,
        role="ADMIN",
        codes=["pst_abcDEF123456789xyz"],
    )
    secrets = ("081298765432", "rini.lestari@tas.id", "pst_abcDEF123456789xyz")
    for fmt in ("text", "json"):
        for filtered in (False, True):
            out = io.StringIO()
            handler = logs.make_handler(fmt, "DEBUG", out)
            if not filtered:
                handler.filters.clear()
            logs.access.addHandler(handler)
            level, logs.access.level = logs.access.level, logging.INFO
            try:
                line.write()
            finally:
                logs.access.removeHandler(handler)
                logs.access.setLevel(level)
            written = out.getvalue()
            assert all(secret in written for secret in secrets) is not filtered, (fmt, filtered, written)
            if filtered:
                assert not [x for x in secrets if x in written], written
                assert "<number>" in written and "<email>" in written and "<token>" in written
                assert "method=POST path=/graphql status=200" in written or '"path": "/graphql"' in written


def test_the_redaction_filter_bounds_a_record_and_its_traceback():
    huge = "z" * 5_000_000 + "@contoh.id"
    try:
        raise ValueError(f"no account {huge}")
    except ValueError as e:
        exc = (type(e), e, e.__traceback__)
    leaky = _through(False, _record("login for %s", huge, exc_info=exc))
    assert len(leaky) > 10_000_000
    clean = _through(True, _record("login for %s", huge, exc_info=exc))
    assert len(clean) <= RECORD_BOUND and "cut]" in clean and "left out" in clean
    assert "zzzzzzzz@" not in clean and "contoh.id" not in clean  # a cut address leaves no piece behind


def test_request_ids_and_ordinary_words_survive_redaction():
    for text in [
        "request 3f1a2b4c5d6e7f8091a2b3c4d5e6f708: FORBIDDEN at users",
        "request 12345678abcdef0012345678abcdef00: BAD_USER_INPUT at document",
        "under-sold lists rebuilt for categories [1, 2, 3] in 0.25 s",
        "Password must be at least 8 characters.",
    ]:
        assert logs.redact(text) == text


def test_tortoise_statement_records_lose_their_parameters():
    record = _record("%s: %s", "SELECT * FROM user WHERE email=?", ["rini@tas.id"], name="tortoise.db_client")
    assert "rini@tas.id" in record.getMessage()  # what Tortoise writes without the filter
    sqlcount.WithoutParameters().filter(record)
    assert record.getMessage() == "SELECT * FROM user WHERE email=?"
    pool = _record("Created connection pool %s with params: %s", "<pool>", {"user": "pasar", "password": "x"})
    sqlcount.WithoutParameters().filter(pool)
    assert pool.getMessage() == "Created connection pool <pool>"


def test_log_settings_are_checked():
    from app import SettingsError

    assert Settings.from_env({"PASAR_LOG_FORMAT": "JSON", "PASAR_LOG_LEVEL": "debug"}).log_format == "json"
    with pytest.raises(SettingsError, match="PASAR_LOG_FORMAT"):
        Settings.from_env({"PASAR_LOG_FORMAT": "xml"})
    with pytest.raises(SettingsError, match="PASAR_LOG_LEVEL"):
        Settings.from_env({"PASAR_LOG_LEVEL": "LOUD"})


def test_an_owner_nik_never_reaches_the_log():
    """The owner's NIK (resolvers/clusters.py keeps only its keyed hash): as a digit run, in a key-value pair, split
    by spaces or dashes."""
    for text in (
        'variables {"ownerNik": "3578012345678901"}',
        "owner_nik=3578-0123-4567-8901",
        "NIK 3578 0123 4567 8901 taken",
        "nik: 35780123",
    ):
        clean = logs.redact(text)
        assert not [run for run in ("3578012345678901", "35780123", "8901") if run in clean], clean


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_the_access_line_written_straight_to_the_sole_handler_is_the_line_logging_writes(fmt, monkeypatch):
    """Under `pasar serve` the app's handler is the only one, and the access line is written to it directly
    (`_sole_handler`, `_write_direct`); with any other handler or filter on the way it goes through `logging`. The
    two lines are the same but for the time, for plain fields and for fields that must be redacted."""
    monkeypatch.setattr(logs, "time", types.SimpleNamespace(perf_counter=lambda: 10.0, time=time.time))
    root = logging.getLogger()
    saved = (list(root.handlers), list(root.filters), root.level, list(logs.access.filters))
    lines = [
        logs.RequestLine(request_id="3f1a2b4c5d6e7f8091a2b3c4d5e6f708", method="POST", path="/graphql", status=200),
        logs.RequestLine(
            request_id="081298765432",
            method="POST",
            path='/ekspor/a b"c=d.csv',
            status=None,
            operations=["rini.lestari@tas.id", "products"],
            operation_types=["query", "query"],
            user_id=7,
            api_key_id=3,
            role="ADMIN",
            codes=["pst_abcDEF123456789xyz", "FORBIDDEN"],
            started=9.9874,
        ),
    ]
    out = io.StringIO()
    handler = logs.make_handler(fmt, "INFO", out)
    root.handlers[:] = [handler]
    root.filters.clear()
    root.setLevel(logging.INFO)
    written: dict[bool, list[str]] = {}
    try:
        for direct in (True, False):
            if not direct:
                logs.access.addFilter(lambda record: True)  # anything on the way: the record goes through logging
            assert (logs._sole_handler() is handler) is direct
            out.seek(0)
            out.truncate()
            for line in lines:
                line.write()
            written[direct] = out.getvalue().splitlines()
    finally:
        root.handlers[:], root.filters[:], level, logs.access.filters[:] = saved
        root.setLevel(level)

    def without_time(text: str) -> Any:
        if fmt == "json":
            record = json.loads(text)
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record.pop("time"))
            return record
        stamp, rest = text.split(" ", 1)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
        return rest

    assert len(written[True]) == len(lines) == len(written[False])
    assert [without_time(t) for t in written[True]] == [without_time(t) for t in written[False]]
    text = "\n".join(written[True])
    assert "081298765432" not in text and "rini.lestari" not in text and "pst_abc" not in text
    assert "3f1a2b4c5d6e7f8091a2b3c4d5e6f708" in text and "duration_ms" in text


@given(st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=logs.MAX_PATH))
def test_a_word_of_letters_and_digits_with_a_letter_is_left_as_it_is(word):
    """The access line's fields skip the patterns for such a word (`_PLAIN`): none of them can match in it."""
    if logs._PLAIN.fullmatch(word):
        assert logs.bounded(word, logs.MAX_PATH) == word
    else:
        assert word.isdigit()


@given(st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False))
def test_the_time_stamp_is_datetime_s_to_the_millisecond(created):
    expected = dt.datetime.fromtimestamp(created, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert logs._stamp(created) == expected
