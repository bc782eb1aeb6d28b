"""The one error hierarchy of tssbqs-pbt.

Every error the framework raises on purpose derives from :class:`TssbqsError`, so callers can
catch the framework's complaints without catching their own bugs.  Each message names the bad
value and says how to fix it.
"""

from __future__ import annotations

__all__ = [
    "CryptoError",
    "InvalidAction",
    "InvalidArgument",
    "InvalidPartialSignature",
    "InvalidProtocol",
    "NotEnoughShares",
    "ProtocolFault",
    "ReplayError",
    "TraceFormatError",
    "TssbqsError",
]


class TssbqsError(Exception):
    """Root of every error raised by tssbqs-pbt on purpose."""


class InvalidArgument(TssbqsError, ValueError):
    """A caller passed a value the framework cannot work with (bad n/f/q/t, unknown option...)."""


class InvalidProtocol(TssbqsError):
    """A plugged-in protocol does not satisfy the protocol interface."""


class ProtocolFault(TssbqsError):
    """A protocol handler raised or misbehaved while the kernel was running it."""


class InvalidAction(TssbqsError):
    """An adversary or scheduler action that the model does not allow (forgery, unknown message)."""


class CryptoError(TssbqsError):
    """Base of threshold-signature errors."""


class InvalidPartialSignature(CryptoError):
    """A partial signature failed verification; ``signer`` names the share that failed."""

    def __init__(self, message: str, *, signer: int) -> None:
        super().__init__(message)
        self.signer = signer


class NotEnoughShares(CryptoError):
    """``combine`` got fewer than t distinct valid partial signatures."""


class TraceFormatError(TssbqsError):
    """A trace or replay file is corrupt, truncated or of another format version."""


class ReplayError(TssbqsError):
    """A replay did not reproduce what the trace recorded."""
