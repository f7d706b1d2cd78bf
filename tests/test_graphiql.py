"""GraphiQL served by the app itself: its files, its page, its saved operations, and a real browser offline."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

import app as app_module
from app import GRAPHIQL_CSP, GRAPHIQL_DIR, create_app, saved_operations
from schema import schema as strawberry_schema
from tests.browser import (  # noqa: F401 - fixtures
    artifacts,
    browser,
    console_problems,
    demo_server,
    request_urls,
    requests_left_localhost,
    screenshot,
    wait_for,
)
from tests.conftest import TEST_URL

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = sorted((GRAPHIQL_DIR / "operations").glob("*.graphql"))
# The analyst's questions the page opens with, each answered by one saved operation
ANALYST_FIELDS = {"underSoldUmkm", "equityReport", "opdSpending", "omzetCompliance"}


class _Refs(HTMLParser):
    """Every URL a page loads (script src, link href, img src) and its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script: dict[str, str | None] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for name in ("src", "href"):
            if a.get(name):
                self.urls.append(a[name])
        if tag == "script":
            self._in_script = a

    def handle_data(self, data):
        if self._in_script is not None and not self._in_script.get("src") and data.strip():
            if self._in_script.get("type") != "application/json":  # a data block, never run
                self.inline_scripts.append(data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None


# ---------------------------------------------------------------- files and page (no browser)


def test_the_saved_operations_are_there_and_each_validates_against_the_schema():
    sdl = build_schema((ROOT / "schema.graphql").read_text())
    live = strawberry_schema._schema
    fields = set()
    assert OPERATIONS, "no saved operations in static/graphiql/operations"
    for path in OPERATIONS:
        text = path.read_text()
        doc = parse(text)
        for s in (sdl, live):
            assert validate(s, doc) == [], (path.name, validate(s, doc))
        for op in doc.definitions:
            fields |= {sel.name.value for sel in op.selection_set.selections}
        comments = [line for line in text.splitlines() if line.startswith("#")]
        assert len(comments) >= 2, f"{path.name}: say what it answers, in Indonesian and in English"
        variables = [line for line in comments if line.startswith("# variables:")]
        assert len(variables) == 1, f"{path.name}: one '# variables: {{...}}' line"
        json.loads(variables[0][len("# variables:") :])
    assert fields >= ANALYST_FIELDS, ANALYST_FIELDS - fields


def test_a_broken_saved_operation_would_fail_validation():
    doc = parse("query Q($year: Int!) { opdSpending(year: $year) { spend nope } }")
    errors = validate(strawberry_schema._schema, doc)
    assert [e.message.split(".")[0] for e in errors] == ["Cannot query field 'nope' on type 'OpdSpending'"]


def test_saved_operations_become_the_pages_tabs_with_their_variables(tmp_path):
    (tmp_path / "2-b.graphql").write_text('# b\n# variables: {"year": 2026}\nquery B { __typename }\n')
    (tmp_path / "1-a.graphql").write_text("# a\nquery A { __typename }\n")
    tabs = saved_operations(tmp_path)
    assert [t["query"].splitlines()[-1] for t in tabs] == ["query A { __typename }", "query B { __typename }"]
    assert [json.loads(t["variables"]) if t["variables"] else None for t in tabs] == [None, {"year": 2026}]


def test_the_committed_files_match_versions_json():
    manifest = json.loads((GRAPHIQL_DIR / "versions.json").read_text())
    assert {"react", "react-dom", "graphiql", "@graphiql/plugin-explorer"} <= set(manifest)
    for package, entry in manifest.items():
        assert any(name.startswith("LICENSE") for name in entry["files"]), f"{package} without its licence"
        for name, digest in entry["sha256"].items():
            assert hashlib.sha256((GRAPHIQL_DIR / name).read_bytes()).hexdigest() == digest, (package, name)
    assert manifest["react"]["version"].startswith("18.") and manifest["graphiql"]["version"].startswith("3.")


async def test_the_page_loads_only_local_files_and_runs_no_inline_script(http):
    r = await http.get("/graphql", headers={"accept": "text/html"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"] == GRAPHIQL_CSP
    assert "default-src 'self'" in GRAPHIQL_CSP and "unsafe-inline" not in GRAPHIQL_CSP
    refs = _Refs()
    refs.feed(r.text)
    assert refs.inline_scripts == []
    local = [u for u in refs.urls if u != "data:,"]
    assert local and all(u.startswith("/static/graphiql/") for u in local), refs.urls
    for url in local:
        f = await http.get(url)
        assert f.status_code == 200 and f.content, url
    # the saved operations, as one JSON data block
    assert "query OpdSpending($year: Int!)" in r.text and "__PASAR_OPERATIONS__" not in r.text


async def test_a_json_data_block_cannot_be_closed_by_an_operation(tmp_path, monkeypatch):
    (tmp_path / "1.graphql").write_text("# </script><script>alert(1)</script>\nquery A { __typename }\n")
    monkeypatch.setattr(app_module, "GRAPHIQL_DIR", GRAPHIQL_DIR)
    monkeypatch.setattr(app_module, "saved_operations", lambda: saved_operations(tmp_path))
    page = app_module.graphiql_page()
    assert page.count("</script>") == page.count("<script") and "alert(1)" in page


async def test_graphiql_off_serves_neither_the_page_nor_its_files(settings):
    import httpx

    off = create_app(dataclasses.replace(settings, graphiql=False), manage_database=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=off), base_url="http://test") as client:
        page = await client.get("/graphql", headers={"accept": "text/html"})
        assert "graphiql" not in page.text.lower()
        assert (await client.get("/static/graphiql/graphiql.min.js")).status_code == 404


# ---------------------------------------------------------------- a real browser, offline


@pytest.mark.skipif(TEST_URL.startswith("postgres"), reason="browser test runs on SQLite only (the page, not the SQL)")
def test_graphiql_in_a_browser_offline_runs_a_saved_operation(browser, demo_server, artifacts):  # noqa: F811
    from selenium.webdriver.common.by import By

    started = time.monotonic()
    token = demo_server.login("analis@demo.pasar.id")
    browser.get(f"{demo_server.url}/graphql")
    # GraphiQL rendered: the query editor holds the first saved operation, the explorer lists the Query fields
    wait_for(
        browser,
        lambda d: d.find_elements(By.CSS_SELECTOR, "section[aria-label='Query Editor'] .CodeMirror"),
        "the editor",
    )
    wait_for(
        browser,
        lambda d: (
            "opdSpending"
            in (d.execute_script("return document.querySelector('.graphiql-explorer-root')?.innerText") or "")
        ),
        "the explorer with the schema's fields",
    )
    tabs = [t.text for t in browser.find_elements(By.CSS_SELECTOR, ".graphiql-tab")]
    assert tabs[:4] == ["UnderSoldUmkm", "EquityReport", "OpdSpending", "OmzetCompliance"], tabs
    variables = browser.execute_script(
        "return [...document.querySelectorAll('.graphiql-editor:not(.hidden) .CodeMirror')].map(e => e.CodeMirror.getValue())"
    )
    assert any('"categoryId"' in v for v in variables), variables  # the first tab opens with its variables
    screenshot(browser, artifacts, "1-opened")

    # the OpdSpending tab, the analyst's token in the Headers editor, run
    next(t for t in browser.find_elements(By.CSS_SELECTOR, ".graphiql-tab") if t.text == "OpdSpending").click()
    wait_for(
        browser, lambda d: "opdSpending(year" in _editor(d, "section[aria-label='Query Editor']"), "the OpdSpending tab"
    )
    next(
        b for b in browser.find_elements(By.CSS_SELECTOR, ".graphiql-editor-tools button") if b.text == "Headers"
    ).click()
    wait_for(browser, lambda d: _headers_editor_shown(d), "the headers editor")
    browser.execute_script(
        "document.querySelector('section[aria-label=Headers] .graphiql-editor:not(.hidden) .CodeMirror')"
        ".CodeMirror.setValue(arguments[0])",
        json.dumps({"Authorization": f"Bearer {token}"}),
    )
    browser.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()
    result = wait_for(
        browser,
        lambda d: (text := _editor(d, ".result-window")) and '"opdSpending"' in text and text,
        "the result of OpdSpending",
    )
    body = json.loads(result)
    assert "errors" not in body, body
    assert body["data"]["opdSpending"] and all(row["opd"]["name"] for row in body["data"]["opdSpending"])
    screenshot(browser, artifacts, "2-opd-spending-result")

    # nothing left 127.0.0.1, nothing refused by the page's policy, no script error
    urls = request_urls(browser)
    assert any("/static/graphiql/graphiql.min.js" in u for u in urls), urls
    assert requests_left_localhost(urls) == []
    assert console_problems(browser) == []
    print(f"browser test: {time.monotonic() - started:.1f} s after the server was up; screenshots in {artifacts}")


def _editor(driver, container: str) -> str:
    return driver.execute_script(
        "const e = document.querySelector(arguments[0] + ' .CodeMirror'); return e ? e.CodeMirror.getValue() : ''",
        container,
    )


def _headers_editor_shown(driver) -> bool:
    return bool(
        driver.execute_script(
            "const s = document.querySelector('section[aria-label=Headers]'); return s && !s.classList.contains('hidden')"
        )
    )


def test_ci_fails_without_a_browser_instead_of_skipping(monkeypatch):
    from _pytest.outcomes import Failed, Skipped

    from tests import browser as b

    monkeypatch.setattr(b, "CHROMEDRIVER", Path("/nonexistent/chromedriver"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(Failed, match="CI=true and no browser"):
        b.require_browser()
    monkeypatch.delenv("CI")
    with pytest.raises(Skipped, match="chromium-driver"):
        b.require_browser()
    assert os.environ.get("CI") is None
