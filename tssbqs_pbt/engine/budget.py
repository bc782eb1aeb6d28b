"""How hard a search looks: :class:`Budget`, the named budgets, and :func:`parse_budget` (a
budget as the command line and the pytest options give it)."""

from __future__ import annotations

import attrs

from tssbqs_pbt.errors import InvalidArgument

__all__ = ["BUDGETS", "MAX_EXAMPLES", "Budget", "parse_budget"]


@attrs.frozen
class Budget:
    """How hard to look: ``examples`` runs of at most ``steps`` rules, shared by the tactics."""

    examples: int = 300
    steps: int = 30

    def __attrs_post_init__(self) -> None:
        for name in ("examples", "steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidArgument(f"budget {name}={value!r} must be a whole number >= 1")

    @classmethod
    def named(cls, name: str) -> Budget:
        try:
            return BUDGETS[name]
        except KeyError:
            raise InvalidArgument(
                f"unknown budget {name!r}; use one of {', '.join(BUDGETS)} or a number of "
                "examples"
            ) from None


BUDGETS = {
    "quick": Budget(examples=100),
    "standard": Budget(examples=400),
    "thorough": Budget(examples=2_000),
}


#: the most examples a budget may ask for (a search of that many takes days on one core)
MAX_EXAMPLES = 10**7


def parse_budget(text: str, flag: str = "--budget") -> tuple[str, Budget]:
    """``quick | standard | thorough`` or a number of examples from 1 to :data:`MAX_EXAMPLES`,
    as ``(its name, the budget)``; a bad one is refused naming ``flag``."""
    word = str(text).strip()
    if word.lstrip("+-").isdigit():
        examples = int(word)
        if not 1 <= examples <= MAX_EXAMPLES:
            raise InvalidArgument(
                f"{flag} {word}: a number of examples must be from 1 to {MAX_EXAMPLES:,} "
                f"({MAX_EXAMPLES:,} already takes days); give e.g. {flag} 2000, or one of "
                f"{', '.join(BUDGETS)}")
        return str(examples), Budget(examples)
    if word not in BUDGETS:
        raise InvalidArgument(f"{flag}: unknown budget {word!r}; use one of "
                              f"{', '.join(BUDGETS)} or a number of examples, e.g. {flag} 2000")
    return word, Budget.named(word)
