"""The download routes' answers, given the request's context (app.py authenticates and rate-limits as for /graphql):
`/ekspor/{report}.{csv|xlsx}` and `/ocds/releases`. A refusal is JSON in the GraphQL error shape, with the code the
GraphQL field would give, and an HTTP status: 401 UNAUTHENTICATED, 403 FORBIDDEN, 400 BAD_USER_INPUT, 404 NOT_FOUND."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from exports import ocds
from exports.cells import LANGS, pick_lang
from exports.tables import TABLES, Refused, open_table
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


def refusal(code: str, message: str, field: str | None = None, status: int | None = None) -> JSONResponse:
    note_codes([code])
    extensions: dict[str, Any] = {"code": code}
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


async def export(request: Request, ctx: Ctx) -> Response:
    """A report as CSV (streamed) or XLSX (written to a temporary file, then streamed)."""
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
        rows = await open_table(table, ctx, params)
    except Refused as e:
        return refusal(e.code, e.message)
    except DomainError as e:
        return _domain(e)
    except AccessError as e:
        return refusal(e.code, str(e))
    day = ctx.clock.now().astimezone(JAKARTA).date().isoformat()
    headers = {
        "content-disposition": f'attachment; filename="{report}-{day}.{fmt}"',
        "content-language": lang,
        "cache-control": "no-store",
    }
    if fmt == "csv":
        return StreamingResponse(csv_chunks(table.columns, lang, rows), media_type=MEDIA[fmt], headers=headers)
    path = await xlsx_file(table.title(lang), table.columns, lang, rows)
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
        releases, nxt = await ocds.page(start, end, after, int(limit), ctx.settings.ocid_prefix)
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
