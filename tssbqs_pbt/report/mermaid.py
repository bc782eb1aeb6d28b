"""The trace as a Mermaid ``sequenceDiagram`` (GitHub renders it in Markdown).

One participant per client and server; Byzantine servers sit in a red ``box`` and are named
"S4 (Byzantine)".  Solid arrows are messages of correct processes, dashed arrows messages a
Byzantine server sent, arrows ending in a cross messages never delivered.  The steps the
evidence names are shaded (``rect``), and a note states the violation where it shows.

Mermaid ends a statement at ``;`` and reads ``#...;`` as an entity code, so labels escape
``# ; : < > " %`` and backticks as entity codes (``#35;`` and so on).  Long labels are never
cut: they wrap onto several lines (``<br/>`` between words), so the chart stays narrow and the
value that proves the violation stays whole.
"""

from __future__ import annotations

from tssbqs_pbt.kernel import NodeId, Trace
from tssbqs_pbt.properties import Verdict
from tssbqs_pbt.report.chart import (
    DEFAULT_MAX_ARROWS,
    Arrow,
    ArrowStyle,
    Note,
    Row,
    chart_rows,
)
from tssbqs_pbt.report.describe import wrap
from tssbqs_pbt.report.timeline import Timeline, build_timeline
from tssbqs_pbt.wording import plural

__all__ = ["escape_mermaid", "mermaid_label", "render_mermaid"]

MAX_TEXT = 45_000  # Mermaid refuses diagrams over 50,000 characters by default
ARROW_WIDTH = 60  # characters per line of an arrow's label
NOTE_WIDTH = 60  # ... of a note over one participant
WIDE_WIDTH = 96  # ... of a note across the chart

_ESCAPES = str.maketrans({
    "#": "#35;", ";": "#59;", ":": "#58;", "<": "#lt;", ">": "#gt;", '"': "#quot;",
    "%": "#37;", "`": "#96;", "\n": " ", "\r": " ", "\t": " ",
})
_HIGHLIGHT = "rect rgba(255, 120, 120, 0.18)"
_BOXES = (
    ("rgb(232, 240, 254)", "clients"),
    ("rgb(234, 247, 234)", "correct servers"),
    ("rgb(253, 224, 224)", "Byzantine servers"),
)


def escape_mermaid(text: str) -> str:
    """``text`` safe inside a Mermaid message, note or participant label."""
    return text.translate(_ESCAPES)


def mermaid_label(text: str, width: int) -> str:
    """``text`` escaped and wrapped at ``width`` characters, lines joined by ``<br/>``."""
    return "<br/>".join(escape_mermaid(line) for line in wrap(text, width))


def render_mermaid(
    trace: Trace, verdict: Verdict | None = None, *, max_arrows: int = DEFAULT_MAX_ARROWS,
    timeline: Timeline | None = None,
) -> str:
    """A Mermaid sequence diagram of ``trace``, the violation of ``verdict`` highlighted
    (``timeline``: the one already built of them, not built again)."""
    if timeline is None:
        timeline = build_timeline(trace, verdict)
    limit = max_arrows
    while True:
        text = _render(timeline, chart_rows(timeline, limit))
        if len(text) <= MAX_TEXT or limit <= 10:
            return text
        limit //= 2


def _render(timeline: Timeline, rows: tuple[Row, ...]) -> str:
    order = _participants(timeline)
    config = timeline.config
    lines = [
        "sequenceDiagram",
        f"    %% tssbqs-pbt trace of {timeline.header.protocol}",
        f"    %% n={config.n} f={config.f} q={config.q} t={config.t}, "
        f"{plural(len(timeline.steps), 'step')}",
    ]
    groups = (
        [c for c in order if c.is_client],
        [s for s in order if s.is_server and not timeline.is_byzantine(s)],
        [s for s in order if timeline.is_byzantine(s)],
    )
    for (colour, title), members in zip(_BOXES, groups, strict=True):
        if not members:
            continue
        lines.append(f"    box {colour} {title}")
        for node in members:
            if timeline.is_byzantine(node):
                lines.append(f"        participant {node} as {node} (Byzantine)")
            else:
                lines.append(f"        participant {node}")
        lines.append("    end")
    first, last = order[0], order[-1]
    lines.append(f"    Note over {first},{last}: " + mermaid_label(
        "solid: correct process · dashed: sent by a Byzantine server · x: never delivered · "
        "labels start with the step the message arrived in", WIDE_WIDTH))
    shaded = False
    for row in rows:
        want = row.step in timeline.highlight or (
            isinstance(row, Note) and row.step == timeline.focus)
        if want and not shaded:
            lines.append(f"    {_HIGHLIGHT}")
        elif shaded and not want:
            lines.append("    end")
        shaded = want
        indent = "        " if shaded else "    "
        lines.append(indent + _row(row, order))
    if shaded:
        lines.append("    end")
    return "\n".join(lines) + "\n"


def _participants(timeline: Timeline) -> list[NodeId]:
    """Clients, then correct servers, then Byzantine servers (each box must be contiguous)."""
    nodes = timeline.nodes
    return (
        [n for n in nodes if n.is_client]
        + [n for n in nodes if n.is_server and not timeline.is_byzantine(n)]
        + [n for n in nodes if timeline.is_byzantine(n)]
    )


def _row(row: Row, order: list[NodeId]) -> str:
    if isinstance(row, Arrow):
        if row.style is ArrowStyle.LOST:
            tip = "--x" if row.from_adversary else "-x"
        else:
            tip = "-->>" if row.from_adversary else "->>"
        return f"{row.src}{tip}{row.dst}: {mermaid_label(row.label, ARROW_WIDTH)}"
    over = [n for n in order if n in row.nodes]
    where = str(over[0]) if len(over) == 1 else f"{over[0]},{over[-1]}"
    width = NOTE_WIDTH if len(over) == 1 else WIDE_WIDTH
    return f"Note over {where}: {mermaid_label(row.text, width)}"

