"""Scripted draws: drive a rule machine's rules by hand, every draw given in order."""

from __future__ import annotations

from typing import Any

__all__ = ["Script"]


class Script:
    """A stand-in for Hypothesis's ``data``: hands out the scripted values in order."""

    def __init__(self, *values: Any) -> None:
        self.values = list(values)
        self.labels: list[str] = []

    def draw(self, strategy: Any, label: str | None = None) -> Any:
        self.labels.append(label or "")
        return self.values.pop(0) if self.values else 0
