"""The repository is self-contained: its text never points outside it.

Two checks over every tracked file (`git ls-files`; binary files are skipped, and so are tracked files deleted from
the working tree):

(a) No reference to the old design notes that lived beside the repository (a `shared` folder one level up, with
    its `guide`) and no "issue N": someone who clones the project has neither. The documents that replace them are
    in `docs/` (see `docs/ARCHITECTURE.md`).

(b) Every Markdown file named anywhere (`README.md`, `docs/FAIRNESS.md`, `bench/README.md#section`, ...) exists in
    the repository. The rule, in order:

    1. A name inside an absolute URL (`https://...`, `http://...`, `www....`) is not checked: it names a page on
       another site, not a file of this tree, and no test can reach it offline.
    2. A name with a folder part (`docs/API.md`, `../README.md`) must resolve as written: relative to the folder of
       the file that names it, else relative to the repository root; a path that leaves the repository fails.
    3. A bare name (`FAIRNESS.md`) resolves like 2., else by its basename: it passes when exactly one tracked file
       has that name (`FAIRNESS.md` -> `docs/FAIRNESS.md`); none, or several, fail (then write the folder).

    Names are matched case-sensitively, as git and Linux see them. Add new files with `git add` before running.
    Third-party files copied as they are (those listed in `static/graphiql/versions.json`: GraphiQL, React) are
    not read by (b): their code has properties named `md` (of `this`, of `state`) that read like file names.

Each check is a plain function; the synthetic tests at the end show that each one fails on a bad input. These
tests need no database: the two autouse database fixtures of `tests/conftest.py` are overridden here.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parent.parent
MD = ".m" + "d"  # spelled in two pieces so that this file does not name Markdown files it only talks about

# (a) The parts are joined at run time so that this file does not match its own pattern.
OUTSIDE = re.compile(
    "|".join((r"shared/" + "guide", r"\.\./" + "shared", r"\bissue" + r" [0-9]")),
    re.IGNORECASE,
)

# (b) A Markdown file name: optional folders, a name, `.md`, not followed by a word character (`.mdx`, `.md5`).
# The look-behind keeps a match from starting in the middle of a longer name or path.
MD_NAME = re.compile(r"(?<![\w./~-])((?:\.{1,2}/|[\w.-]+/)*[\w-][\w.-]*" + re.escape(MD) + r")(?!\w)")
URL = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)\S+", re.IGNORECASE)


@pytest.fixture
def database():
    """Overrides the session database of conftest: these checks read files only."""
    return None


@pytest.fixture
def clean_db():
    """Overrides conftest's per-test emptying of the database: there is none here."""
    return None


# ---------------------------------------------------------------- the checks, as plain functions


def tracked_files() -> list[str]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip(f"not a git checkout ({e}): nothing to list")
    return sorted(p for p in out.split("\0") if p)


def read_text(path: str) -> str | None:
    """The file's text, or None for a binary file or one deleted from the working tree."""
    try:
        data = (ROOT / path).read_bytes()
    except FileNotFoundError:
        return None
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def outside_references(text: str) -> list[tuple[int, str]]:
    """(line number, line) of each line that points outside the repository."""
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if OUTSIDE.search(line)]


def markdown_names(text: str) -> list[tuple[int, str]]:
    """(line number, name) of each Markdown file named outside a URL."""
    found = []
    for n, line in enumerate(text.splitlines(), start=1):
        without_urls = URL.sub(" ", line)
        found.extend((n, m.group(1)) for m in MD_NAME.finditer(without_urls))
    return found


def resolve(name: str, referrer: str, tracked: set[str]) -> str | None:
    """The tracked file a name refers to, by the rule of the module docstring; None if there is none."""
    for base in (PurePosixPath(referrer).parent, PurePosixPath(".")):
        parts: list[str] = []
        for part in (base / name).parts:
            if part == "..":
                if not parts:
                    break  # leaves the repository
                parts.pop()
            elif part != ".":
                parts.append(part)
        else:
            candidate = "/".join(parts)
            if candidate in tracked:
                return candidate
    if "/" not in name:
        matches = [t for t in tracked if PurePosixPath(t).name == name]
        if len(matches) == 1:
            return matches[0]
    return None


def missing_markdown(text: str, referrer: str, tracked: set[str]) -> list[tuple[int, str]]:
    """(line number, name) of each Markdown file the text names that does not resolve."""
    return [(n, name) for n, name in markdown_names(text) if resolve(name, referrer, tracked) is None]


# ---------------------------------------------------------------- the repository


def test_nothing_points_to_the_old_notes_outside_the_repository_or_to_issue_numbers():
    hits = []
    for path in tracked_files():
        text = read_text(path)
        if text is not None:
            hits.extend(f"{path}:{n}: {line[:160]}" for n, line in outside_references(text))
    assert not hits, "references outside the repository:\n" + "\n".join(hits)


def vendored_files() -> set[str]:
    """Third-party files copied in as they are (scripts/refresh_graphiql.py lists them in versions.json)."""
    manifest = json.loads((ROOT / "static" / "graphiql" / "versions.json").read_text())
    return {f"static/graphiql/{name}" for entry in manifest.values() for name in entry["files"]}


def test_every_markdown_file_named_in_the_repository_exists():
    files = tracked_files()
    tracked = set(files)
    assert "README" + MD in tracked
    vendored = vendored_files()
    assert "static/graphiql/graphiql.min.js" in vendored
    hits = []
    for path in (f for f in files if f not in vendored):
        text = read_text(path)
        if text is not None:
            hits.extend(f"{path}:{n}: {name}" for n, name in missing_markdown(text, path, tracked))
    assert not hits, "Markdown files named but not in the repository:\n" + "\n".join(hits)


def test_the_documents_the_readme_promises_are_there():
    tracked = set(tracked_files())
    for name in ("ARCHITECTURE", "DOMAIN", "API", "FAIRNESS"):
        assert f"docs/{name}{MD}" in tracked, name
    assert "CONTRIBUTING" + MD in tracked


# ---------------------------------------------------------------- each check fails on a bad input


def test_outside_references_are_found_in_a_fake_text():
    old_notes = "/".join(("..", "shared", "guide", "API" + MD))
    text = f"line one\nWho may read what: see `{old_notes}`.\nfine\nThe gate of Issue {6} is met.\nissue_token(x)\n"
    assert [n for n, _line in outside_references(text)] == [2, 4]
    assert outside_references("see docs/API" + MD + ", the tissue 6 times, issues 6") == []


def test_markdown_names_are_read_outside_urls_only():
    text = (
        f"See docs/API{MD}#conventions and (FAIRNESS{MD}), `bench/README{MD}`.\n"
        f"Not names: *{MD} files, notes{MD}x, https://example.org/guide/NOWHERE{MD}, www.example.org/X{MD}\n"
        f"Up: ../README{MD}\n"
    )
    assert markdown_names(text) == [
        (1, f"docs/API{MD}"),
        (1, f"FAIRNESS{MD}"),
        (1, f"bench/README{MD}"),
        (3, f"../README{MD}"),
    ]


def test_missing_markdown_names_are_found_in_a_fake_text():
    tracked = {f"README{MD}", f"docs/API{MD}", f"docs/FAIRNESS{MD}", f"bench/README{MD}", "bench/sim/world.py"}
    good = f"docs/API{MD}, FAIRNESS{MD}, ../README{MD} from bench/, README{MD} (the one next to this file)"
    assert missing_markdown(good, "bench/sim/world.py", tracked) == []
    assert resolve(f"README{MD}", "bench/sim/world.py", tracked) == f"README{MD}"  # the root's, by rule 2
    assert resolve(f"README{MD}", "bench/x.py", tracked) == f"bench/README{MD}"  # the neighbour comes first
    assert resolve(f"../README{MD}", "bench/x.py", tracked) == f"README{MD}"
    bad = "\n".join(
        (
            f"NOWHERE{MD}",  # no such file
            f"docs/NOWHERE{MD}",  # no such file
            f"guide/API{MD}",  # a folder part must resolve as written: no basename fallback
            f"../../API{MD}",  # leaves the repository
        )
    )
    assert missing_markdown(bad, f"README{MD}", tracked) == [
        (1, f"NOWHERE{MD}"),
        (2, f"docs/NOWHERE{MD}"),
        (3, f"guide/API{MD}"),
        (4, f"../../API{MD}"),
    ]
    ambiguous = tracked | {f"docs/README{MD}"}
    assert resolve(f"README{MD}", "tests/x.py", ambiguous) == f"README{MD}"  # the root's, by rule 2
    ambiguous |= {f"docs/NOTES{MD}", f"bench/NOTES{MD}"}
    assert missing_markdown(f"NOTES{MD}", "tests/x.py", ambiguous) == [(1, f"NOTES{MD}")]  # two basenames: unclear
