"""The conformance kit: a good plug-in passes, a broken one gets its counterexample, and every
malformed one gets one paragraph saying what to change."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from plugin_project import load_tutorial
from tssbqs_pbt.protocols import ProtocolSpec

from tssbqs_pbt.check_settings import CheckSettings, activate
from tssbqs_pbt.checking import CheckFailed, check
from tssbqs_pbt.conformance import check_protocol, preflight
from tssbqs_pbt.errors import InvalidArgument, InvalidProtocol
from tssbqs_pbt.kernel import Send


@pytest.fixture(autouse=True)
def _hermetic(tmp_path: Path) -> Iterator[None]:
    """No example database (the broken and fixed variants share a name), reports in tmp."""
    with activate(CheckSettings(database=None, report_dir=tmp_path)):
        yield


FIXED = load_tutorial(fixed=True)
BROKEN = load_tutorial()


def _spec(protocol: Any, **extra: Any) -> ProtocolSpec:
    return ProtocolSpec(name=protocol.name, build=lambda n, f: protocol,
                        messages=FIXED.SPEC.messages, **extra)


def test_the_fixed_tutorial_conforms(tmp_path: Any) -> None:
    done = check_protocol(FIXED.SPEC, budget=30, report_dir=tmp_path, explore=False,
                          walks=0)
    assert done.protocol.name == "quorum-register"
    assert done.config.byzantine == frozenset({4}) and (done.config.q, done.config.t) == (3, 2)
    assert done.notes == ()  # the signature fields say what they sign


def test_the_broken_tutorial_gets_its_counterexample(tmp_path: Any) -> None:
    with pytest.raises(CheckFailed, match=r"'quorum-register' violates P1") as failed:
        check_protocol(BROKEN.SPEC, budget=100, report_dir=tmp_path)
    assert failed.value.result.counterexample is not None
    assert "Reply{op" in str(failed.value)


def test_properties_can_be_chosen(tmp_path: Any) -> None:
    result = check(BROKEN.SPEC, properties=["P2", "P3"], budget=30, report_dir=tmp_path,
                   explore=False, walks=0)
    assert result.counterexample is None  # the bug breaks P1 only
    with pytest.raises(InvalidArgument, match="'P4' is not a property"):
        check(BROKEN.SPEC, properties=["P4"])


def _paragraph(error: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(error.value)
    assert "\n" not in text and "Traceback" not in text
    return text


@attrs.frozen
class Stray:
    """Not in message_types."""


@attrs.frozen
class Opaque:
    table: dict[str, int]


def _sends_stray(self: Any, ctx: Any, state: Any, envelope: Any) -> Any:
    return state, [Send(envelope.src, Stray())]


def _drifts(self: Any, ctx: Any, state: Any, op: Any, operation: Any) -> Any:
    state, effects = FIXED.QuorumRegister.on_invoke(self, ctx, state, op, operation)
    first = not self.__dict__.get("called")
    self.called = True  # hidden state outside the handler's state
    return state, [*effects] * (2 if first else 1)


def _raises(self: Any, ctx: Any, state: Any, envelope: Any) -> Any:
    if type(envelope.payload).__name__ == "Commit":
        raise KeyError("lost my state")
    return FIXED.QuorumRegister.on_server_message(self, ctx, state, envelope)


def _never_done(self: Any, ctx: Any, state: Any, envelope: Any) -> Any:
    return state, []


def _variant(name: str, **methods: Callable[..., Any]) -> Any:
    cls = type(name, (FIXED.QuorumRegister,), {"name": name, **methods})
    return cls()


MALFORMED = {
    "undeclared message type": (
        _variant("stray", on_server_message=_sends_stray),
        r"'stray' sends Stray \(step 2, S1 to C1\) but Stray is not in its message_types; "
        r"add Stray to message_types",
    ),
    "non-deterministic handler": (
        _variant("drifting", on_invoke=_drifts),
        r"'drifting' is not deterministic: the same schedule on two fresh builds gave "
        r"different events at step 1 \(Invoke\); handlers must be pure",
    ),
    "handler raising": (
        _variant("crashing", on_server_message=_raises),
        r"'crashing': S1 raised KeyError: 'lost my state' while handling Commit .* in the "
        r"honest no-fault schedule; a handler must return \(new_state, effects\)",
    ),
    "operation never completes": (
        _variant("stuck", on_client_message=_never_done),
        r"'stuck' does not survive the honest no-fault schedule: .*C1#1 never completed; a "
        r"client must emit Complete",
    ),
}


@pytest.mark.parametrize("problem", sorted(MALFORMED))
def test_a_malformed_plugin_gets_one_paragraph(problem: str) -> None:
    protocol, message = MALFORMED[problem]
    with pytest.raises(InvalidProtocol) as error:
        check_protocol(_spec(protocol))
    _paragraph(error)
    assert error.match(message)


def test_missing_handler_and_opaque_fields_are_named() -> None:
    class Half:
        name = "half"
        message_types: tuple[type, ...] = ()

        def init_server(self, ctx: object) -> None:
            return None

    with pytest.raises(InvalidProtocol) as error:
        preflight(ProtocolSpec(name="half", build=lambda n, f: Half()))  # type: ignore[arg-type,return-value]
    assert error.match(r"'half' lacks handler\(s\) on_server_message, init_client, on_invoke")
    _paragraph(error)

    opaque = _variant("opaque", message_types=(*FIXED.QuorumRegister.message_types, Opaque))
    with pytest.raises(InvalidProtocol) as error:
        preflight(_spec(opaque))
    assert error.match(r"'opaque': the adversary cannot use field\(s\) table of message Opaque "
                       r".*declare\(Opaque, table=FieldRole")
    _paragraph(error)


def test_unsigned_signature_fields_are_noted() -> None:
    spec = ProtocolSpec(name="quorum-register", build=lambda n, f: FIXED.QuorumRegister())
    notes = preflight(spec).notes
    assert any(note.startswith("Datum.sig: say which bytes it signs") for note in notes)


def test_what_check_accepts() -> None:
    assert preflight(check.__globals__["as_spec"]("family-c")).config.t == 2
    with pytest.raises(InvalidArgument, match="got the class QuorumRegister, not a protocol"):
        check(FIXED.QuorumRegister)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="cannot check 42"):
        check(42)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="no protocol called 'nope'"):
        check("nope")
    with pytest.raises(InvalidArgument, match="options= changes the option-driven protocol"):
        check(FIXED.SPEC, options={"sign_guard": "LOCAL"})
    with pytest.raises(InvalidArgument, match="SIGN_GUARD='sometimes' is not a value"):
        check("family-c", options={"sign_guard": "sometimes"})


def test_options_change_the_option_driven_protocol(tmp_path: Any) -> None:
    result = check("family-j", options={"read_shape": "TWO_PHASE"}, budget=2,
                   report_dir=tmp_path, explore=False, walks=0)
    assert result.protocol.startswith("design[n=4 f=1 q=3 t=3 ")  # family J's q and t
    assert "ACK_MODE=PIGGYBACK" in result.protocol and "REQUEST_DEDUP=STORED" in result.protocol


def test_the_last_f_servers_are_byzantine() -> None:
    assert preflight(FIXED.SPEC, 7, 2).config.byzantine == frozenset({6, 7})
    assert preflight(FIXED.SPEC, 4, 0).config.byzantine == frozenset()
