"""The command line: clear exit codes and messages, replay of what search saved."""

from __future__ import annotations

from pathlib import Path

import pytest

from tssbqs_pbt.cli import main


def test_protocols_lists_the_builtins(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["protocols"]) == 0
    out = capsys.readouterr().out
    assert "family-c" in out and "family-j" in out


def test_search_then_replay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["search", "--design", "n=4 f=1 q=3 t=4", "--budget", "100", "--seed", "3",
                 "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1 and "VIOLATED: P2 data availability" in out
    (saved,) = (p for p in tmp_path.glob("counterexample-*.json") if "-first" not in p.name)
    assert main(["replay", str(saved)]) == 0
    assert "confirmed" in capsys.readouterr().out
    from tssbqs_pbt.report import report_stem

    stem = report_stem(saved)
    assert (tmp_path / f"{stem}.steps.md").read_text().count("sequenceDiagram") == 1
    assert "<svg" in (tmp_path / f"{stem}.svg").read_text()
    out_dir = tmp_path / "again"
    assert main(["render", str(saved), "--out", str(out_dir)]) == 0
    assert (out_dir / f"{stem}.mmd").read_text().startswith("sequenceDiagram")


def test_search_without_violation_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "--protocol", "family-c", "--budget", "20", "--seed", "1"]) == 0
    assert "no violation found" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["search", "--design", "n=4 f=1 q=5 t=2"], "q=5 exceeds n=4"),
        (["search", "--design", "n=4 f=1 q=3 t=2 COLOUR=red"], "unknown option 'COLOUR'"),
        (["search", "--protocol", "nope"], "no protocol called 'nope'"),
        (["search", "--protocol", "family-c", "--budget", "lots"], "unknown budget 'lots'"),
        (["replay", "/nonexistent/file.json"], "does not exist"),
        (["sweep", "--budget", "lots"], "unknown budget 'lots'"),
        (["sweep", "--q", "0"], "q=0 is outside 1..n=4"),
        (["sweep", "--only", "READ_SHAPE=ZERO_PHASE"], "READ_SHAPE='ZERO_PHASE' is not a value"),
        (["sweep", "--workers", "0", "--out", "/nonexistent-dir/x"], "--workers 0"),
        (["sweep", "--dask-local", "2", "--scheduler", "tcp://h:1"], "not both"),
    ],
)
def test_bad_input_is_a_clear_error(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert fragment in capsys.readouterr().err


def test_search_count_is_within_the_budget_or_explained(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import re

    for argv in (["--design", "n=4 f=1 q=3 t=4", "--budget", "20", "--seed", "3"],
                 ["--protocol", "family-c", "--budget", "20", "--seed", "1"]):
        main(["search", *argv, "--out", str(tmp_path)])
        (line,) = (x for x in capsys.readouterr().out.splitlines() if x.startswith("searched"))
        shown = int(re.match(r"searched (\d+) example", line).group(1))
        assert shown <= 20, line
        # every run beyond what is shown is said: shrinking, or not counted by Hypothesis
        assert re.fullmatch(r"searched \d+ examples?( \(\+\d+ (shrinking runs?|runs? not "
                            r"counted toward the budget)(, \+\d+ shrinking runs?)?\))? in .*",
                            line), line


def test_searched_wording() -> None:
    from tssbqs_pbt.wording import searched

    assert searched(337, 100, 100) == "100 examples (+237 shrinking runs)"
    assert searched(114, 114, 100) == "100 examples (+14 runs not counted toward the budget)"
    assert searched(40, 40, 100) == "40 examples"
    assert searched(130, 104, 100) == ("100 examples (+4 runs not counted toward the budget, "
                                       "+26 shrinking runs)")
