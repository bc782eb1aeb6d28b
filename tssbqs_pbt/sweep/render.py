"""The sweep's outputs for people: rich tables for the terminal and ``report.md`` for GitHub.

Counterexamples are grouped by the schedule that produced them: each schedule found by search
is shown once with its Mermaid chart, followed by every combination it broke (itself, then the
neighbours it broke on replay), each linked to its JSON replay file, and to its steps, chart and
SVG where the sweep wrote them (for counterexamples found by search; ``tssbqs-pbt render FILE``
writes them for any other).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

from rich import box
from rich.markup import escape
from rich.table import Table

from tssbqs_pbt.protocols.options import OPTION_TYPES, Design
from tssbqs_pbt.sweep.exploring import certified
from tssbqs_pbt.sweep.families import (
    Comparison,
    Family,
    compare_with_published,
    describe_family,
    group_families,
    published_family,
)
from tssbqs_pbt.sweep.runner import SweepOutcome
from tssbqs_pbt.sweep.work import CombinationResult
from tssbqs_pbt.wording import plural

__all__ = ["Findings", "findings", "matrix_table", "valid_table", "write_markdown"]

_SHORT = {"P1 data consistency": "P1", "P2 data availability": "P2",
          "P3 confidentiality of the private key": "P3", "protocol fault": "fault"}


class Findings:
    """Families and the comparison with the published families C and J, computed once from
    an outcome."""

    def __init__(self, outcome: SweepOutcome) -> None:
        self.outcome = outcome
        self.space = outcome.spec.designs()
        self.valid = [r.design for r in outcome.results if r.verdict == "valid"]
        self.families: list[Family] = group_families(self.valid, self.space)
        self.axes = {k: frozenset(getattr(d.options, k) for d in self.space)
                     for k in OPTION_TYPES}
        self.comparison: Comparison = compare_with_published(
            self.valid, self.space, len(self.families), complete=outcome.complete)
        self.certified = [r.design for r in outcome.results if certified(r)]

    def certified_summary(self) -> str:
        """What the explorer backs: how many survivors are certified within the scope, next
        to the published families."""
        scope = self.outcome.spec.explore
        if scope is None:
            return ("survivors not explored (--no-explore): every valid verdict rests on the "
                    "random search alone")
        labels = Counter(published_family(d) or "other" for d in self.certified)
        c, j = self.comparison.c_members, self.comparison.j_members
        return (f"certified within the scope ({scope.describe()}): "
                f"{len(self.certified)} of {plural(len(self.valid), 'valid combination')}; "
                f"family C {labels.get('C', 0)} of {len(c)}, family J {labels.get('J', 0)} of "
                f"{len(j)}, {labels.get('other', 0)} other")

    def describe(self, family: Family) -> str:
        spec = self.outcome.spec
        return describe_family(family, n=spec.n, f=spec.f, axes=self.axes)


def findings(outcome: SweepOutcome) -> Findings:
    return Findings(outcome)


def short_property(result: CombinationResult) -> str:
    return _SHORT.get(result.property or "", result.property or "?")


_COLUMNS = ("q", "t", "combinations", "valid", "certified", "invalid", "P1", "P2", "P3",
            "fault", "by search", "by reuse", "by explore", "by walks", "error",
            "not finished")


def matrix_rows(outcome: SweepOutcome) -> list[tuple[int, ...]]:
    """Per (q, t): combinations, valid, certified (valid, and the explorer exhausted its scope),
    invalid, P1, P2, P3, fault, by search, by reuse, by explore, by walks, error, not finished
    (counts; provisional "valid" verdicts of an interrupted sweep included)."""
    cells: dict[tuple[int, int], list[CombinationResult]] = defaultdict(list)
    for result in outcome.results:
        cells[(result.design.q, result.design.t)].append(result)
    rows = []
    for (q, t), total in sorted(Counter((d.q, d.t) for d in outcome.spec.designs()).items()):
        rs = cells.get((q, t), [])
        invalid = [r for r in rs if r.verdict == "invalid"]
        props = Counter(short_property(r) for r in invalid)
        sources = Counter(r.source for r in invalid)
        rows.append((q, t, total, sum(r.verdict == "valid" for r in rs),
                     sum(certified(r) for r in rs), len(invalid),
                     *(props.get(p, 0) for p in ("P1", "P2", "P3", "fault")),
                     sources.get("search", 0), sources.get("reuse", 0),
                     sources.get("explore", 0), sources.get("walks", 0),
                     sum(r.verdict == "error" for r in rs), total - len(rs)))
    return rows


#: the terminal's matrix: short headers, no "by ..." columns (report.md has them), so that it
#: fits 80 columns with five-digit counts; (header, index in a matrix row)
_TERMINAL = (("q", 0), ("t", 1), ("designs", 2), ("valid", 3), ("cert.", 4), ("invalid", 5),
             ("P1", 6), ("P2", 7), ("P3", 8), ("fault", 9), ("error", 14), ("left", 15))


def matrix_table(outcome: SweepOutcome) -> Table:
    """One row per (q, t): how many combinations are valid, certified, broken (by property),
    unfinished; never wider than 80 columns (how each was broken is in report.md)."""
    table = Table(title=f"Validity matrix, n={outcome.spec.n} f={outcome.spec.f} "
                  f"({plural(outcome.spec.budget.examples, 'example')} per combination)",
                  box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False,
                  collapse_padding=True)
    for header, _ in _TERMINAL:
        table.add_column(header, justify="right", no_wrap=True)
    for row in matrix_rows(outcome):
        cells = [str(row[i]) for _, i in _TERMINAL]
        if row[3]:
            cells[3] = f"[green]{row[3]}[/]"
        table.add_row(*cells)
    return table


def option_text(design: Design) -> str:
    return " ".join(f"{k.upper()}={getattr(design.options, k).name}" for k in OPTION_TYPES)


def valid_table(found: Findings) -> Table:
    table = Table(title="Valid combinations (no violation within the budget)")
    table.add_column("q", justify="right")
    table.add_column("t", justify="right")
    table.add_column("options", overflow="fold")
    table.add_column("published family")
    table.add_column("examples", justify="right")
    table.add_column("explored")
    by_key = {r.key: r for r in found.outcome.results}
    for design in sorted(found.valid, key=lambda d: (d.q, d.t, d.describe())):
        result = by_key[design.describe()]
        label = published_family(design) or "[yellow]mixture[/]"
        table.add_row(str(design.q), str(design.t), escape(option_text(design)), label,
                      str(result.examples), escape(explored_text(result)))
    return table


def explored_text(result: CombinationResult) -> str:
    """What backs a valid verdict besides the examples: "certified: 432 states; 64 deep
    walks", "not exhausted (max_states): 20000 states", "not explored"."""
    explored = result.explored
    if explored is None:
        return "not explored"
    if "error" in explored:
        return "exploration failed: " + str(explored["error"]).splitlines()[0]
    states = plural(int(explored.get("states", 0)), "state")
    walked = result.walked
    walks = ("" if walked is None or result.verdict != "valid"
             else f"; {plural(int(walked.get('walks', 0)), 'deep walk')} found nothing")
    if certified(result):
        return f"certified: {states}{walks}"
    return f"not exhausted ({explored.get('cut_by')}): {states}{walks}"


def families_lines(found: Findings) -> list[str]:
    lines = []
    for i, family in enumerate(found.families, start=1):
        labels = Counter(published_family(d) or "other" for d in family.members)
        tag = ", ".join(f"{k}: {v}" for k, v in sorted(labels.items()))
        lines.append(f"family {i} ({len(family.members)} combinations; {tag}): "
                     f"{found.describe(family)}")
    return lines


def write_markdown(found: Findings, path: Path) -> Path:
    """``report.md``: summary, matrix, families, valid list, every counterexample."""
    outcome = found.outcome
    spec = outcome.spec
    lines = [
        f"# tssbqs-pbt sweep: n={spec.n}, f={spec.f}",
        "",
        f"- combinations: {outcome.total} (q in {list(spec.qs)}, t in {list(spec.ts)}, "
        f"pinned: {', '.join(f'{k.upper()}={v.name}' for k, v in spec.pins.items()) or 'none'})",
        f"- budget: {spec.budget_name} = {plural(spec.budget.examples, 'example')} of at most "
        f"{plural(spec.budget.steps, 'rule')} per combination; seed {spec.seed}",
        f"- finished: {len(outcome.results)} of {outcome.total}"
        + (" (interrupted: resume with `tssbqs-pbt sweep --resume "
           f"{outcome.directory}`)" if not outcome.complete else ""),
        f"- verdicts: {', '.join(f'{k} {v}' for k, v in sorted(outcome.counts().items()))}",
        f"- ran on: {outcome.executor}; this run {outcome.elapsed_s:.0f} s"
        + (f" ({outcome.resumed} combinations finished earlier)" if outcome.resumed else ""),
        "",
        f"**{found.comparison.summary()}**",
        "",
        f"**{found.certified_summary()}**",
        "",
        "A *valid* verdict means no violation in the stated budget of random examples; a "
        "*certified* one also means that the explorer enumerated every adversary schedule of "
        "the stated scope and found none (not a proof beyond that scope). Every *invalid* "
        "verdict links its counterexample; `tssbqs-pbt replay FILE` re-runs it.",
        "",
        "## Matrix",
        "",
        "| " + " | ".join(_COLUMNS) + " |",
        "|" + "---|" * len(_COLUMNS),
    ]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in matrix_rows(outcome)]
    lines += ["", "## Families of the valid set", ""]
    lines += [f"- {line}" for line in families_lines(found)] or ["- (no valid combination)"]
    lines += ["", "## Valid combinations", "",
              "| q | t | options | published family | examples searched | explored |",
              "|---|---|---|---|---|---|"]
    by_key = {r.key: r for r in outcome.results}
    for d in sorted(found.valid, key=lambda d: (d.q, d.t, d.describe())):
        result = by_key[d.describe()]
        searched = (f"{result.examples} (on the identical design `{result.reused_from}`)"
                    if result.source == "alias" else str(result.examples))
        lines.append(f"| {d.q} | {d.t} | {option_text(d)} | {published_family(d) or 'mixture'} "
                     f"| {searched} | {explored_text(result)} |")
    errors = [r for r in outcome.results if r.verdict == "error"]
    if errors:
        lines += ["", "## Errors", ""]
        lines += [f"- `{r.key}`: {(r.error or '').splitlines()[0]}" for r in errors]
    listing = path.with_name("counterexamples.md")
    lines += ["", "## Counterexamples", "",
              f"Every invalid combination, each linked to its own files: [{listing.name}]"
              f"({listing.name}). Below, each schedule found by search, with its chart and how "
              "many neighbours it also broke when replayed. A counterexample found by replaying "
              "a schedule is kept as its replay file only (gzip-compressed JSON; `tssbqs-pbt "
              "replay` and `tssbqs-pbt render` read it as it is): `tssbqs-pbt render FILE` "
              "writes its steps, charts and regression test.", ""]
    lines += _counterexample_sections(outcome.results, outcome.directory, listing.name)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    listing.write_text("\n".join(_listing(outcome.results)) + "\n", encoding="utf-8")
    return path


def _line(r: CombinationResult) -> str:
    if "steps" in r.files:
        charts = _link(r, "svg", "SVG")
    else:  # (a reused schedule: rendered on demand)
        charts = f"steps and charts: `tssbqs-pbt render {r.files.get('replay', 'FILE')}`"
    return (f"- {_link(r, 'steps', r.key)}: {short_property(r)} ({r.clause}), "
            f"{plural(r.steps, 'step')}, "
            f"{r.source}{f' from `{r.reused_from}`' if r.reused_from else ''} · "
            f"{_link(r, 'replay', 'JSON')} · {charts}")


def _listing(results: Sequence[CombinationResult]) -> list[str]:
    invalid = [r for r in results if r.verdict == "invalid"]
    return [f"# Every invalid combination ({len(invalid)})", "",
            *(_line(r) for r in invalid)]


def _link(result: CombinationResult, kind: str, text: str) -> str:
    target = result.files.get(kind)
    return f"[{text}]({target})" if target else text


def _counterexample_sections(results: Sequence[CombinationResult], root: Path,
                             listing: str, shown: int = 10) -> list[str]:
    invalid = [r for r in results if r.verdict == "invalid"]
    origins = [r for r in invalid if r.source in ("search", "explore", "walks")]
    followers: dict[str, list[CombinationResult]] = defaultdict(list)
    for r in invalid:
        if r.source == "reuse":
            followers[r.reused_from or ""].append(r)
    lines: list[str] = []
    for number, origin in enumerate(origins, start=1):
        lines += [
            f"### {number}. {short_property(origin)} ({origin.clause}) — `{origin.key}`",
            "",
            f"{_how_found(origin)}; "
            f"{_link(origin, 'steps', 'numbered steps')} · {_link(origin, 'svg', 'SVG chart')} · "
            f"{_link(origin, 'replay', 'JSON replay')} · {_link(origin, 'test', 'regression test')}"
            + (" · confirmed by replay" if origin.confirmed else " · NOT confirmed by replay"),
            "",
        ]
        mermaid = origin.files.get("mermaid")
        if mermaid and (root / mermaid).exists():
            lines += ["```mermaid", (root / mermaid).read_text(encoding="utf-8").rstrip(), "```",
                      ""]
        reused = followers.pop(origin.key, [])
        if reused:
            lines += [f"The same schedule, replayed, also broke {len(reused)} neighbouring "
                      "combination(s), each confirmed by its own replay file"
                      + (f" (the first {shown} here, all in [{listing}]({listing}))"
                         if len(reused) > shown else "") + ":", ""]
            lines += [_line(r) for r in reused[:shown]]
            lines.append("")
    rest = sum(len(v) for v in followers.values())
    if rest:
        lines += [f"{rest} more were broken by schedules from an earlier run or from a "
                  f"combination broken by reuse itself: see [{listing}]({listing}).", ""]
    return lines


def _how_found(origin: CombinationResult) -> str:
    if origin.source == "walks":
        walked = origin.walked or {}
        return (f"Found by a deep random walk (walk {walked.get('walks', '?')} of "
                f"{walked.get('of', '?')}, seed {walked.get('seed', '?')}, beyond the "
                "explorer's scope), cut to "
                f"{plural(len(walked.get('failing_walk', ())), 'move')}, "
                f"{plural(origin.steps, 'step')}")
    if origin.source == "explore":
        explored = origin.explored or {}
        return (f"Found by the explorer: the shortest schedule within the scope "
                f"({explored.get('shortest_within', '?')}), "
                f"{plural(len(explored.get('moves', ())), 'move')}, "
                f"{plural(origin.steps, 'step')}")
    return (f"Found by search ({origin.tactic} tactic), shrunk to "
            f"{plural(origin.steps, 'step')}")
