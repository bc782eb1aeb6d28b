"""The threshold-signature interface shared by the ideal and the real scheme.

A dealer splits the service key into n shares (:meth:`ThresholdScheme.deal`).  Each server
turns its share into a *partial signature* on a message; any t valid partials of one key epoch
combine into an ordinary signature that verifies under the public key, fewer than t combine into
nothing.  :meth:`ThresholdScheme.refresh` starts a new key epoch (proactive share refresh): the
shares and the verification keys change, the public key does not, and partials of different
epochs never combine.

All values are frozen attrs classes so that the simulation kernel can keep them in adversary
knowledge, compare them, and serialise them into traces.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

import attrs

from tssbqs_pbt.errors import InvalidPartialSignature, NotEnoughShares

__all__ = [
    "Dealing",
    "KeyShare",
    "PartialSignature",
    "PublicKey",
    "Signature",
    "ThresholdScheme",
    "VerificationKeys",
    "check_partial",
    "select_valid_partials",
]


@attrs.frozen(cache_hash=True)
class PublicKey:
    """The service public key PK; it never changes, not even across share refreshes."""

    scheme: str
    key_id: str
    n: int
    t: int
    modulus: int = 0  # RSA modulus N (0 in the ideal scheme)
    exponent: int = 0  # RSA public exponent e (0 in the ideal scheme)


@attrs.frozen(cache_hash=True)
class VerificationKeys:
    """Public per-epoch data to check partial signatures (Shoup's v and v_1..v_n)."""

    key_id: str
    epoch: int
    base: int = 0
    keys: tuple[int, ...] = ()


@attrs.frozen(repr=False, cache_hash=True)
class KeyShare:
    """Server ``index``'s (1-based) share of the key for one epoch. ``secret`` is never printed."""

    scheme: str
    key_id: str
    index: int
    epoch: int
    secret: int

    def __repr__(self) -> str:
        return f"KeyShare({self.scheme}, key={self.key_id[:8]}, S{self.index}, epoch={self.epoch})"


@attrs.frozen(cache_hash=True)
class PartialSignature:
    """Signer ``signer``'s partial signature on ``msg`` in key epoch ``epoch``."""

    key_id: str
    signer: int
    epoch: int
    msg: bytes
    value: int
    proof: tuple[int, int] | None = None  # Shoup's (c, z) share-correctness proof


@attrs.frozen(cache_hash=True)
class Signature:
    """An ordinary service signature on ``msg``, valid under the public key ``key_id``."""

    key_id: str
    msg: bytes
    value: int


@attrs.frozen(cache_hash=True)
class Dealing:
    """The output of a dealer: the public key, this epoch's verification keys, and n shares."""

    public_key: PublicKey
    verification: VerificationKeys
    shares: tuple[KeyShare, ...]

    @property
    def epoch(self) -> int:
        return self.verification.epoch


@runtime_checkable
class ThresholdScheme(Protocol):
    """What both implementations provide. Every method is deterministic."""

    name: str

    def deal(self, n: int, t: int) -> Dealing:
        """Split a service key into ``n`` shares with threshold ``t`` (epoch 0)."""
        ...

    def refresh(self, dealing: Dealing) -> Dealing:
        """Proactive share refresh: next epoch, new shares, same public key."""
        ...

    def partial_sign(self, share: KeyShare, msg: bytes) -> PartialSignature:
        """The partial signature of ``share`` on ``msg`` (with its correctness proof)."""
        ...

    def verify_partial(
        self, verification: VerificationKeys, partial: PartialSignature, msg: bytes
    ) -> bool:
        """Whether ``partial`` is a correct partial on ``msg`` for the keys' epoch."""
        ...

    def combine(
        self,
        public_key: PublicKey,
        verification: VerificationKeys,
        msg: bytes,
        partials: Iterable[PartialSignature],
    ) -> Signature:
        """Combine t valid partials on ``msg``; invalid ones are skipped, never trusted.

        Raises :class:`~tssbqs_pbt.errors.NotEnoughShares` when fewer than t distinct valid
        partials remain; its message names every rejected signer.
        """
        ...

    def verify(self, public_key: PublicKey, msg: bytes, signature: Signature) -> bool:
        """Whether ``signature`` is a valid service signature on ``msg``."""
        ...


def select_valid_partials(
    scheme: ThresholdScheme,
    public_key: PublicKey,
    verification: VerificationKeys,
    msg: bytes,
    partials: Iterable[PartialSignature],
) -> tuple[PartialSignature, ...]:
    """The first t distinct valid partials on ``msg``, in signer order.

    Shared by both schemes' ``combine`` so that they accept and reject exactly the same inputs.
    """
    valid: dict[int, PartialSignature] = {}
    rejected: list[str] = []
    for partial in partials:
        if partial.signer in valid:
            continue
        if scheme.verify_partial(verification, partial, msg):
            valid[partial.signer] = partial
        else:
            rejected.append(f"S{partial.signer}")
    if len(valid) < public_key.t:
        detail = f"; rejected invalid partials from {', '.join(rejected)}" if rejected else ""
        raise NotEnoughShares(
            f"combine needs t={public_key.t} distinct valid partial signatures on the message "
            f"(epoch {verification.epoch}) but got {len(valid)}{detail}"
        )
    return tuple(valid[s] for s in sorted(valid)[: public_key.t])


def check_partial(
    scheme: ThresholdScheme,
    verification: VerificationKeys,
    partial: PartialSignature,
    msg: bytes,
) -> None:
    """Raise :class:`InvalidPartialSignature` naming the signer if ``partial`` is not valid."""
    if not scheme.verify_partial(verification, partial, msg):
        reason = (
            f"key epoch {partial.epoch} is not the current epoch {verification.epoch}"
            if partial.epoch != verification.epoch
            else "its value or correctness proof does not check against the verification key"
        )
        raise InvalidPartialSignature(
            f"partial signature from signer S{partial.signer} rejected: {reason}",
            signer=partial.signer,
        )
