"""The import layers of DEVELOPERS.md / ARCHITECTURE.md, pinned.

errors/validation <- crypto <- kernel <- {protocols, properties} <- report <- strategies <-
engine <- {sweep, checking} <- conformance <- {cli, pytest_plugin}.  Lower never imports
higher; no module imports one that imports it back; protocols and properties never import each
other; nothing below strategies imports hypothesis or pytest;
only the real threshold-RSA modules import gmpy2 or cryptography.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = {
    "tssbqs_pbt": ROOT / "tssbqs_pbt",
    "tssbqs_pbt.strategies": ROOT / "strategies",
    "tssbqs_pbt.protocols": ROOT / "protocols",
}

# (module prefix, layer). The longest matching prefix wins.
LAYERS: dict[str, int] = {
    "tssbqs_pbt.errors": 0,
    "tssbqs_pbt.validation": 0,
    "tssbqs_pbt.wording": 0,  # plural() and other wording shared by every output
    "tssbqs_pbt.crypto": 1,
    "tssbqs_pbt.kernel": 2,
    "tssbqs_pbt.protocols": 3,
    "tssbqs_pbt.properties": 3,
    "tssbqs_pbt.report": 4,
    "tssbqs_pbt.engine.minimize": 4,  # the trace pass: a failing trace shrunk on its kernel
    # actions (no Hypothesis; below report and the rest of the engine)
    "tssbqs_pbt.counterexample_file": 4,  # reads and checks a saved counterexample's JSON
    "tssbqs_pbt.regression_replay": 4,  # a counterexample judged as far as it applies
    "tssbqs_pbt.strategies": 5,
    # the engine: the rule machine and its tactics, the explorer and its moves, the search,
    # the Hypothesis knobs (tssbqs_pbt/engine/); tssbqs_pbt.search and tssbqs_pbt.explore are
    # its public faces, re-exporting it
    "tssbqs_pbt.engine": 6,
    "tssbqs_pbt.engine.machine_base": 6,  # what every tactic's rule machine shares
    "tssbqs_pbt.engine.tactics": 6,  # one rule machine class per tactic
    "tssbqs_pbt.search": 6,
    "tssbqs_pbt.explore": 6,
    "tssbqs_pbt.sweep": 7,
    "tssbqs_pbt.preflight": 7,  # is a plug-in fit to be searched (declarations, honest run)
    "tssbqs_pbt.checking": 7,  # tssbqs_pbt.check(): conformance preflight + search + report
    "tssbqs_pbt.check_settings": 7,  # light (attrs only): loaded by the plugin at configure
    "tssbqs_pbt.conformance": 8,  # the kit: preflight, then check() (above the checker)
    "tssbqs_pbt.cli": 8,
    "tssbqs_pbt.cli_plugin": 8,  # the command line's --plugin loading (cli's own helper)
    "tssbqs_pbt.cli_progress": 8,  # search and explore at the command line: the header, a
    # live progress line, Ctrl-C and SIGTERM ending with what was done
    "tssbqs_pbt.pytest_plugin": 8,
    "tssbqs_pbt": 9,  # the package root itself: kept light, may re-export anything lazily
}
SIBLINGS = {frozenset({"tssbqs_pbt.protocols", "tssbqs_pbt.properties"})}
TEST_TOOLS = ("hypothesis", "pytest", "_pytest")
HEAVY_CRYPTO = ("gmpy2", "cryptography")
REAL_CRYPTO_MODULES = ("tssbqs_pbt.crypto.real",)


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package, folder in SOURCES.items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            found[".".join([package, *parts])] = path
    return found


def _layer_key(module: str) -> str:
    best = ""
    for prefix in LAYERS:
        if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
            best = prefix
    return best


def _imports(module: str, path: Path, *, runtime: bool = False) -> list[str]:
    """Every module ``module`` imports (``runtime``: not those under ``if TYPE_CHECKING``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    out: list[str] = []
    skipped: set[int] = set()
    if runtime:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped.update(id(inner) for part in node.body for inner in ast.walk(part))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            out.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.append(target)
            out.extend(f"{target}.{alias.name}" for alias in node.names)
    return out


MODULES = _modules()


def test_every_module_has_a_layer() -> None:
    unassigned = sorted(
        m for m in MODULES if m != "tssbqs_pbt" and _layer_key(m) in ("", "tssbqs_pbt")
    )
    assert not unassigned, f"assign a layer in this test to: {unassigned}"


def violations(module: str, imports: list[str]) -> list[str]:
    """Why ``module`` may not import each of ``imports`` (empty when all are allowed)."""
    own = _layer_key(module)
    problems = []
    for target in imports:
        top = target.split(".")[0]
        if LAYERS[own] < LAYERS["tssbqs_pbt.strategies"] and top in TEST_TOOLS:
            problems.append(f"{target} (hypothesis/pytest below strategies)")
        if top in HEAVY_CRYPTO and not module.startswith(REAL_CRYPTO_MODULES):
            problems.append(f"{target} (only the real TSS modules may import {top})")
        theirs = _layer_key(target) if top == "tssbqs_pbt" else ""
        if theirs in ("", "tssbqs_pbt") or theirs == own:
            continue
        if frozenset({own, theirs}) in SIBLINGS:
            problems.append(f"{target} ({own} and {theirs} never import each other)")
        elif LAYERS[theirs] > LAYERS[own]:
            problems.append(f"{target} (layer {theirs} is above {own})")
    return problems


def test_the_checker_catches_each_kind_of_violation() -> None:
    assert violations("tssbqs_pbt.kernel.step", ["tssbqs_pbt.protocols.api"])
    assert violations("tssbqs_pbt.protocols.x", ["tssbqs_pbt.properties.consistency"])
    assert violations("tssbqs_pbt.kernel.step", ["hypothesis.strategies"])
    assert violations("tssbqs_pbt.crypto.ideal", ["gmpy2"])
    assert not violations("tssbqs_pbt.crypto.real", ["gmpy2", "tssbqs_pbt.errors"])
    assert not violations("tssbqs_pbt.strategies.x", ["hypothesis", "tssbqs_pbt.kernel"])


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_imports_only_lower_layers(module: str) -> None:
    problems = violations(module, _imports(module, MODULES[module]))
    assert not problems, f"{module} imports: {problems}"


def test_importing_kernel_and_crypto_loads_no_test_tools_or_heavy_crypto() -> None:
    code = (
        "import sys, tssbqs_pbt.kernel, tssbqs_pbt.crypto\n"
        "bad = [m for m in ('hypothesis', 'pytest', 'gmpy2', 'cryptography') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_strategies_and_protocols_ship_inside_the_namespace() -> None:
    code = (
        "import importlib.util, tssbqs_pbt.strategies, tssbqs_pbt.protocols\n"
        "print(importlib.util.find_spec('strategies'), importlib.util.find_spec('protocols'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/"
    )
    assert done.stdout.strip() == "None None"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_small(module: str) -> None:
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= 550, f"{module} has {lines} lines; split it (keep modules under ~500 lines)"


# What a module may import at load time (module-level imports only; imports inside functions
# run when a test first needs them).  The plugin is loaded by every pytest run of every user.
LOAD_TIME = {
    "tssbqs_pbt": (),
    "tssbqs_pbt.pytest_plugin": ("pytest", "tssbqs_pbt.wording"),
    "tssbqs_pbt.check_settings": ("attrs", "tssbqs_pbt.errors"),
}


def _load_time_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            out.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            out.append(node.module or "")
    return out


@pytest.mark.parametrize("module", sorted(LOAD_TIME))
def test_light_modules_import_only_the_standard_library_at_load_time(module: str) -> None:
    allowed = LOAD_TIME[module]
    stray = [
        name for name in _load_time_imports(MODULES[module])
        if name.split(".")[0] not in sys.stdlib_module_names
        and not any(name == a or name.startswith(a + ".") for a in allowed)
    ]
    assert not stray, f"{module} imports {stray} at load time; import them inside functions"


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` (module -> modules it imports), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target):], target]
            if target not in state and (found := visit(target)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_no_import_circles() -> None:
    """No module imports (even inside a function) one that imports it back, at any distance;
    a package's ``__init__`` re-exporting its own modules and imports for type checking only
    do not count."""
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        if path.name == "__init__.py":
            continue  # (re-exports of the package's own modules)
        graph[module] = {t for t in (_owner(i) for i in _imports(module, path, runtime=True))
                         if t is not None and t != module and MODULES[t].name != "__init__.py"}
    assert _cycle(graph) is None, f"import circle: {' -> '.join(_cycle(graph) or [])}"


def test_the_circle_finder_finds_one() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def _owner(imported: str) -> str | None:
    """The module of the package that an imported name lives in (None: outside it)."""
    parts = imported.split(".")
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        if name in MODULES:
            return name
    return None
