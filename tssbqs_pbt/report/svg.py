"""The trace as a standalone SVG sequence chart (no dependencies, no scripts, no fonts).

One vertical lane per process, clients first; Byzantine lanes are red, dashed and labelled
"(Byzantine)".  Each row is a message arrow (black: correct process, red dashed: sent by a
Byzantine server, grey dashed ending in a cross: never delivered) or a note (invocation,
completion, a signature the adversary obtained, a fault, the drain, the violation).  Step
numbers run down the left margin; the steps the evidence names are shaded.

Nothing is cut: a long label (a forged message, the violation in words, the title) wraps onto
several lines between words, rows grow to hold them, and the canvas is sized to its content
(lanes, title and the widest line, by :func:`text_width`'s estimate).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from xml.sax.saxutils import escape, quoteattr

import attrs

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
from tssbqs_pbt.report.describe import wrap
from tssbqs_pbt.report.prose import headline
from tssbqs_pbt.report.timeline import Timeline, build_timeline
from tssbqs_pbt.wording import plural

__all__ = ["render_svg", "text_width"]

_MARGIN = 56  # left margin for step numbers
_LANE = 150  # distance between lanes
_ROW = 24  # height of a one-line row
_LINE = 13  # each further line of a row's text
_LABEL = 2 * _LANE - 20  # a label wraps at this width (or its arrow's, if wider)
_PAD = 10  # right margin
_FONT = "font-family='Helvetica, Arial, sans-serif' font-size='11'"
_RED, _GREY, _INK = "#c62828", "#9e9e9e", "#212121"
_NOTE_FILL = {
    NoteStyle.INVOKE: "#e3f2fd", NoteStyle.COMPLETE: "#e8f5e9", NoteStyle.LEARN: "#fff3e0",
    NoteStyle.FAULT: "#ffcdd2", NoteStyle.PHASE: "#f5f5f5", NoteStyle.ELIDED: "#fafafa",
    NoteStyle.VIOLATION: "#ffcdd2", NoteStyle.RESTART: "#fff3e0",
}


def text_width(text: str, size: int = 11, bold: bool = False) -> float:
    """The estimated width in pixels of ``text`` at ``size`` px: generous per-glyph advances
    (DejaVu Sans, the widest usual fallback for Helvetica/Arial), so the canvas never falls
    short of what a browser draws."""
    em = sum(_advance(ch) for ch in text)
    return em * size * (1.08 if bold else 1.0)


_NARROW = frozenset(" .,:;'|!()[]ijlrtf-/")
_WIDE = frozenset("mwMW@%#")


def _advance(ch: str) -> float:
    if ch in _NARROW:
        return 0.42
    if ch in _WIDE:
        return 1.0
    if not ch.isascii():
        return 1.0  # · × ⚠ —: measured as wide glyphs
    if ch.isupper() or ch.isdigit():
        return 0.74
    return 0.64


@attrs.frozen
class _Placed:
    """A row laid out: where it starts, how tall it is, its text lines and their anchor."""

    row: Row
    top: int
    height: int
    lines: tuple[str, ...]
    x: float  # the text's anchor (a note: its box's centre)
    left: float  # a note's box, or the text's extent
    right: float


@attrs.frozen
class _Header:
    lines: tuple[tuple[int, str, int, bool, str], ...]  # baseline, text, size, bold, colour
    top: int  # the first row
    width: float  # the widest header line


def render_svg(
    trace: Trace, verdict: Verdict | None = None, *, max_arrows: int = DEFAULT_MAX_ARROWS,
    timeline: Timeline | None = None,
) -> str:
    """A standalone SVG document charting ``trace``, the violation of ``verdict`` highlighted
    (``timeline``: the one already built of them, not built again)."""
    if timeline is None:
        timeline = build_timeline(trace, verdict)
    nodes = timeline.nodes
    lane_x = {node: _MARGIN + _LANE // 2 + i * _LANE for i, node in enumerate(nodes)}
    base = _MARGIN + _LANE * len(nodes) + _PAD
    header = _header(timeline, base - 16)
    placed = _layout(chart_rows(timeline, max_arrows), header.top, lane_x, nodes)
    right = max([p.right for p in placed] + [header.width + 8])
    width = math.ceil(max(base, right + _PAD))
    height = (placed[-1].top + placed[-1].height if placed else header.top) + 30
    out = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' {_FONT}>",
        _defs(),
        f"<rect class='background' x='0' y='0' width='{width}' height='{height}' fill='white'/>",
        *_header_text(header),
    ]
    out.extend(_band(lane_x[n], header.top, height) for n in nodes if timeline.is_byzantine(n))
    out.extend(_shading(placed, timeline, width))
    out.extend(_lane(node, lane_x[node], header.top, height, timeline) for node in nodes)
    out.extend(_step_numbers(placed))
    for p in placed:
        out.append(_arrow(p, lane_x) if isinstance(p.row, Arrow) else _note(p))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _header(timeline: Timeline, width: float) -> _Header:
    """The title, the headline and the legend, each wrapped at ``width``."""
    legend = ("black: correct process · red dashed: sent by a Byzantine server · grey × : never "
              "delivered · shaded: steps the evidence names")
    parts = (
        (_title(timeline), 13, True, _INK),
        (headline(timeline), 11, False, _RED if timeline.focus is not None else _INK),
        (legend, 10, False, "#616161"),
    )
    placed: list[tuple[int, str, int, bool, str]] = []
    y = 0
    for text, size, bold, colour in parts:
        y += 18 if not placed else size + 5
        for i, line in enumerate(wrap(text, width, _measure(size, bold))):
            y += 0 if i == 0 else size + 4
            placed.append((y, line, size, bold, colour))
    widest = max(text_width(line, size, bold) for _, line, size, bold, _ in placed)
    return _Header(tuple(placed), y + 52, widest)


def _header_text(header: _Header) -> list[str]:
    return [_text(8, y, line, size=size, weight="bold" if bold else "normal", fill=colour)
            for y, line, size, bold, colour in header.lines]


def _measure(size: int = 11, bold: bool = False) -> Callable[[str], float]:
    return lambda text: text_width(text, size, bold)


def _layout(rows: tuple[Row, ...], top: int, lane_x: dict[NodeId, int],
            nodes: tuple[NodeId, ...]) -> list[_Placed]:
    placed = []
    for row in rows:
        p = _place_arrow(row, top, lane_x) if isinstance(row, Arrow) else _place_note(
            row, top, lane_x, nodes)
        placed.append(p)
        top += p.height
    return placed


def _place_arrow(row: Arrow, top: int, lane_x: dict[NodeId, int]) -> _Placed:
    x1, x2 = lane_x[row.src], lane_x[row.dst]
    measure = _measure()
    if x1 == x2:
        lines = wrap(row.label, _LABEL - 20, measure)
        widest = max(measure(line) for line in lines)
        return _Placed(row, top, _ROW + _LINE * (len(lines) - 1), lines, x1 + 30, x1,
                       x1 + 30 + widest)
    lines = wrap(row.label, max(abs(x2 - x1) - 10, _LABEL), measure)
    widest = max(measure(line) for line in lines)
    centre = max((x1 + x2) / 2, widest / 2 + 4)  # a wide label never starts off the canvas
    return _Placed(row, top, _ROW + _LINE * (len(lines) - 1), lines, centre,
                   centre - widest / 2, centre + widest / 2)


def _place_note(row: Note, top: int, lane_x: dict[NodeId, int],
                nodes: tuple[NodeId, ...]) -> _Placed:
    over = [n for n in nodes if n in row.nodes] or list(nodes)
    left = lane_x[over[0]] - 64
    natural = lane_x[over[-1]] + 64 - left
    measure = _measure(bold=row.style is NoteStyle.VIOLATION)
    room = natural - 12 if len(over) > 1 else max(natural, _LABEL) - 12
    lines = wrap(row.text, room, measure)
    box = max(natural, max(measure(line) for line in lines) + 12)
    return _Placed(row, top, _ROW + _LINE * (len(lines) - 1), lines, left + box / 2, left,
                   left + box)


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


def _lane(node: NodeId, x: int, top: int, height: int, timeline: Timeline) -> str:
    byz = timeline.is_byzantine(node)
    label = f"{node} (Byzantine)" if byz else str(node)
    fill, stroke = ("#ffcdd2", _RED) if byz else (
        ("#e3f2fd", "#1565c0") if node.is_client else ("#e8f5e9", "#2e7d32"))
    dash = " stroke-dasharray='6 4'" if byz else ""
    return (
        f"<g class='lane' data-node='{node}' data-byzantine='{str(byz).lower()}'>"
        f"<line x1='{x}' y1='{top - 12}' x2='{x}' y2='{height - 14}' stroke='{stroke}' "
        f"stroke-width='{2 if byz else 1}'{dash}/>"
        f"<rect x='{x - 60}' y='{top - 40}' width='120' height='26' rx='4' fill='{fill}' "
        f"stroke='{stroke}' stroke-width='{2 if byz else 1}'/>"
        + _text(x, top - 23, label, anchor="middle", weight="bold",
                fill=_RED if byz else _INK)
        + "</g>"
    )


def _band(x: int, top: int, height: int) -> str:
    """A pale red background behind a Byzantine lane."""
    return (f"<rect class='byzantine-band' x='{x - _LANE // 2 + 4}' y='{top - 44}' "
            f"width='{_LANE - 8}' height='{height - top + 34}' fill='#fff5f5'/>")


def _shading(placed: list[_Placed], timeline: Timeline, width: int) -> list[str]:
    out = []
    for p in placed:
        row = p.row
        hot = row.step in timeline.highlight or (
            isinstance(row, Note) and row.style is NoteStyle.VIOLATION)
        if hot:
            out.append(f"<rect class='highlight' data-step='{row.step}' x='0' "
                       f"y='{p.top}' width='{width}' height='{p.height}' fill='#ffebee'/>")
    return out


def _step_numbers(placed: list[_Placed]) -> list[str]:
    out = []
    previous = None
    for p in placed:
        if p.row.step != previous and p.row.step > 0:
            out.append(_text(_MARGIN - 10, p.top + 16, str(p.row.step), anchor="end",
                             fill="#757575", cls="step"))
        previous = p.row.step
    return out


def _arrow(p: _Placed, lane_x: dict[NodeId, int]) -> str:
    row = p.row
    assert isinstance(row, Arrow)
    x1, x2 = lane_x[row.src], lane_x[row.dst]
    y = p.top + 12 + _LINE * (len(p.lines) - 1)  # the last line of the label; the arrow below
    colour = _RED if row.from_adversary else _INK
    if row.style is ArrowStyle.LOST:
        colour = _GREY
    dash = " stroke-dasharray='5 3'" if row.from_adversary or row.style is ArrowStyle.LOST \
        else ""
    head = "" if row.style is ArrowStyle.LOST else (
        " marker-end='url(#arrow-adversary)'" if row.from_adversary
        else " marker-end='url(#arrow)'")
    attributes = f"class='message' data-msg='{row.msg_id}' data-step='{row.step}'"
    if x1 == x2:
        shape = (f"<path d='M{x1},{y - 6} h26 v10 h-24' fill='none' stroke='{colour}'"
                 f"{dash}{head}/>")
        label = _lines(p.x, y + 2, p.lines, fill=colour)
    else:
        end = x2 - 3 if x2 > x1 else x2 + 3
        shape = (f"<line x1='{x1}' y1='{y + 4}' x2='{end}' y2='{y + 4}' stroke='{colour}' "
                 f"stroke-width='1.2'{dash}{head}/>")
        label = _lines(p.x, y, p.lines, anchor="middle", fill=colour)
    cross = ""
    if row.style is ArrowStyle.LOST:
        cross = _text(x2, y + 8, "×", anchor="middle", fill=_RED, size=14, weight="bold")
    return f"<g {attributes}>{shape}{label}{cross}</g>"


def _note(p: _Placed) -> str:
    row = p.row
    assert isinstance(row, Note)
    fill = _NOTE_FILL[row.style]
    stroke = _RED if row.style in (NoteStyle.VIOLATION, NoteStyle.FAULT) else "#bdbdbd"
    weight = "bold" if row.style is NoteStyle.VIOLATION else "normal"
    height = 18 + _LINE * (len(p.lines) - 1)
    return (
        f"<g class='note {row.style.value}' data-step='{row.step}'>"
        f"<rect x='{p.left:g}' y='{p.top + 3}' width='{p.right - p.left:g}' height='{height}' "
        f"rx='3' fill='{fill}' stroke='{stroke}'/>"
        + _lines(p.x, p.top + 16 + _LINE * (len(p.lines) - 1), p.lines, anchor="middle",
                 weight=weight, fill=_RED if row.style is NoteStyle.VIOLATION else _INK)
        + "</g>"
    )


def _lines(x: float, last: float, lines: tuple[str, ...], *, anchor: str = "start",
           weight: str = "normal", fill: str = _INK) -> str:
    """Text lines stacked upwards so that the last one sits on the baseline ``last``."""
    top = last - _LINE * (len(lines) - 1)
    return "".join(_text(x, top + i * _LINE, line, anchor=anchor, weight=weight, fill=fill)
                   for i, line in enumerate(lines))


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 11,
          weight: str = "normal", fill: str = _INK, cls: str | None = None) -> str:
    clean = "".join(ch for ch in text if ch >= " " or ch in "\t")
    klass = f" class={quoteattr(cls)}" if cls else ""
    extra = "" if weight == "normal" else f" font-weight='{weight}'"
    size_attr = "" if size == 11 else f" font-size='{size}'"
    return (f"<text x='{x:g}' y='{y:g}' text-anchor='{anchor}' fill='{fill}'"
            f"{size_attr}{extra}{klass}>{escape(clean)}</text>")
