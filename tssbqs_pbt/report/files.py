"""Write a counterexample's report next to its replay file, each file atomically.

For a replay file ``counterexample-p1-ab12.json`` and stem ``counterexample_p1_ab12``:

- ``<stem>.steps.md``: the numbered steps, the verdict and the Mermaid chart (GitHub renders it);
- ``<stem>.mmd``: the Mermaid chart alone;
- ``<stem>.svg``: the standalone SVG chart;
- ``regression_<stem>.py``: a pytest regression test (not collected by a plain ``pytest``:
  run it by name) that fails while the protocol still shows the violation.

Each file is written to a temporary file in the same directory and moved into place with
:func:`os.replace`, so a reader never sees half a report file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import attrs

from tssbqs_pbt.kernel import Trace
from tssbqs_pbt.properties import Verdict
from tssbqs_pbt.report.mermaid import render_mermaid
from tssbqs_pbt.report.prose import headline
from tssbqs_pbt.report.regression import python_identifier, render_regression_test
from tssbqs_pbt.report.steps import render_steps
from tssbqs_pbt.report.svg import render_svg
from tssbqs_pbt.report.timeline import Timeline, build_timeline

__all__ = ["ReportFiles", "report_stem", "write_report"]


@attrs.frozen
class ReportFiles:
    """Where :func:`write_report` put each file."""

    steps: Path
    mermaid: Path
    svg: Path
    test: Path

    @property
    def all(self) -> tuple[Path, ...]:
        return (self.steps, self.mermaid, self.svg, self.test)


def report_stem(replay_path: str | Path) -> str:
    """The replay file's stem as an identifier (``counterexample-p1-ab.json`` ->
    ``counterexample_p1_ab``; a compressed ``...json.gz`` gives the same stem; a sweep's
    ``00001-024df071-p3.json.gz`` gives ``00001_024df071_p3``, with no ``_`` put before the
    digit: the test module's name starts with ``regression_``)."""
    name = Path(replay_path).name
    for suffix in (".json.gz", ".json", ".gz"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    ident = python_identifier(name)
    return ident[1:] if ident.startswith("_") and not name.startswith("_") else ident


def write_report(
    trace: Trace, verdict: Verdict | None, replay_path: str | Path, directory: str | Path
) -> ReportFiles:
    """Write the four report files of ``trace`` into ``directory``; ``verdict`` None means the
    run ended in a protocol fault (the steps then name the faulting step)."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    stem = report_stem(replay_path)
    files = ReportFiles(
        steps=folder / f"{stem}.steps.md",
        mermaid=folder / f"{stem}.mmd",
        svg=folder / f"{stem}.svg",
        test=folder / f"regression_{stem}.py",
    )
    timeline = build_timeline(trace, verdict)  # once for the three renderings
    chart = render_mermaid(trace, verdict, timeline=timeline)
    _write_atomic(files.steps, _markdown(trace, timeline, Path(replay_path), files, chart))
    _write_atomic(files.mermaid, chart)
    _write_atomic(files.svg, render_svg(trace, verdict, timeline=timeline))
    _write_atomic(files.test, render_regression_test(replay_path, name=stem, test_dir=folder))
    return files


def _markdown(trace: Trace, timeline: Timeline, replay: Path, files: ReportFiles,
              chart: str) -> str:
    title = headline(timeline)
    return (
        f"# Counterexample: {title}\n\n"
        f"Replay file: `{replay.name}`; regression test: `{files.test.name}`; chart as SVG: "
        f"[{files.svg.name}]({files.svg.name}).\n\n"
        f"{render_steps(trace, timeline.verdict, timeline=timeline)}\n"
        "### Sequence chart\n\n"
        f"```mermaid\n{chart}```\n"
    )


def _write_atomic(path: Path, text: str) -> None:
    # write-then-rename: a killed process leaves the old file or the new one, never half of
    # one; no fsync (the files are rendered from the replay file, and a sweep writes ~4 per
    # combination: fsync was a tenth of a reused verdict's time)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
