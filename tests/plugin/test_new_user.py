"""Tried as a new user would: a fresh virtual environment outside the repository, ``pip install``
of this project, the tutorial's own package (a deliberately broken candidate protocol with its
own message types, registered through the ``tssbqs_pbt.protocols`` entry point) and its
three-line test.  pytest fails with a shrunk counterexample naming that protocol's messages, the
saved JSON replays with ``tssbqs-pbt replay``, and the same package with the bug fixed passes.

One ``python -m venv`` and one ``pip install`` (pip's cache makes it ~15 s when warm).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from plugin_project import BUG, FIX, TUTORIAL

ROOT = Path(__file__).resolve().parents[2]
IGNORE = shutil.ignore_patterns(
    ".git", "__pycache__", "*.egg-info", ".hypothesis", "tssbqs-report", ".mypy_cache",
    ".ruff_cache", ".pytest_cache", "build", "dist", ".venv", ".ci-venv",
)


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    return f"{done.returncode}\n{done.stdout}\n{done.stderr}"


@pytest.mark.slow
def test_a_new_user_plugs_in_a_broken_protocol_then_fixes_it(tmp_path: Path) -> None:
    source = tmp_path / "tssbqs-pbt"  # a clean copy, as a clone would be
    shutil.copytree(ROOT, source, ignore=IGNORE)
    package = tmp_path / "quorum-register"
    shutil.copytree(TUTORIAL, package, ignore=IGNORE)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST", "PYTHON", "VIRTUAL_ENV", "HYPOTHESIS", "TSSBQS"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    pip = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                "--disable-pip-version-check", str(source), "-e", str(package)], tmp_path, env)
    assert pip.startswith("0\n"), pip

    broken = _run([str(venv / "bin" / "pytest"), "-p", "no:cacheprovider"], package, env)
    assert broken.startswith("1\n"), broken
    for expected in (
        "tssbqs-pbt: protocol 'quorum-register' violates P1 data consistency",
        "1. C1 invokes write(v1) as C1#1 → C1 sends Query to S1, S2, S3, B=S4",
        "sends Reply{op: C1#",  # the plug-in's own message, in the steps ...
        "sequenceDiagram", "->>S1: ", "Query",  # ... and in the chart
        "tssbqs-pbt counterexamples saved",
    ):
        assert expected in broken, f"{expected!r} not in:\n{broken}"
    assert "Traceback" not in broken
    replay = re.search(r"^replay file: +(\S+\.json)", broken, re.MULTILINE)
    assert replay is not None, broken
    assert Path(replay.group(1)).with_name(
        Path(replay.group(1)).stem.replace("-", "_") + ".svg").exists()

    replayed = _run([str(venv / "bin" / "tssbqs-pbt"), "replay", replay.group(1)], package, env)
    assert replayed.startswith("0\n") and "confirmed" in replayed, replayed

    module = package / "quorum_register.py"
    module.write_text(module.read_text(encoding="utf-8").replace(BUG, FIX), encoding="utf-8")
    fixed = _run([str(venv / "bin" / "pytest"), "-p", "no:cacheprovider"], package, env)
    assert fixed.startswith("0\n") and "1 passed" in fixed, fixed
    # what the pass rests on: the examples searched and the default exploration, exhausted
    assert "explored: certified within the scope" in " ".join(fixed.split()), fixed
