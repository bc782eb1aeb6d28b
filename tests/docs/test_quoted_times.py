"""Issue 40, item 11: the times the docs quote agree, because they come from one place.

benchmarks/README.md's "The figures the docs quote" lists every time a user reads (each as the
docs write it, in backticks, with the measurement it comes from).  Every time figure in
README.md, docs/plugin.md, docs/sweep.md's "Time and disk" section, the first paragraph of
docs/explore.md's "Cost" and the ``sweep`` and ``explore`` help descriptions must be one of
them: "33 to 52 minutes" in one place and "33 to 54" in another, "takes hours", "about ten
minutes" or "a minute or two" beside a measured 887 s or 6 min 54 s fail here.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from tssbqs_pbt.cli import _build_parser

ROOT = Path(__file__).resolve().parents[2]
_NUMBER = r"\d[\d,]*(?:\.\d+)?"
_WORDS = (r"(?:a few|an? |one|two|three|four|five|six|seven|eight|nine|ten|"
          r"fifteen|twenty|thirty|several)")
#: a duration: "887 s", "27.9 s", "33 to 54 minutes", "6 min 54 s", "about ten minutes",
#: "takes hours"
TIME = re.compile(
    rf"(?<![\w.,])(?:\ba minute or two\b"
    rf"|{_NUMBER}(?:\s*(?:to|-|–)\s*{_NUMBER})?\s?(?:s|seconds?|minutes?|min"
    rf"(?:\s+{_NUMBER}\s?s)?|hours?|h)\b|\b{_WORDS}\s*(?:seconds|minutes?|hours?)\b"
    r"|\bhours\b)", re.I)


def _listed() -> set[str]:
    text = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    section = text.split("## The figures the docs quote", 1)[1].split("\n## ", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("|")]
    return {f for line in table for f in re.findall(r"`([^`]+)`", line.split("|")[2])}


def _section(text: str, heading: str, *, paragraphs: int | None = None) -> str:
    body = text.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]
    if paragraphs is not None:
        body = "\n\n".join(body.strip().split("\n\n")[:paragraphs])
    return body


def _descriptions() -> str:
    parser = _build_parser()
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return "\n".join(sub.choices[name].description or "" for name in ("sweep", "explore"))


def _quoted() -> dict[str, str]:
    docs = ROOT / "docs"
    explore = (docs / "explore.md").read_text(encoding="utf-8")
    return {
        "README.md": (ROOT / "README.md").read_text(encoding="utf-8"),
        "docs/plugin.md": (docs / "plugin.md").read_text(encoding="utf-8"),
        "docs/sweep.md (Time and disk)": _section(
            (docs / "sweep.md").read_text(encoding="utf-8"), "## Time and disk: say it before "
            "you start"),
        "docs/explore.md (Cost)": _section(explore, "## Cost", paragraphs=1),
        "sweep/explore --help": _descriptions(),
    }


def _figures(text: str) -> list[str]:
    return [" ".join(m.group(0).split()) for m in TIME.finditer(text)]


def test_the_pattern_finds_what_a_doc_writes() -> None:
    said = ("took 33 to 52 minutes plus about 36 minutes; 887 s on one; 6 min 54 s; about "
            "ten minutes; takes hours; in a minute or two; 27.9 s")
    assert _figures(said) == ["33 to 52 minutes", "36 minutes", "887 s", "6 min 54 s",
                              "ten minutes", "hours", "a minute or two", "27.9 s"]


def test_every_time_a_doc_quotes_is_a_listed_measurement() -> None:
    listed = _listed()
    assert {"887 s", "345 s", "33 to 54 minutes", "6 min 54 s"} <= listed, listed
    stray = [f"{where}: {figure!r}" for where, text in _quoted().items()
             for figure in _figures(text)
             if not any(figure == f or figure in f for f in listed)]
    assert not stray, (f"times quoted but not in benchmarks/README.md's list (quote a listed "
                       f"figure, or list the measurement there): {stray}")


def test_the_headline_figures_are_quoted_where_a_user_reads_them() -> None:
    quoted = _quoted()
    assert "304.6 s" in quoted["README.md"] and "887 s" in quoted["docs/explore.md (Cost)"]
    assert "304.6 s" in quoted["docs/explore.md (Cost)"] and "304.6 s" in quoted["docs/plugin.md"]
    assert "33 to 54 minutes" in quoted["README.md"]
    assert "33 to 54 minutes" in quoted["docs/sweep.md (Time and disk)"]
    assert "benchmarks/README.md" in quoted["README.md"]
