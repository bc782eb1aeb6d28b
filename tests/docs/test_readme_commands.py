"""The README's first lines are the two commands a new user runs; CI runs the second's pytest."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block is not None, "the README opens with a bash block of two commands"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    commands = _readme_commands()
    assert len(commands) == 2, commands
    readme_pytest = commands[1].split("&&")[-1].strip()
    assert shlex.split(readme_pytest)[0] == "pytest", readme_pytest
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    ci_pytest = [line.strip() for line in ci if line.strip().startswith("pytest")]
    # (then the tests the default run leaves out, which the README names)
    assert ci_pytest == [readme_pytest, f"{readme_pytest} -m exhaustive"], (ci_pytest,
                                                                           readme_pytest)
    assert f"`{readme_pytest} -m exhaustive`" in (ROOT / "README.md").read_text()


def test_the_test_command_asks_for_no_plugin_outside_the_dev_extra() -> None:
    # `-n 2` needs pytest-xdist: it must come with `pip install -e ".[dev]"`
    readme_pytest = _readme_commands()[1].split("&&")[-1]
    pyproject = (ROOT / "pyproject.toml").read_text()
    if " -n " in f" {readme_pytest} ":
        dev = re.search(r"^dev = \[(.*)\]$", pyproject, re.M)
        assert dev is not None and "pytest-xdist" in dev.group(1)
