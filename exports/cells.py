"""Cells of a table download: what a column holds, its headers in two languages, and how a cell is written so that it
stays data (never a formula, never a link)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

LANGS = ("id", "en")
DEFAULT_LANG = "id"
KINDS = ("text", "int", "rupiah", "float", "share", "date", "datetime", "bool")
# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection"); tab and carriage return
# are read as such by some importers after trimming.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    key: str
    id: str  # header in Indonesian
    en: str  # header in English
    kind: str = "text"

    def header(self, lang: str) -> str:
        return self.id if lang == "id" else self.en


def neutralise(text: str) -> str:
    """A CSV text cell that a spreadsheet would run as a formula gets a leading apostrophe (shown, never run)."""
    return "'" + text if text.startswith(FORMULA_LEADS) else text


def csv_cell(value: Any, kind: str) -> str:
    """The text of one CSV cell: numbers as plain digits (rupiah whole, no separators), floats as Python's shortest
    round-trip form, instants in ISO 8601 with their Asia/Jakarta offset, text neutralised."""
    if value is None:
        return ""
    if kind == "bool":
        return "true" if value else "false"
    if kind in ("int", "rupiah"):
        return str(int(value))
    if kind in ("float", "share"):
        return repr(float(value))
    if kind in ("date", "datetime"):
        return value.isoformat()
    return neutralise(str(value))


def pick_lang(asked: str | None, accept_language: str | None) -> str | None:
    """`?lang=id|en` wins; else the first of id/en in Accept-Language by its q-value; else Indonesian. None when
    `asked` is neither."""
    if asked is not None:
        return asked if asked in LANGS else None
    best, best_q = DEFAULT_LANG, -1.0
    for i, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGS:
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        q -= i * 1e-6  # ties: the earlier one
        if q > best_q:
            best, best_q = primary, q
    return best


def naive_jakarta(value: dt.datetime) -> dt.datetime:
    """A spreadsheet has no time zones: an instant is written as its Asia/Jakarta wall time (the API's offset)."""
    return value.replace(tzinfo=None)
