"""Wiring: settings from the environment, the Starlette app, the GraphQL view, the CLI (`pasar`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import functools
import gc
import json
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL, HTTPException  # HTTPException: what the views raise (cross_web)
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.http.parse_content_type import parse_content_type
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET
from tortoise import Tortoise, connections
from tortoise.contrib.starlette import RegisterTortoise
from tortoise.transactions import in_transaction

import dasbor
import demo
import models
from exports import http as downloads
from exports import ocds
from models import backup as backups
from models import jobs
from models.base import JAKARTA, Role
from models.query import database_unreachable
from models.registry import Opd, Umkm
from resolvers import accounts, clocks, dispatch, documents, fairness_snapshot
from resolvers.accounts import authenticate
from resolvers.clusters import DEV_IDENTITY_KEY, recluster_all
from resolvers.common import (
    REJECTED,
    Clock,
    DomainError,
    OffsetClock,
    SystemClock,
    SystemContext,
    TooManyAttempts,
)
from resolvers.fairness_stats import rebuild_stats
from resolvers.sales import rebuild_monthly_sales
from schema import fast, schema
from schema.admission import (
    ADMISSION_MAX_WAIT_SECONDS,
    ADMISSION_RATE,
    ADMISSION_THRESHOLD,
    SERVICE_BUSY,
    CostGate,
)
from schema.client import client_address, parse_trusted_proxies
from schema.context import Context
from schema.cost import MAX_MUTATION_FIELDS, MAX_QUERY_COST
from schema.documents import check_document
from schema.documents import register as register_document
from schema.errors import SERVICE_UNAVAILABLE, unavailable_message
from schema.i18n import message_of, negotiate
from schema.logs import FORMATS, LEVELS, RequestLog, configure_logging, current_line, note_codes, note_operation
from schema.ratelimit import (
    DEFAULT_RATE_LIMITS,
    LimitedWebSocketAdapter,
    RateLimits,
    WebSocketLimits,
    check_redis_url,
    parse_rate_limits,
)
from schema.sessions import signal_for

log = logging.getLogger("pasar")
DEV_SECRET = "pasar-dev-secret-change-me"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
SDL_PATH = Path(__file__).parent / "schema.graphql"
GRAPHIQL_DIR = Path(__file__).parent / "static" / "graphiql"  # the files, their licences, refresh_graphiql.py
# The GraphiQL page loads nothing from elsewhere and runs no inline script; its stylesheet embeds fonts and icons.
GRAPHIQL_CSP = "default-src 'self'; img-src 'self' data:; font-src 'self' data:; frame-ancestors 'none'"
MAX_BODY_BYTES = 1024 * 1024
MAX_VARIABLES_DEPTH = 10
MAX_VARIABLES_VALUES = 10_000
REQUEST_TIMEOUT_SECONDS = 30.0
DOWNLOAD_TIMEOUT_SECONDS = 900.0  # a year of `L` orders as XLSX: ~330 s on a loaded 2-core machine
OCID_PREFIX = "ocds-xxxxxx-pasar"  # a placeholder until the city registers its own prefix
OCID_PREFIX_RE = re.compile(r"ocds-[a-z0-9]{6}(-[A-Za-z0-9-]{1,60})?")


# ---------------------------------------------------------------- settings


class SettingsError(ValueError):
    """A bad setting; the message is one line saying what to fix."""


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r} is not a boolean: use true or false")


def _number(env: dict[str, str], name: str, default: Any, lo: Any, hi: Any, kind: type, what: str) -> Any:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not {what}") from None
    if not lo <= value <= hi:
        raise SettingsError(f"{name}={value} must be between {lo} and {hi}")
    return value


def _int(env: dict[str, str], name: str, default: int, lo: int, hi: int) -> int:
    return _number(env, name, default, lo, hi, int, "a whole number")


def _float(env: dict[str, str], name: str, default: float, lo: float, hi: float) -> float:
    return _number(env, name, default, lo, hi, float, "a number")


def _choice(env: dict[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = (env.get(name) or default).strip()
    for choice in choices:
        if raw.lower() == choice.lower():
            return choice
    raise SettingsError(f"{name}={raw!r} must be one of {', '.join(choices)}")


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    secret: str = DEV_SECRET
    # PASAR_IDENTITY_KEY: the key of the owner NIK, bank account and phone hashes that link UMKM into clusters
    # (resolvers/clusters.py); set it once in production and keep it: a new key unlinks every stored hash
    identity_key: str = DEV_IDENTITY_KEY
    host: str = "127.0.0.1"
    port: int = 8000
    graphiql: bool = True
    cors_origins: tuple[str, ...] = ()
    pool_size: int = 10
    token_ttl_hours: int = 24 * 7
    compiled_reads: bool = True  # answer documents with a compiled form without graphql-core's executor
    credential_cache_seconds: float = 2.0  # a good credential is trusted this long without a lookup (0: off)
    count_sql: bool = False
    omzet_due_day: int = 10
    fairness_refresh_seconds: int = 10
    bulk_threshold: int = 0  # rupiah per line above which placeOrder sends the buyer to planBulkOrder; 0: off
    session_check_seconds: int = 5  # how often an open subscription checks that its session still holds
    max_query_cost: int = MAX_QUERY_COST
    max_body_bytes: int = MAX_BODY_BYTES
    max_variables_depth: int = MAX_VARIABLES_DEPTH
    max_variables_values: int = MAX_VARIABLES_VALUES
    max_mutation_fields: int = MAX_MUTATION_FIELDS
    request_timeout_seconds: float = REQUEST_TIMEOUT_SECONDS
    # a download (/ekspor/…) in all; each page it reads within the request timeout (exports/http.py)
    download_timeout_seconds: float = DOWNLOAD_TIMEOUT_SECONDS
    # admission control on estimated cost, per process (schema/admission.py); rate 0 turns it off
    admission_threshold: int = ADMISSION_THRESHOLD
    admission_rate: int = ADMISSION_RATE
    admission_max_wait_seconds: float = ADMISSION_MAX_WAIT_SECONDS
    # the throttle of sign-ins, partner keys and sign-ups (resolvers/throttle.py, README "Limits")
    sign_in_window_seconds: int = 15 * 60
    sign_in_max_per_account_address: int = 5
    sign_in_max_per_account: int = 20
    sign_in_max_per_address: int = 50
    sign_up_window_seconds: int = 60 * 60
    sign_up_max_per_address: int = 5
    sign_in_retention_days: int = 90
    pending_nib_hold_days: int = 30  # a PENDING UMKM unverified this long no longer holds its NIB
    redis_url: str | None = (
        None  # PASAR_REDIS_URL: shared state of several workers (rate limits; required with --workers > 1)
    )
    log_format: str = "text"  # text | json (schema/logs.py)
    log_level: str = "INFO"
    rate_limits: str = DEFAULT_RATE_LIMITS  # per caller, by role (schema/ratelimit.py); "off" in the tests
    redis_prefix: str = "pasar"
    workers: int = 1  # server processes sharing the limits: each one's share while Redis is down
    trusted_proxies: tuple[str, ...] = ()
    ws_max_connections: int = 10  # open WebSockets per caller
    ws_max_messages_per_second: int = 20  # per WebSocket
    # events out (resolvers/outbox.py, resolvers/dispatch.py, README "Events out")
    outbox: bool = True  # PASAR_OUTBOX=off writes no outbox rows: for measuring its cost only
    outbox_dispatch_seconds: float = 2.0  # the dispatcher's round; 0: no dispatcher in this server
    outbox_retention_days: int = 30  # finished deliveries, their attempts, e-mails and events are kept this long
    webhook_timeout_seconds: float = 10.0  # read timeout per attempt (connect: at most 5 s)
    webhook_allowed_hosts: tuple[str, ...] = ()  # hosts called even on private addresses (a local receiver)
    webhook_allow_http: bool = False  # http:// endpoints (tests, a local receiver)
    email: bool = False  # notification e-mails
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "Pasar UMKM <noreply@localhost>"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    # the order clocks (resolvers/clocks.py)
    order_accept_days: int = 3  # a SUBMITTED order not accepted this long is cancelled by the platform
    payment_reminder_days: int = 14  # a delivered order unpaid this long gets a payment reminder, then every as long
    clocks_seconds: int = 60  # how often the server runs the clocks; 0: not in the server (`pasar clocks run`)
    test_clock: bool = False  # PASAR_TEST_CLOCK: the clock an admin may move forward (tests only, never production)
    partner_trusted_only: bool = False  # partner keys send registered documents only (schema/documents.py)
    ocid_prefix: str = OCID_PREFIX  # PASAR_OCID_PREFIX: the open-data ids (exports/ocds.py), e.g. ocds-ab12cd-pasar

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        secret = env.get("PASAR_SECRET") or DEV_SECRET
        if len(secret) < 16:
            raise SettingsError("PASAR_SECRET must be at least 16 characters")
        identity_key = env.get("PASAR_IDENTITY_KEY") or DEV_IDENTITY_KEY
        if len(identity_key) < 16:
            raise SettingsError("PASAR_IDENTITY_KEY must be at least 16 characters")
        origins = tuple(o.strip() for o in env.get("PASAR_CORS_ORIGINS", "").split(",") if o.strip())
        for o in origins:
            if o != "*" and not o.startswith(("http://", "https://")):
                raise SettingsError(f"PASAR_CORS_ORIGINS entry {o!r} must start with http:// or https://")
        settings = cls(
            database_url=env.get("DATABASE_URL") or None,
            secret=secret,
            identity_key=identity_key,
            host=env.get("PASAR_HOST") or "127.0.0.1",
            port=_int(env, "PASAR_PORT", 8000, 1, 65535),
            graphiql=_bool(env, "PASAR_GRAPHIQL", True),
            cors_origins=origins,
            pool_size=_int(env, "PASAR_DB_POOL_SIZE", 10, 1, 200),
            token_ttl_hours=_int(env, "PASAR_TOKEN_TTL_HOURS", 24 * 7, 1, 24 * 365),
            compiled_reads=_bool(env, "PASAR_COMPILED_READS", True),
            credential_cache_seconds=_float(env, "PASAR_CREDENTIAL_CACHE_SECONDS", 2.0, 0, 60),
            count_sql=_bool(env, "PASAR_COUNT_SQL", False),
            omzet_due_day=_int(env, "PASAR_OMZET_DUE_DAY", 10, 1, 28),
            fairness_refresh_seconds=_int(env, "PASAR_FAIRNESS_REFRESH_SECONDS", 10, 0, 3600),
            bulk_threshold=_int(env, "PASAR_BULK_THRESHOLD", 0, 0, 10**15),
            session_check_seconds=_int(env, "PASAR_SESSION_CHECK_SECONDS", 5, 1, 300),
            max_query_cost=_int(env, "PASAR_MAX_QUERY_COST", MAX_QUERY_COST, 1, 10**9),
            max_body_bytes=_int(env, "PASAR_MAX_BODY_BYTES", MAX_BODY_BYTES, 1024, 1024**3),
            max_variables_depth=_int(env, "PASAR_MAX_VARIABLES_DEPTH", MAX_VARIABLES_DEPTH, 1, 100),
            max_variables_values=_int(env, "PASAR_MAX_VARIABLES_VALUES", MAX_VARIABLES_VALUES, 1, 10**7),
            max_mutation_fields=_int(env, "PASAR_MAX_MUTATION_FIELDS", MAX_MUTATION_FIELDS, 1, 1000),
            request_timeout_seconds=_float(env, "PASAR_REQUEST_TIMEOUT_SECONDS", REQUEST_TIMEOUT_SECONDS, 0.001, 3600),
            download_timeout_seconds=_float(
                env, "PASAR_DOWNLOAD_TIMEOUT_SECONDS", DOWNLOAD_TIMEOUT_SECONDS, 0.001, 24 * 3600
            ),
            admission_threshold=_int(env, "PASAR_ADMISSION_THRESHOLD", ADMISSION_THRESHOLD, 0, 10**9),
            admission_rate=_int(env, "PASAR_ADMISSION_RATE", ADMISSION_RATE, 0, 10**9),
            admission_max_wait_seconds=_float(
                env, "PASAR_ADMISSION_MAX_WAIT_SECONDS", ADMISSION_MAX_WAIT_SECONDS, 0, 3600
            ),
            sign_in_window_seconds=_int(env, "PASAR_SIGN_IN_WINDOW_SECONDS", 15 * 60, 1, 7 * 24 * 3600),
            sign_in_max_per_account_address=_int(env, "PASAR_SIGN_IN_MAX_PER_ACCOUNT_ADDRESS", 5, 1, 10**6),
            sign_in_max_per_account=_int(env, "PASAR_SIGN_IN_MAX_PER_ACCOUNT", 20, 1, 10**6),
            sign_in_max_per_address=_int(env, "PASAR_SIGN_IN_MAX_PER_ADDRESS", 50, 1, 10**6),
            sign_up_window_seconds=_int(env, "PASAR_SIGN_UP_WINDOW_SECONDS", 60 * 60, 1, 7 * 24 * 3600),
            sign_up_max_per_address=_int(env, "PASAR_SIGN_UP_MAX_PER_ADDRESS", 5, 1, 10**6),
            sign_in_retention_days=_int(env, "PASAR_SIGN_IN_RETENTION_DAYS", 90, 1, 3650),
            pending_nib_hold_days=_int(env, "PASAR_PENDING_NIB_HOLD_DAYS", 30, 1, 3650),
            redis_url=env.get("PASAR_REDIS_URL") or None,
            log_format=_choice(env, "PASAR_LOG_FORMAT", "text", tuple(FORMATS)),
            log_level=_choice(env, "PASAR_LOG_LEVEL", "INFO", LEVELS),
            rate_limits=env.get("PASAR_RATE_LIMITS") or DEFAULT_RATE_LIMITS,
            redis_prefix=env.get("PASAR_REDIS_PREFIX") or "pasar",
            workers=_int(env, "PASAR_WORKERS", 1, 1, 1024),
            trusted_proxies=tuple(e.strip() for e in env.get("PASAR_TRUSTED_PROXIES", "").split(",") if e.strip()),
            ws_max_connections=_int(env, "PASAR_WS_MAX_CONNECTIONS", 10, 0, 10_000),
            ws_max_messages_per_second=_int(env, "PASAR_WS_MAX_MESSAGES_PER_SECOND", 20, 0, 10_000),
            outbox=_bool(env, "PASAR_OUTBOX", True),
            outbox_dispatch_seconds=_float(env, "PASAR_OUTBOX_DISPATCH_SECONDS", 2.0, 0, 3600),
            outbox_retention_days=_int(env, "PASAR_OUTBOX_RETENTION_DAYS", 30, 1, 3650),
            webhook_timeout_seconds=_float(env, "PASAR_WEBHOOK_TIMEOUT_SECONDS", 10.0, 0.1, 120),
            webhook_allowed_hosts=tuple(
                h.strip().lower().strip("[]")
                for h in env.get("PASAR_WEBHOOK_ALLOWED_HOSTS", "").split(",")
                if h.strip()
            ),
            webhook_allow_http=_bool(env, "PASAR_WEBHOOK_ALLOW_HTTP", False),
            email=_bool(env, "PASAR_EMAIL", False),
            smtp_host=env.get("PASAR_SMTP_HOST") or "127.0.0.1",
            smtp_port=_int(env, "PASAR_SMTP_PORT", 25, 1, 65535),
            smtp_sender=env.get("PASAR_SMTP_SENDER") or "Pasar UMKM <noreply@localhost>",
            smtp_username=env.get("PASAR_SMTP_USERNAME") or "",
            smtp_password=env.get("PASAR_SMTP_PASSWORD") or "",
            smtp_starttls=_bool(env, "PASAR_SMTP_STARTTLS", False),
            order_accept_days=_int(env, "PASAR_ORDER_ACCEPT_DAYS", 3, 1, 365),
            payment_reminder_days=_int(env, "PASAR_PAYMENT_REMINDER_DAYS", 14, 1, 365),
            clocks_seconds=_int(env, "PASAR_CLOCKS_SECONDS", 60, 0, 24 * 3600),
            test_clock=_bool(env, "PASAR_TEST_CLOCK", False),
            partner_trusted_only=_bool(env, "PASAR_PARTNER_TRUSTED_ONLY", False),
            ocid_prefix=env.get("PASAR_OCID_PREFIX") or OCID_PREFIX,
        )
        if not OCID_PREFIX_RE.fullmatch(settings.ocid_prefix):
            raise SettingsError(
                f"PASAR_OCID_PREFIX={settings.ocid_prefix[:40]!r} must be 'ocds-' and the 6 letters or digits the Open "
                "Contracting Partnership assigned, optionally followed by '-' and letters, digits or '-'"
            )
        try:
            models.normalise_database_url(settings.database_url, settings.pool_size)
            parse_rate_limits(settings.rate_limits)
            check_redis_url(settings.redis_url)
            parse_trusted_proxies(",".join(settings.trusted_proxies))
        except (models.ConfigError, ValueError) as e:
            raise SettingsError(str(e)) from None
        return settings

    def tortoise_config(self) -> dict:
        return models.tortoise_config(self.database_url, self.pool_size)


# ---------------------------------------------------------------- bounded requests


class RequestRefused(Exception):
    """A request refused before it runs, answered with `status` and one GraphQL-style error."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None, **extensions: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extensions = status, code, message, extensions
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        error = {"message": self.message, "extensions": {"code": self.code, **self.extensions}}
        note_codes([self.code])
        headers = {"connection": "close", **self.headers}
        return JSONResponse({"errors": [error]}, status_code=self.status, headers=headers)


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    """HTTP bodies of at most `limit` bytes: a larger Content-Length is answered 413 before a byte of the body is read,
    and a body without one (chunked) is counted as it streams in and refused as soon as it passes the limit."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    def refusal(self) -> RequestRefused:
        return RequestRefused(
            413, "PAYLOAD_TOO_LARGE", f"The request body is larger than {self.limit} bytes.", limit=self.limit
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self.refusal().response()(scope, receive, send)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _BodyTooLarge:
            if started:
                raise
            await self.refusal().response()(scope, receive, send)


def variables_over_limit(variables: Any, max_depth: int, max_values: int) -> RequestRefused | None:
    """Variables nested deeper than `max_depth` containers or holding more than `max_values` values (iteratively:
    a deep document must not exhaust the interpreter's stack here either)."""
    stack = [(variables, 0)]
    values = 0
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > max_depth:
            return RequestRefused(
                400, "VARIABLES_TOO_LARGE", f"Variables are nested more than {max_depth} deep.", limit=max_depth
            )
        values += len(children)
        if values > max_values:
            return RequestRefused(
                400, "VARIABLES_TOO_LARGE", f"Variables hold more than {max_values} values.", limit=max_values
            )
        stack.extend((child, depth + 1) for child in children)
    return None


class _ClientGone(Exception):
    pass


async def _until_disconnected(request: Request) -> None:
    """Returns when the client hangs up (the body has been read: the next message is the disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


WATCH_AFTER_SECONDS = 0.05  # a request's work runs this long before a task watches for its client hanging up


async def _cancel_when_gone(request: Request, stop: Callable[[str], None]) -> None:
    """Stops the request (`stop("gone")`: its task cancelled, and why) when its client hangs up."""
    await _until_disconnected(request)
    stop("gone")


def _too_many(e: TooManyAttempts, language: str) -> RequestRefused:
    """A partner key from an address that failed too often: HTTP 429 with Retry-After."""
    return RequestRefused(
        429,
        "TOO_MANY_ATTEMPTS",
        message_of(e.errors[0], language),
        headers={"retry-after": str(e.retry_after)},
        retryAfter=e.retry_after,
    )


TRUSTED_DOCUMENT_REQUIRED = "TRUSTED_DOCUMENT_REQUIRED"
PERSISTED_DOCUMENT_NOT_FOUND = "PERSISTED_DOCUMENT_NOT_FOUND"


def _request_error(code: str, message: str) -> ExecutionResult:
    """A request refused before it runs, answered as GraphQL answers a document it cannot run (no `data`)."""
    return ExecutionResult(data=None, errors=[GraphQLError(message, extensions={"code": code})])


async def _document_id_of(request: Any) -> Any:
    """The `documentId` a request without a `query` names (a GET's query string, a POST's JSON body), or None: the
    body is parsed again only then, so requests that send a text pay nothing for this."""
    if request.method == "GET":
        return request.query_params.get("documentId")
    body = await request.get_body()
    if b"documentId" not in body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data.get("documentId") if isinstance(data, dict) else None


def _timeout_result(seconds: float) -> ExecutionResult:
    error = GraphQLError(
        f"The request took longer than {seconds:g} s and was stopped.",
        extensions={"code": "TIMEOUT", "timeoutSeconds": seconds},
    )
    return ExecutionResult(data=None, errors=[error])


# ---------------------------------------------------------------- GraphiQL


def saved_operations(folder: Path = GRAPHIQL_DIR / "operations") -> list[dict[str, str]]:
    """GraphiQL's opening tabs: each `*.graphql` file (in name order), its `# variables: {...}` line the variables."""
    tabs = []
    for path in sorted(folder.glob("*.graphql")):
        text = path.read_text(encoding="utf-8")
        variables = next(
            (line[len("# variables:") :].strip() for line in text.splitlines() if line.startswith("# variables:")), ""
        )
        tabs.append({"query": text, "variables": json.dumps(json.loads(variables), indent=2) if variables else ""})
    return tabs


def graphiql_page() -> str:
    """The GraphiQL page: static/graphiql/page.html with the saved operations as a JSON data block (no script)."""
    data = json.dumps(saved_operations(), ensure_ascii=False).replace("<", "\\u003c")  # never closes the block
    return (GRAPHIQL_DIR / "page.html").read_text(encoding="utf-8").replace("__PASAR_OPERATIONS__", data)


# ---------------------------------------------------------------- GraphQL view


def encode_body(data: Any) -> bytes:
    """The response body: orjson (several times faster than the standard library, same JSON for what an answer holds:
    str keys, ints, floats, strings, lists, None), the standard library for anything orjson refuses (an int beyond 64
    bits, a type it does not know)."""
    try:
        return orjson.dumps(data)
    except TypeError:
        return json.dumps(data, separators=(",", ":")).encode()


def _bearer(value: str | None) -> str | None:
    if value and value[:7].lower() == "bearer ":
        return value[7:].strip() or None
    return None


def _lookup_failed(error: Exception, request_id: str) -> RequestRefused:
    """The credential could not be checked: 503 SERVICE_UNAVAILABLE when the database is unreachable, else 500."""
    if database_unreachable(error):
        log.warning("request %s: database unreachable checking the credential (%s)", request_id, type(error).__name__)
        return RequestRefused(503, SERVICE_UNAVAILABLE, unavailable_message(request_id), requestId=request_id)
    log.error("could not check the credential, request %s", request_id, exc_info=error)
    message = f"Unexpected error. Quote request id {request_id} when reporting it."
    return RequestRefused(500, "INTERNAL_SERVER_ERROR", message, requestId=request_id)


class PasarGraphQL(GraphQL):
    """Strawberry's ASGI view plus the caller, request ids and GraphQL-over-HTTP media types and status codes."""

    websocket_adapter_class = LimitedWebSocketAdapter  # messages per second per WebSocket

    def __init__(self, *args: Any, settings: Settings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settings = settings
        # the test clock only in test mode: an admin's `advanceTestClock` moves it (resolvers/clocks.py)
        self.clock: Clock = OffsetClock() if settings.test_clock else SystemClock()
        self.rate_limits = RateLimits(settings)
        self.ws_limits = WebSocketLimits(settings.ws_max_connections)
        self.admission = (
            CostGate(
                threshold=settings.admission_threshold,
                rate=settings.admission_rate,
                burst=max(settings.max_query_cost, settings.admission_rate),  # idle: any allowed document at once
                max_wait=settings.admission_max_wait_seconds,
            )
            if settings.admission_rate
            else None
        )
        self.graphiql_html = graphiql_page() if self.graphql_ide else ""
        self.credential_signal = signal_for(settings)

    async def render_graphql_ide(self, request: Request) -> Response:
        """Our GraphiQL page (every file served from /static/graphiql), not Strawberry's, which loads a CDN's."""
        return HTMLResponse(self.graphiql_html, headers={"content-security-policy": GRAPHIQL_CSP})

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        raw = _bearer(request.headers.get("authorization"))
        context = Context(
            settings=self.settings,
            clock=self.clock,
            request=request,
            response=response,
            request_id=request_id,
            raw_token=raw,
            client_address=client_address(request, self.settings),
            admission=self.admission,
            language=negotiate(request.headers.get("accept-language")),
        )
        if raw:
            try:
                context.principal = await authenticate(context, raw)
            except TooManyAttempts as e:
                if isinstance(request, WebSocket):  # refused without looking the key up: as a key that failed
                    context.principal = REJECTED
                else:
                    raise _too_many(e, context.language) from None
            except Exception as e:  # never "sign in first" for a credential that could not be checked
                if not isinstance(request, Request):
                    raise
                raise _lookup_failed(e, request_id) from None
        self.credential_signal.ensure_listening()
        if isinstance(request, Request):  # WebSockets have their own limits (on_ws_connect, the adapter)
            request.state.rate_limit = decision = await self.rate_limits.hit(context.principal, context.client_address)
            if decision is not None and not decision.allowed:
                raise RequestRefused(
                    429, "RATE_LIMITED", decision.message(), decision.headers(), **decision.extensions()
                )
        return context

    async def on_ws_connect(self, context: Context) -> Any:
        """Browsers cannot set headers on a WebSocket: the token comes in the connection_init payload."""
        params = getattr(context, "connection_params", None) or {}
        raw = params.get("token") or _bearer(params.get("authorization") or params.get("Authorization"))
        if raw:
            try:
                principal = await authenticate(context, str(raw))
            except TooManyAttempts as e:
                raise ConnectionRejectionError(
                    {
                        "message": message_of(e.errors[0], context.language),
                        "code": "TOO_MANY_ATTEMPTS",
                        "retryAfter": e.retry_after,
                    }
                ) from None
            if principal.is_anonymous:
                raise ConnectionRejectionError({"message": "Invalid or expired token."})
            if principal.is_partner and self.settings.partner_trusted_only:  # a WebSocket carries texts only
                message = "Partner keys send registered documents only, over HTTP."
                raise ConnectionRejectionError({"message": message, "code": TRUSTED_DOCUMENT_REQUIRED})
            context.principal = principal
            context.raw_token = str(raw)
        if not self.ws_limits.admit(context.request, context.principal, client_address(context.request, self.settings)):
            raise ConnectionRejectionError({"message": "Too many connections."})  # closed with 4429 (the adapter)
        return UNSET

    def should_render_graphql_ide(self, request: Any) -> bool:
        """GraphiQL for a browser's GET without a query, and without a trusted document's id either."""
        return super().should_render_graphql_ide(request) and request.query_params.get("documentId") is None

    async def parse_http_body(self, request: Any) -> Any:
        """The body as Strawberry reads it, refused with 400 when its variables are too deep or too many; a trusted
        document's id (`documentId`, in the query string of a GET or the JSON body of a POST) kept beside it for
        `execute_single`."""
        try:
            data = await super().parse_http_body(request)
        except RecursionError:  # JSON nested deeper than the interpreter's stack can parse
            depth = self.settings.max_variables_depth
            raise RequestRefused(
                400, "VARIABLES_TOO_LARGE", f"The request is nested more than {depth} deep.", limit=depth
            ) from None
        for item in data if isinstance(data, list) else [data]:
            refused = variables_over_limit(
                item.variables or {}, self.settings.max_variables_depth, self.settings.max_variables_values
            )
            if refused is not None:
                raise refused
        if not isinstance(data, list) and data.query is None:
            data.document_id = await _document_id_of(request)
        return data

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Any,
        root_value: Any,
        request_data: Any,
    ) -> ExecutionResult:
        """Strawberry's execution with a time limit, stopped as well when the client hangs up. Cancelling the task
        cancels the statement it awaits: asyncpg sends PostgreSQL a cancel request (SQLite finishes the statement in
        its thread, unawaited)."""

        async def execute() -> ExecutionResult:
            refused = await self._trusted_document(context, request_data)
            if refused is not None:
                return refused
            return await super(PasarGraphQL, self).execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )

        return await self.within_time_limit(request, context, execute)

    async def within_time_limit(self, request: Any, context: Any, work: Callable[[], Awaitable[Any]]) -> Any:
        """What `work()` returns, within the request's time limit (else the TIMEOUT answer), stopped as well when the
        client hangs up (`_ClientGone`): the general path's execution and the fast path of compiled reads. The work
        runs in the request's own task under one timer: once the work has run `WATCH_AFTER_SECONDS` (most requests
        are done before), the timer starts a watcher task, which waits for the hang-up, and sets the deadline's own
        timer. Whichever comes first cancels the request's task, and says why (`why`); the cancellation reaches the
        database driver before this returns."""
        seconds = self.settings.request_timeout_seconds
        loop = asyncio.get_running_loop()
        me = asyncio.current_task()
        assert me is not None
        already = me.cancelling()  # cancellations asked for before: not ours
        why: list[str] = []
        watcher: list[asyncio.Future[Any]] = []
        deadline = loop.time() + seconds

        def stop(reason: str) -> None:
            if not why:
                why.append(reason)
                me.cancel()

        def watch() -> None:
            if isinstance(request, Request):
                watcher.append(asyncio.ensure_future(_cancel_when_gone(request, stop)))
            timers.append(loop.call_at(deadline, stop, "timeout"))

        timers = [
            loop.call_at(deadline, stop, "timeout")
            if seconds <= WATCH_AFTER_SECONDS
            else loop.call_later(WATCH_AFTER_SECONDS, watch)
        ]
        try:
            return await work()
        except asyncio.CancelledError:
            if why and me.uncancel() <= already:  # cancelled by the deadline or the hang-up alone
                if why[0] == "timeout":
                    log.warning("request %s stopped after %g s", getattr(context, "request_id", ""), seconds)
                    return _timeout_result(seconds)
                raise _ClientGone from None
            raise
        finally:
            for timer in timers:
                timer.cancel()
            for task in watcher:
                task.cancel()

    async def _trusted_document(self, context: Context, request_data: Any) -> ExecutionResult | None:
        """Put the registered text of a trusted document in place of its id (`request_data.query`), so that the
        request goes on exactly as if it had sent the text; or the error that refuses the request: an unknown or
        malformed id, or a partner key sending text while PASAR_PARTNER_TRUSTED_ONLY is on."""
        raw_id = getattr(request_data, "document_id", None)
        if raw_id is None:
            if self.settings.partner_trusted_only and context.principal.is_partner:
                return _request_error(
                    TRUSTED_DOCUMENT_REQUIRED,
                    "Partner keys send registered documents only: send `documentId` instead of the document's text.",
                )
            return None
        digest = documents.parse_document_id(raw_id)
        if digest is None:
            return _request_error(
                PERSISTED_DOCUMENT_NOT_FOUND, "A document id is `sha256:` and 64 lower-case hex digits."
            )
        try:
            text = await documents.find_document(digest)
        except Exception as e:
            if not database_unreachable(e):
                raise
            return _request_error(SERVICE_UNAVAILABLE, unavailable_message(context.request_id))
        if text is None:
            return _request_error(PERSISTED_DOCUMENT_NOT_FOUND, "No document with this id is registered.")
        request_data.query = text
        return None

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        data = process_result(result)
        for err in data.get("errors") or []:
            # Parse errors are raised before schema extensions see a result: give them their code here.
            err.setdefault("extensions", {}).setdefault("code", "GRAPHQL_VALIDATION_FAILED")
        note_codes(err["extensions"]["code"] for err in data.get("errors") or [])
        timed_out = any((e.extensions or {}).get("code") == "TIMEOUT" for e in result.errors or [])
        if any((e.extensions or {}).get("code") == SERVICE_UNAVAILABLE for e in result.errors or []):
            request.state.unavailable = True  # answered 503 (run)
        for e in result.errors or []:
            if (e.extensions or {}).get("code") == SERVICE_BUSY:
                request.state.unavailable = True
                request.state.retry_after = e.extensions["retryAfter"]
        if result.errors and result.data is None and not timed_out and all(e.path is None for e in result.errors):
            # A request error (parse/validation): the spec wants 4xx and no `data` for the new media type.
            request.state.request_error = True
            if self._wants_graphql_response(request):
                data.pop("data", None)
        return data

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        """Strawberry's response with the body encoded by orjson (`encode_body`)."""
        response = Response(encode_body(response_data), status_code=200, media_type="application/json")
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        if sub_response.status_code:
            response.status_code = sub_response.status_code
        return response

    @staticmethod
    def _wants_graphql_response(request: Request) -> bool:
        return GRAPHQL_RESPONSE_JSON in request.headers.get("accept", "")

    async def get_sub_response(self, request: Any) -> Response:
        """Strawberry's sub-response, or the one the fast path made before it handed the request on (so that what
        the context's `response` is given reaches the answer either way)."""
        made = getattr(request.state, "sub_response", None) if isinstance(request, Request) else None
        return made if made is not None else await super().get_sub_response(request)

    async def run(self, request: Any, context: Any = None, root_value: Any = None) -> Any:
        try:
            response = await super().run(
                request, UNSET if context is None else context, UNSET if root_value is None else root_value
            )
        except RequestRefused as refused:
            return refused.response()
        except _ClientGone:
            return Response(status_code=499)  # nobody reads it: the client has gone
        finally:
            if isinstance(request, WebSocket):
                self.ws_limits.release(request)
        return self.finish(request, response)

    def finish(self, request: Any, response: Any) -> Any:
        """The headers and status every answer of the view gets (the general path's and the fast path's)."""
        decision = getattr(request.state, "rate_limit", None) if isinstance(request, Request) else None
        if decision is not None and isinstance(response, Response):
            response.headers.update(decision.headers())
        if (
            isinstance(request, Request)
            and isinstance(response, Response)
            and response.media_type == "application/json"
        ):
            # the messages' language follows Accept-Language (schema/i18n.py): say which, and that caches must key on it
            response.headers.append("vary", "Accept-Language")
            response.headers["content-language"] = negotiate(request.headers.get("accept-language"))
            if self._wants_graphql_response(request):
                response.headers["content-type"] = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
                if getattr(request.state, "request_error", False):
                    response.status_code = 400
            if getattr(request.state, "unavailable", False):
                response.status_code = 503
                if getattr(request.state, "retry_after", None):
                    response.headers["retry-after"] = str(request.state.retry_after)
        return response

    async def general(self, request: Request, context: Context | None = None) -> Response:
        """The request answered by Strawberry's view, as its ASGI entry point does (`GraphQL.__call__`), with the
        context the fast path made already, if it made one."""
        try:
            return await self.run(request, context)
        except HTTPException as e:
            return PlainTextResponse(e.reason, status_code=e.status_code)

    async def fast_run(self, request: Request) -> Response:
        """A POST: answered by the fast path of compiled reads (schema/fast.py) when its document has a confirmed
        plan for this kind of caller, else by the view. The caller is authenticated and rate-limited once, by
        `get_context`, whichever path answers; a body the fast path does not take (another media type, a streaming
        `Accept`, JSON it does not read as the view would, variables over their limits) goes to the view before
        that, and the view does it all as usual."""
        if not _is_json(request.headers.get("content-type") or ""):
            return await self.general(request)
        if self._get_stream_transport_from_headers(request.headers) is not None:
            return await self.general(request)
        parsed = fast.parse_body(await request.body())
        if parsed is None:
            return await self.general(request)
        query, variables, operation_name = parsed
        settings = self.settings
        if variables_over_limit(variables or {}, settings.max_variables_depth, settings.max_variables_values):
            return await self.general(request)
        request.state.sub_response = sub_response = await self.get_sub_response(request)
        try:
            context = await self.get_context(request, sub_response)
        except RequestRefused as refused:
            return refused.response()
        principal = context.principal
        trusted_only = settings.partner_trusted_only and principal.is_partner  # the view refuses the text
        plan = None if trusted_only else fast.find(query, operation_name, principal)
        if plan is None:
            return await self.general(request, context)
        try:
            body = await self.within_time_limit(
                request, context, lambda: fast.answer(self.schema._schema, plan, context, variables)
            )
        except _ClientGone:
            return Response(status_code=499)
        if body is None:
            return await self.general(request, context)
        if isinstance(body, ExecutionResult):  # the time limit: answered as the general path answers it
            response = self.create_response(await self.process_result(request, body), sub_response)
        else:
            line = current_line()
            if line is not None:
                note_operation(line, plan.labels.get(operation_name, ("-", "-")), principal)
            if _untouched(sub_response) and not getattr(request.state, "unavailable", False):
                return self.answered(request, context, encode_body(body))
            response = self.create_response(body, sub_response)
        return self.finish(request, response)

    def answered(self, request: Request, context: Context, content: bytes) -> Response:
        """A fast-path answer with the headers `create_response` and then `finish` give it, written in one pass:
        the length, the media type, the rate limit's headers, `Vary` and `Content-Language` (the context's language,
        negotiated from the same header). Only when nothing was put on the sub-response (`_untouched`)."""
        media = GRAPHQL_RESPONSE_UTF8 if self._wants_graphql_response(request) else b"application/json"
        raw = [(b"content-length", str(len(content)).encode("latin-1")), (b"content-type", media)]
        decision = getattr(request.state, "rate_limit", None)
        if decision is not None:
            raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in decision.headers().items()]
        raw += [(b"vary", b"Accept-Language"), (b"content-language", context.language.encode("latin-1"))]
        return _Answer(content, raw)


@functools.lru_cache(maxsize=64)
def _json_media_type(value: str) -> bool:
    return "application/json" in parse_content_type(value)[0]


def _is_json(content_type: str) -> bool:
    """Whether a Content-Type is JSON as the view reads it (`parse_content_type`), remembered for the few values
    clients send (a long value is parsed each time, not kept)."""
    if len(content_type) > 200:
        return "application/json" in parse_content_type(content_type)[0]
    return _json_media_type(content_type)


GRAPHQL_RESPONSE_UTF8 = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8".encode("latin-1")


def _untouched(sub_response: Response) -> bool:
    """Nothing was set on a sub-response (`get_sub_response`): no header, status or background task."""
    return not sub_response.headers.raw and not sub_response.status_code and sub_response.background is None


class _Answer(Response):
    """A 200 response whose headers are given whole (`PasarGraphQL.answered`)."""

    def __init__(self, content: bytes, raw_headers: list[tuple[bytes, bytes]]) -> None:
        self.status_code = 200
        self.background = None
        self.body = content
        self.raw_headers = raw_headers


class GraphQLRoute:
    """/graphql: a POST goes through the fast path of compiled reads first (`PasarGraphQL.fast_run`) unless
    PASAR_COMPILED_READS=0; GET, WebSocket and everything else to the view."""

    def __init__(self, view: PasarGraphQL) -> None:
        self.view = view

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not self.view.settings.compiled_reads:
            await self.view(scope, receive, send)
            return
        response = await self.view.fast_run(Request(scope, receive))
        await response(scope, receive, send)


class PasarApp(Starlette):
    """Starlette, with a shorter way in for the request that comes most: a POST to /graphql. It goes through the same
    layers as through Starlette's stack (the 500 answer of an unexpected failure, the request's log line, the body
    limit, then `GraphQLRoute`), without those that do nothing for it: the router's matching, the exception
    middleware (the view answers its own `HTTPException`s) and CORS, which touches only a request with an `Origin`
    header (such a request takes the long way). Everything else takes Starlette's stack."""

    def __init__(self, *args: Any, graphql_post: ASGIApp, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.graphql_post = ServerErrorMiddleware(graphql_post)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] == "/graphql"
            and not scope.get("root_path")
            and not any(name == b"origin" for name, _ in scope["headers"])
        ):
            scope["app"] = self
            await self.graphql_post(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


# ---------------------------------------------------------------- app


async def healthz(request: Request) -> Response:
    try:
        await asyncio.wait_for(connections.get("default").execute_query("SELECT 1"), timeout=3)
    except Exception as e:
        log.warning("health check failed: %s", e)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


async def home(request: Request) -> Response:
    return RedirectResponse("/graphql")


def _download(view: PasarGraphQL, answer: Any) -> Any:
    """A download route: the caller is authenticated and rate-limited exactly as on /graphql (`get_context`), then
    `answer(request, context)` (exports/http.py) runs the same rules as the GraphQL fields."""

    async def endpoint(request: Request) -> Response:
        try:
            context = await view.get_context(request, None)
        except RequestRefused as refused:
            return refused.response()
        response = await answer(request, context)
        decision = getattr(request.state, "rate_limit", None)
        if decision is not None:
            response.headers.update(decision.headers())
        return response

    return endpoint


@contextlib.contextmanager
def _frozen_startup_objects() -> Iterator[None]:
    """Move what start-up made (the schema, the ORM, the modules: ~100,000 objects that live as long as the process)
    out of the garbage collector's reach while serving: every full collection rescanned them, ~50 ms each, every
    couple of dozen requests. Garbage is collected first so that none of it is kept for good."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


async def _refresh_rankings(every: int, view: PasarGraphQL) -> None:
    """Keep the under-sold lists that are being read fresh, off the request path (resolvers/fairness_snapshot.py);
    with several workers, one of them per round (models/jobs.py)."""
    log = logging.getLogger("pasar.fairness")
    while True:
        await asyncio.sleep(every)
        try:
            started = time.perf_counter()
            async with jobs.single_runner("fairness-refresh") as mine:
                rebuilt = await fairness_snapshot.refresh(view.clock.now()) if mine else []
            if rebuilt:
                log.info("under-sold lists rebuilt for categories %s in %.2f s", rebuilt, time.perf_counter() - started)
        except Exception as e:  # the next round tries again; requests still build a stale list themselves
            if database_unreachable(e):  # one line per round while the database is away, not a traceback
                log.warning("refreshing the under-sold lists: database unreachable (%s)", type(e).__name__)
            else:
                log.exception("refreshing the under-sold lists failed")


async def _dispatch_outbox(every: float, settings: Settings, view: PasarGraphQL) -> None:
    """Deliver the outbox's events (resolvers/dispatch.py): one process at a time (models/jobs.py)."""
    log = logging.getLogger("pasar.outbox")
    dispatcher = dispatch.Dispatcher(settings)
    try:
        while True:
            await asyncio.sleep(every)
            try:
                r = await dispatcher.dispatch_once(view.clock.now())
                if r.fanned_out or r.failed or r.dead:
                    log.info(r.line())
            except Exception as e:  # the next round tries again; nothing is lost, the rows wait
                if database_unreachable(e):
                    log.warning("dispatching the outbox: database unreachable (%s)", type(e).__name__)
                else:
                    log.exception("dispatching the outbox failed")
    finally:
        await dispatcher.close()


async def _run_clocks(every: int, view: PasarGraphQL) -> None:
    """The order clocks (resolvers/clocks.py) every `every` seconds, by the view's clock (the test clock in test
    mode); with several workers, one of them per round (models/jobs.py)."""
    log = logging.getLogger("pasar.clocks")
    while True:
        await asyncio.sleep(every)
        try:
            run = await clocks.run_clocks(SystemContext(view.settings, clock=view.clock))
            if run.cancelled or run.reminded or run.lost:
                log.info(run.line())
        except Exception as e:  # the next round tries again
            if database_unreachable(e):
                log.warning("running the order clocks: database unreachable (%s)", type(e).__name__)
            else:
                log.exception("running the order clocks failed")


def worker_app() -> Starlette:
    """The app of one of several worker processes (`pasar serve --workers N`): each reads the settings from the
    environment and sets up its own logging, as `main` does for a single process."""
    settings = Settings.from_env()
    configure_logging(settings)
    return create_app(settings)


def create_app(settings: Settings | None = None, *, manage_database: bool = True) -> Starlette:
    """The ASGI app. `manage_database=False` leaves Tortoise to the caller (tests initialise it themselves)."""
    settings = settings or Settings.from_env()
    view = PasarGraphQL(schema, settings=settings, graphql_ide="graphiql" if settings.graphiql else None)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        if not manage_database:
            with _frozen_startup_objects():
                yield
            return
        async with RegisterTortoise(app, config=settings.tortoise_config()):
            tasks = []
            if settings.fairness_refresh_seconds:
                tasks.append(asyncio.create_task(_refresh_rankings(settings.fairness_refresh_seconds, view)))
            if settings.outbox_dispatch_seconds:
                tasks.append(asyncio.create_task(_dispatch_outbox(settings.outbox_dispatch_seconds, settings, view)))
            if settings.clocks_seconds:
                tasks.append(asyncio.create_task(_run_clocks(settings.clocks_seconds, view)))
            try:
                with _frozen_startup_objects():
                    yield
            finally:
                for task in tasks:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                await view.rate_limits.close()
                await view.credential_signal.close()

    middleware = [Middleware(RequestLog)]  # outermost: one log line per request, whoever answers it
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["authorization", "content-type", "x-request-id"],
                expose_headers=["ratelimit", "ratelimit-policy", "retry-after"],  # readable by the page's scripts
            )
        )
    middleware.append(Middleware(BodyLimit, limit=settings.max_body_bytes))  # inside CORS: a 413 keeps its headers
    graphql_route = GraphQLRoute(view)
    app = PasarApp(
        graphql_post=RequestLog(BodyLimit(graphql_route, limit=settings.max_body_bytes)),
        routes=[
            Route("/", home),
            Route("/healthz", healthz),
            Route("/dasbor", dasbor.page, methods=["GET", "HEAD"]),  # the dashboard, a client of /graphql
            Mount("/dasbor/static", dasbor.static_files(), name="dasbor-static"),
            Route("/graphql", graphql_route, methods=["GET", "POST"]),
            Route("/ekspor/{report}.{fmt}", _download(view, downloads.export), methods=["GET"]),
            Route("/ocds/releases", _download(view, downloads.ocds_releases), methods=["GET"]),
            WebSocketRoute("/graphql", view),
            *([Mount("/static/graphiql", StaticFiles(directory=GRAPHIQL_DIR))] if settings.graphiql else []),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.graphql_view = view  # tests and the simulation swap `view.clock` for a fixed one
    return app


# ---------------------------------------------------------------- CLI


async def _with_db(settings: Settings, work) -> Any:
    await Tortoise.init(config=settings.tortoise_config())
    try:
        return await work()
    finally:
        await Tortoise.close_connections()


async def _migrate(settings: Settings) -> None:
    try:
        await models.migrate(settings.tortoise_config())
    finally:  # also when a migration fails: an open SQLite connection's thread would keep the process alive
        await Tortoise.close_connections()


async def _seed_demo(settings: Settings) -> None:
    async def work():
        if not await demo.database_is_empty():
            print("The database already has data; demo data is loaded only into an empty database.")
            return
        logins = await demo.seed_demo()
        print("Demo data loaded. Logins (role, email, password):")
        for role, email, password in logins:
            print(f"  {role:<14} {email:<28} {password}")

    await _with_db(settings, work)


async def _create_user(settings: Settings, args: argparse.Namespace) -> None:
    ctx = SystemContext(settings)  # the operator acts as SYSTEM, through the same rules as an admin's request

    async def work():
        opd_id = None
        if args.opd:
            opd = await Opd.get_or_none(code=args.opd)
            if opd is None:
                raise SystemExit(f"error: no OPD with code {args.opd}")
            opd_id = opd.id
        umkm = None
        if args.umkm:
            umkm = await Umkm.get_or_none(nib=args.umkm)
            if umkm is None:
                raise SystemExit(f"error: no UMKM with NIB {args.umkm}")
        try:
            async with in_transaction():  # the account and the takeover, or neither
                user = await accounts.create_user(
                    ctx,
                    email=args.email,
                    password=args.password,
                    full_name=args.full_name or args.email.split("@")[0],
                    role=Role(args.role),
                    opd_id=opd_id,
                )
                if umkm is not None:
                    await accounts.assign_umkm_owner(ctx, umkm.id, user.id)
        except DomainError as e:
            raise SystemExit("error: " + "; ".join(f"{x.field}: {x.message}" for x in e.errors)) from None
        print(f"created {user.role.value} {user.email} (id {user.id})")

    await _with_db(settings, work)


def _report_omzet(drift: Any, took: float) -> None:
    print(f"monthly sales rollup: {drift.rows_checked} rows checked, {drift.rows_differing} differing, {took:.2f} s")
    for umkm_id, period, stored, fresh in drift.examples:
        print(f"  umkm {umkm_id} {period}: stored {stored}, from orders {fresh}")


def _report_fairness(drift: Any, took: float) -> None:
    print(
        f"fairness statistics: {drift.rows_checked} rows checked, {drift.rows_differing} beyond tolerance 1e-6, "
        f"max relative error {drift.max_relative_error:.2e}, {took:.2f} s"
    )
    for example in drift.examples:
        print("  ", example)


async def _omzet_rebuild(settings: Settings, check_only: bool) -> None:
    async def work():
        started = time.perf_counter()
        drift = await rebuild_monthly_sales(fix=not check_only)
        _report_omzet(drift, time.perf_counter() - started)
        if drift.rows_differing and check_only:
            raise SystemExit(1)
        if drift.rows_differing:
            print("rollup replaced by the recomputed figures")

    await _with_db(settings, work)


async def _fairness_rebuild(settings: Settings, check_only: bool) -> None:
    async def work():
        started = time.perf_counter()
        drift = await rebuild_stats(fix=not check_only)
        _report_fairness(drift, time.perf_counter() - started)
        if not check_only:  # the business actors' clusters (resolvers/clusters.py), from the stored identifiers
            print(f"clusters: {await recluster_all(settings.identity_key.encode())} changed", flush=True)
        if drift.rows_differing and check_only:
            raise SystemExit(1)

    await _with_db(settings, work)


async def _outbox_dispatch(settings: Settings, once: bool) -> None:
    async def work():
        dispatcher = dispatch.Dispatcher(settings)
        try:
            while True:
                r = await dispatcher.dispatch_once()
                if once or r.fanned_out or r.failed or r.dead or r.emailed:
                    print(r.line(), flush=True)
                if once:
                    return
                await asyncio.sleep(settings.outbox_dispatch_seconds or 2.0)
        finally:
            await dispatcher.close()

    await _with_db(settings, work)


async def _backup(settings: Settings, file: Path, force: bool) -> None:
    try:
        summary = await backups.backup(settings.database_url, file, force)
    except backups.BackupError as e:
        print(f"pasar backup: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    print(summary.line())


async def _restore(settings: Settings, file: Path) -> None:
    """Restore, then the checks of `omzet rebuild --check` and `fairness rebuild --check` on what was restored."""
    try:
        summary = await backups.restore(settings.database_url, file)
    except backups.BackupError as e:
        print(f"pasar restore: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    print(summary.line())

    async def check() -> bool:
        started = time.perf_counter()
        omzet = await rebuild_monthly_sales(fix=False)
        _report_omzet(omzet, time.perf_counter() - started)
        started = time.perf_counter()
        fairness = await rebuild_stats(fix=False)
        _report_fairness(fairness, time.perf_counter() - started)
        return bool(omzet.rows_differing or fairness.rows_differing)

    try:
        drift = await _with_db(settings, check)
    except Exception as e:  # e.g. a backup of an older version, before `pasar migrate`: one line, no traceback
        message = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"pasar restore: restored, but the drift checks could not run: {message}", file=sys.stderr)
        raise SystemExit(1) from None
    if drift:
        print(
            "pasar restore: the restored rollups differ from the orders: see above; `pasar omzet rebuild` and "
            "`pasar fairness rebuild` recompute them",
            file=sys.stderr,
        )
        raise SystemExit(1)
    print("restore checked: no drift in the monthly sales rollup or the fairness statistics")


async def _clocks(settings: Settings, once: bool) -> None:
    """`pasar clocks run`: the order clocks as SYSTEM with the real clock, once or every PASAR_CLOCKS_SECONDS."""

    async def work():
        while True:
            run = await clocks.run_clocks(SystemContext(settings))
            print(run.line(), flush=True)
            if once:
                return
            await asyncio.sleep(settings.clocks_seconds or 60)

    await _with_db(settings, work)


async def _register_documents(settings: Settings, files: list[Path]) -> None:
    """`pasar documents register FILE...`: each file one document, checked against the schema; all or none."""
    texts = []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
            check_document(text, schema._schema)
        except (OSError, UnicodeDecodeError) as e:
            raise SystemExit(f"pasar documents: {file}: cannot read it ({type(e).__name__})") from None
        except DomainError as e:
            raise SystemExit(f"pasar documents: {file}: {e.errors[0].message}") from None
        texts.append(text)

    async def work():
        ctx = SystemContext(settings)
        async with in_transaction():
            rows = [await register_document(ctx, text, schema._schema) for text in texts]
        for file, row in zip(files, rows, strict=True):
            print(f"{documents.ID_PREFIX}{row.sha256} {file}")

    await _with_db(settings, work)


async def _export_ocds(settings: Settings, args: argparse.Namespace) -> None:
    """The open-data release package of the orders placed between two days (default: the last 365), to a file or
    standard output, a release at a time."""
    today = SystemClock().now().astimezone(JAKARTA).date()
    try:
        end = dt.date.fromisoformat(args.to) if args.to else today
        start = dt.date.fromisoformat(args.from_) if args.from_ else end - dt.timedelta(days=365)
    except ValueError:
        raise SystemExit("error: --from and --to are dates like 2026-12-20") from None
    query = f"from={start.isoformat()}&to={end.isoformat()}"
    head = ocds.package_head(f"{args.base_url.rstrip('/')}/ocds/releases?{query}", SystemClock().now())

    async def work() -> int:
        # the range checked and its first page read before a byte is written: a refusal leaves no file behind
        releases = await ocds.all_releases(start, end, settings.ocid_prefix)
        if args.output is None:
            return await ocds.write_package(sys.stdout, head, releases)
        with args.output.open("w", encoding="utf-8") as out:
            return await ocds.write_package(out, head, releases)

    try:
        n = await _with_db(settings, work)
    except DomainError as e:
        raise SystemExit("error: " + "; ".join(x.message for x in e.errors)) from None
    if args.output is not None:
        print(f"wrote {n} releases to {args.output}")


def export_schema(path: Path = SDL_PATH) -> str:
    sdl = schema.as_str() + "\n"
    path.write_text(sdl, encoding="utf-8")
    return sdl


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="pasar", description="Pasar UMKM: procurement from Surabaya's UMKM.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the GraphQL server (GraphiQL at /graphql)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--demo", action="store_true", help="migrate and load demo data into an empty database first")
    serve.add_argument(
        "--workers", type=int, default=1, help="worker processes (more than 1: PostgreSQL and PASAR_REDIS_URL)"
    )
    sub.add_parser("migrate", help="apply the committed migrations and reference data")
    seed = sub.add_parser("seed", help="load data")
    seed.add_argument("--demo", action="store_true", required=True, help="believable Surabaya demo data")
    cu = sub.add_parser("create-user", help="create an account")
    cu.add_argument(
        "--role", required=True, choices=["ADMIN", "OPD_BUYER", "OPD_TREASURER", "EMPLOYEE", "UMKM_OWNER", "ANALYST"]
    )
    cu.add_argument("--email", required=True)
    cu.add_argument("--password", required=True)
    cu.add_argument("--full-name")
    cu.add_argument("--opd", help="OPD code (OPD roles)")
    cu.add_argument("--umkm", help="NIB of a UMKM this owner takes over")
    om = sub.add_parser("omzet", help="omzet maintenance")
    om.add_argument("action", choices=["rebuild"], help="recompute platform sales per UMKM and month; report drift")
    om.add_argument("--check", action="store_true", help="only report drift, change nothing (exit 1 on drift)")
    fa = sub.add_parser("fairness", help="fairness maintenance")
    fa.add_argument("action", choices=["rebuild"], help="recompute decayed sales from the orders; report drift")
    fa.add_argument("--check", action="store_true", help="only report drift, change nothing (exit 1 on drift)")
    bk = sub.add_parser("backup", help="copy the whole database to FILE (safe while the server runs)")
    bk.add_argument("file", type=Path, metavar="FILE")
    bk.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    rs = sub.add_parser(
        "restore", help="replace the database with the backup FILE (stop the server first), then check for drift"
    )
    rs.add_argument("file", type=Path, metavar="FILE")
    ob = sub.add_parser("outbox", help="deliver the outbox's webhooks and e-mails")
    ob.add_argument("action", choices=["dispatch"], help="fan out, deliver due webhooks and e-mails, purge")
    ob.add_argument("--once", action="store_true", help="one round, then exit (else a round every few seconds)")
    ck = sub.add_parser("clocks", help="the order clocks: cancel unaccepted orders, remind of unpaid ones")
    ck.add_argument("action", choices=["run"], help="run them (in one process at a time)")
    ck.add_argument("--once", action="store_true", help="run once and exit (else every PASAR_CLOCKS_SECONDS)")
    dc = sub.add_parser("documents", help="trusted documents (persisted queries)")
    dc.add_argument("action", choices=["register"], help="register each FILE as a trusted document; prints the ids")
    dc.add_argument("files", type=Path, nargs="+", metavar="FILE")
    eo = sub.add_parser("export", help="open data: the orders as an OCDS 1.1 release package")
    eo.add_argument("what", choices=["ocds"])
    eo.add_argument("--from", dest="from_", metavar="DATE", help="first day of placing (default: 365 days before --to)")
    eo.add_argument("--to", metavar="DATE", help="last day of placing (default: today, Asia/Jakarta)")
    eo.add_argument("--output", type=Path, help="write to FILE (default: standard output)")
    eo.add_argument("--base-url", default="http://localhost:8000", help="the server's address, for the package's uri")
    ex = sub.add_parser("export-schema", help="write the SDL to schema.graphql")
    ex.add_argument("--output", type=Path, default=SDL_PATH)
    args = parser.parse_args(argv)

    try:
        settings = Settings.from_env()
    except SettingsError as e:
        print(f"pasar: invalid setting: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings)

    if args.command == "export-schema":
        export_schema(args.output)
        print(f"wrote {args.output}")
    elif args.command == "export":
        asyncio.run(_export_ocds(settings, args))
    elif args.command == "migrate":
        asyncio.run(_migrate(settings))
        print("migrations applied")
    elif args.command == "seed":
        asyncio.run(_migrate(settings))
        asyncio.run(_seed_demo(settings))
    elif args.command == "fairness":
        asyncio.run(_fairness_rebuild(settings, args.check))
    elif args.command == "omzet":
        asyncio.run(_omzet_rebuild(settings, args.check))
    elif args.command == "outbox":
        asyncio.run(_outbox_dispatch(settings, args.once))
    elif args.command == "backup":
        asyncio.run(_backup(settings, args.file, args.force))
    elif args.command == "restore":
        asyncio.run(_restore(settings, args.file))
    elif args.command == "documents":
        asyncio.run(_register_documents(settings, args.files))
    elif args.command == "clocks":
        asyncio.run(_clocks(settings, args.once))
    elif args.command == "create-user":
        asyncio.run(_create_user(settings, args))
    elif args.command == "serve":
        refused = models.workers_refusal(args.workers, settings.database_url, settings.redis_url)
        if refused:
            print(f"pasar serve: {refused}", file=sys.stderr)
            raise SystemExit(2)
        if args.demo:
            asyncio.run(_migrate(settings))
            asyncio.run(_seed_demo(settings))
        host, port = args.host or settings.host, args.port or settings.port
        print(f"Pasar UMKM on http://{host}:{port}/graphql (GraphiQL {'on' if settings.graphiql else 'off'})")
        # uvicorn logs through our handler (schema/logs.py); its own access line (with the query string) is off
        quiet = {"log_config": None, "access_log": False, "log_level": settings.log_level.lower()}
        if args.workers > 1:  # each worker builds its app from the environment, as this process read it
            os.environ["PASAR_WORKERS"] = str(args.workers)  # each one's share of the limits while Redis is down
            uvicorn.run("app:worker_app", factory=True, workers=args.workers, host=host, port=port, **quiet)
        else:
            uvicorn.run(create_app(settings), host=host, port=port, **quiet)


if __name__ == "__main__":
    main()
