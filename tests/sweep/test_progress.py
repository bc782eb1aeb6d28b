"""The sweep's progress: plain lines that fit 80 columns off a terminal, an ETA that does not
jump."""

from __future__ import annotations

import io

from tssbqs_pbt.sweep.command import Eta, ProgressDisplay, progress_line
from tssbqs_pbt.sweep.runner import Progress


def _events(total: int) -> list[tuple[float, Progress]]:
    """A sweep's events: quick invalid verdicts first, then slow valid ones, then a stage of
    replays; time also passes with nothing finished (a long combination)."""
    now, done = 0.0, 0
    counts = {"valid": 0, "invalid": 0, "error": 0}
    events = [(now, Progress(0, total, 0, dict(counts), None, "search (25 examples)"))]
    while done < total:
        if done < total // 2:
            now += 0.05
            counts["invalid"] += 1
            stage = "search (25 examples)"
        elif done < total * 9 // 10:
            now += 3.0 if done % 7 else 40.0  # a slow combination now and then
            counts["valid"] += 1
            stage = "search (up to 400 examples)"
        else:
            now += 0.2
            counts["error" if done % 50 == 0 else "invalid"] += 1
            stage = "aliases: replaying their representative's counterexample"
        done += 1
        events.append((now, Progress(done, total, 2, dict(counts), None, stage)))
    return events


def test_plain_lines_fit_80_columns() -> None:
    out = io.StringIO()
    clock = [0.0]
    display = ProgressDisplay(live=False, stream=out, every=30.0, clock=lambda: clock[0])
    with display:
        for now, event in _events(27_648):
            clock[0] = now
            display.update(event)
    lines = out.getvalue().splitlines()
    assert len(lines) > 20
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    assert any("ETA" in line for line in lines)
    # the widest case: five-digit counts, hours elapsed and left, every part present
    wide = Progress(27_648, 27_648, 64, {"valid": 13_000, "invalid": 12_000, "error": 2_648},
                    None, "aliases: replaying their representative's counterexample")
    assert len(progress_line(wide, 99_999.0, 99_999.0)) <= 80


def test_eta_does_not_jump_once_five_percent_is_done() -> None:
    total = 5_000
    eta = Eta()
    previous = None
    shown = []
    for now, event in _events(total):
        for tick in (now - 0.01, now):  # a redraw between events ages the estimate
            left = eta.left(tick)
            if left is not None and previous is not None:
                shown.append((previous, left))
            previous = left if left is not None else previous
        left = eta.update(now, event.done, event.total)
        if event.done < total * 0.05:
            continue
        assert left is not None
        if previous is not None and event.done < total:
            shown.append((previous, left))
        previous = left
    assert shown
    for before, after in shown:  # (within the last minute a few seconds is no jump)
        low, high = sorted((max(before, 60.0), max(after, 60.0)))
        assert high / low <= 2.0, (before, after)


def test_eta_waits_for_work_done() -> None:
    eta = Eta()
    assert eta.update(0.0, 100, 1_000) is None  # resumed: 100 done before this run
    assert eta.update(10.0, 120, 1_000) is None  # 20 of 900 left: under 5%
    left = eta.update(20.0, 190, 1_000)  # 90 in 20 s: 810 left at 4.5/s
    assert left is not None and abs(left - 180.0) < 1e-6


def test_the_opening_lines_fit_80_columns() -> None:
    from pathlib import Path

    from tssbqs_pbt.sweep.command import header_lines
    from tssbqs_pbt.sweep.space import SweepSpec

    lines = header_lines(SweepSpec(seed=3856821754), 27648, "2 local worker processes",
                         Path("tssbqs-sweep"))
    assert all(len(line) <= 80 for line in lines), lines
    text = " ".join(lines)
    assert "27648 combinations" in text and "seed 3856821754" in text
    assert "every survivor explored" in text and "tssbqs-sweep/" in text
    quiet = header_lines(SweepSpec(explore=None), 1, "1 local worker process", Path("x"))
    assert any("not explored (--no-explore)" in line for line in quiet)


def test_the_explore_stage_counts_survivors_explored() -> None:
    p = Progress(27_648, 27_648, 2, {"valid": 48, "invalid": 27_600}, None,
                 "explore (48 survivors)", (12, 48))
    line = progress_line(p, 1_000.0, 5.0)
    assert "explore: 12/48 explored" in line and "ETA 5s" in line and len(line) <= 80


def test_the_matrix_fits_80_columns_with_five_digit_counts() -> None:
    """Nothing of the matrix is cut ("17…") on an 80-column console."""
    from pathlib import Path
    from unittest import mock

    from rich.console import Console

    from tssbqs_pbt.sweep import render
    from tssbqs_pbt.sweep.render import matrix_table
    from tssbqs_pbt.sweep.runner import SweepOutcome
    from tssbqs_pbt.sweep.space import SweepSpec

    outcome = SweepOutcome(SweepSpec(), Path("x"), (), 27_648, False, 1.0, 0, "pool", 2)
    rows = [(4, 4, 17_280, 12_345, 12_345, 17_280, 17_280, 17_280, 17_280, 17_280, 17_280,
             17_280, 17_280, 17_280, 17_280, 17_280)]
    console = Console(width=80, record=True, force_terminal=False)
    with mock.patch.object(render, "matrix_rows", return_value=rows):
        console.print(matrix_table(outcome))
    text = console.export_text()
    assert "…" not in text and "17280" in text and "12345" in text, text
    assert max(len(line) for line in text.splitlines()) <= 80
