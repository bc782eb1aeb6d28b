"""Shared set-up for the pytest-plugin tests: a pytester project with the tutorial protocol."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

TUTORIAL = Path(__file__).resolve().parents[1] / "plugin" / "tutorial_pkg"
BUG = "needed = 1  # BUG: trusts the first answer; must wait for a quorum (ctx.config.q)"
FIX = "needed = ctx.config.q  # fixed: a quorum of answers"

CONFTEST = """
import quorum_register
from tssbqs_pbt.protocols import register

register(quorum_register.SPEC, replace=True)
"""


def tutorial_source(*, fixed: bool = False) -> str:
    source = (TUTORIAL / "quorum_register.py").read_text(encoding="utf-8")
    assert BUG in source, "the tutorial protocol lost its BUG line; update plugin_project.BUG"
    return source.replace(BUG, FIX) if fixed else source


def tutorial_project(pytester: pytest.Pytester, *, fixed: bool = False) -> None:
    """The tutorial protocol registered from a conftest (not installed), plus its test."""
    pytester.makepyfile(quorum_register=tutorial_source(fixed=fixed))
    pytester.makeconftest(CONFTEST)
    test = (TUTORIAL / "tests" / "test_quorum_register.py").read_text(encoding="utf-8")
    pytester.makepyfile(test_quorum_register=test)
    pytester.syspathinsert()


def load_tutorial(*, fixed: bool = False) -> types.ModuleType:
    """The tutorial protocol module, imported under its own name (broken or fixed)."""
    name = "quorum_register_fixed" if fixed else "quorum_register_broken"
    module = types.ModuleType(name)
    module.__file__ = str(TUTORIAL / "quorum_register.py")
    sys.modules[name] = module  # attrs and typing.get_type_hints look the module up
    exec(compile(tutorial_source(fixed=fixed), module.__file__, "exec"), module.__dict__)
    return module
