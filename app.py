"""Wiring: settings from the environment, the Starlette app, the GraphQL view, the CLI (`pasar`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET
from tortoise import Tortoise, connections
from tortoise.contrib.starlette import RegisterTortoise
from tortoise.transactions import in_transaction

import demo
import models
from models import backup as backups
from models import jobs
from models.base import Role
from models.query import database_unreachable
from models.registry import Opd, Umkm
from resolvers import accounts, fairness_snapshot
from resolvers.accounts import authenticate
from resolvers.common import REJECTED, DomainError, SystemClock, SystemContext, TooManyAttempts
from resolvers.fairness_stats import rebuild_stats
from resolvers.sales import rebuild_monthly_sales
from schema import schema
from schema.client import client_address, parse_trusted_proxies
from schema.context import Context
from schema.cost import MAX_MUTATION_FIELDS, MAX_QUERY_COST
from schema.errors import SERVICE_UNAVAILABLE, unavailable_message
from schema.logs import FORMATS, LEVELS, RequestLog, configure_logging, note_codes
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
MAX_BODY_BYTES = 1024 * 1024
MAX_VARIABLES_DEPTH = 10
MAX_VARIABLES_VALUES = 10_000
REQUEST_TIMEOUT_SECONDS = 30.0


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
    session_check_seconds: int = 5  # how often an open subscription checks that its session still holds
    max_query_cost: int = MAX_QUERY_COST
    max_body_bytes: int = MAX_BODY_BYTES
    max_variables_depth: int = MAX_VARIABLES_DEPTH
    max_variables_values: int = MAX_VARIABLES_VALUES
    max_mutation_fields: int = MAX_MUTATION_FIELDS
    request_timeout_seconds: float = REQUEST_TIMEOUT_SECONDS
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

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        secret = env.get("PASAR_SECRET") or DEV_SECRET
        if len(secret) < 16:
            raise SettingsError("PASAR_SECRET must be at least 16 characters")
        origins = tuple(o.strip() for o in env.get("PASAR_CORS_ORIGINS", "").split(",") if o.strip())
        for o in origins:
            if o != "*" and not o.startswith(("http://", "https://")):
                raise SettingsError(f"PASAR_CORS_ORIGINS entry {o!r} must start with http:// or https://")
        settings = cls(
            database_url=env.get("DATABASE_URL") or None,
            secret=secret,
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
            session_check_seconds=_int(env, "PASAR_SESSION_CHECK_SECONDS", 5, 1, 300),
            max_query_cost=_int(env, "PASAR_MAX_QUERY_COST", MAX_QUERY_COST, 1, 10**9),
            max_body_bytes=_int(env, "PASAR_MAX_BODY_BYTES", MAX_BODY_BYTES, 1024, 1024**3),
            max_variables_depth=_int(env, "PASAR_MAX_VARIABLES_DEPTH", MAX_VARIABLES_DEPTH, 1, 100),
            max_variables_values=_int(env, "PASAR_MAX_VARIABLES_VALUES", MAX_VARIABLES_VALUES, 1, 10**7),
            max_mutation_fields=_int(env, "PASAR_MAX_MUTATION_FIELDS", MAX_MUTATION_FIELDS, 1, 1000),
            request_timeout_seconds=_float(env, "PASAR_REQUEST_TIMEOUT_SECONDS", REQUEST_TIMEOUT_SECONDS, 0.001, 3600),
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


def _too_many(e: TooManyAttempts) -> RequestRefused:
    """A partner key from an address that failed too often: HTTP 429 with Retry-After."""
    return RequestRefused(
        429,
        "TOO_MANY_ATTEMPTS",
        e.errors[0].message,
        headers={"retry-after": str(e.retry_after)},
        retryAfter=e.retry_after,
    )


def _timeout_result(seconds: float) -> ExecutionResult:
    error = GraphQLError(
        f"The request took longer than {seconds:g} s and was stopped.",
        extensions={"code": "TIMEOUT", "timeoutSeconds": seconds},
    )
    return ExecutionResult(data=None, errors=[error])


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
        self.clock = SystemClock()
        self.rate_limits = RateLimits(settings)
        self.ws_limits = WebSocketLimits(settings.ws_max_connections)
        self.credential_signal = signal_for(settings)

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
        )
        if raw:
            try:
                context.principal = await authenticate(context, raw)
            except TooManyAttempts as e:
                if isinstance(request, WebSocket):  # refused without looking the key up: as a key that failed
                    context.principal = REJECTED
                else:
                    raise _too_many(e) from None
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
                    {"message": e.errors[0].message, "code": "TOO_MANY_ATTEMPTS", "retryAfter": e.retry_after}
                ) from None
            if principal.is_anonymous:
                raise ConnectionRejectionError({"message": "Invalid or expired token."})
            context.principal = principal
            context.raw_token = str(raw)
        if not self.ws_limits.admit(context.request, context.principal, client_address(context.request, self.settings)):
            raise ConnectionRejectionError({"message": "Too many connections."})  # closed with 4429 (the adapter)
        return UNSET

    async def parse_http_body(self, request: Any) -> Any:
        """The body as Strawberry reads it, refused with 400 when its variables are too deep or too many."""
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
        work = asyncio.ensure_future(
            super().execute_single(request, request_adapter, sub_response, context, root_value, request_data)
        )
        gone = asyncio.ensure_future(_until_disconnected(request)) if isinstance(request, Request) else None
        seconds = self.settings.request_timeout_seconds
        try:
            async with asyncio.timeout(seconds):
                await asyncio.wait([t for t in (work, gone) if t is not None], return_when=asyncio.FIRST_COMPLETED)
                if not work.done():
                    raise _ClientGone
        except TimeoutError:
            log.warning("request %s stopped after %g s", getattr(context, "request_id", ""), seconds)
            return _timeout_result(seconds)
        finally:
            for task in (work, gone):
                if task is not None and not task.done():
                    task.cancel()
            if not work.done():
                await asyncio.wait([work], timeout=5)  # let the cancellation reach the database driver
        return work.result()

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        data = process_result(result)
        for err in data.get("errors") or []:
            # Parse errors are raised before schema extensions see a result: give them their code here.
            err.setdefault("extensions", {}).setdefault("code", "GRAPHQL_VALIDATION_FAILED")
        note_codes(err["extensions"]["code"] for err in data.get("errors") or [])
        timed_out = any((e.extensions or {}).get("code") == "TIMEOUT" for e in result.errors or [])
        if any((e.extensions or {}).get("code") == SERVICE_UNAVAILABLE for e in result.errors or []):
            request.state.unavailable = True  # answered 503 (run)
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
        decision = getattr(request.state, "rate_limit", None) if isinstance(request, Request) else None
        if decision is not None and isinstance(response, Response):
            response.headers.update(decision.headers())
        if (
            isinstance(request, Request)
            and isinstance(response, Response)
            and response.media_type == "application/json"
        ):
            if self._wants_graphql_response(request):
                response.headers["content-type"] = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
                if getattr(request.state, "request_error", False):
                    response.status_code = 400
            if getattr(request.state, "unavailable", False):
                response.status_code = 503
        return response


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
            refresher = None
            if settings.fairness_refresh_seconds:
                refresher = asyncio.create_task(_refresh_rankings(settings.fairness_refresh_seconds, view))
            try:
                with _frozen_startup_objects():
                    yield
            finally:
                if refresher is not None:
                    refresher.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await refresher
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
    app = Starlette(
        routes=[
            Route("/", home),
            Route("/healthz", healthz),
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
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
        if drift.rows_differing and check_only:
            raise SystemExit(1)

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
    elif args.command == "backup":
        asyncio.run(_backup(settings, args.file, args.force))
    elif args.command == "restore":
        asyncio.run(_restore(settings, args.file))
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
