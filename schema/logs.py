"""Logs an operator can use: one line per request, text or JSON lines, and nothing personal in any record.

- `RequestLog` (ASGI middleware, outermost) writes one `pasar.access` line per HTTP request when the response has
  been sent: request id, method, path (never the query string), status, duration, the operation's name, the caller's
  id and role, the SQL statement count and the GraphQL error codes. `RequestFacts` (a schema extension) fills in
  what only the execution knows; on a WebSocket it writes a line of its own per operation.
- `Redact` (a filter on the handler, the last line of defence) rewrites every record before it is written: e-mail
  addresses, tokens and API keys, `password=…`-style values and long digit runs (phone numbers, bank accounts, NIB,
  NIK) are replaced, and the message and the traceback are cut to a bounded size with a marker.
- `configure_logging(settings)` installs one handler on the root logger with `PASAR_LOG_FORMAT` (text or json) and
  `PASAR_LOG_LEVEL`; `schema/sqlcount.py` keeps the parameters out of Tortoise's statement records.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import json
import logging
import math
import re
import secrets
import sys
import time
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from graphql import DocumentNode, FieldNode, OperationDefinitionNode
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from schema import sqlcount

access = logging.getLogger("pasar.access")

MAX_MESSAGE = 4_000  # characters of a record's message
MAX_TRACEBACK = 8_000  # characters of a record's traceback: its start and, most of it, its end
MAX_PATH = 200
REDACTED = "<redacted>"

# ---------------------------------------------------------------- redaction

_WORDISH = r"[\w.+%@-]"
_PATTERNS = [
    # e-mail addresses (a local part, @, a domain); starts only where a local part can start, so it runs in linear time
    (re.compile(r"(?<![\w.+%-])[\w.+%-]++@[\w-]++(?:\.[\w-]++)*+"), "<email>"),
    # bearer credentials and the platform's own tokens (pst_…) and API keys (pk_…)
    (re.compile(r"(?i)\bbearer\s++[^\s,;\"']++"), "Bearer <token>"),
    (re.compile(r"(?<![A-Za-z0-9_])(?:pst|pk)_[A-Za-z0-9_-]{6,}+"), "<token>"),
    # password=…, "secret": "…", token: … (the key stays, the value goes)
    (
        re.compile(
            r"(?i)\b(password|passwd|secret|token|authorization|api_key|apikey|owner_?nik|nik)(\"?'?\s*[:=]\s*)"
            r"(\"[^\"]*+\"|'[^']*+'|[^\s,;&)]++)"
        ),
        r"\1\2" + REDACTED,
    ),
    # 8 or more digits, alone or in groups split by spaces or dashes: phone numbers, bank accounts, NIB, NIK
    (re.compile(r"(?<![A-Za-z0-9])(?<!\d[ -])\+?\d(?:[ -]?\d){7,}+(?![A-Za-z0-9])"), "<number>"),
]
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def redact(text: str) -> str:
    """`text` without e-mail addresses, tokens, secret values or long digit runs."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _cut_end(text: str, at: int) -> str:
    """The first `at` characters, minus a word cut in two (a piece of an address or a number is still personal)."""
    return re.sub(_WORDISH + r"+\Z", "", text[:at])


def _cut_start(text: str, at: int) -> str:
    """The last `at` characters, minus a word cut in two."""
    tail = text[-at:]
    return tail[m.end() :] if (m := re.match(_WORDISH + "+", tail)) else tail


def bounded(text: str, limit: int = MAX_MESSAGE) -> str:
    """Redacted and at most about `limit` characters: a longer text keeps its start and says how much is left out.
    The text is cut (twice the limit) before the patterns run, so a 5 MB value costs no more than a short one."""
    original = len(text)
    if original > 2 * limit:
        text = _cut_end(text, 2 * limit)
    text = redact(text)
    if len(text) > limit:
        text = _cut_end(text, limit)
    if len(text) < original and original > limit:
        text += f" … [{original} characters, cut]"
    return text


def bounded_traceback(text: str, limit: int = MAX_TRACEBACK) -> str:
    """A redacted traceback of at most about `limit` characters: its first quarter and its last three quarters (the
    innermost frames and the exception's message)."""
    if len(text) <= limit:
        return redact(text)
    head, tail = limit // 4, limit - limit // 4
    left_out = len(text) - head - tail
    return (
        redact(_cut_end(text, head))
        + f"\n  … [{left_out} characters of the traceback left out] …\n"
        + redact(_cut_start(text, tail))
    )


class Redact(logging.Filter):
    """On the handler: every record leaves with its message formatted, redacted and bounded, its traceback formatted,
    redacted and bounded (an exception's message goes through the same patterns), and nothing else that could
    carry a value (`args` is emptied; the access line's fields are redacted too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "pasar_redacted", False):
            return True
        fields = getattr(record, "fields", None)
        if isinstance(record.msg, AccessText) and isinstance(fields, dict):
            # the access line: its message is its fields' text, written from the redacted fields (each value as
            # `bounded`, the repeated ones remembered) rather than redacted again whole
            record.fields = {k: _redacted_value(v) for k, v in fields.items()}
            record.msg, record.args = _CONTROL.sub("?", line_text(record.fields)), None
            record.pasar_redacted = True
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: the template alone, never the arguments
            message = str(record.msg)
        record.msg, record.args = _CONTROL.sub("?", bounded(message)), None
        if record.exc_info:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_info = None
        if record.exc_text:
            record.exc_text = bounded_traceback(record.exc_text)
        if record.stack_info:
            record.stack_info = bounded_traceback(record.stack_info)
        if isinstance(fields, dict):
            record.fields = {k: _redacted_value(v) for k, v in fields.items()}
        record.pasar_redacted = True
        return True


_PLAIN = re.compile(r"[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*")  # no pattern of `redact` can match in such a word


def _redacted_value(value: Any) -> Any:
    if isinstance(value, str):
        if len(value) <= MAX_PATH and _PLAIN.fullmatch(value):  # a request id, a method: nothing to take out
            return value
        return _bounded_field(value)
    if isinstance(value, list):
        return [_bounded_field(v) if isinstance(v, str) else v for v in value]
    return value


@functools.lru_cache(maxsize=256)
def _bounded_field(value: str) -> str:
    """`bounded(value, MAX_PATH)`, remembered: an access line's fields are mostly the same few words (the method, the
    path, the operation, the role), which every request's line would otherwise run the patterns over again."""
    return bounded(value, MAX_PATH)


# ---------------------------------------------------------------- formatters


def _timestamp(record: logging.LogRecord) -> str:
    return _stamp(record.created)


_second: list[Any] = [None, ""]  # the last whole second stamped, and its text up to the seconds


def _stamp(created: float) -> str:
    """`2026-11-30T00:03:27.123Z`: the time in UTC to the millisecond (the text up to the seconds is remembered)."""
    fraction, second = math.modf(created)
    micro = round(fraction * 1e6)  # as `datetime.fromtimestamp` rounds
    if micro >= 1_000_000:
        second, micro = second + 1, micro - 1_000_000
    elif micro < 0:
        second, micro = second - 1, micro + 1_000_000
    if second != _second[0]:
        text = dt.datetime.fromtimestamp(second, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _second[0], _second[1] = second, text
    return f"{_second[1]}.{micro // 1000:03d}Z"


class TextFormatter(logging.Formatter):
    """`2026-11-30T00:03:27.123Z INFO pasar.access: request_id=… path=/graphql status=200 …`"""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _timestamp(record)

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: `time`, `level`, `logger`, `message`, the access line's fields, `traceback`."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):  # the access line: its fields, and a short message instead of their text
            out["message"] = f"{fields.get('method')} {fields.get('path')} {fields.get('status') or '-'}"
            out.update(fields)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["traceback"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        return json.dumps(out, ensure_ascii=False, default=str)


class PathOnly(logging.Filter):
    """On `uvicorn.error`: its WebSocket handshake line (`"WebSocket /graphql?…" [accepted]`) without the query."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and '"WebSocket %s"' in record.msg and isinstance(record.args, tuple):
            if len(record.args) >= 2 and isinstance(record.args[1], str):
                record.args = (record.args[0], record.args[1].split("?", 1)[0], *record.args[2:])
        return True


FORMATS = {"text": TextFormatter, "json": JsonFormatter}
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def make_handler(log_format: str, level: str, stream: TextIO | None = None) -> logging.Handler:
    """The app's handler: a stream (stderr), the format's formatter, `Redact`."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(FORMATS[log_format]())
    handler.addFilter(Redact())
    handler.setLevel(level)
    handler.pasar = True  # type: ignore[attr-defined]
    return handler


def configure_logging(settings: Any, stream: TextIO | None = None) -> logging.Handler:
    """One handler on the root logger (replacing one installed before) at `settings.log_level`; uvicorn's loggers
    write through it (the server is run with `log_config=None`, `access_log=False`); Tortoise's statement records are
    made parameter-free (`schema/sqlcount.py`), and aiosqlite's, which carry the parameters, are left out."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "pasar", False)]:
        root.removeHandler(old)
    handler = make_handler(settings.log_format, settings.log_level, stream)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    uvicorn_errors = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, PathOnly) for f in uvicorn_errors.filters):
        uvicorn_errors.addFilter(PathOnly())
    # aiosqlite writes every statement with its parameters at DEBUG ("executing functools.partial(…, [values])"):
    # Tortoise's own statement records (parameter-free) say the same without them
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    logging.getLogger("uvicorn.access").disabled = True  # our own access line has the path without the query
    # what no format of ours writes is not gathered for every record (the logging HOWTO's "Optimization"): the
    # caller's file and line, the thread, the process
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging.captureWarnings(True)
    sqlcount.install()
    return handler


# ---------------------------------------------------------------- the request line

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
MAX_ROOT_FIELDS = 3


@dataclass
class RequestLine:
    """What one request's log line says; the middleware and the schema extension fill it in."""

    request_id: str
    transport: str = "http"
    method: str = "-"
    path: str = "-"
    status: int | None = None
    operations: list[str] = field(default_factory=list)
    operation_types: list[str] = field(default_factory=list)
    user_id: int | None = None
    api_key_id: int | None = None
    role: str | None = None
    codes: list[str] = field(default_factory=list)
    sql: sqlcount.Tally = field(default_factory=sqlcount.Tally)
    started: float = field(default_factory=time.perf_counter)

    def fields(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "transport": self.transport,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "duration_ms": round((time.perf_counter() - self.started) * 1000, 1),
            "operation": ",".join(self.operations) or None,
            "operation_type": ",".join(dict.fromkeys(self.operation_types)) or None,
            "user_id": self.user_id,
            "api_key_id": self.api_key_id,
            "role": self.role,
            "sql_statements": self.sql.statements,
            "errors": sorted(set(self.codes)),
        }

    def write(self) -> None:
        if not access.isEnabledFor(logging.INFO):  # nobody would read it (no handler takes INFO): not even made
            return
        fields = self.fields()
        handler = _sole_handler()
        if handler is not None:
            _write_direct(handler, fields)
            return
        access.info(AccessText(fields), extra={"fields": fields})


def _sole_handler() -> logging.StreamHandler | None:
    """The app's own handler (`make_handler`: a stream, our formatter, `Redact` alone) when it is the only one an
    access record would reach and nothing on the way would filter it, as under `pasar serve`; else None (a test's
    capture, another handler, a filter: the record goes through `logging` as any other)."""
    if access.handlers or access.filters or access.disabled or not access.propagate:
        return None
    parent = access.parent
    while parent is not None and parent.parent is not None:  # loggers between `pasar.access` and the root
        if parent.handlers or not parent.propagate:
            return None
        parent = parent.parent
    if parent is None or parent.filters or len(parent.handlers) != 1:
        return None
    handler = parent.handlers[0]
    if (
        not getattr(handler, "pasar", False)
        or type(handler) is not logging.StreamHandler
        or handler.level > logging.INFO
        or len(handler.filters) != 1
        or type(handler.filters[0]) is not Redact
        or type(handler.formatter) not in (TextFormatter, JsonFormatter)
    ):
        return None
    return handler


def _write_direct(handler: logging.StreamHandler, fields: dict[str, Any]) -> None:
    """The access line as `logging` would write it through the handler (`Redact`, then the formatter), without the
    record: the same redacted fields and the same text, a third of the work. `tests/test_logs.py` compares the two
    in both formats."""
    fields = {k: _redacted_value(v) for k, v in fields.items()}
    stamp = _stamp(time.time())
    if type(handler.formatter) is JsonFormatter:
        out = {"time": stamp, "level": "INFO", "logger": access.name}
        out["message"] = f"{fields.get('method')} {fields.get('path')} {fields.get('status') or '-'}"
        out.update(fields)
        text = json.dumps(out, ensure_ascii=False, default=str)
    else:
        text = f"{stamp} INFO {access.name}: {_CONTROL.sub('?', line_text(fields))}"
    with handler.lock:  # type: ignore[union-attr]
        try:
            handler.stream.write(text + handler.terminator)
            handler.flush()
        except Exception:
            handler.handleError(logging.makeLogRecord({"name": access.name, "levelno": logging.INFO, "msg": text}))


class AccessText:
    """The access line's message, `key=value …` of its fields, written when a handler formats it (`Redact` writes it
    from the redacted fields instead)."""

    __slots__ = ("fields",)

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields

    def __str__(self) -> str:
        return line_text(self.fields)


def line_text(fields: dict[str, Any]) -> str:
    return " ".join(f"{k}={_text_value(v)}" for k, v in fields.items())


_QUOTED = re.compile(r'[\s"=]')  # a value with one of these is written as a JSON string


def _text_value(value: Any) -> str:
    if value is None:
        return "-"
    if type(value) is int or type(value) is float:
        return str(value)
    if isinstance(value, list):
        return ",".join(value) or "-"
    text = str(value)
    return json.dumps(text) if not text or _QUOTED.search(text) else text


_current: contextvars.ContextVar[RequestLine | None] = contextvars.ContextVar("pasar_request_line", default=None)


def note_codes(codes: Iterable[Any]) -> None:
    """Adds GraphQL error codes to the current request's line (the view's answer, a refusal before execution)."""
    line = _current.get()
    if line is not None:
        line.codes.extend(str(c) for c in codes if c)


def note_operation(line: RequestLine, label: tuple[str, str], principal: Any) -> None:
    """The operation a request ran (its `operation_label`) and its caller, on the request's line (`RequestFacts`,
    and the fast path of compiled reads)."""
    line.operations.append(label[0])
    line.operation_types.append(label[1])
    if principal is not None:
        line.user_id, line.api_key_id = principal.user_id, principal.api_key_id
        line.role = principal.role.value if principal.role is not None else None


def current_line() -> RequestLine | None:
    """The line of the HTTP request being answered (None outside `RequestLog`)."""
    return _current.get()


def note_caller(principal: Any, operation: str) -> None:
    """The caller of a request answered outside GraphQL (a download, exports/http.py) and what it asked for."""
    line = _current.get()
    if line is None:
        return
    line.operations.append(operation)
    line.operation_types.append("download")
    line.user_id, line.api_key_id = principal.user_id, principal.api_key_id
    line.role = principal.role.value if principal.role is not None else None


def request_id_of(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The client's `X-Request-Id` if it is a short plain token (it is written to the log), else None."""
    for name, value in headers:
        if name.lower() == b"x-request-id":
            text = value.decode("latin-1")
            return text if _REQUEST_ID.fullmatch(text) else None
    return None


class RequestLog:
    """ASGI middleware, the outermost: the request id (the client's `X-Request-Id` when it is a short plain token,
    else a new one, put back in the headers so that the GraphQL context uses the same; on a WebSocket too), the
    response's `X-Request-Id`, and one `pasar.access` line per HTTP request once its response has been sent, or it
    failed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        sqlcount.install()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = list(scope.get("headers") or ())
        request_id = request_id_of(headers)
        if request_id is None:
            request_id = secrets.token_hex(16)  # as random as a UUID4's hex, a fifth of the work
            headers = [(k, v) for k, v in headers if k.lower() != b"x-request-id"]
            headers.append((b"x-request-id", request_id.encode()))
            scope = {**scope, "headers": headers}
        if scope["type"] == "websocket":  # each operation gets its line from RequestFacts
            await self.app(scope, receive, send)
            return
        line = RequestLine(
            request_id=request_id, method=scope.get("method", "-"), path=scope.get("path", "-")[:MAX_PATH]
        )

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                line.status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), (b"x-request-id", request_id.encode())]}
            await send(message)

        token = _current.set(line)
        try:
            with sqlcount.tally() as counted:
                line.sql = counted
                await self.app(scope, receive, sending)
        except BaseException:
            line.status = line.status or 500
            raise
        finally:
            _current.reset(token)
            line.write()


def operation_label(document: DocumentNode | None, provided: str | None) -> tuple[str, str]:
    """(name, type) of the operation a request runs, from the parsed document only: its name, or for an anonymous
    one its first root fields (`login`, `products,umkms`). Never a literal, a variable or text the client typed
    outside the document's names."""
    if document is None:
        return "-", "-"
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = next((o for o in ops if o.name and o.name.value == provided), None) if provided else None
    if chosen is None:
        if len(ops) != 1:
            return "-", "-"
        chosen = ops[0]
    kind = chosen.operation.value
    if chosen.name:
        return chosen.name.value, kind
    names = [s.name.value for s in chosen.selection_set.selections if isinstance(s, FieldNode)]
    label = ",".join(names[:MAX_ROOT_FIELDS]) + (
        f",+{len(names) - MAX_ROOT_FIELDS}" if len(names) > MAX_ROOT_FIELDS else ""
    )
    return label or "-", kind


def _is_websocket(context: Any) -> bool:
    scope = getattr(getattr(context, "request", None), "scope", None)
    return isinstance(scope, dict) and scope.get("type") == "websocket"


class RequestFacts(SchemaExtension):
    """Fills in the request's line with what the execution knows: the operation, the caller, the request id. First in
    the schema's extensions, so it sees the errors after `ErrorCodes` has given them their codes. An operation on a
    WebSocket has no HTTP request: it gets a line of its own (`transport=ws`) when it ends."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        line = _current.get()
        own = None
        if line is None and _is_websocket(context):
            line = own = RequestLine(
                request_id=getattr(context, "request_id", "") or "-", transport="ws", method="WS", path="/graphql"
            )
        self._own = own
        counting = sqlcount.tally() if own is not None else contextlib.nullcontext(None)
        with counting as counted:
            if own is not None and counted is not None:
                own.sql = counted
            yield
        if line is None:
            return
        ec = self.execution_context
        label = operation_label(ec.graphql_document, ec._provided_operation_name)
        note_operation(line, label, getattr(context, "principal", None))
        if own is not None:
            own.codes.extend(_codes(getattr(self.execution_context.result, "errors", None)))
            own.write()

    def on_stream_result(self, result: Any) -> Iterator[None]:
        yield None  # after ErrorCodes (listed after this extension) has coded the result's errors
        own = getattr(self, "_own", None)
        if own is not None:
            own.codes.extend(_codes(getattr(result, "errors", None)))


def _codes(errors: Any) -> list[str]:
    return [str((e.extensions or {}).get("code") or "INTERNAL_SERVER_ERROR") for e in errors or []]
