"""The trace as a standalone SVG sequence chart (no dependencies, no scripts, no fonts).

One vertical lane per process, clients first; Byzantine lanes are red, dashed and labelled
"(Byzantine)".  Each row is a message arrow (black: correct process, red dashed: sent by a
Byzantine server, grey dashed ending in a cross: never delivered) or a note (invocation,
completion, a signature the adversary obtained, a fault, the drain, the violation).  Step
numbers run down the left margin; the steps the evidence names are shaded.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from tssbqs_pbt.kernel import NodeId, Trace
from tssbqs_pbt.properties import Verdict
from tssbqs_pbt.report.chart import (
    DEFAULT_MAX_ARROWS,
    Arrow,
    ArrowStyle,
    Note,
    NoteStyle,
    Row,
    chart_rows,
)
from tssbqs_pbt.report.describe import clip
from tssbqs_pbt.report.prose import headline
from tssbqs_pbt.report.timeline import Timeline, build_timeline
from tssbqs_pbt.wording import plural

__all__ = ["render_svg"]

_MARGIN = 56  # left margin for step numbers
_LANE = 150  # distance between lanes
_TOP = 104  # first row
_ROW = 24
_CHAR = 6.1  # average glyph width at 11px, to clip labels
_FONT = "font-family='Helvetica, Arial, sans-serif' font-size='11'"
_RED, _GREY, _INK = "#c62828", "#9e9e9e", "#212121"
_NOTE_FILL = {
    NoteStyle.INVOKE: "#e3f2fd", NoteStyle.COMPLETE: "#e8f5e9", NoteStyle.LEARN: "#fff3e0",
    NoteStyle.FAULT: "#ffcdd2", NoteStyle.PHASE: "#f5f5f5", NoteStyle.ELIDED: "#fafafa",
    NoteStyle.VIOLATION: "#ffcdd2",
}


def render_svg(
    trace: Trace, verdict: Verdict | None = None, *, max_arrows: int = DEFAULT_MAX_ARROWS,
    timeline: Timeline | None = None,
) -> str:
    """A standalone SVG document charting ``trace``, the violation of ``verdict`` highlighted
    (``timeline``: the one already built of them, not built again)."""
    if timeline is None:
        timeline = build_timeline(trace, verdict)
    rows = chart_rows(timeline, max_arrows)
    nodes = timeline.nodes
    lane_x = {node: _MARGIN + _LANE // 2 + i * _LANE for i, node in enumerate(nodes)}
    width = _MARGIN + _LANE * len(nodes) + 10
    height = _TOP + _ROW * len(rows) + 30
    out = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' {_FONT}>",
        _defs(),
        f"<rect class='background' x='0' y='0' width='{width}' height='{height}' fill='white'/>",
        _text(8, 18, _title(timeline), size=13, weight="bold", limit=width - 16),
        _text(8, 36, headline(timeline), size=11, fill=_RED if timeline.focus is not None
              else _INK, limit=width - 16),
        _text(8, 52, "black: correct process · red dashed: sent by a Byzantine server · grey "
              "× : never delivered · shaded: steps the evidence names", size=10, fill="#616161",
              limit=width - 16),
    ]
    out.extend(_band(lane_x[n], height) for n in nodes if timeline.is_byzantine(n))
    out.extend(_shading(rows, timeline, width))
    out.extend(_lane(node, lane_x[node], height, timeline) for node in nodes)
    out.extend(_step_numbers(rows))
    for i, row in enumerate(rows):
        y = _TOP + i * _ROW + _ROW // 2
        if isinstance(row, Arrow):
            out.append(_arrow(row, y, lane_x))
        else:
            out.append(_note(row, y, lane_x, nodes))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _title(timeline: Timeline) -> str:
    c = timeline.config
    return (f"{timeline.header.protocol} — n={c.n} f={c.f} q={c.q} t={c.t}, "
            f"{plural(len(timeline.steps), 'step')}")


def _defs() -> str:
    def marker(name: str, colour: str) -> str:
        return (f"<marker id='{name}' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='7' "
                f"markerHeight='7' orient='auto-start-reverse'><path d='M0,0 L10,5 L0,10 z' "
                f"fill='{colour}'/></marker>")

    return f"<defs>{marker('arrow', _INK)}{marker('arrow-adversary', _RED)}</defs>"


def _lane(node: NodeId, x: int, height: int, timeline: Timeline) -> str:
    byz = timeline.is_byzantine(node)
    label = f"{node} (Byzantine)" if byz else str(node)
    fill, stroke = ("#ffcdd2", _RED) if byz else (
        ("#e3f2fd", "#1565c0") if node.is_client else ("#e8f5e9", "#2e7d32"))
    dash = " stroke-dasharray='6 4'" if byz else ""
    return (
        f"<g class='lane' data-node='{node}' data-byzantine='{str(byz).lower()}'>"
        f"<line x1='{x}' y1='{_TOP - 12}' x2='{x}' y2='{height - 14}' stroke='{stroke}' "
        f"stroke-width='{2 if byz else 1}'{dash}/>"
        f"<rect x='{x - 60}' y='{_TOP - 40}' width='120' height='26' rx='4' fill='{fill}' "
        f"stroke='{stroke}' stroke-width='{2 if byz else 1}'/>"
        + _text(x, _TOP - 23, label, anchor="middle", weight="bold",
                fill=_RED if byz else _INK)
        + "</g>"
    )


def _band(x: int, height: int) -> str:
    """A pale red background behind a Byzantine lane."""
    return (f"<rect class='byzantine-band' x='{x - _LANE // 2 + 4}' y='{_TOP - 44}' "
            f"width='{_LANE - 8}' height='{height - _TOP + 34}' fill='#fff5f5'/>")


def _shading(rows: tuple[Row, ...], timeline: Timeline, width: int) -> list[str]:
    out = []
    for i, row in enumerate(rows):
        hot = row.step in timeline.highlight or (
            isinstance(row, Note) and row.style is NoteStyle.VIOLATION)
        if hot:
            out.append(f"<rect class='highlight' data-step='{row.step}' x='0' "
                       f"y='{_TOP + i * _ROW}' width='{width}' height='{_ROW}' "
                       "fill='#ffebee'/>")
    return out


def _step_numbers(rows: tuple[Row, ...]) -> list[str]:
    out = []
    previous = None
    for i, row in enumerate(rows):
        if row.step != previous and row.step > 0:
            y = _TOP + i * _ROW + _ROW // 2 + 4
            out.append(_text(_MARGIN - 10, y, str(row.step), anchor="end", fill="#757575",
                             cls="step"))
        previous = row.step
    return out


def _arrow(row: Arrow, y: int, lane_x: dict[NodeId, int]) -> str:
    x1, x2 = lane_x[row.src], lane_x[row.dst]
    colour = _RED if row.from_adversary else _INK
    if row.style is ArrowStyle.LOST:
        colour = _GREY
    dash = " stroke-dasharray='5 3'" if row.from_adversary or row.style is ArrowStyle.LOST \
        else ""
    head = "" if row.style is ArrowStyle.LOST else (
        " marker-end='url(#arrow-adversary)'" if row.from_adversary
        else " marker-end='url(#arrow)'")
    attrs = f"class='message' data-msg='{row.msg_id}' data-step='{row.step}'"
    if x1 == x2:
        shape = (f"<path d='M{x1},{y - 6} h26 v10 h-24' fill='none' stroke='{colour}'"
                 f"{dash}{head}/>")
        label = _text(x1 + 30, y + 2, row.label, fill=colour, limit=_LANE - 36)
    else:
        end = x2 - 3 if x2 > x1 else x2 + 3
        shape = (f"<line x1='{x1}' y1='{y + 4}' x2='{end}' y2='{y + 4}' stroke='{colour}' "
                 f"stroke-width='1.2'{dash}{head}/>")
        label = _text((x1 + x2) // 2, y, row.label, anchor="middle", fill=colour,
                      limit=max(abs(x2 - x1) - 10, 90))
    cross = ""
    if row.style is ArrowStyle.LOST:
        cross = _text(x2, y + 8, "×", anchor="middle", fill=_RED, size=14, weight="bold")
    return f"<g {attrs}>{shape}{label}{cross}</g>"


def _note(row: Note, y: int, lane_x: dict[NodeId, int], nodes: tuple[NodeId, ...]) -> str:
    over = [n for n in nodes if n in row.nodes] or list(nodes)
    left = lane_x[over[0]] - 64
    right = lane_x[over[-1]] + 64
    fill = _NOTE_FILL[row.style]
    stroke = _RED if row.style in (NoteStyle.VIOLATION, NoteStyle.FAULT) else "#bdbdbd"
    weight = "bold" if row.style is NoteStyle.VIOLATION else "normal"
    return (
        f"<g class='note {row.style.value}' data-step='{row.step}'>"
        f"<rect x='{left}' y='{y - 9}' width='{right - left}' height='18' rx='3' "
        f"fill='{fill}' stroke='{stroke}'/>"
        + _text((left + right) // 2, y + 4, row.text, anchor="middle", weight=weight,
                fill=_RED if row.style is NoteStyle.VIOLATION else _INK,
                limit=right - left - 8)
        + "</g>"
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 11,
          weight: str = "normal", fill: str = _INK, limit: float | None = None,
          cls: str | None = None) -> str:
    clean = "".join(ch for ch in text if ch >= " " or ch in "\t")
    if limit is not None:
        clean = clip(clean, max(4, int(limit / (_CHAR * size / 11))))
    klass = f" class={quoteattr(cls)}" if cls else ""
    extra = "" if weight == "normal" else f" font-weight='{weight}'"
    size_attr = "" if size == 11 else f" font-size='{size}'"
    return (f"<text x='{x:g}' y='{y:g}' text-anchor='{anchor}' fill='{fill}'"
            f"{size_attr}{extra}{klass}>{escape(clean)}</text>")
