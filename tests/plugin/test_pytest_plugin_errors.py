"""Under pytest, a malformed plug-in fails its test with one paragraph, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import tssbqs_pbt.protocols as protocols
from plugin_project import tutorial_project

pytest_plugins = ["pytester"]

MALFORMED = '''
import attrs
import tssbqs_pbt
from quorum_register import SPEC, QuorumRegister
from tssbqs_pbt.kernel import Send
from tssbqs_pbt.protocols import ProtocolSpec


@attrs.frozen
class Stray:
    note: str


class Half:
    name = "half"
    message_types = ()

    def init_server(self, ctx):
        return None


class Undeclared(QuorumRegister):
    name = "undeclared"

    def on_server_message(self, ctx, state, envelope):
        return state, [Send(envelope.src, Stray("hello"))]


class Drifting(QuorumRegister):
    name = "drifting"
    calls = [0]

    def on_invoke(self, ctx, state, op, operation):
        state, effects = super().on_invoke(ctx, state, op, operation)
        self.calls[0] += 1
        return state, [*effects] * (2 if self.calls[0] == 1 else 1)


class Raising(QuorumRegister):
    name = "raising"

    def on_server_message(self, ctx, state, envelope):
        raise KeyError("lost my state")


def spec(protocol):
    return ProtocolSpec(name=protocol.name, build=lambda n, f: protocol, messages=SPEC.messages)


def test_missing_handler():
    tssbqs_pbt.check(ProtocolSpec(name="half", build=lambda n, f: Half()))


def test_undeclared_message_type():
    tssbqs_pbt.check(spec(Undeclared()))


def test_nondeterministic_handler():
    tssbqs_pbt.check(spec(Drifting()))


def test_handler_raising():
    tssbqs_pbt.check(spec(Raising()))
'''


@pytest.fixture(autouse=True)
def _forget_the_tutorial() -> Iterator[None]:
    yield
    protocols.unregister("quorum-register")


def test_malformed_plugins_fail_with_one_paragraph(pytester: pytest.Pytester) -> None:
    tutorial_project(pytester, fixed=True)
    pytester.makepyfile(test_malformed=MALFORMED)
    result = pytester.runpytest("test_malformed.py", "--tssbqs-budget=5")
    result.assert_outcomes(failed=4)
    result.stdout.fnmatch_lines([
        "*_ test_missing_handler _*",
        "InvalidProtocol: protocol 'half' lacks handler(s) on_server_message, init_client, "
        "on_invoke, on_client_message; implement every method *",
        "*_ test_undeclared_message_type _*",
        "InvalidProtocol: protocol 'undeclared' sends Stray (step 2, S1 to C1) but Stray is "
        "not in its message_types; add Stray to message_types *",
        "*_ test_nondeterministic_handler _*",
        "InvalidProtocol: protocol 'drifting' is not deterministic: the same schedule on two "
        "fresh builds gave different events at step 1 (Invoke); handlers must be pure *",
        "*_ test_handler_raising _*",
        "InvalidProtocol: protocol 'raising': S1 raised KeyError: 'lost my state' while "
        "handling Query * (step 2) in the honest no-fault schedule; a handler must return *",
    ])
    out = result.stdout.str()
    failures = out.split("= FAILURES =")[1].split("short test summary")[0]
    for banned in ("Traceback", "tssbqs_pbt/", "def check", ">   ", "\nE  "):
        assert banned not in failures, f"{banned!r} in:\n{failures}"
