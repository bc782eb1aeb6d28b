"""The exact bytes the service signs, and the checks every server and client shares."""

from __future__ import annotations

import functools

from tssbqs_pbt.protocols.messages import INITIAL, Basis, Datum, Ts, WriteBody

from tssbqs_pbt.crypto.api import PartialSignature
from tssbqs_pbt.kernel import NodeContext, NodeSigned, OpId

__all__ = [
    "basis_is_signed",
    "datum_bytes",
    "datum_is_signed",
    "partial_ok",
    "read_reply_bytes",
    "signed_value",
    "write_reply_bytes",
    "write_request",
]


def _pack(tag: str, *parts: str) -> bytes:
    return "|".join([tag, *(f"{len(p)}:{p}" for p in parts)]).encode()


def _ts(ts: Ts) -> str:
    return f"{ts[0]}.{ts[1]}"


def signed_value(msg: bytes) -> str | None:
    """The value certified by signed bytes of this protocol (datum, write or read reply)."""
    try:
        tag, _, rest = msg.decode("utf-8").partition("|")
        parts: list[str] = []
        while rest:
            length, _, rest = rest.partition(":")
            size = int(length)
            parts.append(rest[:size])
            rest = rest[size + 1:]
    except (UnicodeDecodeError, ValueError):
        return None
    index = {"datum": 0, "write-reply": 1, "read-reply": 1}.get(tag)
    return parts[index] if index is not None and len(parts) > index else None


@functools.lru_cache(maxsize=1 << 14)  # (pure; a run packs the same data often)
def datum_bytes(value: str, ts: Ts) -> bytes:
    return _pack("datum", value, _ts(ts))


@functools.lru_cache(maxsize=1 << 14)
def write_reply_bytes(op: OpId, value: str, ts: Ts) -> bytes:
    return _pack("write-reply", str(op), value, _ts(ts))


@functools.lru_cache(maxsize=1 << 14)
def read_reply_bytes(op: OpId, value: str, ts: Ts) -> bytes:
    return _pack("read-reply", str(op), value, _ts(ts))


def datum_is_signed(ctx: NodeContext, datum: Datum) -> bool:
    """Whether ``datum`` is self-verifying (or is the well-known initial datum)."""
    if datum.sig is None:
        return datum.value == INITIAL.value and datum.ts == INITIAL.ts
    return datum.sig.msg == datum_bytes(datum.value, datum.ts) and ctx.scheme.verify(
        ctx.public_key, datum.sig.msg, datum.sig
    )


def basis_is_signed(ctx: NodeContext, basis: Basis) -> bool:
    data = read_reply_bytes(basis.op, basis.value, basis.ts)
    return basis.sig.msg == data and ctx.scheme.verify(ctx.public_key, data, basis.sig)


def partial_ok(ctx: NodeContext, partial: PartialSignature, data: bytes) -> bool:
    return partial.msg == data and ctx.scheme.verify_partial(ctx.verification, partial, data)


def write_request(request: object) -> tuple[NodeSigned, WriteBody] | None:
    """``(request, body)`` if ``request`` is a client-signed write request, else None."""
    if (
        isinstance(request, NodeSigned)
        and request.signer.is_client
        and request.op is not None
        and request.op.client == request.signer
        and isinstance(request.body, WriteBody)
    ):
        return request, request.body
    return None
