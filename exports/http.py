"""The download routes' answers, given the request's context (app.py authenticates and rate-limits as for /graphql):
`/ekspor/{report}.{csv|xlsx}` and `/ocds/releases`. A refusal is JSON in the GraphQL error shape, with the code the
GraphQL field would give, and an HTTP status: 401 UNAUTHENTICATED, 403 FORBIDDEN, 400 BAD_USER_INPUT, 404 NOT_FOUND,
and 503 TIMEOUT for a download that ran out of time before its first byte.

Time limits: a download's rule and each page of rows it reads run within the request timeout
(`PASAR_REQUEST_TIMEOUT_SECONDS`), and the whole download within `PASAR_DOWNLOAD_TIMEOUT_SECONDS` from the request's
start. XLSX is written whole before it is sent, and CSV's first page is read before its headers: running out of time
there is the 503. Later, with CSV already under way, the download is stopped by breaking off the response (no
last chunk), so that a cut file never looks complete; the access line says TIMEOUT. `/ocds/releases` reads one page
within the request timeout."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from exports import ocds
from exports.cells import LANGS, pick_lang
from exports.tables import TABLES, Refused, Rows, open_table
from exports.writers import csv_chunks, file_chunks, remove, xlsx_file
from models.base import JAKARTA
from resolvers.common import AccessError, Ctx, DomainError
from resolvers.open_data import MAX_PAGE
from schema.logs import note_caller, note_codes
from schema.relay import decode_cursor, encode_cursor

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX}
STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404}
OCDS_PARAMS = ("from", "to", "cursor", "limit")
OCDS_PAGE = 100
log = logging.getLogger("pasar.exports")
now = time.monotonic  # the clock of the time limits (a test replaces it)


def refusal(code: str, message: str, field: str | None = None, status: int | None = None, **extra: Any) -> JSONResponse:
    note_codes([code])
    extensions: dict[str, Any] = {"code": code, **extra}
    if field:
        extensions["field"] = field
    return JSONResponse(
        {"errors": [{"message": message, "extensions": extensions}]}, status_code=status or STATUS.get(code, 400)
    )


def _domain(e: DomainError) -> JSONResponse:
    first = e.errors[0]
    code = "NOT_FOUND" if first.code == "NOT_FOUND" else "BAD_USER_INPUT"
    return refusal(code, first.message, first.field)


def _single(request: Request) -> dict[str, str] | JSONResponse:
    """The query string as one value per name; a name given twice is refused rather than half-read."""
    params: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name in params:
            return refusal("BAD_USER_INPUT", f"`{name[:40]}` is given more than once.")
        params[name] = value
    return params


class DownloadStopped(Exception):
    """A download ran out of time: a page of rows took longer than the request timeout, or the whole download longer
    than the download timeout."""

    def __init__(self, seconds: float, limit: str) -> None:
        super().__init__(f"The download took longer than {seconds:g} s ({limit}) and was stopped.")
        self.seconds, self.limit = seconds, limit

    def response(self) -> JSONResponse:
        return refusal("TIMEOUT", str(self), status=503, timeoutSeconds=self.seconds)


class TimeLimits:
    """The time limits of one download: each step (the rule, a page of rows) within `per_step` seconds and all of
    them by `total` seconds after the start."""

    def __init__(self, per_step: float, total: float) -> None:
        self.per_step, self.total = per_step, total
        self.deadline = now() + total

    async def run(self, step: Any) -> Any:
        """Await `step` (a coroutine) within the limits, or raise DownloadStopped."""
        left = self.deadline - now()
        if left <= 0:
            getattr(step, "close", lambda: None)()  # never awaited: closed, not left to warn
            raise DownloadStopped(self.total, "PASAR_DOWNLOAD_TIMEOUT_SECONDS")
        per_step = self.per_step <= left
        try:
            async with asyncio.timeout(min(self.per_step, left)):
                return await step
        except TimeoutError:
            if per_step:
                raise DownloadStopped(self.per_step, "a page of rows: PASAR_REQUEST_TIMEOUT_SECONDS") from None
            raise DownloadStopped(self.total, "PASAR_DOWNLOAD_TIMEOUT_SECONDS") from None

    async def rows(self, rows: Rows) -> Rows:
        """The pages of `rows`, each read within the limits."""
        pages = aiter(rows)
        while True:
            try:
                page = await self.run(anext(pages))
            except StopAsyncIteration:
                return
            yield page


async def _csv_stream(first: list, rest: Rows) -> AsyncIterator[list]:
    """The first page (read before the answer started), then the rest; running out of time now breaks the answer
    off (the exception reaches the server, which closes the connection without the last chunk)."""
    yield first
    try:
        async for page in rest:
            yield page
    except DownloadStopped as e:
        note_codes(["TIMEOUT"])
        log.warning("download stopped after its first bytes: %s", e)
        raise


async def export(request: Request, ctx: Ctx) -> Response:
    """A report as CSV (streamed) or XLSX (written to a temporary file, then streamed), within the time limits."""
    limits = TimeLimits(ctx.settings.request_timeout_seconds, ctx.settings.download_timeout_seconds)
    report, fmt = request.path_params["report"], request.path_params["fmt"]
    note_caller(ctx.principal, f"ekspor/{report[:40]}.{fmt[:8]}")
    table = TABLES.get(report)
    if table is None or fmt not in MEDIA:
        names = ", ".join(f"{n}.csv|xlsx" for n in TABLES)
        return refusal("NOT_FOUND", f"No such download; there are {names}.")
    params = _single(request)
    if isinstance(params, Response):
        return params
    lang = pick_lang(params.pop("lang", None), request.headers.get("accept-language"))
    if lang is None:
        return refusal("BAD_USER_INPUT", f"`lang` must be one of {', '.join(LANGS)}.", "lang")
    try:
        rows = limits.rows(await limits.run(open_table(table, ctx, params)))
    except Refused as e:
        return refusal(e.code, e.message)
    except DomainError as e:
        return _domain(e)
    except AccessError as e:
        return refusal(e.code, str(e))
    except DownloadStopped as e:
        return e.response()
    day = ctx.clock.now().astimezone(JAKARTA).date().isoformat()
    headers = {
        "content-disposition": f'attachment; filename="{report}-{day}.{fmt}"',
        "content-language": lang,
        "cache-control": "no-store",
    }
    if fmt == "csv":
        try:
            first = await anext(rows, [])
        except DownloadStopped as e:
            return e.response()
        chunks = csv_chunks(table.columns, lang, _csv_stream(first, rows))
        return StreamingResponse(chunks, media_type=MEDIA[fmt], headers=headers)
    try:
        path = await xlsx_file(table.title(lang), table.columns, lang, rows)
    except DownloadStopped as e:  # xlsx_file removed its temporary file
        return e.response()
    # removed when read, or after the answer if the client left before the first chunk
    cleanup = BackgroundTask(remove, path)
    return StreamingResponse(file_chunks(path), media_type=MEDIA[fmt], headers=headers, background=cleanup)


def _ocds_cursor(raw: str | None) -> tuple[dt.datetime, int] | None:
    values = decode_cursor(raw)
    if values is None:
        return None
    try:
        stamp, order_id = values
        when = dt.datetime.fromisoformat(stamp["dt"])
        if not isinstance(order_id, int) or isinstance(order_id, bool) or not 1 <= order_id <= 2**31 - 1:
            raise ValueError
    except (ValueError, TypeError, KeyError):
        raise AccessError("`cursor` is not a cursor of this list.", "BAD_USER_INPUT") from None
    return when, order_id


def _day(params: dict[str, str], name: str, default: dt.date) -> dt.date:
    raw = params.get(name)
    if not raw:
        return default
    try:
        day = dt.date.fromisoformat(raw[:20])
    except ValueError:
        raise AccessError(f"`{name}` must be a date like 2026-12-20.", "BAD_USER_INPUT") from None
    if not dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31):
        raise AccessError(f"`{name}`: dates are between 2000-01-01 and 2100-12-31.", "BAD_USER_INPUT")
    return day


async def ocds_releases(request: Request, ctx: Ctx) -> Response:
    """A page of the open-data release package: orders placed between `from` and `to` (Asia/Jakarta days, at most a
    year; default the last 365 days), oldest first; `links.next` (and a Link header) names the next page."""
    note_caller(ctx.principal, "ocds/releases")
    params = _single(request)
    if isinstance(params, Response):
        return params
    unknown = sorted(set(params) - set(OCDS_PARAMS))
    if unknown:
        return refusal("BAD_USER_INPUT", f"`{unknown[0][:40]}` is not an argument; it takes {', '.join(OCDS_PARAMS)}.")
    now = ctx.clock.now()
    today = now.astimezone(JAKARTA).date()
    try:
        end = _day(params, "to", today)
        start = _day(params, "from", end - dt.timedelta(days=365))
        after = _ocds_cursor(params.get("cursor"))
        limit = params.get("limit") or str(OCDS_PAGE)
        if not limit.isdigit() or not 1 <= int(limit) <= MAX_PAGE:
            raise AccessError(f"`limit` must be a whole number from 1 to {MAX_PAGE}.", "BAD_USER_INPUT")
        step = ocds.page(start, end, after, int(limit), ctx.settings.ocid_prefix)
        limits = TimeLimits(ctx.settings.request_timeout_seconds, ctx.settings.request_timeout_seconds)
        releases, nxt = await limits.run(step)
    except DownloadStopped as e:
        return e.response()
    except DomainError as e:
        return _domain(e)
    except AccessError as e:
        return refusal(e.code, str(e))
    body = ocds.package(str(request.url), now, releases)
    headers = {}
    if nxt is not None:
        query = {"from": start.isoformat(), "to": end.isoformat(), "limit": limit}
        query["cursor"] = encode_cursor([{"dt": nxt[0].isoformat()}, nxt[1]])
        link = f"{request.url.scheme}://{request.url.netloc}{request.url.path}?{urlencode(query)}"
        body["links"] = {"next": link}
        headers["link"] = f'<{link}>; rel="next"'
    return JSONResponse(body, headers=headers, media_type="application/json")
