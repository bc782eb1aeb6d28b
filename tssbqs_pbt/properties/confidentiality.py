"""P3 confidentiality of the private key.

(a) Within one key epoch the adversary never holds t or more key shares.  (b) Correct servers are
never a signing oracle: no service signature reaches the adversary on content whose value no
correct client had asked to write.  (b) needs a decoder from signed bytes to the value they
certify (``signed_value``); without one it is UNKNOWN.
"""

from __future__ import annotations

from collections.abc import Callable

from tssbqs_pbt.crypto.api import Signature
from tssbqs_pbt.kernel import Absorbed, Invoked, Learned, OpKind, Sent, Trace, walk
from tssbqs_pbt.properties.history import INITIAL_VALUE
from tssbqs_pbt.properties.verdict import Clause, Property, Status, Verdict, Violation

__all__ = ["SignedValue", "check_confidentiality"]

SignedValue = Callable[[bytes], "str | None"]


def check_confidentiality(trace: Trace, signed_value: SignedValue | None = None) -> Verdict:
    config = trace.header.config
    found: list[Violation] = []
    if len(config.byzantine) >= config.t:
        found.append(Violation(Clause.KEY_SHARES, steps=(0,), got=len(config.byzantine),
                               allowed=(config.t - 1,)))
    if signed_value is None:
        status = Status.VIOLATED if found else Status.UNKNOWN
        return Verdict(Property.CONFIDENTIALITY, status, tuple(found))

    asked: set[str] = {INITIAL_VALUE}
    reported: set[bytes] = set()
    for s in trace.steps:
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
                held.extend((o, event.msg_id) for o in walk(sent[event.msg_id].payload)
                            if isinstance(o, Signature))
            for signature, msg_id in held:
                value = signed_value(signature.msg)
                if value is None or value in asked or signature.msg in reported:
                    continue
                reported.add(signature.msg)
                found.append(Violation(
                    Clause.SIGNING_ORACLE, steps=(s.index,),
                    messages=() if msg_id is None else (msg_id,), got=value,
                    allowed=tuple(sorted(asked)),
                ))
    status = Status.VIOLATED if found else Status.HOLDS
    return Verdict(Property.CONFIDENTIALITY, status, tuple(found))
