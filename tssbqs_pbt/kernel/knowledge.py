"""Adversary knowledge, Dolev–Yao style.

The Byzantine servers pool everything they received or produced: every value nested in every
message sent to them, their own key shares, and every service signature they can combine from
the partials they hold plus their own.  An adversary message may contain plain data of any kind
(lies and fabrications are allowed), but each *unforgeable* object in it must be held or
derivable:

- a partial signature of a correct signer: held;  of a Byzantine signer: always derivable;
- a service signature: held, or combinable (t partials on its message, own shares included);
- a :class:`~tssbqs_pbt.kernel.values.NodeSigned` statement of a correct process: held.

Collections keep insertion order, which is deterministic because the kernel is.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

import attrs

from tssbqs_pbt.crypto.api import (
    KeyShare,
    PartialSignature,
    PublicKey,
    Signature,
    ThresholdScheme,
    VerificationKeys,
)
from tssbqs_pbt.kernel.codec import attrs_fields, children
from tssbqs_pbt.kernel.ids import NodeId
from tssbqs_pbt.kernel.node import Envelope
from tssbqs_pbt.kernel.values import NodeSigned

__all__ = ["Knowledge", "signed_content"]


# every nested value's signed content, by identity (values are frozen; the entry keeps the
# object alive, so its id is not reused meanwhile): a datum forwarded in many messages, or
# offered in many forgeries, is taken apart once
_CONTENT: dict[int, tuple[Any, frozenset[bytes]]] = {}
_CONTENT_MAX = 8192
_EMPTY: frozenset[bytes] = frozenset()
_LEAVES = (str, int, bytes, type(None), enum.Enum, NodeId)


def signed_content(value: Any) -> frozenset[bytes]:
    """The content (signed bytes) of every service signature nested in ``value``."""
    if isinstance(value, _LEAVES):
        return _EMPTY
    seen = _CONTENT.get(id(value))
    if seen is not None and seen[0] is value:
        return seen[1]
    if isinstance(value, Signature):
        found = frozenset((value.msg,))
    else:
        if isinstance(value, (tuple, frozenset)):
            parts: Any = value
        elif attrs.has(type(value)):
            parts = [getattr(value, name) for name in attrs_fields(type(value))]
        else:
            parts = ()
        found = _EMPTY
        for part in parts:
            inner = signed_content(part)
            if inner:
                found = found | inner if found else inner
    if len(_CONTENT) >= _CONTENT_MAX:
        _CONTENT.clear()
    _CONTENT[id(value)] = (value, found)
    return found


def _plain(value: Any) -> bool:
    """A scalar, or a flat tuple of scalars (a timestamp such as ``(3, 1)``)."""
    if isinstance(value, (str, int, bytes)):
        return True
    return isinstance(value, tuple) and all(isinstance(v, (str, int)) for v in value)


class Knowledge:
    """What the Byzantine servers hold, jointly."""

    def __init__(
        self,
        *,
        byzantine: frozenset[NodeId],
        shares: Iterable[KeyShare],
        scheme: ThresholdScheme,
        public_key: PublicKey,
        verification: VerificationKeys,
    ) -> None:
        self.byzantine = byzantine
        self.shares: tuple[KeyShare, ...] = tuple(shares)
        self.scheme = scheme
        self.public_key = public_key
        self.verification = verification
        self._own_signers = frozenset(
            s.index for s in self.shares if s.epoch == verification.epoch
        )
        self._objects: dict[type, dict[Any, None]] = {}
        self._fields: dict[tuple[str, str], dict[Any, None]] = {}
        self._partials: dict[bytes, dict[int, PartialSignature]] = {}
        self._signatures: dict[bytes, Signature] = {}
        self._unwalked: set[Signature] = set()  # known (combined), parts not yet absorbed
        self.received: list[Envelope] = []  # every message delivered to a Byzantine server

    # -- growing -----------------------------------------------------------------------------
    def receive(self, envelope: Envelope) -> list[Signature]:
        """A message reached a Byzantine server: remember it and learn its payload."""
        self.received.append(envelope)
        return self.absorb(envelope.payload)

    def absorb(self, payload: Any) -> list[Signature]:
        """Learn ``payload`` and everything in it; return service signatures newly combinable."""
        touched: list[bytes] = []
        # depth first like :func:`walk`, but a known object's parts are known: skip them
        stack = [payload]
        while stack:
            obj = stack.pop()
            cls = type(obj)
            bucket = self._objects.setdefault(cls, {})
            if obj in bucket:
                if obj in self._unwalked:  # combined here: its parts were never walked
                    self._unwalked.discard(obj)
                    stack.extend(reversed(children(obj)))
                continue
            bucket[obj] = None
            parts = children(obj)
            if parts:
                stack.extend(reversed(parts))
            if hasattr(cls, "__attrs_attrs__"):
                for name in attrs_fields(cls):
                    leaf = getattr(obj, name)
                    if _plain(leaf):
                        self._fields.setdefault((cls.__name__, name), {})[leaf] = None
            if cls is PartialSignature and self._learn_partial(obj):
                touched.append(obj.msg)
            elif cls is Signature and self.scheme.verify(self.public_key, obj.msg, obj):
                self._signatures.setdefault(obj.msg, obj)
        return [s for s in (self._try_combine(m) for m in touched) if s is not None]

    def _learn_partial(self, partial: PartialSignature) -> bool:
        if partial.signer in self._own_signers:
            return False
        if not self.scheme.verify_partial(self.verification, partial, partial.msg):
            return False
        held = self._partials.setdefault(partial.msg, {})
        if partial.signer in held:
            return False
        held[partial.signer] = partial
        return True

    def _try_combine(self, msg: bytes) -> Signature | None:
        if msg in self._signatures:
            return None
        signature = self.signature_on(msg)
        if signature is not None:
            self._signatures[msg] = signature
            self._objects.setdefault(Signature, {})[signature] = None
            self._unwalked.add(signature)
        return signature

    # -- using -------------------------------------------------------------------------------
    def own_partial(self, signer: int, msg: bytes) -> PartialSignature | None:
        """A Byzantine server's own partial on ``msg`` (None if ``signer`` is not Byzantine)."""
        for share in self.shares:
            if share.index == signer and share.epoch == self.verification.epoch:
                return self.scheme.partial_sign(share, msg)
        return None

    def signature_on(self, msg: bytes) -> Signature | None:
        """The service signature on ``msg`` if the adversary holds or can combine it."""
        if msg in self._signatures:
            return self._signatures[msg]
        held = self._partials.get(msg, {})
        if len(held) + len(self._own_signers) < self.public_key.t:
            return None
        own = [self.scheme.partial_sign(s, msg) for s in self.shares
               if s.index in self._own_signers]
        return self.scheme.combine(
            self.public_key, self.verification, msg, [*held.values(), *own]
        )

    def why_not_derivable(self, payload: Any) -> str | None:
        """None if the adversary can build ``payload``; otherwise the offending part."""
        # (an object the adversary holds is derivable with all its parts: not walked into)
        stack = [payload]
        while stack:
            obj = stack.pop()
            cls = type(obj)
            try:
                if obj in self._objects.get(cls, ()):
                    continue
            except TypeError:  # (unhashable: walked)
                pass
            parts = children(obj)
            if parts:
                stack.extend(reversed(parts))
            if cls is PartialSignature:
                if obj.signer in self._own_signers or obj in self._objects.get(cls, ()):
                    continue
                return f"partial signature of correct server S{obj.signer} it never received"
            if cls is Signature:
                if obj in self._objects.get(cls, ()):
                    continue
                made = self.signature_on(obj.msg)
                if made is not None and made == obj:
                    continue
                return "a service signature it neither holds nor can combine from t partials"
            if cls is NodeSigned:
                if obj.signer in self.byzantine or obj in self._objects.get(cls, ()):
                    continue
                return f"a statement signed by correct process {obj.signer} it never received"
        return None

    def holds(self, obj: Any) -> bool:
        return obj in self._objects.get(type(obj), ())

    def objects(self, cls: type) -> tuple[Any, ...]:
        """Every held object of exactly class ``cls``, in the order it was learnt."""
        return tuple(self._objects.get(cls, ()))

    def all_objects(self) -> tuple[Any, ...]:
        """Every held object, class by class in the order each class was first learnt."""
        return tuple(o for bucket in self._objects.values() for o in bucket)

    def field_values(self, cls_name: str, field: str) -> tuple[Any, ...]:
        """Every plain value seen in field ``field`` of messages of class ``cls_name``."""
        return tuple(self._fields.get((cls_name, field), ()))

    @property
    def signatures(self) -> tuple[Signature, ...]:
        return tuple(self._signatures.values())

    def partials_on(self, msg: bytes) -> tuple[PartialSignature, ...]:
        return tuple(self._partials.get(msg, {}).values())

    @property
    def own_signers(self) -> frozenset[int]:
        return self._own_signers

    def copy(self) -> Knowledge:
        twin = Knowledge.__new__(Knowledge)
        twin.__dict__.update(self.__dict__)
        twin._objects = {k: dict(v) for k, v in self._objects.items()}
        twin._fields = {k: dict(v) for k, v in self._fields.items()}
        twin._partials = {k: dict(v) for k, v in self._partials.items()}
        twin._signatures = dict(self._signatures)
        twin._unwalked = set(self._unwalked)
        twin.received = list(self.received)
        return twin
