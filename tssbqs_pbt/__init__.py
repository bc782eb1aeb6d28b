"""tssbqs-pbt: property-based testing of BFT storage protocols (BQS + threshold signatures).

Import what you need from the subpackages: :mod:`tssbqs_pbt.kernel` (deterministic simulator),
:mod:`tssbqs_pbt.crypto` (threshold signatures).  This module stays light on purpose: importing
it loads neither Hypothesis, ``cryptography`` nor the protocols.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
