"""No module reads another module's private attributes.

A name with a leading underscore belongs to the module that defines it: its own classes may
read it on another instance of themselves (``twin._held`` in a copy), nobody else may.  The
explorer once read the rule machine's ``_held``, ``_modes``, ``_cut`` and the knowledge's
``_objects``; they are public properties now, and this test keeps it so.  The only
exceptions are outside the project: ``os._exit`` and the Hypothesis internals the engine turns
(each pinned by its own test in tests/search/test_hypothesis_internals.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("tssbqs_pbt", "strategies", "protocols")
MODULES = sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))

#: accesses outside the project's own code, by their text
OUTSIDE = {"os._exit", "providers._get_local_constants",
           "test._hypothesis_internal_database_key"}


def _owned(tree: ast.AST) -> set[str]:
    """The private names this module defines: its functions and methods, and the attributes
    its code sets on ``self`` (or declares in a class body)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def foreign_private_reads(source: str) -> list[str]:
    """``x._name`` where ``x`` is not ``self``, ``cls`` or ``super()`` and this module does not
    define ``_name``: each as ``line: text``."""
    tree = ast.parse(source)
    owned = _owned(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        name = node.attr
        if not name.startswith("_") or name.startswith("__") or name in owned:
            continue
        base = node.value
        if isinstance(base, ast.Name) and base.id in ("self", "cls"):
            continue
        if isinstance(base, ast.Call) and isinstance(base.func, ast.Name) \
                and base.func.id == "super":
            continue
        text = ast.unparse(node)
        if text not in OUTSIDE:
            found.append(f"{node.lineno}: {text}")
    return found


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_reads_another_modules_private_attributes(module: Path) -> None:
    found = foreign_private_reads(module.read_text(encoding="utf-8"))
    assert not found, (f"{module.relative_to(ROOT)} reads private attributes it does not "
                       f"define: {found}; give their owner a public property or method")


def test_the_check_sees_a_foreign_private_read() -> None:
    source = ("class Machine:\n    def __init__(self):\n        self._held = set()\n\n"
              "def explore(machine, knowledge):\n    return machine.held, knowledge._objects\n")
    assert foreign_private_reads(source) == ["6: knowledge._objects"]
    assert foreign_private_reads(source.replace("knowledge._objects", "machine._held")) == []
