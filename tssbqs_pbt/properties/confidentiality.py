"""P3 confidentiality of the private key.

(a) Within one key epoch the adversary never holds t or more key shares.  (b) Correct servers are
never a signing oracle: no service signature reaches the adversary on content whose value no
correct client had asked to write.  (b) needs a decoder from signed bytes to the value they
certify (``signed_value``); without one it is UNKNOWN.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable

from tssbqs_pbt.crypto.api import Signature
from tssbqs_pbt.kernel import (
    Absorbed,
    Invoked,
    Learned,
    OpKind,
    Sent,
    StepRecord,
    SystemConfig,
    Trace,
    nested_of,
)
from tssbqs_pbt.properties.history import INITIAL_VALUE
from tssbqs_pbt.properties.verdict import Clause, Property, Status, Verdict, Violation

__all__ = ["ConfidentialityScan", "SignedValue", "check_confidentiality"]

SignedValue = Callable[[bytes], "str | None"]


def check_confidentiality(trace: Trace, signed_value: SignedValue | None = None,
                          initial_value: str = INITIAL_VALUE) -> Verdict:
    scan = ConfidentialityScan(trace.header.config, signed_value, initial_value)
    scan.feed(trace.steps)
    return scan.verdict()


class ConfidentialityScan:
    """:func:`check_confidentiality` fed a growing trace: :meth:`feed` takes the steps since
    the last call, :meth:`verdict` judges everything fed so far (a rule machine re-judges P3
    after every step without re-reading the whole trace each time)."""

    def __init__(self, config: SystemConfig, signed_value: SignedValue | None = None,
                 initial_value: str = INITIAL_VALUE) -> None:
        self.signed_value = signed_value
        self.found: list[Violation] = []
        if len(config.byzantine) >= config.t:
            self.found.append(Violation(Clause.KEY_SHARES, steps=(0,), got=len(config.byzantine),
                                        allowed=(config.t - 1,)))
        self.asked: set[str] = {initial_value}
        self.reported: set[bytes] = set()
        self.fed = 0  # how many steps it has been fed

    def feed(self, steps: Iterable[StepRecord]) -> None:
        """Judge the next ``steps`` of the trace (those after the :attr:`fed` already judged)."""
        signed_value = self.signed_value
        asked, reported = self.asked, self.reported
        for s in steps:
            self.fed += 1
            if signed_value is None:
                continue
            sent = {}
            for event in s.events:
                if isinstance(event, Invoked) and event.operation.kind is OpKind.WRITE:
                    asked.add(event.operation.value or "")
                elif isinstance(event, Sent):
                    sent[event.envelope.id] = event.envelope
                held: list[tuple[Signature, int | None]] = []
                if isinstance(event, Learned):
                    held.append((event.signature, None))
                elif isinstance(event, Absorbed) and event.msg_id in sent:
                    held.extend((o, event.msg_id)
                                for o in nested_of(sent[event.msg_id].payload, Signature))
                for signature, msg_id in held:
                    value = signed_value(signature.msg)
                    if value is None or value in asked or signature.msg in reported:
                        continue
                    reported.add(signature.msg)
                    self.found.append(Violation(
                        Clause.SIGNING_ORACLE, steps=(s.index,),
                        messages=() if msg_id is None else (msg_id,), got=value,
                        allowed=tuple(sorted(asked)),
                    ))

    def copy(self) -> ConfidentialityScan:
        """An independent scan in the same state (for a forked rule machine)."""
        twin = copy.copy(self)
        twin.found, twin.asked = list(self.found), set(self.asked)
        twin.reported = set(self.reported)
        return twin

    def verdict(self) -> Verdict:
        if self.signed_value is None:
            status = Status.VIOLATED if self.found else Status.UNKNOWN
        else:
            status = Status.VIOLATED if self.found else Status.HOLDS
        return Verdict(Property.CONFIDENTIALITY, status, tuple(self.found))
