"""The in-flight message pool, in canonical (send) order."""

from __future__ import annotations

from collections.abc import Iterator

from tssbqs_pbt.errors import InvalidAction
from tssbqs_pbt.kernel.node import Envelope

__all__ = ["Pool"]


class Pool:
    """Messages sent to correct processes and not yet delivered, oldest first.

    The adversary picks any of them to deliver next and may delay any for as long as the attack
    phase lasts; the drain phase delivers them oldest first, which is fair.
    """

    def __init__(self) -> None:
        self._in_flight: dict[int, Envelope] = {}

    def add(self, envelope: Envelope) -> None:
        self._in_flight[envelope.id] = envelope

    def take(self, msg_id: int) -> Envelope:
        try:
            return self._in_flight.pop(msg_id)
        except KeyError:
            raise InvalidAction(
                f"message #{msg_id} is not in flight (in flight: {self.ids() or 'none'}); "
                "deliver only messages that were sent and not yet delivered"
            ) from None

    def oldest(self) -> Envelope | None:
        return next(iter(self._in_flight.values()), None)

    def get(self, msg_id: int) -> Envelope | None:
        return self._in_flight.get(msg_id)

    def ids(self) -> tuple[int, ...]:
        return tuple(self._in_flight)

    def __iter__(self) -> Iterator[Envelope]:
        return iter(tuple(self._in_flight.values()))

    def __len__(self) -> int:
        return len(self._in_flight)

    def copy(self) -> Pool:
        twin = Pool()
        twin._in_flight = dict(self._in_flight)
        return twin
