"""Architecture guards: layering, import cycles, module size, and no Streamlit in the pure packages."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from geo.settings import PROJECT_ROOT

#: Packages from upstream to downstream: a module may import its own package and those to its left.
LAYERS: tuple[str, ...] = ("geo", "planning", "integrationsatlas", "ui")
#: Largest module, in lines (STYLE.md: a module that needs more is usually two concepts).
MAX_MODULE_LINES = 1_000


def _modules() -> dict[str, Path]:
    """Dotted module name → file, for every module of the four packages and the build scripts."""
    found: dict[str, Path] = {}
    for package in (*LAYERS, "scripts"):
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _imports(path: Path, module: str, known: dict[str, Path]) -> Iterator[str]:
    """Project modules imported by ``path`` (outside ``if TYPE_CHECKING:`` blocks)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for child in node.body for n in ast.walk(child)}
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                yield name


def _graph() -> dict[str, set[str]]:
    known = _modules()
    return {mod: set(_imports(path, mod, known)) for mod, path in known.items()}


def _layer(module: str) -> int:
    top = module.split(".")[0]
    return LAYERS.index(top) if top in LAYERS else len(LAYERS)


@pytest.mark.slow
def test_no_upward_imports() -> None:
    upward = [
        f"{mod} → {dep}"
        for mod, deps in _graph().items()
        if mod.split(".")[0] in LAYERS
        for dep in sorted(deps)
        if _layer(dep) > _layer(mod)
    ]
    assert not upward, "Imports gegen die Datenflussrichtung geo → planning → integrationsatlas → ui:\n" + "\n".join(
        upward
    )


@pytest.mark.slow
def test_no_import_cycles() -> None:
    edges = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(edges):
        if v not in index:
            visit(v)
    assert not cycles, "Importzyklen:\n" + "\n".join(" ↔ ".join(c) for c in cycles)


@pytest.mark.slow
def test_the_guards_see_real_imports() -> None:
    # the checks above must not pass vacuously
    graph = _graph()
    assert "geo.units" in graph["integrationsatlas.areas"]
    assert "geo.network" in graph["planning.network"]
    assert len(graph) > 80


@pytest.mark.parametrize("package", [*LAYERS, "scripts"])
def test_no_module_over_the_size_limit(package: str) -> None:
    too_long = {
        str(path.relative_to(PROJECT_ROOT)): n
        for path in (PROJECT_ROOT / package).rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not too_long, f"Module über {MAX_MODULE_LINES} Zeilen: {too_long}"


@pytest.mark.slow
def test_geo_and_planning_do_not_import_streamlit() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "import geo, planning, scripts\n"
        "for pkg in (geo, planning, scripts):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        if not m.name.endswith('__main__'):\n"
        "            importlib.import_module(m.name)\n"
        "assert 'streamlit' not in sys.modules, sorted(k for k in sys.modules if k.startswith('streamlit'))\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


@pytest.mark.slow
def test_cli_does_not_import_streamlit() -> None:
    code = "import sys, integrationsatlas.cli as c; c.build_parser(); print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
