"""The rows of a sequence chart, shared by the Mermaid and the SVG renderer.

An arrow is drawn when its message is delivered (so the receiver's reaction follows it), or when
it is sent if it reaches a Byzantine server (absorbed at once) or is never delivered (a lost
arrow).  Notes mark invocations, completions, signatures the adversary obtains, Byzantine
restarts, faults, the drain, and the violation.  Arrows beyond ``max_arrows`` are counted, not
drawn (except the decisive ones, always drawn).  Labels hold the whole text, never cut: the
renderers wrap it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

import attrs

from tssbqs_pbt.kernel import (
    Completed,
    Drain,
    Envelope,
    Faulted,
    Learned,
    NodeId,
    Sent,
    Settle,
)
from tssbqs_pbt.report.describe import RESTARTED, describe_bytes, describe_payload, describe_ts
from tssbqs_pbt.report.prose import headline
from tssbqs_pbt.report.timeline import Fate, Happening, Kind, StepView, Timeline
from tssbqs_pbt.wording import plural

__all__ = ["Arrow", "ArrowStyle", "Note", "NoteStyle", "Row", "chart_rows"]

DEFAULT_MAX_ARROWS = 400


class ArrowStyle(enum.Enum):
    NORMAL = "normal"  # a correct process's message, delivered
    ADVERSARY = "adversary"  # sent by a Byzantine server
    LOST = "lost"  # never delivered before the trace ended


class NoteStyle(enum.Enum):
    INVOKE = "invoke"
    COMPLETE = "complete"
    LEARN = "learn"  # the adversary obtained a service signature
    RESTART = "restart"  # a Byzantine server lost its state
    FAULT = "fault"
    PHASE = "phase"  # settle / drain
    ELIDED = "elided"  # arrows left out
    VIOLATION = "violation"


@attrs.frozen
class Arrow:
    step: int
    src: NodeId
    dst: NodeId
    label: str
    style: ArrowStyle
    msg_id: int
    from_adversary: bool = False  # sent by a Byzantine server


@attrs.frozen
class Note:
    step: int
    nodes: tuple[NodeId, ...]  # the lanes it spans (first and last matter)
    text: str
    style: NoteStyle


Row = Arrow | Note


def chart_rows(timeline: Timeline, max_arrows: int = DEFAULT_MAX_ARROWS) -> tuple[Row, ...]:
    """Every row of the chart, in order."""
    rows: list[Row] = []
    drawn = [0]
    if timeline.focus == 0:
        rows.append(_violation_note(timeline, 0))
    for view in timeline.steps:
        elided = _step_rows(view, timeline, rows, drawn, max_arrows)
        if elided:
            rows.append(Note(view.index, _span(timeline),
                             f"{view.index}. … {plural(elided, 'more message')} not drawn",
                             NoteStyle.ELIDED))
        if isinstance(view.action, (Drain, Settle)) and view.settled is not None:
            rows.append(Note(view.index, _span(timeline),
                             f"{view.index}. {view.settled.delivered} delivered, "
                             f"{view.settled.in_flight} left in flight", NoteStyle.PHASE))
        if view.index == timeline.focus:
            rows.append(_violation_note(timeline, view.index))
    return tuple(rows)


def _step_rows(
    view: StepView, timeline: Timeline, rows: list[Row], drawn: list[int], max_arrows: int
) -> int:
    """Append the rows of one step; return how many arrows were left out."""
    elided = 0

    def arrow(envelope: Envelope) -> None:
        nonlocal elided
        if drawn[0] >= max_arrows and envelope.id not in timeline.decisive:
            elided += 1
            return
        drawn[0] += 1
        batch = isinstance(view.action, (Drain, Settle))
        rows.append(_arrow(view.index, envelope, timeline, batch))

    if isinstance(view.action, Drain):
        rows.append(Note(view.index, _span(timeline), f"{view.index}. drain: the adversary "
                         "stops, fair delivery, Byzantine servers silent", NoteStyle.PHASE))
    elif isinstance(view.action, Settle):
        held = (f" except to {', '.join(str(n) for n in sorted(view.action.hold, key=str))}"
                if view.action.hold else "")
        rows.append(Note(view.index, _span(timeline), f"{view.index}. settle: deliver "
                         f"everything in flight{held}, oldest first", NoteStyle.PHASE))
    for h in view.happenings:
        if h.kind is Kind.INVOKE and h.invoked is not None:
            inv = h.invoked
            rows.append(Note(view.index, (inv.op.client,),
                             f"{view.index}. {inv.op} invokes {inv.operation}",
                             NoteStyle.INVOKE))
        elif h.kind is Kind.RECEIVE and h.envelope is not None:
            arrow(h.envelope)
        elif h.kind is Kind.RESTART and h.node is not None:
            rows.append(Note(view.index, (h.node,), f"{view.index}. {h.node} {RESTARTED}",
                             NoteStyle.RESTART))
        elif h.kind is Kind.INJECT and h.envelope is not None:
            fate, _ = timeline.fate(h.envelope.id)
            if fate is Fate.ABSORBED or fate is Fate.IN_FLIGHT:
                arrow(h.envelope)
        _effect_rows(view, h, timeline, rows, arrow)
    return elided


def _effect_rows(view: StepView, h: Happening, timeline: Timeline, rows: list[Row],
                 arrow: Callable[[Envelope], None]) -> None:
    for event in h.effects:
        if isinstance(event, Learned):
            rows.append(Note(view.index, _byzantine(timeline),
                             f"{view.index}. adversary holds a service signature on "
                             f"{describe_bytes(event.signature.msg)}", NoteStyle.LEARN))
        elif isinstance(event, Completed):
            result = event.result
            ts = f" ts {describe_ts(result.ts)}" if result.ts is not None else ""
            rows.append(Note(view.index, (event.op.client,),
                             f"{view.index}. {event.op} returns {result.value}{ts}",
                             NoteStyle.COMPLETE))
        elif isinstance(event, Faulted):
            rows.append(Note(view.index, (event.node,),
                             f"{view.index}. FAULT: {event.detail}", NoteStyle.FAULT))
        elif isinstance(event, Sent):
            envelope = event.envelope
            fate, _ = timeline.fate(envelope.id)
            if fate is not Fate.DELIVERED:  # absorbed at once, or lost: drawn where sent
                arrow(envelope)


def _arrow(step: int, envelope: Envelope, timeline: Timeline, batch: bool = False) -> Arrow:
    """The arrow of one message; inside a settle or drain (``batch``), the delivery that made
    the violation happen is marked ⚠ and shows its message in full, to stand out."""
    fate, _ = timeline.fate(envelope.id)
    if fate is Fate.IN_FLIGHT:
        style = ArrowStyle.LOST
    elif timeline.is_byzantine(envelope.src):
        style = ArrowStyle.ADVERSARY
    else:
        style = ArrowStyle.NORMAL
    marked = batch and envelope.id in timeline.decisive
    if timeline.is_byzantine(envelope.src) or marked:
        what = describe_payload(envelope.payload)  # in full: the data is the point
    else:
        what = type(envelope.payload).__name__
    suffix = " (never delivered)" if style is ArrowStyle.LOST else ""
    label = f"{'⚠ ' if marked else ''}{step}. {what}{suffix}"
    return Arrow(step, envelope.src, envelope.dst, label, style, envelope.id,
                 timeline.is_byzantine(envelope.src))


def _violation_note(timeline: Timeline, step: int) -> Note:
    prefix = "⚠ " if step == 0 else f"⚠ {step}. "
    return Note(step, _span(timeline), prefix + headline(timeline), NoteStyle.VIOLATION)


def _span(timeline: Timeline) -> tuple[NodeId, ...]:
    return timeline.nodes


def _byzantine(timeline: Timeline) -> tuple[NodeId, ...]:
    found = tuple(sorted(timeline.config.byzantine_ids))
    return found or timeline.nodes
