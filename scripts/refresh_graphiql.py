"""Refresh GraphiQL's files in static/graphiql/ from the npm registry (run by hand; the app never downloads).

    python scripts/refresh_graphiql.py            # the pinned versions below
    python scripts/refresh_graphiql.py --check    # verify the committed files against static/graphiql/versions.json

Each package's tarball is fetched from the registry, checked against the `dist.integrity` the registry publishes
for that version, and only the files the page needs are copied out, with their licence. Every copied file's SHA-256
is written to `versions.json`, which `--check` (and tests/test_graphiql.py) compare with the files on disk.

The versions are pinned to the last ones that ship UMD builds (a `<script>` the browser runs without a bundler):
GraphiQL 3 and React 18. Change a version here, run the script, open /graphql, run tests/test_graphiql.py, and
commit the result.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
TARGET = Path(__file__).resolve().parent.parent / "static" / "graphiql"

# package, version, {file in the tarball: name in static/graphiql/}
PACKAGES: list[tuple[str, str, dict[str, str]]] = [
    (
        "react",
        "18.3.1",
        {"package/umd/react.production.min.js": "react.production.min.js", "package/LICENSE": "LICENSE.react"},
    ),
    (
        "react-dom",
        "18.3.1",
        {
            "package/umd/react-dom.production.min.js": "react-dom.production.min.js",
            "package/LICENSE": "LICENSE.react-dom",
        },
    ),
    (
        "graphiql",
        "3.8.3",
        {
            "package/graphiql.min.js": "graphiql.min.js",
            "package/graphiql.min.css": "graphiql.min.css",
            "package/LICENSE": "LICENSE.graphiql",
        },
    ),
    (
        "@graphiql/plugin-explorer",
        "3.2.5",
        {"package/dist/index.umd.js": "plugin-explorer.umd.js", "package/dist/style.css": "plugin-explorer.css"},
    ),
]
# @graphiql/plugin-explorer ships no licence file: its package.json says MIT, and it comes from the same repository
# (the GraphiQL monorepo) as graphiql, whose LICENSE is the one that applies; written beside it by this script.
EXPLORER_LICENCE_NOTE = """@graphiql/plugin-explorer {version}: licence MIT (its package.json).

The package ships no licence file. It is published from the GraphiQL monorepo, under the same licence as
graphiql (see LICENSE.graphiql, copied below). It bundles graphiql-explorer, also MIT licensed.

"""


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as r:
        return r.read()


def _tarball(package: str, version: str) -> bytes:
    meta = json.loads(_get(f"{REGISTRY}/{package}/{version}"))
    data = _get(meta["dist"]["tarball"])
    algorithm, _, expected = meta["dist"]["integrity"].partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        sys.exit(f"{package}@{version}: the tarball does not match the registry's integrity {algorithm}")
    return data


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refresh() -> None:
    TARGET.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, dict] = {}
    for package, version, files in PACKAGES:
        print(f"{package}@{version}")
        with tarfile.open(fileobj=io.BytesIO(_tarball(package, version)), mode="r:gz") as tar:
            for member, name in files.items():
                extracted = tar.extractfile(member)
                if extracted is None:
                    sys.exit(f"{package}@{version}: {member} is not in the tarball")
                (TARGET / name).write_bytes(extracted.read())
        manifest[package] = {"version": version, "files": sorted(files.values())}
    explorer = next(v for p, v, _ in PACKAGES if p == "@graphiql/plugin-explorer")
    note = EXPLORER_LICENCE_NOTE.format(version=explorer) + (TARGET / "LICENSE.graphiql").read_text()
    (TARGET / "LICENSE.plugin-explorer").write_text(note)
    manifest["@graphiql/plugin-explorer"]["files"].append("LICENSE.plugin-explorer")
    for entry in manifest.values():
        entry["sha256"] = {name: sha256(TARGET / name) for name in entry["files"]}
    (TARGET / "versions.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"written to {TARGET}")


def check() -> list[str]:
    """Files that differ from versions.json (empty when all match)."""
    manifest = json.loads((TARGET / "versions.json").read_text())
    return [
        f"{package}: {name}"
        for package, entry in manifest.items()
        for name, digest in entry["sha256"].items()
        if not (TARGET / name).is_file() or sha256(TARGET / name) != digest
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify the committed files, download nothing")
    if parser.parse_args().check:
        bad = check()
        print("\n".join(bad) or "static/graphiql matches versions.json")
        sys.exit(1 if bad else 0)
    refresh()


if __name__ == "__main__":
    main()
