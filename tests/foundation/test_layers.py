"""Layers go one way (docs/architecture.md): every module under apps/ and gamingpanel/ is parsed
with `ast`; an import of an app on the same line or above in the doc's list, or any import cycle
between modules, fails the test and is named.

What counts as an import: `import` and `from … import` anywhere in a module (inside functions
too) and `importlib.import_module` with a constant name. A computed name cannot be followed, so it
is allowed on the top line only. Imports under `if TYPE_CHECKING:` never run: they are left out
of the cycle rule but still obey the layers. `from package import name` counts as importing the
submodule when `name` is one, else the package itself.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("apps", "gamingpanel")
ARCHITECTURE = ROOT / "docs" / "architecture.md"


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # a dotted module name, or "" when import_module's name is computed
    line: int
    type_only: bool  # under `if TYPE_CHECKING:`


@dataclass(frozen=True)
class Module:
    source: str
    is_package: bool


def read_layers(text: str) -> list[list[str]]:
    """The numbered list under "## Layers": each line's `names` are one layer, lowest first."""
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    layers = [re.findall(r"`([\w.]+)`", line.split(" — ")[0]) for line in section.splitlines()]
    numbered = [
        names
        for line, names in zip(section.splitlines(), layers, strict=True)
        if re.match(r"\d+\. ", line)
    ]
    assert numbered, "docs/architecture.md lists no layers"
    return numbered


def unit_package(unit: str) -> str:
    """`accounts` names the app apps.accounts; dotted project names stand for themselves."""
    return unit if unit.startswith("gamingpanel") else f"apps.{unit}"


def unit_of(module: str, layers: list[list[str]]) -> tuple[str, int] | None:
    """The most specific unit of the doc that holds this module, and its layer."""
    found = [
        (unit, level)
        for level, units in enumerate(layers)
        for unit in units
        if module == unit_package(unit) or module.startswith(unit_package(unit) + ".")
    ]
    return max(found, key=lambda pair: len(pair[0]), default=None)


def project_modules() -> dict[str, Module]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            name = ".".join(parts[:-1] if is_package else parts)
            modules[name] = Module(path.read_text(encoding="utf-8"), is_package)
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(name: str, modules: Mapping[str, Module]) -> str:
    """The longest prefix of a dotted name that is one of our modules (or the name itself)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in modules:
            return ".".join(parts[:end])
    return name


def imports_of(name: str, modules: Mapping[str, Module]) -> Iterator[Import]:
    module = modules[name]
    package = name.split(".") if module.is_package else name.split(".")[:-1]

    def targets(node: ast.AST) -> Iterator[str]:
        if isinstance(node, ast.Import):
            yield from (_resolve(alias.name, modules) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base_parts = package[: len(package) - node.level + 1] if node.level else []
            base = ".".join([*base_parts, *([node.module] if node.module else [])])
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield submodule if submodule in modules else _resolve(base, modules)
        elif isinstance(node, ast.Call) and (
            getattr(node.func, "id", None) == "import_module"
            or getattr(node.func, "attr", None) == "import_module"
        ):
            given = node.args[0] if node.args else None
            constant = isinstance(given, ast.Constant) and isinstance(given.value, str)
            yield _resolve(given.value, modules) if constant else ""

    def walk(node: ast.AST, type_only: bool) -> Iterator[Import]:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                yield from walk(child, True)
            for child in node.orelse:
                yield from walk(child, type_only)
            return
        for target in targets(node):
            yield Import(name, target, getattr(node, "lineno", 0), type_only)
        for child in ast.iter_child_nodes(node):
            yield from walk(child, type_only)

    yield from walk(ast.parse(module.source, filename=name), False)


def ours(target: str) -> bool:
    return target == "" or target.split(".")[0] in PACKAGES


def layer_violations(imports: list[Import], layers: list[list[str]]) -> Iterator[tuple[str, str]]:
    """(key, explanation) for each import of an app on the importer's line or above."""
    top = len(layers) - 1
    for found in imports:
        placed = unit_of(found.importer, layers)
        if placed is None:
            yield (
                f"unplaced: {found.importer}",
                (f"{found.importer} belongs to no layer: add its app to docs/architecture.md"),
            )
            continue
        unit, level = placed
        if found.target == "":
            if level != top:
                yield (
                    f"dynamic: {found.importer}",
                    (
                        f"{found.importer}:{found.line} imports a computed module name, which only "
                        f"the top layer may do"
                    ),
                )
            continue
        target = unit_of(found.target, layers)
        if target is None or target[0] == unit or target[1] < level:
            continue
        yield (
            f"layer: {found.importer} -> {found.target}",
            (
                f"{found.importer}:{found.line} imports {found.target}: {unit} (layer {level + 1}) "
                f"may import only layers below it, and {target[0]} is on layer {target[1] + 1}"
            ),
        )


def cycles(imports: list[Import]) -> Iterator[tuple[str, str]]:
    """(key, explanation) for each set of modules that import each other, in a circle."""
    graph: dict[str, set[str]] = {}
    for found in imports:
        if not found.type_only and found.target and found.target != found.importer:
            graph.setdefault(found.importer, set()).add(found.target)
    for component in _strongly_connected(graph):
        if len(component) > 1:
            circle = _circle_through(min(component), graph, component)
            yield (
                "cycle: " + " <-> ".join(sorted(component)),
                ("import cycle: " + " -> ".join(circle)),
            )


def _strongly_connected(graph: Mapping[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    components.append(component)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return components


def _circle_through(start: str, graph: Mapping[str, set[str]], within: set[str]) -> list[str]:
    """A shortest path start -> ... -> start inside one component, for the message."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph.get(node, ()) & within):
                if child == start:
                    return [*paths[node], start]
                if child not in paths:
                    paths[child] = [*paths[node], child]
                    following.append(child)
        frontier = following
    return [start]


def violations(modules: Mapping[str, Module], layers: list[list[str]]) -> dict[str, str]:
    imports = [
        found
        for name in sorted(modules)
        for found in imports_of(name, modules)
        if ours(found.target)
    ]
    return dict(sorted([*layer_violations(imports, layers), *cycles(imports)]))


def explain(found: Mapping[str, str]) -> str:
    return "\n".join(f"  {key}\n      {why}" for key, why in found.items())


@pytest.fixture(scope="module")
def found() -> dict[str, str]:
    return violations(project_modules(), read_layers(ARCHITECTURE.read_text(encoding="utf-8")))


def test_imports_go_down_the_layers_without_cycles(found):
    assert not found, "imports that break docs/architecture.md:\n" + explain(found)


def test_every_app_is_placed_once():
    layers = read_layers(ARCHITECTURE.read_text(encoding="utf-8"))
    units = [unit for layer in layers for unit in layer]
    apps = sorted(path.parent.name for path in (ROOT / "apps").glob("*/apps.py"))
    assert len(units) == len(set(units))
    assert sorted(set(apps) - set(units)) == []


# The checker itself, on made-up modules: it must be able to fail.
LAYERS = [["gamingpanel"], ["accounts"], ["audit", "analytics"], ["shop"], ["gamingpanel.urls"]]


def check(**sources: str) -> dict[str, str]:
    modules = {
        name.replace("__", "."): Module(source, is_package=False)
        for name, source in sources.items()
    }
    for name in list(modules):  # every package on the way exists, empty
        parts = name.split(".")
        for end in range(1, len(parts)):
            modules.setdefault(".".join(parts[:end]), Module("", is_package=True))
    return violations(modules, LAYERS)


@pytest.mark.parametrize(
    ("importer", "source", "key"),
    [
        ("accounts", "from apps.shop.models import Offer", "layer: apps.accounts.x -> apps.shop.models"),
        ("accounts", "import apps.audit.services", "layer: apps.accounts.x -> apps.audit.services"),
        ("audit", "from apps.analytics import services", "layer: apps.audit.x -> apps.analytics.services"),
        ("gamingpanel", "from apps.accounts.models import Game", "layer: gamingpanel.x -> apps.accounts.models"),
        ("accounts", "def f():\n    from apps.shop import models", "layer: apps.accounts.x -> apps.shop.models"),
        ("accounts", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from apps.shop.models import Offer", "layer: apps.accounts.x -> apps.shop.models"),
        ("accounts", "import importlib\nimportlib.import_module('apps.shop.models')", "layer: apps.accounts.x -> apps.shop.models"),
        ("accounts", "from importlib import import_module\nimport_module(f'apps.{name}.demo')", "dynamic: apps.accounts.x"),
    ],
)  # fmt: skip
def test_checker_refuses_an_upward_import(importer, source, key):
    found = check(
        **{f"apps__{importer}__x": source} if importer != "gamingpanel" else {"gamingpanel__x": source},
        apps__shop__models="",
        apps__audit__services="",
        apps__analytics__services="",
        apps__accounts__models="",
    )  # fmt: skip

    assert list(found) == [key]
    assert "may import only layers below it" in found[key] or key.startswith("dynamic")


def test_checker_accepts_downward_and_own_app_imports():
    found = check(
        apps__shop__services="from apps.accounts.models import Game\nfrom apps.shop import models",
        apps__shop__models="from apps.audit.services import record\nfrom . import validation",
        apps__shop__validation="from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from apps.shop.models import Offer",
        apps__accounts__models="from gamingpanel.errors import DomainError",
        apps__audit__services="",
        gamingpanel__errors="",
        gamingpanel__urls="from importlib import import_module\nimport_module(f'apps.{x}.urls')",
    )

    assert found == {}


def test_checker_finds_a_cycle_hidden_in_a_function():
    found = check(
        apps__accounts__mirror="def rebuild():\n    from apps.accounts.revocation import KEY",
        apps__accounts__revocation="from apps.accounts.mirror import publish",
    )

    assert list(found) == ["cycle: apps.accounts.mirror <-> apps.accounts.revocation"]
    assert (
        "apps.accounts.mirror -> apps.accounts.revocation -> apps.accounts.mirror"
        in (found["cycle: apps.accounts.mirror <-> apps.accounts.revocation"])
    )


def test_checker_refuses_an_app_missing_from_the_doc():
    found = check(apps__leaderboards__x="from apps.accounts.models import Game")

    assert list(found) == ["unplaced: apps.leaderboards.x"]


def test_layers_are_read_from_the_doc():
    layers = read_layers(ARCHITECTURE.read_text(encoding="utf-8"))

    assert layers[0] == ["gamingpanel"]
    assert layers[1] == ["accounts"]
    assert "gamingpanel.urls" in layers[-1]
