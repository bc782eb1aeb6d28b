"""``signed_content``: the signed bytes of every service signature nested in a value (what the
adversary's withhold tactics compare), remembered by identity without changing the answer."""

from __future__ import annotations

from typing import Any

import attrs

from tssbqs_pbt.crypto.api import Signature
from tssbqs_pbt.kernel import NodeSigned, client, signed_content


@attrs.frozen
class Box:
    left: Any = None
    right: Any = None


def _sig(msg: bytes) -> Signature:
    return Signature("k", msg, 7)


def test_every_nested_signature_counts_once() -> None:
    shared = Box(_sig(b"a"), (_sig(b"b"), "text", 3))
    value = Box(shared, NodeSigned(client(1), Box(shared, frozenset({_sig(b"c")}))))
    assert signed_content(value) == {b"a", b"b", b"c"}
    assert signed_content(shared) == {b"a", b"b"}  # remembered parts answer the same
    assert signed_content(Box("x", (1, 2))) == frozenset()


def test_equal_but_distinct_objects_get_their_own_answer() -> None:
    first = Box(_sig(b"a"))
    assert signed_content(first) == {b"a"}
    other = Box(_sig(b"z"))
    assert signed_content(Box(first, other)) == {b"a", b"z"}
