"""The language of the messages a caller reads: English, or Bahasa Indonesia when the request asks for it.

Rules (resolvers/) say what went wrong in English, as a template with named parameters (resolvers/common.py,
"Messages"); that English template is the message id of the gettext catalogue `schema/locale/id/LC_MESSAGES/
pasar.po`, which this module reads with Babel when it is imported (no compiled `.mo` file, so a fresh clone and an
installed package work as they are). The one place that translates is where a reply is built: payload `errors`
(schema/errors.py `UserErrors`) and the message of a `DomainError` that becomes a GraphQL error (`ErrorCodes`).
Codes and fields never change with the language.

The language comes from `Accept-Language` (`id`, `id-ID`, with q-values; `negotiate`); English otherwise. A template
without a translation falls back to the Indonesian sentence of its code (`CODE_MESSAGES`), so an Indonesian caller
never reads English; tests/test_i18n.py fails when a template or a code lacks its Indonesian.

To add or change messages: edit the rule's template, then (the keywords are `KEYWORDS` below)
    pybabel extract --no-default-keywords -k DomainError:2 -k add:3 -k TooManyAttempts:1 -k AccessError:1 \
        -k BadUserInput:1 -k Unauthenticated:1 -k msg \
        --no-location -o schema/locale/pasar.pot resolvers schema
    pybabel update -i schema/locale/pasar.pot -d schema/locale -D pasar --no-fuzzy-matching
and write the Indonesian in `schema/locale/id/LC_MESSAGES/pasar.po` (`msgstr`), keeping every `{name}` of the
template. Fields' words (`Label`) are entries with `msgctxt "field"`, written by hand.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from resolvers.common import Label, UserErrorItem, Wait, label, msg

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "pasar"
ENGLISH = "en"
INDONESIAN = "id"
LANGUAGES = (ENGLISH, INDONESIAN)
# Where the templates are: the argument of these calls that holds one (Babel's keyword specifications).
KEYWORDS = {
    "DomainError": (2,),
    "add": (3,),
    "TooManyAttempts": (1,),
    "AccessError": (1,),
    "BadUserInput": (1,),
    "Unauthenticated": (1,),
    "msg": (1,),
}
FIELD_CONTEXT = "field"  # msgctxt of the catalogue entries that name a field (`Label`)

# One sentence per payload error code, in English (the message id): what an Indonesian caller reads when a rule's
# own template has no translation yet. tests/test_i18n.py finds every code the rules raise and wants it here.
CODE_MESSAGES: dict[str, str] = {
    "ALREADY_ARCHIVED": msg("This is archived already."),
    "ALREADY_RATED": msg("This order was rated already."),
    "ALREADY_REVOKED": msg("This was revoked already."),
    "BEFORE_DELIVERY": msg("This cannot be done before delivery."),
    "BEFORE_UMKM_EXISTED": msg("The UMKM did not exist yet in that period."),
    "BELOW_MINIMUM": msg("The quantity is below the minimum order."),
    "CAPACITY_EXCEEDED": msg("There is not enough capacity left."),
    "CONFLICT": msg("Someone else changed the same thing at the same moment; nothing was saved. Please try again."),
    "CYCLE": msg("A category cannot sit under itself or its descendants."),
    "DUPLICATE_CODE": msg("This code exists already."),
    "DUPLICATE_EMAIL": msg("An account with this email exists."),
    "DUPLICATE_NIB": msg("This NIB is already registered."),
    "DUPLICATE_OPTION": msg("Options must be different."),
    "DUPLICATE_SLUG": msg("This slug exists already."),
    "IDEMPOTENCY_KEY_REUSED": msg("This idempotency key was used for a different request."),
    "IMMUTABLE": msg("This cannot be changed."),
    "INSUFFICIENT_STOCK": msg("There is not enough stock."),
    "INVALID": msg("This value is not valid."),
    "INVALID_CREDENTIALS": msg("Email or password is wrong."),
    "INVALID_EMAIL": msg("Email address is not valid."),
    "INVALID_GROUP": msg("This grouping is not valid."),
    "INVALID_ID": msg("This ID is not valid."),
    "INVALID_NIB": msg("This NIB is not valid."),
    "INVALID_OPTION": msg("This option is not valid."),
    "INVALID_PERIOD": msg("The period must be a month as YYYY-MM."),
    "INVALID_PHONE": msg("This phone number is not valid."),
    "INVALID_NIK": msg("This NIK is not valid."),
    "INVALID_RANGE": msg("The range is not valid."),
    "RANGE_TOO_LONG": msg("The range is too long."),
    "USE_BULK_PLAN": msg("This purchase is above the city's bulk threshold: plan it with planBulkOrder."),
    "TEST_CLOCK_OFF": msg("The clock can be moved only in test mode."),
    "INVALID_DOCUMENT_ID": msg("This document id is not valid."),
    "INVALID_DOCUMENT": msg("This is not a valid GraphQL document."),
    "UNKNOWN_EVENT_TYPE": msg("This event type is unknown."),
    "ALREADY_PENDING": msg("This is still being tried."),
    "URL_REFUSED": msg("This address cannot receive webhooks."),
    "SCOPE_MISSING": msg("The API key lacks a scope this needs."),
    "BAD_PAGE": msg("The page size is not valid."),
    "INVALID_SLUG": msg("This slug is not valid."),
    "INVALID_TRANSITION": msg("This change is not possible in the current state."),
    "INVALID_URL": msg("This URL is not valid."),
    "INVALID_YEAR": msg("This year is not valid."),
    "IN_THE_FUTURE": msg("The date is in the future."),
    "IN_THE_PAST": msg("The date is in the past."),
    "NEGATIVE": msg("The amount cannot be negative."),
    "NOT_ALLOWED": msg("This is not allowed here."),
    "NOT_AN_OWNER": msg("This account cannot own a UMKM."),
    "NOT_DELIVERED": msg("The order has not been delivered."),
    "NOT_FOUND": msg("Not found."),
    "NOT_UMKM": msg("This business is not a UMKM."),
    "NOT_YOUR_OPD": msg("This is not your OPD."),
    "NOT_YOUR_ORDER": msg("This is not your order."),
    "NO_SUPPLIERS": msg("No eligible UMKM can supply this."),
    "OPD_INACTIVE": msg("The OPD cannot order now."),
    "PASSWORD_TOO_LONG": msg("The password is too long."),
    "PASSWORD_TOO_SHORT": msg("The password is too short."),
    "PERIOD_NOT_FINISHED": msg("The period is not finished yet."),
    "PLAN_ALREADY_PLACED": msg("This plan was placed already."),
    "PRODUCT_UNAVAILABLE": msg("This product is not for sale."),
    "REQUIRED": msg("This is required."),
    "SELLER_SUSPENDED": msg("The seller is suspended."),
    "SELLER_UNAVAILABLE": msg("The seller cannot take new orders."),
    "TOO_LARGE": msg("The value is too large."),
    "TOO_LONG": msg("The text is too long."),
    "TOO_MANY": msg("There are too many."),
    "TOO_MANY_ATTEMPTS": msg("Too many attempts from here. Try again later."),
    "TOO_SMALL": msg("The value is too small."),
    "TOO_SOON": msg("The date is too soon."),
    "TOTAL_BELOW_PLATFORM": msg("The total is below the platform sales."),
    "TOTAL_MISMATCH": msg("The amounts do not add up to the total."),
    "UNKNOWN_KECAMATAN": msg("No such kecamatan."),
    "UNKNOWN_KELURAHAN": msg("No such kelurahan in Surabaya."),
    "UNKNOWN_SCOPE": msg("Unknown scope."),
    "WRONG_AMOUNT": msg("The amount is wrong."),
}
CONFLICT_MESSAGE = CODE_MESSAGES["CONFLICT"]


def _load(language: str) -> dict[tuple[str, str | None], str]:
    """(message id, context) -> translation, of the language's catalogue; untranslated and fuzzy entries left out."""
    with (LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as f:
        catalog = read_po(f, locale=language, domain=DOMAIN)
    return {(m.id, m.context): m.string for m in catalog if m.id and m.string and not m.fuzzy}


CATALOGUES: dict[str, dict[tuple[str, str | None], str]] = {INDONESIAN: _load(INDONESIAN)}


def negotiate(accept_language: str | None) -> str:
    """`id` when Bahasa Indonesia is the caller's first acceptable choice among ours (q-values honoured; `id`,
    `id-ID`, `in`), else `en`. The few headers browsers send are remembered; a long one is read each time."""
    if accept_language is None or len(accept_language) > 200:
        return _negotiate(accept_language)
    return _negotiated(accept_language)


@functools.lru_cache(maxsize=128)
def _negotiated(accept_language: str) -> str:
    return _negotiate(accept_language)


def _negotiate(accept_language: str | None) -> str:
    best, best_q = ENGLISH, 0.0
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.split("-")[0]
        language = {"id": INDONESIAN, "in": INDONESIAN, "en": ENGLISH, "*": ENGLISH}.get(primary)
        if language is None or not 0 < q <= 1:
            continue
        if q > best_q or (q == best_q and position == 0):
            best, best_q = language, q
    return best


def gettext(message_id: str, language: str, context: str | None = None) -> str | None:
    """The translation of a message id, or None (English is the id itself)."""
    if language == ENGLISH:
        return message_id
    return CATALOGUES.get(language, {}).get((message_id, context))


def _label(value: Label, language: str) -> str:
    """A field's words in `language` (the catalogue's `field` entries; NIB, email and the like stay as they are)."""
    parts = value.path.split(".")
    name = next((p for p in reversed(parts) if not p.isdigit()), value.path)
    line = next((int(p) for p in reversed(parts) if p.isdigit()), None)
    words = label(name)
    words = gettext(words, language, FIELD_CONTEXT) or words
    return f"{words} (baris {line + 1})" if line is not None else words


def _wait(value: Wait, language: str) -> str:
    return f"{value.minutes} menit" if value.seconds > 60 else f"{value.seconds} detik"


def _param(value: Any, language: str) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return format_decimal(value, locale="id_ID", group_separator=True)
    if isinstance(value, Label):
        return _label(value, language)
    if isinstance(value, Wait):
        return _wait(value, language)
    return str(value)


def translate(template: str, params: Mapping[str, Any], english: str, code: str, language: str) -> str:
    """The message in `language`: the template's translation filled with its parameters, else its code's sentence."""
    if language == ENGLISH:
        return english
    translated = gettext(template, language)
    if translated is None:
        return gettext(CODE_MESSAGES.get(code, ""), language) or english
    if not params:
        return translated
    return translated.format(**{k: _param(v, language) for k, v in params.items()})


def localized(template: str, params: Mapping[str, Any], english: str, language: str) -> str:
    """A GraphQL error's message in `language` (FORBIDDEN, UNAUTHENTICATED, BAD_USER_INPUT): the template's
    translation, else the English."""
    translated = gettext(template, language)
    if translated is None:
        return english
    return translated.format(**{k: _param(v, language) for k, v in params.items()}) if params else translated


def message_of(item: UserErrorItem, language: str) -> str:
    """A payload error's message in `language`."""
    return translate(item.template or item.message, item.params, item.message, item.code, language)
