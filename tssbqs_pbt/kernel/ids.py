"""Identifiers of processes and operations."""

from __future__ import annotations

import re

import attrs

from tssbqs_pbt.errors import InvalidArgument

__all__ = ["NodeId", "OpId", "client", "parse_node", "server"]

_KINDS = ("C", "S")
_NODE_RE = re.compile(r"^([CS])([1-9][0-9]*)$")


def _check_kind(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in _KINDS:
        raise InvalidArgument(f"NodeId kind {value!r} must be 'S' (server) or 'C' (client)")


def _check_index(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(f"NodeId index {value!r} must be an int >= 1 (S1, S2, ...)")


@attrs.frozen(order=True, cache_hash=True, repr=False)
class NodeId:
    """A server ``S<i>`` or a client ``C<i>``; ``i`` counts from 1. Ordered clients first."""

    kind: str = attrs.field(validator=_check_kind)
    index: int = attrs.field(validator=_check_index)

    @property
    def is_server(self) -> bool:
        return self.kind == "S"

    @property
    def is_client(self) -> bool:
        return self.kind == "C"

    def __str__(self) -> str:
        return f"{self.kind}{self.index}"

    __repr__ = __str__


def server(index: int) -> NodeId:
    return NodeId("S", index)


def client(index: int) -> NodeId:
    return NodeId("C", index)


def parse_node(text: str) -> NodeId:
    """``"S3"`` -> ``NodeId("S", 3)``; a clear error for anything else."""
    found = _PARSED.get(text) if isinstance(text, str) else None
    if found is not None:  # (a trace file names the same few nodes thousands of times)
        return found
    match = _NODE_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidArgument(f"{text!r} is not a node name; write S<i> or C<i>, e.g. 'S1', 'C2'")
    node = NodeId(match.group(1), int(match.group(2)))
    if len(_PARSED) < 1024:
        _PARSED[text] = node
    return node


_PARSED: dict[str, NodeId] = {}


@attrs.frozen(order=True, cache_hash=True, repr=False)
class OpId:
    """The ``seq``-th operation (from 1) invoked by ``client``."""

    client: NodeId
    seq: int

    def __str__(self) -> str:
        return f"{self.client}#{self.seq}"

    __repr__ = __str__
