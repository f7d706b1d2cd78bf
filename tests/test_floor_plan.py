"""The floor plan: imports run one way between the layers and one way inside each layer.

Layers, top to bottom: app.py -> exports/ -> demo/ -> schema/ -> resolvers/ -> models/. A module may import from its own layer or
any layer below; never from a layer above, and never in a cycle with other modules (inside a layer too). Edges are
read from the source, not from a running interpreter: `import` and `from … import` anywhere in a module (a
function-level import is an edge as well, and is refused on its own, see below), `importlib.import_module("…")`,
`__import__("…")` and `strawberry.lazy("…")`. A lazy reference is the one way two GraphQL types that refer to each
other can live in different modules; each one is named in `LAZY_TYPE_REFERENCES` and left out of the cycle check.
Imports inside functions are refused in app code (ruff's PLC0415 is on for it; tests, bench/ and migrations are
excepted), and so is a `noqa` that silences it.

The checks are pure functions over {module name: source}; the synthetic cases at the bottom show each one failing.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {"app": 6, "exports": 5, "demo": 4, "schema": 3, "resolvers": 2, "models": 1}
EXCLUDED = ("models/migrations/",)

# (importing module, module referred to, GraphQL type): the only lazy references allowed.
LAZY_TYPE_REFERENCES = {
    ("schema.registry", "schema.analytics", "PurchaseCategory"),  # Opd.purchaseCategories; OpdSpending.opd: Opd
}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    kind: str  # import, import_module, __import__, lazy
    nested: bool = False  # inside a function or class body
    lazy_type: str | None = None


def app_sources(root: Path = ROOT) -> dict[str, str]:
    """Every module of the app's layers, by dotted name."""
    out = {"app": (root / "app.py").read_text(encoding="utf-8")}
    for layer in LAYERS:
        folder = root / layer
        if layer == "app" or not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel.startswith(EXCLUDED):
                continue
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path.read_text(encoding="utf-8")
    return out


def _resolve(module: str, is_package: bool, name: str | None, level: int) -> str:
    if not level:
        return name or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


def _call_name(node: ast.Call) -> str:
    f = node.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        return f.attr
    return ""


def edges_of(module: str, source: str, modules: set[str], packages: set[str]) -> list[Edge]:
    """The edges from `module` to other modules of the set."""
    tree = ast.parse(source)
    found: list[Edge] = []

    def add(target: str, line: int, kind: str, nested: bool, lazy_type: str | None = None) -> None:
        # `from pkg import mod` names a module; `from pkg.mod import name` names its module
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != module:
            found.append(Edge(module, target, line, kind, nested, lazy_type))

    def visit(node: ast.AST, nested: bool, annotation_name: str | None = None) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno, "import", nested)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, module in packages, node.module, node.level)
            for alias in node.names:
                full = f"{base}.{alias.name}" if base else alias.name
                add(full if full in modules else base, node.lineno, "import", nested)
        elif isinstance(node, ast.Call):
            name = _call_name(node)
            arg = node.args[0] if node.args else None
            if name in ("import_module", "__import__", "lazy") and isinstance(arg, ast.Constant):
                if isinstance(arg.value, str):
                    kind = "lazy" if name == "lazy" else name
                    add(arg.value, node.lineno, kind, nested, annotation_name if kind == "lazy" else None)
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple) and node.slice.elts:
            first = node.slice.elts[0]  # Annotated["Type", strawberry.lazy("module")]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                annotation_name = first.value
        inner = nested or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for child in ast.iter_child_nodes(node):
            visit(child, inner, annotation_name)

    for top in tree.body:
        visit(top, isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef))
    return found


def graph(sources: dict[str, str]) -> list[Edge]:
    modules = set(sources)
    packages = {m for m in modules if any(o.startswith(m + ".") for o in modules)}
    return [e for name, src in sorted(sources.items()) for e in edges_of(name, src, modules, packages)]


def layer(module: str) -> int:
    return LAYERS[module.split(".")[0]]


def upward(edges: list[Edge]) -> list[str]:
    return [
        f"{e.source}:{e.line} imports {e.target} ({e.kind}), a layer above"
        for e in edges
        if layer(e.target) > layer(e.source)
    ]


def unnamed_lazy(edges: list[Edge], allowed: set[tuple[str, str, str]] = LAZY_TYPE_REFERENCES) -> list[str]:
    seen = {(e.source, e.target, e.lazy_type) for e in edges if e.kind == "lazy"}
    out = [f"{s}:{t} lazy reference to {ty!r} is not named in LAZY_TYPE_REFERENCES" for s, t, ty in seen - allowed]
    out += [f"{s} -> {t} {ty!r} is named in LAZY_TYPE_REFERENCES but does not exist" for s, t, ty in allowed - seen]
    return sorted(out)


def nested_imports(edges: list[Edge], sources: dict[str, str]) -> list[str]:
    out = [
        f"{e.source}:{e.line} imports {e.target} inside a function" for e in edges if e.nested and e.kind == "import"
    ]
    out = list(dict.fromkeys(out))  # one line per import statement and module
    for name, src in sources.items():
        for no, text in enumerate(src.splitlines(), start=1):
            if "noqa" in text and "PLC0415" in text:
                out.append(f"{name}:{no} silences PLC0415")
    return out


def cycles(edges: list[Edge]) -> list[list[str]]:
    """Strongly connected components of more than one module (or a module importing itself), lazy edges aside."""
    adj: dict[str, set[str]] = {}
    for e in edges:
        if e.kind != "lazy":
            adj.setdefault(e.source, set()).add(e.target)
            adj.setdefault(e.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def strong(v: str) -> None:  # Tarjan
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(adj[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in adj[v]:
                out.append(sorted(comp))

    for v in sorted(adj):
        if v not in index:
            strong(v)
    return out


def violations(sources: dict[str, str], lazy: set[tuple[str, str, str]] = LAZY_TYPE_REFERENCES) -> list[str]:
    edges = graph(sources)
    out = upward(edges) + unnamed_lazy(edges, lazy) + nested_imports(edges, sources)
    out += [f"import cycle: {' -> '.join(c)}" for c in cycles(edges)]
    return out


# ---------------------------------------------------------------- the repository


def test_the_repository_keeps_its_floor_plan():
    sources = app_sources()
    assert {"app", "exports.tables", "schema", "resolvers.ranking", "resolvers.categories", "models.query"} <= set(
        sources
    )
    assert violations(sources) == []


def test_the_ranking_is_reached_one_way():
    """fairness -> fairness_snapshot -> ranking -> categories, and the ground floor imports no domain module."""
    edges = graph(app_sources())
    out = {}
    for e in edges:
        out.setdefault(e.source, set()).add(e.target)
    assert "resolvers.fairness_snapshot" in out["resolvers.fairness"]
    assert "resolvers.ranking" in out["resolvers.fairness_snapshot"]
    assert "resolvers.categories" in out["resolvers.ranking"]
    for ground in ("resolvers.categories", "resolvers.invalidation", "resolvers.common", "resolvers.fairness_policy"):
        assert {t for t in out.get(ground, set()) if t.startswith("resolvers.")} == set(), ground


# ---------------------------------------------------------------- the checks fail when they should


BASE = {
    "app": "import schema\n",
    "schema": "from schema import catalog\n",
    "schema.catalog": "from resolvers import catalog\n",
    "resolvers": "",
    "resolvers.catalog": "from resolvers.categories import category_subtree\nfrom models.catalog import Product\n",
    "resolvers.categories": "from models.registry import Category\n",
    "models": "",
    "models.catalog": "from models.base import X\n",
    "models.registry": "from models.base import X\n",
    "models.base": "",
}


def test_synthetic_base_is_clean():
    assert violations(BASE, set()) == []


def test_an_upward_import_fails():
    bad = {**BASE, "models.catalog": "from resolvers.catalog import something\n"}
    assert violations(bad, set())[0].startswith("models.catalog:1 imports resolvers.catalog")
    bad = {**BASE, "resolvers.categories": "import importlib\nS = importlib.import_module('schema.catalog')\n"}
    assert any("schema.catalog (import_module)" in v for v in violations(bad, set()))
    bad = {**BASE, "models.base": "X = __import__('app')\n"}
    assert any("imports app (__import__)" in v for v in violations(bad, set()))


def test_a_cycle_fails_inside_a_layer():
    bad = {**BASE, "resolvers.categories": "from resolvers import catalog\n"}
    assert "import cycle: resolvers.catalog -> resolvers.categories" in violations(bad, set())
    three = {
        **BASE,
        "models.base": "from models import registry\n",
        "models.registry": "from models.catalog import Product\n",
        "models.catalog": "import models.base\n",
    }
    assert "import cycle: models.base -> models.catalog -> models.registry" in violations(three, set())


def test_a_function_level_import_fails_and_so_does_silencing_it():
    bad = {**BASE, "resolvers.catalog": "def f():\n    from resolvers.categories import category_subtree\n"}
    assert violations(bad, set()) == ["resolvers.catalog:2 imports resolvers.categories inside a function"]
    bad = {**BASE, "models.base": "def f():\n    import json  # noqa: PLC0415\n"}
    assert violations(bad, set()) == ["models.base:2 silences PLC0415"]


def test_a_lazy_reference_must_be_named():
    lazy = 'from typing import Annotated\nimport strawberry\nT = Annotated["Thing", strawberry.lazy("schema")]\n'
    edges = graph({**BASE, "schema.catalog": lazy})
    assert unnamed_lazy(edges, set()) == [
        "schema.catalog:schema lazy reference to 'Thing' is not named in LAZY_TYPE_REFERENCES"
    ]
    assert unnamed_lazy(edges, {("schema.catalog", "schema", "Thing")}) == []
    # ... a lazy edge is no cycle, but an upward one is still refused
    assert cycles(edges) == []
    up = graph({**BASE, "models.base": lazy.replace('"schema"', '"app"')})
    assert upward(up) == ["models.base:3 imports app (lazy), a layer above"]
