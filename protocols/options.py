"""The design space: options as enums, a design as a frozen value.

The meaning of every option, every value and every parameter is data here (:data:`OPTION_HELP`,
:data:`VALUE_HELP`, :data:`PARAMETER_HELP`): ``tssbqs-pbt options`` and docs/options.md are both
generated from it (:func:`options_text`, :func:`options_markdown`).

A :class:`Design` is the parameters (n, f, q, t) plus one value for every option.  Impossible
parameters are refused with :class:`~tssbqs_pbt.errors.InvalidArgument`; *unsafe* ones (t <= f,
a small quorum, n <= 3f) are allowed, since the point is to test them.
"""

from __future__ import annotations

import enum
import textwrap
from typing import Any

import attrs

from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.kernel.config import SystemConfig
from tssbqs_pbt.validation import int_at_least

__all__ = [
    "OPTION_HELP",
    "OPTION_TYPES",
    "PARAMETER_HELP",
    "VALUE_HELP",
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
    "options_markdown",
    "options_text",
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
    """How a read collects and signs its reply."""

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


PARAMETER_HELP: dict[str, str] = {
    "n": "the number of servers",
    "f": "the most servers that may be Byzantine (faulty in any way, acting together)",
    "q": "the quorum size: how many servers' answers a step waits for",
    "t": "the threshold: how many servers' partial signatures make one service signature",
}

OPTION_HELP: dict[str, str] = {
    "store_form": "what a correct server stores, and which reported data a delegate trusts",
    "ts_source": "who fixes the timestamp of a new datum, and what justifies it",
    "sign_guard": "what a correct server checks before partially signing a new datum",
    "ack_mode": "how a write reply proves that a quorum stored the datum",
    "read_guard": "what a correct server checks before partially signing a read reply",
    "read_shape": "how a read collects data and gets its reply signed",
    "delegates": "to how many servers (delegates) a client sends each request",
    "request_dedup": "whether a server signs a new datum again for a request it has stored",
}

VALUE_HELP: dict[enum.Enum, str] = {
    StoreForm.SIGNED: "only complete data with a valid service signature are stored and "
    "trusted",
    StoreForm.UNSIGNED: "the pair (x, ts) is stored as given and signed later, at read time; "
    "reports are taken at face value",
    TsSource.CLIENT_BASIS: "the client first reads, and its request carries that signed "
    "reply as the basis: ts = next(basis.ts)",
    TsSource.QUORUM_MAX: "the delegate reads a quorum: ts = highest reported + 1, justified "
    "by q server-signed reports",
    TsSource.SERVER_LOCAL: "every signer signs at its own latest timestamp + 1; nothing to "
    "justify",
    TsSource.DELEGATE_FREE: "the delegate's own latest datum is the basis: ts = next(its ts)",
    SignGuard.NONE: "sign whatever is proposed for a valid client request",
    SignGuard.LOCAL: "sign only above every timestamp stored or promised here, then promise it",
    SignGuard.EVIDENCE: "sign only if the proposal's evidence (see TS_SOURCE) pins its "
    "timestamp",
    AckMode.NONE: "the write is done once the datum is signed: the signed datum is the reply",
    AckMode.PIGGYBACK: "each store acknowledgement carries the server's partial signature on "
    "the write reply",
    AckMode.EVIDENCE: "servers return signed acknowledgements; a separate round signs the "
    "reply once q of them are shown",
    ReadGuard.NONE: "sign the chosen datum without checking",
    ReadGuard.LOCAL: "write the datum back first, then sign only if it is not older than the "
    "server's own",
    ReadGuard.EVIDENCE: "sign only if q server-signed reports for this read show the datum is "
    "the newest",
    ReadShape.TWO_PHASE: "collect reports from a quorum, then have the chosen datum signed "
    "(READ_GUARD applies)",
    ReadShape.ONE_PHASE: "every server signs a reply over its own datum (READ_GUARD is not "
    "consulted)",
    Delegates.ONE: "one server runs each request",
    Delegates.F_PLUS_ONE: "f+1 servers each run the request; the client takes the first valid "
    "reply",
    RequestDedup.OFF: "no check: a repeated or relayed request may be signed again",
    RequestDedup.STORED: "refuse: once a server stored the request's datum, the request is done "
    "there",
}


def options_text() -> str:
    """What ``tssbqs-pbt options`` prints: the parameters, then every option and its values."""
    lines = ["Parameters (a design gives all four: n=4 f=1 q=3 t=2):"]
    lines += [textwrap.fill(meaning, width=79, initial_indent=f"  {name}  ",
                            subsequent_indent="     ") for name, meaning in PARAMETER_HELP.items()]
    defaults = DesignOptions()
    lines += ["", "Options (NAME=VALUE in a design; a value left out takes its default):"]
    for key, enum_type in OPTION_TYPES.items():
        lines += ["", textwrap.fill(f"{key.upper()}: {OPTION_HELP[key]}", width=79,
                                    subsequent_indent="  ")]
        width = max(len(m.name) for m in enum_type)
        for member in enum_type:
            mark = " (default)" if getattr(defaults, key) is member else ""
            lines.append(textwrap.fill(f"{VALUE_HELP[member]}{mark}", width=79,
                                       initial_indent=f"  {member.name:{width}}  ",
                                       subsequent_indent=" " * (width + 4)))
    return "\n".join(lines) + "\n"


def options_markdown() -> str:
    """docs/options.md, generated from the same data as :func:`options_text`."""
    defaults = DesignOptions()
    out = ["# Design options", "",
           "<!-- generated by `tssbqs-pbt options --markdown`; a test keeps it in step -->", "",
           "A *design* is four parameters and one value for every option below, written as "
           "`n=4 f=1 q=3 t=2 SIGN_GUARD=LOCAL ...` (for `tssbqs-pbt search --design`, "
           "`tssbqs-pbt sweep --only`). An option left out takes its default; one given twice "
           "(or a parameter) is refused, even with the same value. The same list "
           "is printed by `tssbqs-pbt options`; the model these words refer to (servers, "
           "delegates, quorums, threshold signatures, the adversary) is in "
           "[model.md](model.md).", "", "## Parameters", "",
           "| parameter | meaning |", "|---|---|"]
    out += [f"| `{name}` | {meaning} |" for name, meaning in PARAMETER_HELP.items()]
    for key, enum_type in OPTION_TYPES.items():
        out += ["", f"## {key.upper()}", "", f"{OPTION_HELP[key][0].upper()}"
                f"{OPTION_HELP[key][1:]}.", "", "| value | meaning |", "|---|---|"]
        for member in enum_type:
            mark = " *(default)*" if getattr(defaults, key) is member else ""
            out.append(f"| `{member.name}` | {VALUE_HELP[member].replace('|', '&#124;')}"
                       f"{mark} |")
    return "\n".join(out) + "\n"


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
    seen: dict[str, str] = {}  # each key once: "q=3 q=2" would silently mean q=2
    for word in text.split():
        key, sep, value = word.partition("=")
        if not sep:
            raise InvalidArgument(f"{word!r} in design {text!r} is not NAME=VALUE")
        name = key if key in ("n", "f", "q", "t") else _key(key)
        if name in seen:
            shown = key if key in ("n", "f", "q", "t") else name.upper()
            raise InvalidArgument(f"{shown} is given twice in design {text!r} ({seen[name]!r} "
                                  f"and {word!r}); give each of n, f, q, t and each option once")
        seen[name] = word
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
