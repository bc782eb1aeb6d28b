"""Small wording helpers shared by every output (reports, CLI, sweep lines)."""

from __future__ import annotations

__all__ = ["plural"]


def plural(count: object, word: str, many: str | None = None) -> str:
    """``plural(1, "step")`` -> ``"1 step"``; ``plural(3, "step")`` -> ``"3 steps"``."""
    return f"{count} {word if count == 1 else (many or word + 's')}"
