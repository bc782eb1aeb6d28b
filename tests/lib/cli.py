"""Running the command line from a test: in this process, and checking a refusal.

Shared by the hardening tests of the command line (tests/hardening/test_cli_issue40.py,
test_bad_input.py).
"""

from __future__ import annotations

import subprocess

import pytest

from tssbqs_pbt.cli import main
from tssbqs_pbt.kernel.jsonfile import set_max_mb


def here(capsys: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess[str]:
    """The command in this process (quicker than a fresh one), as a completed process; the
    ``--max-file-mb`` a command set is undone after it."""
    capsys.readouterr()
    try:
        code = main(list(args))
    finally:
        set_max_mb(None)
    out = capsys.readouterr()
    return subprocess.CompletedProcess(list(args), code, out.out, out.err)


def refused(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Exit status 2, one paragraph on stderr (one line, prefixed), naming what it must."""
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("tssbqs-pbt: error: ") and done.stderr.count("\n") == 1, (
        done.stderr)
    for fragment in fragments:
        assert fragment in done.stderr, done.stderr
