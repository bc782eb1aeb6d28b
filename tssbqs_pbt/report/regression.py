"""A standalone pytest module that pins a found bug: it re-judges the saved counterexample.

The generated test fails while the protocol still shows the violation and passes once the bug
is fixed (:func:`tssbqs_pbt.regression_replay.rejudge_embedded`: the schedule replayed as far
as it applies, then a drain, then P1-P3).  It embeds the replay file's whole JSON, so it runs
wherever it is copied, with only ``tssbqs_pbt`` installed (and the protocol findable under its
name): the replay is deterministic and runs the kernel, no search.  Its docstring says where
the counterexample came from (the random search with its tactic and seed, or the explorer with
its scope: the file's ``expect`` section).  Its file is ``regression_<stem>.py`` so that a
plain ``pytest`` in a report directory does not collect it.
"""

from __future__ import annotations

import json
import keyword
import os
import re
import textwrap
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any

from tssbqs_pbt.errors import TraceFormatError
from tssbqs_pbt.kernel.jsonfile import read_json
from tssbqs_pbt.wording import plural

__all__ = ["found_by", "python_identifier", "render_regression_test"]

_CHUNK = 88  # characters of JSON per line of the embedded literal


def python_identifier(text: str) -> str:
    """``text`` with every non-identifier character replaced by ``_`` (never empty, never a
    keyword, never starting with a digit)."""
    ident = re.sub(r"\W", "_", text, flags=re.ASCII).strip("_") or "counterexample"
    if ident[0].isdigit() or keyword.iskeyword(ident):
        ident = "_" + ident
    return ident


def found_by(expect: Mapping[str, Any]) -> str:
    """Where a counterexample came from, in words, from its file's ``expect`` section ("" when
    the file does not say)."""
    how, tactic = expect.get("found_by"), expect.get("tactic")
    if how == "explorer":
        scope = expect.get("scope")
        within = f": {scope}" if isinstance(scope, str) else ""
        return ("found by the bounded-exhaustive explorer, the shortest schedule within its "
                f"scope{within}")
    if how == "walks":
        walks = expect.get("walks")
        return ("found by a deep random walk over the explorer's moves"
                + (f" ({walks})" if isinstance(walks, str) else "") + ", cut to the moves it "
                "needs")
    if how == "search":
        seed = expect.get("seed")
        return (f"found by the random search (the {tactic} tactic"
                f"{'' if seed is None else f', seed {seed}'})")
    if how == "reuse":
        return (f"found by a sweep replaying a schedule the random search (the {tactic} "
                "tactic) had found for another combination")
    if tactic is not None:  # (a file written before the origin was recorded)
        return (f"recorded with the {tactic} tactic's rule machine (the file does not say "
                "whether the random search or the explorer found it)")
    return ""


def render_regression_test(
    replay_path: str | Path, *, name: str, test_dir: str | Path | None = None
) -> str:
    """The text of a pytest module that fails while ``replay_path`` still shows a violation.

    The module embeds the replay file's whole JSON (it reads no file: copied anywhere, it
    runs).  With ``test_dir`` (where the module will be written) its docstring names the
    replay file relative to the module, for reference.  When the replay file cannot be read
    (not written yet), the module reads it instead, at its path relative to ``test_dir``
    (without ``test_dir``, a relative ``replay_path`` is taken as relative to the module
    already, an absolute one is written as it is).
    """
    replay = Path(replay_path)
    try:
        raw = read_json(replay, f"replay file {str(replay)!r}")
    except TraceFormatError:  # (no file to embed: the test reads it where it is)
        raw = None
    expect = raw.get("expect") if isinstance(raw, dict) else None
    expect = expect if isinstance(expect, dict) else {}
    header = raw.get("header") if isinstance(raw, dict) else None
    protocol = header.get("protocol") if isinstance(header, dict) else None
    ident = python_identifier(name)
    module = f"regression_{name}.py"
    what = (f"{expect.get('property', 'a property')} is violated "
            f"({expect.get('clause', 'clause unknown')})")
    if "steps" in expect:
        what += f" in {plural(int(expect['steps']), 'step')}"
    origin = found_by(expect)
    summary = _safe(f"{what}.") + (f"\n{_safe(origin[0].upper() + origin[1:])}." if origin
                                   else "")
    saved, code = _body(raw, replay, test_dir, ident)
    saved = textwrap.fill(saved, 95, break_on_hyphens=False)
    name_of = _safe(str(protocol or "?"))
    return f'''"""Regression test for a bug tssbqs-pbt found in protocol `{name_of}`.

{summary}

{saved}

This test FAILS while the protocol still shows the violation and PASSES once it is fixed.  It
replays the saved schedule as far as it still applies to the protocol (after a fix a step may
no longer apply, e.g. a delivery of a message that is no longer sent: the replay ends there),
lets the system settle (fair delivery, Byzantine servers silent) and judges P1, P2 and P3.

Its name starts with ``regression_``, so a plain ``pytest`` does not collect it; run it by
name (``pytest {_safe(module)}``), or copy it next to your tests as ``test_*.py``.

Generated by tssbqs_pbt.report.
"""

from __future__ import annotations

{code}    if outcome.still_broken:
        pytest.fail(outcome.summary(), pytrace=False)
'''


def _body(raw: Any, replay: Path, test_dir: str | Path | None, ident: str) -> tuple[str, str]:
    """The docstring's sentence on the replay file, and the module's code up to the check:
    the JSON embedded, or (no readable file) read from its path."""
    head = f"\n\n\ndef test_{ident}_is_fixed() -> None:\n    outcome = "
    if raw is None:
        saved = (f"The failing run was saved as {_safe(replay.name)}, which this test reads "
                 "(``REPLAY``): keep it beside the test.")
        return saved, ("from pathlib import Path\n\nimport pytest\n\n"
                       "from tssbqs_pbt.regression_replay import rejudge_counterexample\n\n"
                       f"REPLAY = {_path_literal(replay, test_dir)}"
                       f"{head}rejudge_counterexample(REPLAY)\n")
    text = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    literal = "\n".join(f"    {text[i:i + _CHUNK]!r}" for i in range(0, len(text), _CHUNK))
    saved = (f"The failing run was saved as {_safe(_location(replay, test_dir))}; this module "
             "embeds that file whole (``REPLAY_JSON``), so it needs no other file: copy it "
             "anywhere.")
    return saved, ("import pytest\n\nfrom tssbqs_pbt.regression_replay import rejudge_embedded\n\n"
                   "#: the replay file this test was written from (named for reference: the "
                   f"test does not read it)\nREPLAY_FILE = {replay.name!r}\n"
                   f"#: that file's whole JSON\nREPLAY_JSON = (\n{literal}\n)"
                   f"{head}rejudge_embedded(REPLAY_JSON, name=REPLAY_FILE)\n")


def _path_literal(replay: Path, test_dir: str | Path | None) -> str:
    """The Python expression of the replay file's path: relative to the module when it can
    be (``Path(__file__).parent / ...``)."""
    if test_dir is not None:
        try:
            rel = os.path.relpath(replay.resolve(), Path(test_dir).resolve())
        except ValueError:  # another drive (Windows): no relative path exists
            return f"Path({replay.resolve().as_posix()!r})"
        return f"Path(__file__).parent / {PurePath(rel).as_posix()!r}"
    if replay.is_absolute():
        return f"Path({replay.as_posix()!r})"
    return f"Path(__file__).parent / {replay.as_posix()!r}"


def _location(replay: Path, test_dir: str | Path | None) -> str:
    """The replay file as the docstring names it: relative to ``test_dir`` when given."""
    if test_dir is None:
        return replay.name
    try:
        rel = os.path.relpath(replay.resolve(), Path(test_dir).resolve())
    except ValueError:  # another drive (Windows): no relative path exists
        return replay.resolve().as_posix()
    return PurePath(rel).as_posix()


def _safe(text: str) -> str:
    """Text fit for the generated docstring: no backslashes, no triple quotes, one line."""
    return " ".join(str(text).replace("\\", "/").replace('"""', "'''").split())
