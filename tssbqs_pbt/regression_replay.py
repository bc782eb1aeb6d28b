"""Judge a saved counterexample against the protocol as it is *now*: the regression check.

:func:`tssbqs_pbt.search.replay_counterexample` insists that every step gives exactly the
recorded events, which is what confirming a counterexample means; after a fix it fails with
"step N diverged".  A regression test asks another question: does the protocol still show the
violation?  :func:`rejudge_counterexample` replays the recorded schedule *as far as it applies*
(a delivery finds its message by sender, destination and payload; the first step that no longer
applies — a message never sent, a Byzantine send whose content B no longer knows, a client still
busy — ends the replay there, which is not an error), then lets the system settle (the drain:
fair delivery, Byzantine servers silent) unless the replay drained already, and judges P1, P2
and P3 on what happened.  :func:`rejudge_embedded` does the same with the file's JSON text (a
generated regression test embeds it, so that it runs wherever it is copied).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from tssbqs_pbt.errors import InvalidAction, ProtocolFault
from tssbqs_pbt.kernel import Deliver, Drain, Sent, Trace, World, step
from tssbqs_pbt.kernel.actions import Action, Phase
from tssbqs_pbt.kernel.jsonfile import parse_json
from tssbqs_pbt.kernel.node import Envelope
from tssbqs_pbt.kernel.trace import TRACE_FORMAT, registry_for
from tssbqs_pbt.properties import Verdict, check_all, initial_value_of
from tssbqs_pbt.protocols.api import StorageProtocol
from tssbqs_pbt.protocols.registry import protocol_named

__all__ = ["Rejudged", "rejudge_counterexample", "rejudge_embedded"]

_FORMAT = "tssbqs-pbt-counterexample"


@attrs.frozen
class Rejudged:
    """What the protocol does today with a saved counterexample's schedule."""

    path: Path
    protocol: str
    expected: dict[str, Any]
    applied: int  # recorded steps replayed
    recorded: int  # recorded steps in the file
    stopped: str | None  # why the replay ended early (None: every step applied)
    fault: str | None  # the protocol crashed (a protocol fault)
    verdicts: tuple[Verdict, ...]

    @property
    def violated(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.violated)

    @property
    def still_broken(self) -> bool:
        """The protocol still shows a violation (or crashes) on the schedule."""
        return self.fault is not None or bool(self.violated)

    def summary(self) -> str:
        how = (f"all {self.recorded} recorded steps applied" if self.stopped is None
               else f"{self.applied} of {self.recorded} recorded steps applied, then "
               f"{self.stopped}")
        if self.fault is not None:
            found = f"the protocol crashed: {self.fault}"
        elif self.violated:
            found = "; ".join(
                f"{v.property.value} VIOLATED ({', '.join(e.clause.value for e in v.violations)})"
                for v in self.violated)
        else:
            found = "P1, P2 and P3 hold"
        return (f"{self.path.name} (recorded: {self.expected.get('property')}, "
                f"{self.expected.get('clause')}) on protocol {self.protocol!r}: {how}; "
                f"after the drain, {found}")


def rejudge_counterexample(path: str | Path,
                           protocol: StorageProtocol | None = None) -> Rejudged:
    """Replay the schedule saved at ``path`` as far as it applies, drain, judge P1-P3.

    ``protocol``: the protocol to judge (default: the one the file names, looked up among the
    built-ins, registered protocols and entry points)."""
    from tssbqs_pbt.counterexample_file import read_counterexample

    file = Path(path)
    return _rejudge(file, *read_counterexample(file, _FORMAT), protocol)


def rejudge_embedded(text: str, *, name: str = "the embedded counterexample",
                     protocol: StorageProtocol | None = None) -> Rejudged:
    """:func:`rejudge_counterexample` of a counterexample file's whole JSON ``text`` (what a
    generated regression test embeds, so that it runs wherever it is copied); ``name`` (the
    file it was written from) names it in messages."""
    from tssbqs_pbt.counterexample_file import check_counterexample

    source = f"counterexample {name!r} (embedded)"
    raw = parse_json(text, source)
    return _rejudge(Path(name), *check_counterexample(raw, _FORMAT, source, repr(name)),
                    protocol)


def _rejudge(file: Path, raw: dict[str, Any], expected: dict[str, Any], name: str,
             config: dict[str, Any], protocol: StorageProtocol | None) -> Rejudged:
    if protocol is None:
        protocol = protocol_named(name, int(config.get("n", 0)), int(config.get("f", 0)))
    raw["format"] = TRACE_FORMAT
    raw.setdefault("header", {})["protocol"] = protocol.name
    trace = Trace.from_document(raw, registry_for(protocol),
                                source=f"counterexample {str(file)!r}")
    world = World(protocol, trace.header.config)
    sent: dict[int, Envelope] = {}
    applied, stopped, fault = 0, None, None
    for record in trace.steps:
        action = _resolve(world, record.action, sent)
        for event in record.events:
            if isinstance(event, Sent):
                sent[event.envelope.id] = event.envelope
        if action is None:
            stopped = (f"step {record.index} no longer applies (its message was never sent)")
            break
        try:
            step(world, action)
        except InvalidAction as refused:
            stopped = f"step {record.index} no longer applies ({refused})"
            break
        except ProtocolFault as crash:
            fault = str(crash)
            break
        applied += 1
    if fault is None and world.phase is not Phase.DRAIN:
        drains = [r.action for r in trace.steps if isinstance(r.action, Drain)]
        try:
            step(world, drains[-1] if drains else Drain())
        except ProtocolFault as crash:
            fault = str(crash)
    verdicts = check_all(Trace.of(world), signed_value=getattr(protocol, "signed_value", None),
                         initial_value=initial_value_of(protocol))
    return Rejudged(file, protocol.name, dict(expected), applied, len(trace.steps), stopped,
                    fault, verdicts)


def _resolve(world: World, action: Action, sent: dict[int, Envelope]) -> Action | None:
    """A delivery names its message by what it is, since numbers shift once the protocol
    sends other messages; None when no such message is in flight."""
    if not isinstance(action, Deliver):
        return action
    recorded = sent.get(action.msg_id)
    if recorded is None:
        return None
    for envelope in world.pool:
        if (envelope.src, envelope.dst, envelope.payload) == (
                recorded.src, recorded.dst, recorded.payload):
            return Deliver(envelope.id)
    return None
