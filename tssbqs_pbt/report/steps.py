"""The numbered step report: one line per kernel step, in protocol terms, then the verdict.

Each line says who acted and on what ("S2 receives SignDatum from S1 (#12)"), then what followed
("→ S2 sends DatumPartial to S1").  Messages a Byzantine server makes are shown with their
content, since what the adversary forged or replayed is the point of an attack; messages of
correct processes are named by class.  A drain or settle step is one line with the notable
events inside it as sub-items; a delivery inside it that made the violation happen is listed
on its own, with the message in full.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from tssbqs_pbt.crypto.api import Signature
from tssbqs_pbt.kernel import (
    Completed,
    Drain,
    Event,
    Faulted,
    Learned,
    Logged,
    NodeId,
    OpKind,
    Sent,
    Settle,
    Trace,
)
from tssbqs_pbt.properties import Verdict
from tssbqs_pbt.report.describe import (
    RESTARTED,
    describe_bytes,
    describe_payload,
    describe_result,
    describe_ts,
    message_name,
)
from tssbqs_pbt.report.prose import verdict_lines
from tssbqs_pbt.report.timeline import Fate, Happening, Kind, StepView, Timeline, build_timeline
from tssbqs_pbt.wording import plural

__all__ = ["describe_effect", "node_name", "render_steps", "run_summary", "step_line"]

_SUB_ITEMS = 25  # notable events listed under a drain or settle step
_IN_FLIGHT_SHOWN = 12


def render_steps(trace: Trace, verdict: Verdict | None = None, *,
                 timeline: Timeline | None = None) -> str:
    """The step report of ``trace`` (Markdown): a run summary, numbered steps, the verdict
    (``timeline``: the one already built of them, not built again)."""
    if timeline is None:
        timeline = build_timeline(trace, verdict)
    lines = [run_summary(timeline), "", "### Steps", ""]
    if timeline.focus == 0:
        lines.append("0. ⚠ before any step: the configuration itself breaks the property")
    for view in timeline.steps:
        lines.extend(_step_lines(view, timeline))
    lines.extend(_in_flight_lines(timeline))
    lines.extend(["", "### Verdict", ""])
    lines.extend(verdict_lines(timeline))
    return "\n".join(lines) + "\n"


def run_summary(timeline: Timeline) -> str:
    header, config = timeline.header, timeline.config
    byzantine = ", ".join(f"B={s}" for s in sorted(config.byzantine_ids)) or "none"
    return (
        f"Protocol `{header.protocol}`: n={config.n}, f={config.f}, q={config.q}, t={config.t}; "
        f"clients {', '.join(str(c) for c in config.client_ids)}; {header.scheme} threshold "
        f"signatures; Byzantine servers: {byzantine} (every message sent to one joins the "
        f"adversary's knowledge). {plural(len(timeline.steps), 'step')}."
    )


def node_name(node: NodeId | None, timeline: Timeline) -> str:
    if node is None:
        return "the kernel"
    return f"B={node}" if timeline.is_byzantine(node) else str(node)


def step_line(view: StepView, timeline: Timeline) -> str:
    """The headline of one step (without its number)."""
    action = view.action
    if isinstance(action, (Drain, Settle)):
        return _settle_head(view)
    parts: list[str] = []
    previous: Happening | None = None
    for h in view.happenings:
        if (h.kind is Kind.RECEIVE and previous is not None and previous.kind is Kind.INJECT
                and previous.envelope == h.envelope and parts):
            # an immediate ByzantineSend: the delivery continues the injection's sentence
            parts[-1] = _with_effects(parts[-1] + ", delivered at once", h, timeline)
        else:
            parts.append(_with_effects(_head(h, timeline), h, timeline))
        previous = h
    text = "; ".join(parts) if parts else type(action).__name__
    return text  # never cut: the decisive value may be at the end (Markdown wraps it)


def describe_effect(event: Event, timeline: Timeline) -> str | None:
    """One effect of a handler run in words; None for effects a reader does not need."""
    if isinstance(event, Completed):
        operation = timeline.operations.get(event.op)
        client = event.op.client
        if operation is not None and operation.kind is OpKind.WRITE:
            result = event.result
            outcome = (f"ts {describe_ts(result.ts)}" if result.value == operation.value
                       else f"result {describe_result(result)}")
            return f"{client}'s write {event.op} of {operation.value} completes ({outcome})"
        return f"{client}'s read {event.op} returns {describe_result(event.result)}"
    if isinstance(event, Learned):
        return f"the adversary now holds {_signature(event.signature)}"
    if isinstance(event, Faulted):
        return f"⚠ {event.node} FAULTS: {event.detail}"
    if isinstance(event, Logged):
        return f"{event.node} logs “{' '.join(event.text.split())}”"
    return None


def _step_lines(view: StepView, timeline: Timeline) -> list[str]:
    mark = ""
    if view.index in timeline.highlight:
        mark = "⚠ "
    line = f"{view.index}. {mark}{step_line(view, timeline)}"
    if view.index == timeline.focus:
        violated = timeline.verdict is not None and timeline.verdict.violated
        line += " ← **the violation shows here**" if violated else " ← **the protocol faults here**"
    lines = [line]
    if isinstance(view.action, (Drain, Settle)):
        lines.extend(f"   - {item}" for item in _settle_items(view, timeline))
    return lines


def _head(h: Happening, timeline: Timeline) -> str:
    if h.kind is Kind.INVOKE and h.invoked is not None:
        return f"{h.invoked.op.client} invokes {h.invoked.operation} as {h.invoked.op}"
    if h.kind is Kind.RECEIVE and h.envelope is not None:
        e = h.envelope
        return (f"{node_name(e.dst, timeline)} receives {message_name(e.payload)} from "
                f"{node_name(e.src, timeline)} (#{e.id})")
    if h.kind is Kind.INJECT:
        return _inject_head(h, timeline)
    if h.kind is Kind.RESTART and h.node is not None:
        return f"{node_name(h.node, timeline)} (Byzantine) {RESTARTED}"
    return "the kernel records"


def _inject_head(h: Happening, timeline: Timeline) -> str:
    assert h.envelope is not None
    e = h.envelope
    dst = "itself" if e.dst == e.src else node_name(e.dst, timeline)
    text = f"B={e.src} (Byzantine) sends {describe_payload(e.payload)} to {dst}"
    fate, at = timeline.fate(e.id)
    if fate is Fate.ABSORBED:
        text += " (kept by the adversary)" if e.dst == e.src else " (absorbed)"
    elif fate is Fate.DELIVERED and at != timeline.sent_at.get(e.id):
        text += f" (#{e.id}, delivered at step {at})"
    elif fate is Fate.IN_FLIGHT:
        text += f" (#{e.id}, never delivered)"
    return text


def _with_effects(head: str, h: Happening, timeline: Timeline) -> str:
    effects = _effect_phrases(h.effects, timeline)
    if not effects:
        return head
    return f"{head} → {'; '.join(effects)}"


def _effect_phrases(events: Sequence[Event], timeline: Timeline) -> list[str]:
    phrases: list[str] = []
    group: list[Sent] = []

    def flush() -> None:
        if group:
            first = group[0].envelope
            dsts = ", ".join(node_name(s.envelope.dst, timeline) for s in group)
            phrases.append(f"{node_name(first.src, timeline)} sends "
                           f"{message_name(first.payload)} to {dsts}")
            group.clear()

    for event in events:
        if isinstance(event, Sent):
            if group and (group[0].envelope.src != event.envelope.src
                          or group[0].envelope.payload != event.envelope.payload):
                flush()
            group.append(event)
            continue
        text = describe_effect(event, timeline)
        if text is None:
            continue  # Absorbed: the "B=" destination already says so
        flush()
        phrases.append(text)
    flush()
    return phrases


def _settle_head(view: StepView) -> str:
    what = ("drain (the adversary stops: fair delivery, oldest first; Byzantine servers "
            "silent)" if isinstance(view.action, Drain)
            else "settle (deliver what is in flight, oldest first)")
    if isinstance(view.action, Settle) and view.action.hold:
        held = ", ".join(str(n) for n in sorted(view.action.hold, key=str))
        what = what[:-1] + f"; the network holds back what goes to {held})"
    if view.settled is None:
        return f"{what}: interrupted"
    return (f"{what}: {plural(view.settled.delivered, 'message')} delivered, "
            f"{view.settled.in_flight} "
            "left in flight")


def _settle_items(view: StepView, timeline: Timeline) -> list[str]:
    """What a drain or settle delivered: counts by message, every delivery that made the
    violation happen on a line of its own (never folded into the counts), then the notable
    events of the other deliveries."""
    receives = [h for h in view.happenings if h.kind is Kind.RECEIVE and h.envelope is not None]
    counts = Counter(message_name(h.envelope.payload) for h in receives if h.envelope)
    items = []
    if counts:
        items.append("delivered: " + ", ".join(f"{n} {name}" for name, n in counts.items()))
    listed: list[Happening] = []
    for position, h in enumerate(receives, 1):
        if h.envelope is not None and h.envelope.id in timeline.decisive:
            listed.append(h)
            items.append(f"⚠ delivery {position} of {len(receives)}: "
                         + _with_effects(_decisive_head(h, timeline), h, timeline))
    notable = [text for h in view.happenings if not any(h is d for d in listed)
               for e in h.effects if (text := describe_effect(e, timeline)) is not None]
    items.extend(notable[:_SUB_ITEMS])
    if len(notable) > _SUB_ITEMS:
        items.append(f"… and {plural(len(notable) - _SUB_ITEMS, 'more event')}")
    return items


def _decisive_head(h: Happening, timeline: Timeline) -> str:
    """A delivery the violation hinges on, with the message in full (the data it carried)."""
    assert h.envelope is not None
    e = h.envelope
    return (f"{node_name(e.dst, timeline)} receives {describe_payload(e.payload)} from "
            f"{node_name(e.src, timeline)} (#{e.id})")


def _in_flight_lines(timeline: Timeline) -> list[str]:
    pending = timeline.in_flight
    if not pending:
        return []
    shown = []
    for i in pending[:_IN_FLIGHT_SHOWN]:
        e = timeline.envelopes[i]
        shown.append(f"#{i} {message_name(e.payload)} {e.src}→{e.dst}")
    more = f", +{len(pending) - _IN_FLIGHT_SHOWN} more" if len(pending) > _IN_FLIGHT_SHOWN else ""
    return ["", f"When the trace ends, {plural(len(pending), 'message')} "
            "were never delivered: "
            f"{', '.join(shown)}{more}."]


def _signature(signature: Signature) -> str:
    return f"a service signature on {describe_bytes(signature.msg)}"

