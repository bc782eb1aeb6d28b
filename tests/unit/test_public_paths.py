"""The engine lives in tssbqs_pbt/engine/; the paths users import keep working."""

from __future__ import annotations

import tssbqs_pbt
import tssbqs_pbt.engine.explore as engine_explore
import tssbqs_pbt.engine.search as engine_search
import tssbqs_pbt.explore as public_explore
import tssbqs_pbt.search as public_search


def test_the_public_modules_are_the_engines_own_names() -> None:
    for public, engine in ((public_search, engine_search), (public_explore, engine_explore)):
        assert public.__all__ == engine.__all__
        for name in public.__all__:
            assert getattr(public, name) is getattr(engine, name), name
    assert tssbqs_pbt.check.__module__ == "tssbqs_pbt.checking"
    from tssbqs_pbt.strategies import adversary  # noqa: F401  (the strategies' own path)


def test_every_package_directory_is_installed() -> None:
    """A subpackage missing from pyproject's list installs nowhere but in editable mode (the
    engine's move was caught by the new-user test only)."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    found = {".".join(("tssbqs_pbt", *p.parent.relative_to(root / "tssbqs_pbt").parts))
             for p in (root / "tssbqs_pbt").rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
