"""tssbqs-pbt: property-based testing of BFT storage protocols (BQS + threshold signatures).

Import what you need from the subpackages: :mod:`tssbqs_pbt.kernel` (deterministic simulator),
:mod:`tssbqs_pbt.crypto` (threshold signatures).  :func:`check` (search a protocol from a test)
and :class:`CheckFailed` are loaded on first use: this module stays light on purpose, importing
it loads neither Hypothesis, ``cryptography`` nor the protocols.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["CheckFailed", "__version__", "check"]

__version__ = "0.1.0"

_LAZY = {"check": "tssbqs_pbt.checking", "CheckFailed": "tssbqs_pbt.checking"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tssbqs_pbt' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
