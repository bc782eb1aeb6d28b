"""REQUEST_DEDUP: may a server sign again for a request whose datum it already stored?"""

from __future__ import annotations

from collections.abc import Container
from typing import Protocol

from tssbqs_pbt.protocols.options import RequestDedup

from tssbqs_pbt.kernel import OpId

__all__ = ["DEDUP_RULES", "DedupRule"]


class DedupRule(Protocol):
    def blocks(self, stored_requests: Container[OpId], op: OpId) -> bool: ...


class SignAgain:
    def blocks(self, stored_requests: Container[OpId], op: OpId) -> bool:
        return False


class RefuseStored:
    """The request is done here: never sign a new datum for it again."""

    def blocks(self, stored_requests: Container[OpId], op: OpId) -> bool:
        return op in stored_requests


DEDUP_RULES: dict[RequestDedup, DedupRule] = {
    RequestDedup.OFF: SignAgain(),
    RequestDedup.STORED: RefuseStored(),
}
