"""Payload errors in Bahasa Indonesia for `Accept-Language: id`, English otherwise; codes and fields unchanged.

The catalogue's completeness is checked from the source: every code a rule raises has a sentence in both languages
(schema.i18n.CODE_MESSAGES and its Indonesian), every message template has its Indonesian with the same parameters,
and no rule builds its message with an f-string (the template must be the message id).
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from resolvers.common import DomainError, Label, UserErrorItem, Validator, Wait
from schema.i18n import (
    CATALOGUES,
    CODE_MESSAGES,
    FIELD_CONTEXT,
    INDONESIAN,
    KEYWORDS,
    gettext,
    message_of,
    negotiate,
    translate,
)
from tests.conftest import gid

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("resolvers", "schema")
CODE = re.compile(r"^[A-Z][A-Z0-9_]+$")

CREATE_PRODUCT = """
mutation($i: CreateProductInput!) {
  createProduct(input: $i) { product { id } errors { field code message } }
}"""
LOGIN = "mutation($i: LoginInput!) { login(input: $i) { token errors { field code message } } }"


# ---------------------------------------------------------------- the catalogue is complete (from the source)


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            yield name, node


def raised_codes(sources: dict[str, str]) -> dict[str, str]:
    """code -> where, for every payload error code the sources raise: the code argument of `DomainError(...)`,
    `Validator.add(field, code, ...)`, `UserErrorItem.of(field, code, ...)`, `UserError(code=...)`, and
    TOO_MANY_ATTEMPTS of `TooManyAttempts`."""
    found: dict[str, str] = {}
    for path, source in sources.items():
        for scope in ast.walk(ast.parse(source)):
            if not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Module):
                continue
            assigned: dict[str, list[ast.AST]] = {}  # `code = "A" if ... else "B"`, then DomainError(code, ...)
            for node in scope.body if isinstance(scope, ast.Module) else ast.walk(scope):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            assigned.setdefault(target.id, []).append(node.value)
            _codes_of_calls(scope, assigned, path, found)
    return found


def _codes_of_calls(scope: ast.AST, assigned: dict, path: str, found: dict[str, str]) -> None:
    for name, call in _calls(scope):
        if name == "DomainError" and call.args:
            expr = call.args[0]
        elif name in ("add", "of") and len(call.args) >= 3:
            expr = call.args[1]
        elif name == "UserError":
            expr = next((k.value for k in call.keywords if k.arg == "code"), None)
        elif name == "TooManyAttempts":
            found.setdefault("TOO_MANY_ATTEMPTS", f"{path}:{call.lineno}")
            continue
        else:
            continue
        exprs = assigned.get(expr.id, []) if isinstance(expr, ast.Name) else [expr] if expr is not None else []
        for node in (n for e in exprs for n in ast.walk(e)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value):
                found.setdefault(node.value, f"{path}:{call.lineno}")


def formatted_messages(sources: dict[str, str]) -> list[str]:
    """Places where a rule's message template is built at run time (an f-string, `+`, `%`, `.format`)."""
    bad = []
    for path, source in sources.items():
        for name, call in _calls(ast.parse(source)):
            positions = KEYWORDS.get(name)
            if not positions or len(call.args) < positions[0]:
                continue
            arg = call.args[positions[0] - 1]
            if isinstance(arg, ast.JoinedStr | ast.BinOp) or (
                isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "format"
            ):
                bad.append(f"{path}:{call.lineno}")
    return bad


def app_sources() -> dict[str, str]:
    return {
        str(p.relative_to(ROOT)): p.read_text()
        for folder in SOURCES
        for p in sorted((ROOT / folder).rglob("*.py"))
        if "migrations" not in p.parts
    }


def templates() -> dict[str, str]:
    """message id -> where, as Babel's extraction finds them (the keywords of schema.i18n.KEYWORDS)."""
    found = {}
    for folder in SOURCES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / folder, keywords=KEYWORDS, comment_tags=()
        ):
            if isinstance(message, str) and message:
                found.setdefault(message, f"{folder}/{filename}:{lineno}")
    return found


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_payload_error_code_has_an_english_and_an_indonesian_message():
    codes = raised_codes(app_sources())
    assert {"NOT_FOUND", "REQUIRED", "TOO_LONG", "NEGATIVE", "CONFLICT", "TOO_MANY_ATTEMPTS"} <= set(codes)
    no_english = {c: where for c, where in codes.items() if not CODE_MESSAGES.get(c)}
    no_indonesian = {
        c: where for c, where in codes.items() if CODE_MESSAGES.get(c) and not gettext(CODE_MESSAGES[c], INDONESIAN)
    }
    assert no_english == {}, f"codes without an English sentence in schema.i18n.CODE_MESSAGES: {no_english}"
    assert no_indonesian == {}, f"codes without Indonesian in schema/locale/id/LC_MESSAGES/pasar.po: {no_indonesian}"
    assert set(CODE_MESSAGES) - set(codes) == set(), "CODE_MESSAGES names codes no rule raises"


def test_every_message_template_has_its_indonesian_with_the_same_parameters():
    found = templates()
    assert len(found) > 100 and "{label} must be at most {maximum} characters." in found
    missing = {t: where for t, where in found.items() if gettext(t, INDONESIAN) is None}
    assert missing == {}, f"templates without Indonesian: {missing}"
    differ = {t: gettext(t, INDONESIAN) for t in found if placeholders(t) != placeholders(gettext(t, INDONESIAN))}
    assert differ == {}, f"Indonesian with other parameters than its template: {differ}"
    unused = {mid for mid, ctx in CATALOGUES[INDONESIAN] if ctx is None} - set(found)
    assert unused == set(), f"pasar.po translates templates nobody uses: {unused}"


def test_no_rule_builds_its_message_at_run_time():
    assert formatted_messages(app_sources()) == []


def test_the_source_checks_fail_on_bad_input():
    bad = {
        "x.py": 'raise DomainError("SHINY_NEW", f"No {thing}.", "f")\nv.add("f", "OTHER_NEW", "Too " + "big.")\n'
        'UserError(field=None, code="THIRD", message="m")\nraise TooManyAttempts("m", 3)\n'
        'code = "FOURTH" if x else "FIFTH"\nraise DomainError(code, "m.")\n'
    }
    assert set(raised_codes(bad)) == {"SHINY_NEW", "OTHER_NEW", "THIRD", "TOO_MANY_ATTEMPTS", "FOURTH", "FIFTH"}
    assert formatted_messages(bad) == ["x.py:1", "x.py:2"]
    assert placeholders("{a} and Rp{b}.") == {"a", "b"}


# ---------------------------------------------------------------- the language and the rendering


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("", "en"),
        ("id", "id"),
        ("id-ID", "id"),
        ("ID-id", "id"),
        ("id-ID,id;q=0.9,en-US;q=0.8,en;q=0.7", "id"),
        ("en-US,en;q=0.9,id;q=0.8", "en"),
        ("en;q=0.5, id;q=0.9", "id"),
        ("fr-FR, id;q=0.5", "id"),
        ("fr-FR, de", "en"),
        ("id;q=0, en", "en"),
        ("id;q=0", "en"),
        ("*", "en"),
        ("id;q=nonsense", "en"),
    ],
)
def test_the_language_follows_accept_language_with_q_values(header, language):
    assert negotiate(header) == language


def test_parameters_are_rendered_in_each_language():
    params = {"label": Label("items.2.offlineAmount"), "maximum": 1_500_000}
    english = "Offline amount (line 3) must be at most Rp1,500,000."
    item = UserErrorItem.of("items.2.offlineAmount", "TOO_LARGE", "{label} must be at most Rp{maximum}.", params)
    assert item.message == english
    assert message_of(item, "en") == english
    assert message_of(item, "id") == "Jumlah luring (baris 3) paling banyak Rp1.500.000."
    wait = UserErrorItem.of(
        None, "TOO_MANY_ATTEMPTS", "Too many sign-ups from here. Try again in {wait}.", {"wait": Wait(150)}
    )
    assert wait.message == "Too many sign-ups from here. Try again in 3 minutes."
    assert message_of(wait, "id") == "Terlalu banyak pendaftaran dari sini. Coba lagi dalam 3 menit."
    assert str(Wait(45)) == "45 seconds" and str(Wait(61)) == "2 minutes" and str(Wait(120)) == "2 minutes"


def test_an_untranslated_template_falls_back_to_its_codes_indonesian_sentence():
    assert translate("A brand new sentence.", {}, "A brand new sentence.", "NOT_FOUND", "id") == "Tidak ditemukan."
    assert translate("A brand new sentence.", {}, "A brand new sentence.", "NOT_FOUND", "en") == "A brand new sentence."
    assert translate("Brand new.", {}, "Brand new.", "UNHEARD_OF", "id") == "Brand new."  # the test above forbids it


def test_validator_and_domain_error_keep_the_english_message_and_its_template():
    v = Validator()
    v.text("fullName", "x" * 300, max_length=200)
    with pytest.raises(DomainError) as caught:
        v.raise_if_any()
    item = caught.value.errors[0]
    assert (item.field, item.code, item.message) == (
        "fullName",
        "TOO_LONG",
        "Full name must be at most 200 characters.",
    )
    assert message_of(item, "id") == "Nama lengkap paling banyak 200 karakter."
    assert str(caught.value) == item.message
    assert all(gettext(words, INDONESIAN, FIELD_CONTEXT) for words in ("Full name", "Offline amount", "Name"))


# ---------------------------------------------------------------- through the endpoint


def _product(world, **over) -> dict:
    values = {
        "umkmId": gid("Umkm", world.umkm.id),
        "categoryId": gid("Category", world.batik.id),
        "name": "Kain batik tulis",
        "unit": "lembar",
        "price": 250_000,
    }
    return {**values, **over}


async def test_payload_errors_are_indonesian_for_accept_language_id(gql, world):
    bad = _product(world, name="   ", price=-5, description="d" * 6000)
    bodies = {}
    for language, header in (("id", "id-ID,id;q=0.9,en;q=0.8"), ("en", "en-US,en;q=0.9"), ("default", None)):
        headers = {"accept-language": header} if header else {}
        r = await gql.raw(CREATE_PRODUCT, {"i": bad}, world.tokens["owner"], headers=headers)
        bodies[language] = r.json()["data"]["createProduct"]
    assert bodies["id"]["product"] is None
    shape = [(e["field"], e["code"]) for e in bodies["en"]["errors"]]
    assert shape and [(e["field"], e["code"]) for e in bodies["id"]["errors"]] == shape  # codes, fields unchanged
    assert bodies["default"] == bodies["en"]
    id_messages = {e["field"]: e["message"] for e in bodies["id"]["errors"]}
    en_messages = {e["field"]: e["message"] for e in bodies["en"]["errors"]}
    assert id_messages["name"] == "Nama tidak boleh kosong." and en_messages["name"] == "Name must not be empty."
    assert all(id_messages[f] != en_messages[f] for f in id_messages), (id_messages, en_messages)
    assert "Deskripsi paling banyak" in id_messages["description"]


async def test_sign_in_errors_are_indonesian_and_english(gql, world):
    wrong = {"i": {"email": "nobody@pasar.id", "password": "salah-sekali"}}
    r = await gql.raw(LOGIN, wrong, headers={"accept-language": "id"})
    assert r.json()["data"]["login"]["errors"] == [
        {"field": "email", "code": "INVALID_CREDENTIALS", "message": "Email atau kata sandi salah."}
    ]
    assert r.headers["content-language"] == "id" and "accept-language" in r.headers["vary"].lower()
    r = await gql.raw(LOGIN, wrong, headers={"accept-language": "id;q=0.2, en;q=0.9"})
    assert r.json()["data"]["login"]["errors"][0]["message"] == "Email or password is wrong."
    assert r.headers["content-language"] == "en"


async def test_a_domain_error_of_a_query_is_indonesian_too(gql, world):
    query = "query($c: ID!) { underSoldUmkm(categoryId: $c) { totalCount } }"
    missing = {"c": gid("Category", 999_999)}
    r = await gql.raw(query, missing, world.tokens["analyst"], headers={"accept-language": "id"})
    errors = r.json()["errors"]
    assert [(e["extensions"]["code"], e["message"]) for e in errors] == [("NOT_FOUND", "Kategori tidak ditemukan.")]
    r = await gql.raw(query, missing, world.tokens["analyst"])
    assert r.json()["errors"][0]["message"] == "No such category."


async def test_permission_and_argument_errors_are_indonesian_too(gql, world):
    ask = {"accept-language": "id-ID"}
    r = await gql.raw("{ users { totalCount } }", headers=ask)
    assert [(e["extensions"]["code"], e["message"]) for e in r.json()["errors"]] == [("UNAUTHENTICATED", "Masuk dulu.")]
    r = await gql.raw("{ users { totalCount } }", token=world.tokens["owner"], headers=ask)
    assert [(e["extensions"]["code"], e["message"]) for e in r.json()["errors"]] == [
        ("FORBIDDEN", "Peran Anda tidak boleh melakukan ini.")
    ]
    r = await gql.raw("{ products(first: 500) { totalCount } }", headers=ask)
    assert [(e["extensions"]["code"], e["message"]) for e in r.json()["errors"]] == [
        ("BAD_USER_INPUT", "`first` harus antara 1 dan 100; yang diberikan 500.")
    ]
    r = await gql.raw("{ products(first: 500) { totalCount } }")
    assert r.json()["errors"][0]["message"] == "`first` must be between 1 and 100; got 500."
