"""Values every protocol shares: operations, their results, and node-signed statements.

Protocols define their own message classes (frozen attrs).  What the kernel must understand is
only what makes the model: which operation a client invoked, what it returned, and which objects
are unforgeable (service signatures and partials from :mod:`tssbqs_pbt.crypto`, and
:class:`NodeSigned` statements of one process).
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.kernel.ids import NodeId, OpId

__all__ = ["NodeSigned", "OpKind", "OpResult", "Operation", "Timestamp", "read", "write"]

Timestamp = int | tuple[int, ...]


class OpKind(enum.Enum):
    WRITE = "write"
    READ = "read"


@attrs.frozen(cache_hash=True)
class Operation:
    """What a client asks the service: ``write(value)`` or ``read()``."""

    kind: OpKind
    value: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.kind is OpKind.WRITE and not isinstance(self.value, str):
            raise InvalidArgument(f"write needs a str value, got {self.value!r}")
        if self.kind is OpKind.READ and self.value is not None:
            raise InvalidArgument(f"read takes no value, got {self.value!r}; use read()")

    def __str__(self) -> str:
        return f"write({self.value})" if self.kind is OpKind.WRITE else "read()"


def write(value: str) -> Operation:
    return Operation(OpKind.WRITE, value)


def read() -> Operation:
    return Operation(OpKind.READ)


@attrs.frozen(cache_hash=True)
class OpResult:
    """What a client accepted: the value read (or written) and its timestamp."""

    value: str | None
    ts: Timestamp | None = None


@attrs.frozen(cache_hash=True)
class NodeSigned:
    """A statement ``body`` signed with one process's own key (a client request, a server ack).

    Only ``signer`` can make it: the adversary may produce one only for a Byzantine signer or
    replay one it holds.  ``op`` ties client requests to the operation that issued them.
    """

    signer: NodeId
    body: Any
    op: OpId | None = None
