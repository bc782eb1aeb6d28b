"""The design space of SPEC.md §4: options as enums, a design as a frozen value.

A :class:`Design` is the parameters (n, f, q, t) plus one value for every option.  Impossible
parameters are refused with :class:`~tssbqs_pbt.errors.InvalidArgument`; *unsafe* ones (t <= f,
a small quorum, n <= 3f) are allowed, since the point is to test them.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.kernel.config import SystemConfig
from tssbqs_pbt.validation import int_at_least

__all__ = [
    "OPTION_TYPES",
    "AckMode",
    "Delegates",
    "Design",
    "DesignOptions",
    "ReadGuard",
    "ReadShape",
    "RequestDedup",
    "SignGuard",
    "StoreForm",
    "TsSource",
    "parse_design",
    "parse_option",
]


class StoreForm(enum.Enum):
    """What a server stores."""

    SIGNED = "signed"  # only complete self-verifying data
    UNSIGNED = "unsigned"  # <x, ts> as given, signed later (at read time)


class TsSource(enum.Enum):
    """Who fixes the new timestamp."""

    CLIENT_BASIS = "client-basis"  # the request carries a signed basis; ts = next(basis)
    QUORUM_MAX = "quorum-max"  # the delegate reads a quorum; ts = max + 1
    SERVER_LOCAL = "server-local"  # every signer uses its own latest ts + 1
    DELEGATE_FREE = "delegate-free"  # the delegate uses its own latest datum as the basis


class SignGuard(enum.Enum):
    """What a correct server checks before partially signing a new datum."""

    NONE = "none"
    LOCAL = "local"  # ts above everything stored or promised; then promise ts
    EVIDENCE = "evidence"  # a verifiable justification pins ts


class AckMode(enum.Enum):
    """How a write reply proves that a quorum stored the datum."""

    NONE = "none"  # the signed datum itself is the reply
    PIGGYBACK = "piggyback"  # each store acknowledgement carries a reply partial
    EVIDENCE = "evidence"  # separate round: servers check q signed acknowledgements


class ReadGuard(enum.Enum):
    """What a server checks before partially signing a read reply (two-phase reads)."""

    NONE = "none"
    LOCAL = "local"  # write back first; sign only if not older than its own datum
    EVIDENCE = "evidence"  # q signed replies show the datum is the newest


class ReadShape(enum.Enum):
    TWO_PHASE = "two-phase"  # collect from a quorum, then sign the chosen datum
    ONE_PHASE = "one-phase"  # every server signs a reply over its own datum


class Delegates(enum.Enum):
    """How many servers a client sends each request to."""

    ONE = "1"
    F_PLUS_ONE = "f+1"


class RequestDedup(enum.Enum):
    """Whether a server signs a new datum again for a request whose datum it stored."""

    OFF = "off"
    STORED = "stored"  # refuse: the request is done here


OPTION_TYPES: dict[str, type[enum.Enum]] = {
    "store_form": StoreForm,
    "ts_source": TsSource,
    "sign_guard": SignGuard,
    "ack_mode": AckMode,
    "read_guard": ReadGuard,
    "read_shape": ReadShape,
    "delegates": Delegates,
    "request_dedup": RequestDedup,
}


def _is(enum_type: type[enum.Enum]) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, enum_type):
            choices = ", ".join(m.name for m in enum_type)
            raise InvalidArgument(
                f"{attribute.name}={value!r} is not a {enum_type.__name__}; use one of {choices}"
            )

    return check


@attrs.frozen
class DesignOptions:
    """One value for every option of the server protocol."""

    store_form: StoreForm = attrs.field(default=StoreForm.SIGNED, validator=_is(StoreForm))
    ts_source: TsSource = attrs.field(default=TsSource.CLIENT_BASIS, validator=_is(TsSource))
    sign_guard: SignGuard = attrs.field(default=SignGuard.EVIDENCE, validator=_is(SignGuard))
    ack_mode: AckMode = attrs.field(default=AckMode.EVIDENCE, validator=_is(AckMode))
    read_guard: ReadGuard = attrs.field(default=ReadGuard.EVIDENCE, validator=_is(ReadGuard))
    read_shape: ReadShape = attrs.field(default=ReadShape.TWO_PHASE, validator=_is(ReadShape))
    delegates: Delegates = attrs.field(default=Delegates.F_PLUS_ONE, validator=_is(Delegates))
    request_dedup: RequestDedup = attrs.field(
        default=RequestDedup.OFF, validator=_is(RequestDedup)
    )

    def describe(self) -> str:
        """``STORE_FORM=SIGNED TS_SOURCE=CLIENT_BASIS ...`` (stable, for reports and keys)."""
        return " ".join(
            f"{name.upper()}={getattr(self, name).name}" for name in OPTION_TYPES
        )

    def with_(self, **changes: Any) -> DesignOptions:
        """A copy with some options changed; values may be enum members or their names."""
        parsed: dict[str, Any] = {_key(k): parse_option(k, v) for k, v in changes.items()}
        return attrs.evolve(self, **parsed)


def _key(name: str) -> str:
    return name.lower().replace("-", "_")


def parse_option(name: str, value: Any) -> enum.Enum:
    """``parse_option("sign_guard", "local")`` -> ``SignGuard.LOCAL``; clear errors otherwise."""
    key = _key(name)
    enum_type = OPTION_TYPES.get(key)
    if enum_type is None:
        raise InvalidArgument(
            f"unknown option {name!r}; options are {', '.join(k.upper() for k in OPTION_TYPES)}"
        )
    if isinstance(value, enum_type):
        return value
    text = str(value).strip()
    for member in enum_type:
        if text.upper() == member.name or text.lower() == member.value:
            return member
    choices = ", ".join(m.name for m in enum_type)
    raise InvalidArgument(f"{key.upper()}={value!r} is not a value of {key.upper()}; "
                          f"use one of {choices}")


@attrs.frozen
class Design:
    """Parameters plus options: one point of the design space."""

    n: int = attrs.field(validator=int_at_least(1))
    f: int = attrs.field(validator=int_at_least(0))
    q: int = attrs.field(validator=int_at_least(1))
    t: int = attrs.field(validator=int_at_least(1))
    options: DesignOptions = attrs.field(factory=DesignOptions)

    def __attrs_post_init__(self) -> None:
        SystemConfig(n=self.n, f=self.f, q=self.q, t=self.t)  # same checks, same messages

    @property
    def delegate_count(self) -> int:
        return 1 if self.options.delegates is Delegates.ONE else min(self.f + 1, self.n)

    def config(self, *, byzantine: frozenset[int] | set[int] = frozenset(),
               clients: int = 3) -> SystemConfig:
        return SystemConfig(n=self.n, f=self.f, q=self.q, t=self.t,
                            byzantine=frozenset(byzantine), clients=clients)

    def describe(self) -> str:
        return f"n={self.n} f={self.f} q={self.q} t={self.t} {self.options.describe()}"

    def representative(self) -> Design:
        """The design that behaves exactly like this one, with unused options at their first
        value: one-phase reads never ask a server to sign a collected datum, so READ_GUARD is
        not consulted when READ_SHAPE=ONE_PHASE.  (The two protocols differ only in name.)"""
        if self.options.read_shape is ReadShape.ONE_PHASE:
            first = next(iter(ReadGuard))
            if self.options.read_guard is not first:
                return attrs.evolve(self, options=attrs.evolve(self.options, read_guard=first))
        return self


def parse_design(text: str) -> Design:
    """The inverse of :meth:`Design.describe`: ``"n=4 f=1 q=3 t=2 SIGN_GUARD=LOCAL ..."``.

    Options left out keep their defaults; every problem names the offending word.
    """
    params: dict[str, int] = {}
    options: dict[str, Any] = {}
    for word in text.split():
        key, sep, value = word.partition("=")
        if not sep:
            raise InvalidArgument(f"{word!r} in design {text!r} is not NAME=VALUE")
        if key in ("n", "f", "q", "t"):
            try:
                params[key] = int(value)
            except ValueError:
                raise InvalidArgument(f"{word!r}: {key} must be a whole number") from None
        else:
            options[_key(key)] = parse_option(key, value)
    missing = [k for k in ("n", "f", "q", "t") if k not in params]
    if missing:
        raise InvalidArgument(f"design {text!r} lacks {', '.join(missing)}; give n=, f=, q=, t=")
    return Design(params["n"], params["f"], params["q"], params["t"], DesignOptions(**options))
