"""What a server remembers while it acts as a delegate for one client request."""

from __future__ import annotations

import enum

import attrs
from tssbqs_pbt.protocols.messages import Datum, Ts

from tssbqs_pbt.crypto.api import PartialSignature
from tssbqs_pbt.kernel import NodeSigned

__all__ = ["ReadTask", "Stage", "WriteTask"]


class Stage(enum.Enum):
    COLLECT = "collect"  # waiting for q reports
    SIGN = "sign"  # waiting for t partials on the new datum / the read reply
    STORE = "store"  # waiting for store acknowledgements
    REPLY = "reply"  # waiting for t partials on the write reply
    DONE = "done"


@attrs.frozen(cache_hash=True)
class WriteTask:
    request: NodeSigned
    stage: Stage
    attempt: int = 0
    reports: tuple[NodeSigned, ...] = ()
    ts: Ts | None = None
    evidence: tuple[NodeSigned | Datum, ...] = ()
    partials: tuple[PartialSignature, ...] = ()  # on the new datum (any ts if signers choose)
    datum: Datum | None = None
    acks: tuple[NodeSigned, ...] = ()
    reply_partials: tuple[PartialSignature, ...] = ()


@attrs.frozen(cache_hash=True)
class ReadTask:
    request: NodeSigned
    stage: Stage
    attempt: int = 0
    reports: tuple[NodeSigned, ...] = ()
    datum: Datum | None = None
    partials: tuple[PartialSignature, ...] = ()  # on the read reply (any datum if one-phase)
