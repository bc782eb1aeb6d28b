"""The ideal and the real threshold scheme accept and reject exactly the same operations.

One list of operations (data, below) runs through :class:`IdealScheme` and through a 512-bit
:class:`ShoupRSA`; the outcome lists (True / False / "signed" / exception class name) must be
equal, and equal to the expected outcomes written next to each operation.  Tampering is
scheme-neutral (``attrs.evolve`` of ``value``, ``signer``, ``epoch`` or ``msg``), because ideal
partials carry no proof.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from tssbqs_pbt.crypto import (
    Dealing,
    IdealScheme,
    PartialSignature,
    ThresholdScheme,
    check_partial,
)
from tssbqs_pbt.crypto.real import ShoupRSA

N, T = 4, 2
MSGS = {"m1": b"write(x, v=1, ts=3)", "m2": b"write(x, v=2, ts=3)"}


@attrs.frozen
class P:
    """A partial signature by ``signer`` in ``epoch`` on ``msg``, then tampered as asked."""

    signer: int
    epoch: int = 0
    msg: str = "m1"
    value_plus: int = 0  # add to the value
    relabel: int | None = None  # claim another signer
    claim_epoch: int | None = None  # claim another epoch
    claim_msg: str | None = None  # claim another message


# (operation, arguments..., expected outcome)
OPERATIONS: list[tuple[Any, ...]] = [
    ("verify_partial", P(1), "m1", 0, True),
    ("verify_partial", P(4), "m1", 0, True),
    ("verify_partial", P(1, value_plus=1), "m1", 0, False),
    ("verify_partial", P(1), "m2", 0, False),  # wrong message
    ("verify_partial", P(1, msg="m2", claim_msg="m1"), "m1", 0, False),
    ("verify_partial", P(2, relabel=3), "m1", 0, False),
    ("verify_partial", P(1, epoch=0), "m1", 1, False),  # old epoch vs new keys
    ("verify_partial", P(1, epoch=0, claim_epoch=1), "m1", 1, False),
    ("verify_partial", P(1, epoch=1), "m1", 0, False),  # new epoch vs old keys
    ("verify_partial", P(3, epoch=1), "m1", 1, True),
    ("check_partial", P(3, value_plus=1), "m1", 0, "InvalidPartialSignature"),
    ("check_partial", P(3, epoch=0), "m1", 1, "InvalidPartialSignature"),
    ("check_partial", P(3), "m1", 0, None),
    ("combine", [P(1), P(2)], "m1", 0, "signed"),
    ("combine", [P(4), P(2)], "m2", 0, "NotEnoughShares"),  # partials on another message
    ("combine", [P(1)], "m1", 0, "NotEnoughShares"),  # t-1 shares
    ("combine", [], "m1", 0, "NotEnoughShares"),
    ("combine", [P(1), P(1), P(1)], "m1", 0, "NotEnoughShares"),  # duplicates of one signer
    ("combine", [P(2), P(2, relabel=1)], "m1", 0, "NotEnoughShares"),
    ("combine", [P(1, value_plus=1), P(2), P(3)], "m1", 0, "signed"),  # t valid + 1 invalid
    ("combine", [P(2), P(3, relabel=4), P(4)], "m1", 0, "signed"),
    ("combine", [P(1, value_plus=1), P(2)], "m1", 0, "NotEnoughShares"),
    ("combine", [P(1, epoch=1), P(2, epoch=1)], "m1", 1, "signed"),
    ("combine", [P(1, epoch=0), P(2, epoch=1)], "m1", 1, "NotEnoughShares"),  # mixed epochs
    ("combine", [P(1, epoch=0), P(2, epoch=1)], "m1", 0, "NotEnoughShares"),
    ("combine", [P(1, epoch=0), P(2, epoch=0)], "m1", 1, "NotEnoughShares"),
    ("combine", [P(1, epoch=0, claim_epoch=1), P(2, epoch=1)], "m1", 1, "NotEnoughShares"),
    ("verify_signature", "m1", "m1", True),
    ("verify_signature", "m1", "m2", False),  # signature on another message
    ("verify_relabelled_signature", "m1", "m2", False),  # ... even if it claims m2
    ("verify_signature_epochs", "m2", True),  # same signature from epoch 0 and epoch 1
]


def _outcome(action: Any) -> object:
    try:
        return action()
    except Exception as exc:
        return type(exc).__name__


class Runner:
    def __init__(self, scheme: ThresholdScheme) -> None:
        self.scheme = scheme
        d0 = scheme.deal(N, T)
        self.dealings: dict[int, Dealing] = {0: d0, 1: scheme.refresh(d0)}

    def partial(self, spec: P) -> PartialSignature:
        dealing = self.dealings[spec.epoch]
        partial = self.scheme.partial_sign(dealing.shares[spec.signer - 1], MSGS[spec.msg])
        changes: dict[str, Any] = {}
        if spec.value_plus:
            changes["value"] = partial.value + spec.value_plus
        if spec.relabel is not None:
            changes["signer"] = spec.relabel
        if spec.claim_epoch is not None:
            changes["epoch"] = spec.claim_epoch
        if spec.claim_msg is not None:
            changes["msg"] = MSGS[spec.claim_msg]
        return attrs.evolve(partial, **changes)

    def sign(self, msg: str, epoch: int = 0) -> Any:
        d = self.dealings[epoch]
        parts = [self.partial(P(i, epoch=epoch, msg=msg)) for i in range(1, T + 1)]
        return self.scheme.combine(d.public_key, d.verification, MSGS[msg], parts)

    def run(self, op: tuple[Any, ...]) -> object:
        kind, *args = op
        scheme, pk = self.scheme, self.dealings[0].public_key
        if kind == "verify_partial":
            spec, msg, epoch = args
            vk = self.dealings[epoch].verification
            return _outcome(lambda: scheme.verify_partial(vk, self.partial(spec), MSGS[msg]))
        if kind == "check_partial":
            spec, msg, epoch = args
            vk = self.dealings[epoch].verification
            return _outcome(lambda: check_partial(scheme, vk, self.partial(spec), MSGS[msg]))
        if kind == "combine":
            specs, msg, epoch = args
            d = self.dealings[epoch]

            def combine() -> str:
                parts = [self.partial(s) for s in specs]
                sig = scheme.combine(d.public_key, d.verification, MSGS[msg], parts)
                return "signed" if scheme.verify(pk, MSGS[msg], sig) else "bad signature"

            return _outcome(combine)
        if kind == "verify_signature":
            signed, checked = args
            return _outcome(lambda: scheme.verify(pk, MSGS[checked], self.sign(signed)))
        if kind == "verify_relabelled_signature":
            signed, claimed = args
            return _outcome(
                lambda: scheme.verify(
                    pk, MSGS[claimed], attrs.evolve(self.sign(signed), msg=MSGS[claimed])
                )
            )
        if kind == "verify_signature_epochs":
            (msg,) = args
            return _outcome(lambda: self.sign(msg, 0) == self.sign(msg, 1))
        raise AssertionError(f"unknown operation {kind!r}")


@pytest.fixture(scope="module")
def schemes(tmp_path_factory: pytest.TempPathFactory) -> list[ThresholdScheme]:
    return [IdealScheme(), ShoupRSA(bits=512, cache_dir=tmp_path_factory.mktemp("keys"))]


def test_ideal_and_real_schemes_agree_on_every_operation(schemes: list[ThresholdScheme]) -> None:
    operations = [op[:-1] for op in OPERATIONS]
    expected = [op[-1] for op in OPERATIONS]
    runners = [Runner(s) for s in schemes]
    outcomes = {r.scheme.name: [r.run(op) for op in operations] for r in runners}
    assert outcomes["ideal"] == outcomes["real"]
    for op, want, got in zip(operations, expected, outcomes["real"], strict=True):
        assert got == want, f"{op}: expected {want!r}, got {got!r}"
