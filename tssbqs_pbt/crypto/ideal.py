"""The ideal (symbolic) threshold signature scheme used for search.

A partial signature is a tagged token: a hash bound to the key, the signer, the key epoch and the
message.  ``combine`` accepts exactly what the real scheme accepts: t distinct valid partials of
the current epoch on the same message.  Tokens are computed from public data, so
unforgeability is not a property of this module: the simulation kernel enforces it symbolically
(Dolev–Yao), by only letting the adversary use signed objects it holds or can combine.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable

from tssbqs_pbt.crypto.api import (
    Dealing,
    KeyShare,
    PartialSignature,
    PublicKey,
    Signature,
    VerificationKeys,
    select_valid_partials,
)
from tssbqs_pbt.validation import check_system_size

__all__ = ["IdealScheme"]

_SCHEME = "ideal"


def _token(*parts: bytes) -> int:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(len(part).to_bytes(4, "big"))
        h.update(part)
    return int.from_bytes(h.digest(), "big")


def _i(value: int) -> bytes:
    return value.to_bytes(8, "big", signed=True)


class IdealScheme:
    """Symbolic threshold signatures; ``seed`` makes key ids distinct between worlds."""

    name = _SCHEME

    def __init__(self, seed: str = "tssbqs-pbt") -> None:
        self.seed = seed

    def __repr__(self) -> str:
        return f"IdealScheme(seed={self.seed!r})"

    def deal(self, n: int, t: int) -> Dealing:
        check_system_size(n, t)
        key_id = f"{_token(self.seed.encode(), _i(n), _i(t)):032x}"
        public_key = PublicKey(scheme=_SCHEME, key_id=key_id, n=n, t=t)
        return self._dealing(public_key, epoch=0)

    def refresh(self, dealing: Dealing) -> Dealing:
        return self._dealing(dealing.public_key, epoch=dealing.epoch + 1)

    @staticmethod
    def _dealing(public_key: PublicKey, epoch: int) -> Dealing:
        key = public_key.key_id.encode()
        shares = tuple(
            KeyShare(_SCHEME, public_key.key_id, i, epoch, _token(b"share", key, _i(epoch), _i(i)))
            for i in range(1, public_key.n + 1)
        )
        verification = VerificationKeys(key_id=public_key.key_id, epoch=epoch)
        return Dealing(public_key, verification, shares)

    def partial_sign(self, share: KeyShare, msg: bytes) -> PartialSignature:
        value = _partial_token(share.key_id, share.index, share.epoch, msg)
        return PartialSignature(share.key_id, share.index, share.epoch, msg, value)

    def verify_partial(
        self, verification: VerificationKeys, partial: PartialSignature, msg: bytes
    ) -> bool:
        return (
            partial.key_id == verification.key_id
            and partial.epoch == verification.epoch
            and partial.msg == msg
            and partial.proof is None
            and partial.value
            == _partial_token(partial.key_id, partial.signer, partial.epoch, msg)
        )

    def combine(
        self,
        public_key: PublicKey,
        verification: VerificationKeys,
        msg: bytes,
        partials: Iterable[PartialSignature],
    ) -> Signature:
        select_valid_partials(self, public_key, verification, msg, partials)
        return Signature(public_key.key_id, msg, _signature_token(public_key.key_id, msg))

    def verify(self, public_key: PublicKey, msg: bytes, signature: Signature) -> bool:
        return (
            signature.key_id == public_key.key_id
            and signature.msg == msg
            and signature.value == _signature_token(public_key.key_id, msg)
        )


@functools.lru_cache(maxsize=1 << 16)  # (a run signs and verifies the same few messages often)
def _partial_token(key_id: str, signer: int, epoch: int, msg: bytes) -> int:
    return _token(b"partial", key_id.encode(), _i(signer), _i(epoch), msg)


@functools.lru_cache(maxsize=1 << 16)
def _signature_token(key_id: str, msg: bytes) -> int:
    return _token(b"signature", key_id.encode(), msg)
