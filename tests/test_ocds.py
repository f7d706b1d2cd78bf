"""Orders as OCDS 1.1 open data (`/ocds/releases`, `pasar export ocds`): valid against the vendored release package
schema, no personal order, no personal data (phones, bank accounts, the names of people), paged by placing date."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

import demo
from models.accounts import User
from models.orders import Order, OrderKind
from models.registry import Umkm
from tests.conftest import SECRET
from tests.test_analytics import TODAY, buy

HERE = Path(__file__).parent / "ocds"
BASE = "https://standard.open-contracting.org/schema/"
FAR = (TODAY + dt.timedelta(days=1)).isoformat()
NEAR = (TODAY - dt.timedelta(days=30)).isoformat()


def vendored(name: str) -> dict:
    return json.loads((HERE / name).read_text(encoding="utf-8"))


def validator() -> jsonschema.Draft4Validator:
    release = Resource.from_contents(vendored("release-schema.json"), default_specification=DRAFT4)
    registry = Registry().with_resources(
        [(BASE + "1__1__5/release-schema.json", release), (BASE + "1__1__4/release-schema.json", release)]
    )
    return jsonschema.Draft4Validator(
        vendored("release-package-schema.json"),
        registry=registry,
        format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER,
    )


def assert_valid(package: dict) -> None:
    errors = sorted(validator().iter_errors(package), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    for r in package["releases"]:  # date-times that a reader's parser takes (the format checker may be absent)
        dt.datetime.fromisoformat(r["date"])
        for c in r.get("contracts", []):
            for t in c.get("implementation", {}).get("transactions", []):
                assert dt.datetime.fromisoformat(t["date"]).tzinfo is not None


def test_the_vendored_schema_is_the_one_recorded():
    for line in (HERE / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((HERE / name).read_bytes()).hexdigest() == digest, name
    assert vendored("release-package-schema.json")["id"] == BASE + "1__1__5/release-package-schema.json"
    # the schema does refuse what it should: a release without an ocid
    bad = {
        "uri": "http://x.test/p",
        "version": "1.1",
        "publishedDate": "2026-01-01T00:00:00+07:00",
        "publisher": {"name": "x"},
    }
    bad["releases"] = [{"id": "1", "date": "2026-01-01T00:00:00+07:00", "tag": ["award"], "initiationType": "tender"}]
    assert list(validator().iter_errors(bad))


async def all_pages(http, query: str, token: str | None = None) -> tuple[list[dict], list[dict]]:
    """Every page of a range, following `links.next`; the packages and their releases."""
    url = f"/ocds/releases?{query}"
    packages, releases = [], []
    while url:
        r = await http.get(url, headers={"authorization": f"Bearer {token}"} if token else {})
        assert r.status_code == 200, r.text
        body = r.json()
        packages.append(body)
        releases += body["releases"]
        nxt = body.get("links", {}).get("next")
        assert (nxt is None) == ("link" not in r.headers)
        url = None if nxt is None else f"{urlsplit(nxt).path}?{urlsplit(nxt).query}"
        assert len(packages) < 1000
    return packages, releases


async def test_the_demo_year_is_valid_open_data_without_personal_orders_or_personal_data(http):
    await demo.seed_demo()
    personal = await Order.filter(kind=OrderKind.PERSONAL).count()
    public = await Order.filter(kind=OrderKind.OPD).count()
    assert personal > 0 and public > 1000
    packages, releases = await all_pages(http, "limit=500")
    for p in packages:
        assert_valid(p)
    ids = {r["ocid"] for r in releases}
    assert len(ids) == len(releases) == public  # every OPD order of the year, once
    order_ids = {int(o.rsplit("-", 1)[1]) for o in ids}
    assert not order_ids & {i for (i,) in await Order.filter(kind=OrderKind.PERSONAL).values_list("id")}
    assert all(o.startswith("ocds-xxxxxx-pasar-") for o in ids)
    text = json.dumps(packages, ensure_ascii=False)
    phones = {p for (p,) in await Umkm.all().values_list("phone") if p}
    accounts = {a for (a,) in await Umkm.all().values_list("bank_account") if a}
    people = {n for (n,) in await Umkm.all().values_list("owner_name") if n}
    people |= {n for (n,) in await User.all().values_list("full_name") if n}
    people |= {n for (n,) in await Order.exclude(received_by=None).values_list("received_by") if n}
    addresses = {a for (a,) in await Umkm.all().values_list("address") if a}
    assert phones and accounts and people
    leaked = [x for x in phones | accounts | addresses if x in text]
    leaked += [n for n in people if f'"{n}"' in text]  # a whole field holding a person's name
    assert leaked == []
    # the pieces a reader looks for
    paid = [r for r in releases if r["awards"][0]["status"] == "active" and "contracts" in r]
    assert paid
    some = next(r for r in paid if r["contracts"][0].get("implementation", {}).get("transactions"))
    supplier = next(p for p in some["parties"] if "supplier" in p["roles"])
    assert supplier["identifier"]["scheme"] == "ID-NIB" and len(supplier["identifier"]["id"]) == 13
    assert set(supplier["address"]) == {"locality", "region", "countryName"}
    assert some["contracts"][0]["implementation"]["milestones"][0]["type"] == "delivery"
    assert some["contracts"][0]["implementation"]["transactions"][0]["value"]["currency"] == "IDR"


async def test_pages_follow_one_another_without_gaps_or_repeats(gql, http, world):
    for _ in range(3):
        await buy(gql, world, world.product, 1)
    await buy(gql, world, world.other_product, 1, deliver=False)
    await buy(gql, world, world.product, 1, token="employee")  # personal: never published
    packages, releases = await all_pages(http, f"from={NEAR}&to={FAR}&limit=2")
    assert [len(p["releases"]) for p in packages] == [2, 2]
    numbers = [r["awards"][0]["title"] for r in releases]
    expected = [n for (n,) in await Order.filter(kind=OrderKind.OPD).order_by("created_at", "id").values_list("number")]
    assert numbers == expected and len(expected) == 4
    for p in packages:
        assert_valid(p)
    text = json.dumps(packages)
    assert "081234567890" not in text and "0011223344" not in text and "Pak " not in text
    assert '"TU"' not in text and "Jimerto" not in text and "SP2D" not in text  # receiver, address, reference
    # signed in or not, the same data
    _p, as_admin = await all_pages(http, f"from={NEAR}&to={FAR}&limit=2", world.tokens["admin"])
    assert [r["ocid"] for r in as_admin] == [r["ocid"] for r in releases]
    # a range that holds none of them: no package (OCDS 1.1 wants at least one release) but a clear refusal
    r = await http.get("/ocds/releases?from=2020-01-01&to=2020-12-31")
    assert r.status_code == 400, r.text
    error = r.json()["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "from"}
    assert error["message"].startswith("No published order was placed from 2020-01-01 to 2020-12-31")


async def test_a_range_without_published_orders_is_refused_not_an_invalid_package(gql, http, world):
    """An OCDS 1.1 release package holds at least one release: a range with no order, or only personal orders (never
    published), or `from` after `to`, is a 400 with the reason; a range with one published order is a valid
    package of one release."""
    empty = await http.get(f"/ocds/releases?from={NEAR}&to={FAR}")
    assert empty.status_code == 400 and "No published order" in empty.json()["errors"][0]["message"]
    await buy(gql, world, world.product, 1, token="employee")  # personal: never published
    personal_only = await http.get(f"/ocds/releases?from={NEAR}&to={FAR}")
    assert personal_only.status_code == 400 and "No published order" in personal_only.text
    backwards = await http.get(f"/ocds/releases?from={FAR}&to={NEAR}")
    assert backwards.status_code == 400
    assert backwards.json()["errors"][0] == {
        "message": "`from` is after `to`.",
        "extensions": {"code": "BAD_USER_INPUT", "field": "from"},
    }
    await buy(gql, world, world.product, 1)
    packages, releases = await all_pages(http, f"from={NEAR}&to={FAR}")
    assert len(packages) == 1 and len(releases) == 1
    assert_valid(packages[0])


@pytest.mark.parametrize(
    "query",
    [
        "from=2025-01-01&to=2026-06-01",
        "from=2026-02-01&to=2026-01-01",
        "from=1999-01-01&to=1999-02-01",
        "limit=0",
        "limit=501",
        "cursor=xyz",
        "from=yesterday",
        "page=2",
        "limit=1&limit=2",
    ],
)
async def test_bad_ranges_and_cursors_are_refused(http, query):
    r = await http.get(f"/ocds/releases?{query}")
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_the_command_line_writes_what_the_endpoint_serves(gql, http, world, database_url, tmp_path):
    """`pasar export ocds`: one package with every release of the range, the same as the endpoint's pages."""
    await buy(gql, world, world.product, 2)
    await buy(gql, world, world.other_product, 1, pay=False)
    await buy(gql, world, world.product, 1, token="employee")
    _p, served = await all_pages(http, f"from={NEAR}&to={FAR}&limit=1")
    out = tmp_path / "ocds.json"
    env = {**os.environ, "DATABASE_URL": database_url, "PASAR_SECRET": SECRET}
    root = Path(__file__).parent.parent

    def pasar(*args: str, **extra: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "app", "export", "ocds", *args]
        return subprocess.run(command, env={**env, **extra}, capture_output=True, text=True, timeout=300, cwd=root)

    r = await asyncio.to_thread(pasar, "--from", NEAR, "--to", FAR, "--output", str(out))
    assert r.returncode == 0, r.stderr
    package = json.loads(out.read_text(encoding="utf-8"))
    assert_valid(package)
    assert package["uri"].endswith(f"/ocds/releases?from={NEAR}&to={FAR}")
    assert [{**x, "date": None} for x in package["releases"]] == [{**x, "date": None} for x in served]
    assert len(served) == 2
    other = await asyncio.to_thread(pasar, "--from", NEAR, "--to", FAR, PASAR_OCID_PREFIX="ocds-ab12cd-sby")
    assert other.returncode == 0 and '"ocid": "ocds-ab12cd-sby-' in other.stdout
    bad = await asyncio.to_thread(pasar, "--from", "2024-01-01", "--to", "2026-01-01")
    assert bad.returncode != 0 and "At most 366 days" in bad.stderr
    # a range without published orders, and one backwards: an error and nothing written (no half a package)
    for args, reason in (
        (("--from", "2020-01-01", "--to", "2020-12-31"), "No published order was placed from 2020-01-01"),
        (("--from", FAR, "--to", NEAR), "`from` is after `to`"),
    ):
        refused = tmp_path / "refused.json"
        r = await asyncio.to_thread(pasar, *args, "--output", str(refused))
        assert r.returncode == 1 and reason in r.stderr, (args, r.stderr)
        assert not refused.exists()
        r = await asyncio.to_thread(pasar, *args)
        assert r.returncode == 1 and reason in r.stderr and r.stdout == ""
    wrong = await asyncio.to_thread(pasar, PASAR_OCID_PREFIX="my prefix")
    assert wrong.returncode == 2 and "PASAR_OCID_PREFIX" in wrong.stderr
