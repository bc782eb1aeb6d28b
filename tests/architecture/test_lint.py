"""ruff and ``mypy --strict`` stay clean on the package (skipped if the dev extra is missing)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIRS = {"tssbqs_pbt": ROOT / "tssbqs_pbt", "strategies": ROOT / "strategies",
                "protocols": ROOT / "protocols"}


def _tool(name: str) -> str:
    path = shutil.which(name, path=os.path.dirname(sys.executable)) or shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[dev]')")
    return path


def test_ruff_is_clean() -> None:
    ruff = _tool("ruff")
    targets = [str(p) for p in PACKAGE_DIRS.values()]
    targets += [str(ROOT / "tests"), str(ROOT / "conftest.py")]
    done = subprocess.run([ruff, "check", *targets], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_is_clean(tmp_path: Path) -> None:
    mypy = _tool("mypy")
    # mypy cannot follow setuptools' package-dir mapping, so mirror the installed layout with
    # symlinks: tssbqs_pbt/{...}, tssbqs_pbt/strategies, tssbqs_pbt/protocols.
    stage = tmp_path / "tssbqs_pbt"
    stage.mkdir()
    for entry in PACKAGE_DIRS["tssbqs_pbt"].iterdir():
        if entry.name != "__pycache__":
            (stage / entry.name).symlink_to(entry)
    (stage / "strategies").symlink_to(PACKAGE_DIRS["strategies"])
    (stage / "protocols").symlink_to(PACKAGE_DIRS["protocols"])
    done = subprocess.run(
        [mypy, "--config-file", str(ROOT / "pyproject.toml"), "--cache-dir",
         str(tmp_path / ".mypy_cache"), "-p", "tssbqs_pbt"],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
