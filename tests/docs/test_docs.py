"""The docs that ship cannot drift: docs/options.md is the output of ``tssbqs-pbt options
--markdown``; the output shown in docs/reading-counterexamples.md is regenerated from its pinned
seed and compared; no file a user sees points to the internal reference notes.

Regenerate after a deliberate change: ``TSSBQS_PBT_REGEN_DOCS=1 pytest tests/docs``.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tssbqs_pbt.cli import main

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
REGEN = os.environ.get("TSSBQS_PBT_REGEN_DOCS") == "1"
PINNED = ["search", "--design", "n=4 f=1 q=3 t=4", "--seed", "1"]
INTERNAL = ("SPEC" + ".md", "ATTACKS" + ".md", "SPEC" + " §")
_BLOCK = re.compile(
    r"(<!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.S)
_SECONDS = re.compile(r"\d+\.\ds\b")


def _compare_or_write(path: Path, expected: str) -> None:
    if REGEN:
        path.write_text(expected, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == expected, (
        f"{path.relative_to(ROOT)} drifted; regenerate: TSSBQS_PBT_REGEN_DOCS=1 pytest tests/docs")


def test_options_md_is_the_options_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["options", "--markdown"]) == 0
    _compare_or_write(DOCS / "options.md", capsys.readouterr().out)


def _tracked_files() -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / line for line in listed.splitlines() if line]


def test_nothing_a_user_sees_points_to_the_internal_notes() -> None:
    offenders = []
    for path in _tracked_files():
        rel = path.relative_to(ROOT)
        if rel.parts[0] == "tests" or any(".venv" in p for p in rel.parts) or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        offenders += [f"{rel}: {word}" for word in INTERNAL if word in text]
    assert not offenders, offenders


def _pinned_run(tmp: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """Every block of docs/reading-counterexamples.md, produced afresh from the pinned seed."""
    out_dir = tmp / "tssbqs-report"
    previous = Path.cwd()
    os.chdir(tmp)  # so the paths printed are the relative default ones a user sees
    try:
        assert main([*PINNED, "--out", "tssbqs-report"]) == 1
        search_out = capsys.readouterr().out
        (replay,) = (p for p in out_dir.glob("counterexample-*.json") if "-first" not in p.name)
        assert main(["replay", str(replay.relative_to(tmp))]) == 0
        replay_out = capsys.readouterr().out
    finally:
        os.chdir(previous)
    steps_md = next(out_dir.glob("*.steps.md")).read_text(encoding="utf-8")
    steps = steps_md.split("### Steps\n", 1)[1].split("### Sequence chart", 1)[0].strip()
    chart = steps_md.split("```mermaid\n", 1)[1].split("```", 1)[0]
    (test,) = out_dir.glob("*.py")
    svg = next(out_dir.glob("*.svg")).read_text(encoding="utf-8")
    return {
        "search": f"```console\n$ tssbqs-pbt {' '.join(_quote(a) for a in PINNED)}\n"
                  f"{search_out}```\n",
        "files": "```text\n" + "\n".join(sorted(f"tssbqs-report/{p.name}"
                                                for p in out_dir.iterdir())) + "\n```\n",
        "steps": f"```markdown\n### Steps\n\n{steps}\n```\n",
        "chart": f"```mermaid\n{chart}```\n",
        "replay": f"```console\n$ tssbqs-pbt replay {replay.relative_to(tmp)}\n{replay_out}```\n",
        "test": f"```python\n{_shortened(test.read_text(encoding='utf-8'))}```\n",
        "svg": svg,
    }


def _shortened(module: str) -> str:
    """The generated test with its embedded JSON cut to its first lines (the page shows the
    shape; the whole file is what the search wrote)."""
    head, sep, rest = module.partition("REPLAY_JSON = (\n")
    if not sep:
        return module
    literal, close, tail = rest.partition("\n)\n")
    lines = literal.splitlines()
    if len(lines) <= 4:
        return module
    cut = f"    # ... {len(lines) - 3} more lines of the replay file's JSON"
    return head + sep + "\n".join([*lines[:3], cut]) + close + tail


def _quote(arg: str) -> str:
    return f'"{arg}"' if " " in arg else arg


def test_reading_counterexamples_shows_what_the_pinned_search_prints(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocks = _pinned_run(tmp_path, capsys)
    page = DOCS / "reading-counterexamples.md"
    text = page.read_text(encoding="utf-8")
    names = [m.group("name") for m in _BLOCK.finditer(text)]
    assert sorted(names) == sorted(n for n in blocks if n != "svg"), names

    def fill(match: re.Match[str]) -> str:
        return match.group(1) + blocks[match.group("name")] + match.group(4)

    expected = _BLOCK.sub(fill, text)
    if REGEN:
        page.write_text(expected, encoding="utf-8")
        (DOCS / "img" / "counterexample.svg").write_text(blocks["svg"], encoding="utf-8")
    shown = page.read_text(encoding="utf-8")
    assert _SECONDS.sub("N.Ns", shown) == _SECONDS.sub("N.Ns", expected), (
        "docs/reading-counterexamples.md drifted from the pinned search's output; regenerate: "
        "TSSBQS_PBT_REGEN_DOCS=1 pytest tests/docs")
    assert (DOCS / "img" / "counterexample.svg").read_text(encoding="utf-8") == blocks["svg"]
