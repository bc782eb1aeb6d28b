"""Threshold signatures: one interface, an ideal scheme for search, Shoup's RSA for real.

``tssbqs_pbt.crypto.real`` is imported only on demand (:func:`get_scheme`), so that nothing but
that module loads ``gmpy2`` or ``cryptography``.
"""

from __future__ import annotations

import importlib
from typing import Any

from tssbqs_pbt.crypto.api import (
    Dealing,
    KeyShare,
    PartialSignature,
    PublicKey,
    Signature,
    ThresholdScheme,
    VerificationKeys,
    check_partial,
    select_valid_partials,
)
from tssbqs_pbt.crypto.ideal import IdealScheme
from tssbqs_pbt.errors import InvalidArgument

__all__ = [
    "SCHEMES",
    "Dealing",
    "IdealScheme",
    "KeyShare",
    "PartialSignature",
    "PublicKey",
    "Signature",
    "ThresholdScheme",
    "VerificationKeys",
    "check_partial",
    "get_scheme",
    "select_valid_partials",
]

SCHEMES = ("ideal", "real")


def get_scheme(name: str, **options: Any) -> ThresholdScheme:
    """The scheme called ``name`` ("ideal" or "real"); options go to its constructor."""
    if name == "ideal":
        return IdealScheme(**options)
    if name == "real":
        real = importlib.import_module("tssbqs_pbt.crypto.real")  # loads gmpy2, cryptography
        scheme: ThresholdScheme = real.ShoupRSA(**options)
        return scheme
    raise InvalidArgument(f"unknown threshold scheme {name!r}; choose one of {', '.join(SCHEMES)}")
