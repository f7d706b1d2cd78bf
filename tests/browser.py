"""Browser tests' fixtures: headless Chromium from Debian's packages, driven by Selenium, against the real server.

Use them from a test module with `from tests.browser import artifacts, browser, demo_server  # noqa: F401` (and
`# noqa: F811` on the test that takes them as arguments; tests/test_graphiql.py shows how).

- `demo_server`: `pasar serve --demo` on a free port of 127.0.0.1, on a fresh database of the engine under test,
  started once per session; `.url`, `.port`, `.login(email)` (a token, by the demo password).
- `browser`: a Chrome session (`selenium.webdriver.Chrome`) that can reach 127.0.0.1 and nothing else: every other
  host name resolves to nothing (`--host-resolver-rules`), Chromium's own background traffic is off, and
  `requests_left_localhost(driver)` lists any request the page made elsewhere (from the performance log).
- `artifacts`: a folder for screenshots, `$PASAR_TEST_ARTIFACTS/<test name>` or under the test's tmp path; its path
  is printed (`pytest -s` shows it; the CI log keeps it).

The browser and its driver come from Debian (`apt-get install chromium chromium-driver`, done by .ci/run). Selenium
is given the driver's path, so Selenium Manager never runs and downloads nothing. Without them a test is skipped
with the reason, except under `CI=true`, where a missing browser fails the run.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import fresh_database
from tests.test_cli import HTTP_TIMEOUT, serving_demo

CHROMIUM = Path(os.environ.get("PASAR_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("PASAR_CHROMEDRIVER", "/usr/bin/chromedriver"))
DEMO_PASSWORD = "pasar-demo-2026"  # demo/seed.py
UI_TIMEOUT = 120  # seconds a page may take to show something on a loaded machine: a ceiling, not an expectation
LOCAL_HOSTS = {"127.0.0.1"}


def missing_browser() -> str | None:
    """Why no browser test can run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (path.is_file() and os.access(path, os.X_OK)):
            return f"{path} is missing (apt-get install -y {package})"
    return None


def require_browser() -> None:
    """Skip without a browser; under CI=true fail instead: CI installs it, so its absence is a broken CI."""
    why = missing_browser()
    if why is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and no browser: {why}")
    pytest.skip(f"no browser: {why}")


def chrome_options(log_performance: bool = True):
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--window-size=1400,900",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        "--lang=id-ID",
    ):
        options.add_argument(arg)
    if log_performance:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return options


@pytest.fixture
def browser() -> Iterator:
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=chrome_options())
    driver.set_page_load_timeout(UI_TIMEOUT)
    try:
        yield driver
    finally:
        driver.quit()


def request_urls(driver) -> list[str]:
    """Every URL the browser asked for since the last call (the performance log is drained by reading it)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
        elif message.get("method") == "Network.webSocketCreated":
            urls.append(message["params"]["url"])
    return urls


def requests_left_localhost(urls: list[str]) -> list[str]:
    """The URLs that went anywhere but 127.0.0.1 (data: URLs stay in the page)."""
    return [u for u in urls if not u.startswith("data:") and urlsplit(u).hostname not in LOCAL_HOSTS]


def console_problems(driver) -> list[str]:
    """Console errors: a script that failed, a refused Content-Security-Policy, a resource not found."""
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def wait_for(driver, condition, what: str, timeout: float = UI_TIMEOUT):
    """Poll `condition(driver)` until it is truthy; fail naming `what` otherwise."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.25).until(condition)
    except TimeoutException:
        pytest.fail(f"the page did not show {what} within {timeout:.0f} s")


@pytest.fixture
def artifacts(request, tmp_path) -> Path:
    base = os.environ.get("PASAR_TEST_ARTIFACTS")
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    folder = Path(base) / name if base else tmp_path / "artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nbrowser artefacts (screenshots): {folder}")
    return folder


@dataclass
class DemoServer:
    url: str
    port: int
    log: Path

    def login(self, email: str) -> str:
        body = httpx.post(
            f"{self.url}/graphql",
            json={
                "query": "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }",
                "variables": {"e": email, "p": DEMO_PASSWORD},
            },
            timeout=HTTP_TIMEOUT,
        ).json()
        token = body["data"]["login"]["token"]
        assert token, body
        return token


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory) -> Iterator[DemoServer]:
    """`pasar serve --demo` on a fresh database, once per session (seeding takes a while)."""
    require_browser()  # no server for tests that will not run
    folder = tmp_path_factory.mktemp("demo-server")
    with fresh_database(folder) as url, serving_demo(url, folder) as (port, log):
        yield DemoServer(url=f"http://127.0.0.1:{port}", port=port, log=log)


def screenshot(driver, folder: Path, name: str) -> Path:
    path = folder / f"{time.strftime('%H%M%S')}-{name}.png"
    driver.save_screenshot(str(path))
    return path
