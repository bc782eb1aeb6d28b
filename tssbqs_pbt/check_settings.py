"""The settings a :func:`tssbqs_pbt.check` call runs with, and what the session saw.

Light on purpose (attrs and the standard library only): the pytest plugin loads it at
configure time without loading Hypothesis, ``cryptography`` or the protocols.  Precedence, from
strongest to weakest: the arguments of ``check()``, a ``@pytest.mark.tssbqs(...)`` marker, the
``--tssbqs-*`` command-line options, the defaults below.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from tssbqs_pbt.errors import InvalidArgument

__all__ = [
    "BUDGET_NAMES",
    "CRYPTO_CHOICES",
    "CheckSettings",
    "activate",
    "active",
    "parse_seed",
    "record",
    "take_records",
]

BUDGET_NAMES = ("quick", "standard", "thorough")  # the keys of tssbqs_pbt.search.BUDGETS
CRYPTO_CHOICES = ("ideal", "real")


def _budget(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None or (isinstance(value, str) and (value in BUDGET_NAMES or (value.isdigit()
                                                     and int(value) >= 1))):
        return
    raise InvalidArgument(
        f"budget={value!r} is not a budget; use one of {', '.join(BUDGET_NAMES)} or a whole "
        "number of examples (e.g. '200')"
    )


def _budget_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _crypto(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in CRYPTO_CHOICES:
        raise InvalidArgument(
            f"crypto={value!r} is not a threshold-signature scheme; use 'ideal' (symbolic, fast) "
            "or 'real' (Shoup threshold RSA)"
        )


def _whole(low: int) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InvalidArgument(
                f"{attribute.name}={value!r} must be a whole number >= {low}"
            )

    return check


def _flag(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise InvalidArgument(f"{name}={value!r} must be True or False")


@attrs.frozen
class CheckSettings:
    """How ``check()`` searches when its arguments leave something out.

    ``budget`` is a name (quick, standard, thorough) or a number of examples as text; ``None``
    takes the number of examples of the active Hypothesis profile.  ``database`` is the folder
    of the Hypothesis example database (``None``: no database, nothing is replayed first).  Outside
    pytest there is none by default, so a seed alone decides a run (``check(database=...)``
    gives one); the pytest plugin uses ``.hypothesis/tssbqs-pbt`` under the rootdir.
    """

    budget: str | None = attrs.field(default=None, converter=_budget_text, validator=_budget)
    crypto: str = attrs.field(default="ideal", validator=_crypto)
    key_bits: int = attrs.field(default=2048, validator=_whole(256))
    report_dir: Path = attrs.field(default=Path("tssbqs-report"), converter=Path)
    n: int = attrs.field(default=4, validator=_whole(1))
    f: int = attrs.field(default=1, validator=_whole(0))
    seed: int = attrs.field(default=0, validator=_whole(0))
    database: Path | None = attrs.field(
        default=None,
        converter=attrs.converters.optional(Path),
    )
    statistics: bool = False
    #: check() explores after the random search (its CHECK_SCOPE) unless False
    explore: bool = attrs.field(default=True, validator=lambda _, a, v: _flag(a.name, v))
    #: deep random walks check() takes after the exploration (0: none)
    walks: int = attrs.field(default=256, validator=_whole(0))

    def with_(self, changes: Mapping[str, Any]) -> CheckSettings:
        """A copy with ``changes`` (a marker's keyword arguments); unknown names are named."""
        known = [a.name for a in attrs.fields(CheckSettings)]
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise InvalidArgument(
                f"unknown tssbqs setting(s) {', '.join(unknown)}; use {', '.join(known)}"
            )
        return attrs.evolve(self, **dict(changes))

    def describe(self) -> str:
        """One line for the pytest header."""
        budget = self.budget or "from the Hypothesis profile"
        crypto = self.crypto if self.crypto == "ideal" else f"real ({self.key_bits}-bit RSA)"
        explored = "" if self.explore else ", no exploration"
        return (f"budget={budget}, crypto={crypto}, n={self.n}, f={self.f}, seed={self.seed}"
                f"{explored}, "
                f"report dir={self.report_dir}")


def parse_seed(text: str | int) -> int:
    """``--hypothesis-seed`` as a non-negative integer (text that is not a number is hashed)."""
    if isinstance(text, int):
        return abs(text)
    try:
        return abs(int(text))
    except ValueError:
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


_active: list[CheckSettings] = [CheckSettings()]
_records: list[dict[str, Any]] = []


def active() -> CheckSettings:
    """The settings ``check()`` uses now (set by the pytest plugin per test)."""
    return _active[-1]


@contextlib.contextmanager
def activate(settings: CheckSettings) -> Iterator[CheckSettings]:
    """Use ``settings`` inside the ``with`` block."""
    if not isinstance(settings, CheckSettings):
        raise InvalidArgument(f"activate() takes CheckSettings, got {type(settings).__name__}")
    _active.append(settings)
    try:
        yield settings
    finally:
        _active.pop()


def record(kind: str, **data: Any) -> None:
    """Note something for the session summary (kind: 'counterexample', 'statistics' or
    'passed')."""
    _records.append({"kind": kind, **{k: str(v) for k, v in data.items()}})


def take_records() -> list[dict[str, Any]]:
    """Everything recorded since the last call (the plugin moves it into the test report)."""
    out = list(_records)
    _records.clear()
    return out
