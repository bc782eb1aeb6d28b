"""Message types of the option-driven protocol (every one a frozen attrs class).

Timestamps are pairs ``(counter, writer)``: the writer's client index breaks ties between
concurrent writes.  The initial datum ``<v0, (0, 0)>`` is known to everybody and needs no
signature.  Statements of one server (a report of its datum, a store acknowledgement) travel as
:class:`~tssbqs_pbt.kernel.NodeSigned` values signed by that server; client requests are
``NodeSigned`` by the client, with a :class:`WriteBody` or :class:`ReadBody`.
"""

from __future__ import annotations

import attrs

from tssbqs_pbt.crypto.api import PartialSignature, Signature
from tssbqs_pbt.kernel import NodeSigned, OpId

__all__ = [
    "INITIAL",
    "MESSAGE_TYPES",
    "Ack",
    "AlreadyStored",
    "Basis",
    "Datum",
    "DatumPartial",
    "Query",
    "QueryReply",
    "ReadBody",
    "ReadOwn",
    "ReadOwnReply",
    "ReadPartial",
    "ReadReply",
    "Refuse",
    "Report",
    "Request",
    "SignDatum",
    "SignRead",
    "SignWriteReply",
    "StaleRead",
    "Store",
    "StoreAck",
    "Ts",
    "WriteBody",
    "WriteReply",
    "WriteReplyPartial",
    "next_ts",
]

Ts = tuple[int, int]


def next_ts(after: Ts, writer: int) -> Ts:
    """The timestamp a write by client ``writer`` takes right above ``after``."""
    return (after[0] + 1, writer)


@attrs.frozen(cache_hash=True)
class Datum:
    """<value, ts>, with the service signature on it when it is self-verifying."""

    value: str
    ts: Ts
    sig: Signature | None = None


INITIAL = Datum("v0", (0, 0))


@attrs.frozen(cache_hash=True)
class Basis:
    """A service-signed read reply: proof that <value, ts> was the newest datum for ``op``."""

    op: OpId
    value: str
    ts: Ts
    sig: Signature


@attrs.frozen(cache_hash=True)
class WriteBody:
    value: str
    basis: Basis | None = None


@attrs.frozen(cache_hash=True)
class ReadBody:
    pass


# -- client -> delegate -----------------------------------------------------------------------
@attrs.frozen(cache_hash=True)
class Request:
    """A client's signed request, sent to each of its delegates."""

    request: NodeSigned


# -- collecting ---------------------------------------------------------------------------------
@attrs.frozen(cache_hash=True)
class Query:
    op: OpId
    attempt: int = 0


@attrs.frozen(cache_hash=True)
class Report:
    """A server's statement of the datum it holds, bound to one operation and attempt."""

    op: OpId
    attempt: int
    datum: Datum


@attrs.frozen(cache_hash=True)
class QueryReply:
    report: NodeSigned  # NodeSigned(server, Report)


# -- signing a new datum --------------------------------------------------------------------------
@attrs.frozen(cache_hash=True)
class SignDatum:
    """Delegate to servers: sign <request's value, ts>; ``ts`` is None when signers choose it."""

    request: NodeSigned
    ts: Ts | None
    evidence: tuple[NodeSigned | Datum, ...] = ()


@attrs.frozen(cache_hash=True)
class DatumPartial:
    op: OpId
    value: str
    ts: Ts
    partial: PartialSignature


@attrs.frozen(cache_hash=True)
class Refuse:
    """A server will not sign: it holds or promised ``promise``, which is not below the ask."""

    op: OpId
    promise: Ts


@attrs.frozen(cache_hash=True)
class AlreadyStored:
    """REQUEST_DEDUP=STORED: the server will not sign again for ``op``; it shows the datum it
    stored for that request, so a correct delegate can go on storing it."""

    op: OpId
    datum: Datum


# -- storing and acknowledging ---------------------------------------------------------------------
@attrs.frozen(cache_hash=True)
class Store:
    request: NodeSigned
    datum: Datum


@attrs.frozen(cache_hash=True)
class Ack:
    """A server's statement that it stored <value, ts> for ``op``."""

    op: OpId
    value: str
    ts: Ts


@attrs.frozen(cache_hash=True)
class StoreAck:
    op: OpId
    value: str
    ts: Ts
    ack: NodeSigned | None = None  # ACK_MODE=EVIDENCE
    partial: PartialSignature | None = None  # ACK_MODE=PIGGYBACK: partial on the write reply


@attrs.frozen(cache_hash=True)
class SignWriteReply:
    op: OpId
    value: str
    ts: Ts
    acks: tuple[NodeSigned, ...]


@attrs.frozen(cache_hash=True)
class WriteReplyPartial:
    op: OpId
    value: str
    ts: Ts
    partial: PartialSignature


# -- reads ---------------------------------------------------------------------------------------
@attrs.frozen(cache_hash=True)
class SignRead:
    """Delegate to servers: sign the read reply for ``op`` over ``datum``."""

    op: OpId
    attempt: int
    datum: Datum
    evidence: tuple[NodeSigned, ...] = ()


@attrs.frozen(cache_hash=True)
class ReadPartial:
    op: OpId
    value: str
    ts: Ts
    partial: PartialSignature


@attrs.frozen(cache_hash=True)
class StaleRead:
    """A server will not sign a read reply over a datum older than its own (``newer``)."""

    op: OpId
    attempt: int
    newer: Ts


@attrs.frozen(cache_hash=True)
class ReadOwn:
    """One-phase read: every server signs a reply over its own datum."""

    op: OpId


@attrs.frozen(cache_hash=True)
class ReadOwnReply:
    op: OpId
    datum: Datum
    partial: PartialSignature


# -- delegate -> client ----------------------------------------------------------------------------
@attrs.frozen(cache_hash=True)
class WriteReply:
    op: OpId
    value: str
    ts: Ts
    sig: Signature


@attrs.frozen(cache_hash=True)
class ReadReply:
    op: OpId
    value: str
    ts: Ts
    sig: Signature


MESSAGE_TYPES: tuple[type, ...] = (
    Request, Query, QueryReply, SignDatum, DatumPartial, Refuse, AlreadyStored, Store, StoreAck,
    SignWriteReply, WriteReplyPartial, SignRead, ReadPartial, StaleRead, ReadOwn, ReadOwnReply,
    WriteReply, ReadReply,
    # nested values that appear inside messages (needed to decode traces)
    Datum, Basis, WriteBody, ReadBody, Report, Ack,
)
