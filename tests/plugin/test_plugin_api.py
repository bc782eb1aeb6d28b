"""A plug-in written only against the public API registers and runs through the kernel."""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

import attrs
import pytest
import tssbqs_pbt.protocols as protocols
from tssbqs_pbt.protocols import FieldRole, ProtocolSpec, declare
from tssbqs_pbt.protocols import registry as registry_module

from tssbqs_pbt.errors import InvalidArgument, InvalidProtocol
from tssbqs_pbt.kernel import Completed, Drain, Invoke, World, client, read, step, write
from tssbqs_pbt.kernel.config import SystemConfig

PKG = Path(__file__).parent / "candidate_pkg"


@pytest.fixture
def echo(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.syspath_prepend(str(PKG))
    import echo_register

    yield echo_register
    protocols.unregister("echo-register")
    sys.modules.pop("echo_register", None)


def test_registered_plugin_runs_through_the_kernel(echo) -> None:  # type: ignore[no-untyped-def]
    protocols.register(echo.SPEC)
    assert "echo-register" in protocols.available()
    protocol, q, t = protocols.get("echo-register").instantiate(4, 1)
    world = World(protocol, SystemConfig(n=4, f=1, q=q, t=t, byzantine={4}))
    step(world, Invoke(client(1), write("a")))
    step(world, Invoke(client(2), read()))
    step(world, Drain())
    done = [r.event for r in world.history if isinstance(r.event, Completed)]
    assert len(done) == 2
    decls = protocols.get("echo-register").declarations(protocol)
    assert decls[echo.Put].role("stamp") is FieldRole.TIMESTAMP
    assert decls[echo.Put].role("request") is FieldRole.STATEMENT
    assert decls[echo.Vouch].role("partial") is FieldRole.PARTIAL


def test_plugin_registers_through_an_entry_point(
    echo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    dist = tmp_path / "echo_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: echo-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[tssbqs_pbt.protocols]\necho-register = echo_register:spec\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    monkeypatch.setattr(registry_module, "_entry_points_loaded", False)
    assert "echo-register" in protocols.available()
    assert protocols.get("echo-register") is echo.SPEC


def test_broken_entry_point_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dist = tmp_path / "bad_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: bad-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[tssbqs_pbt.protocols]\nbad = no_such_module:spec\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    monkeypatch.setattr(registry_module, "_entry_points_loaded", False)
    with pytest.raises(InvalidProtocol, match=r"entry point 'bad' .*failed to load"):
        protocols.available()
    monkeypatch.setattr(registry_module, "_entry_points_loaded", True)


def test_nondeterministic_handler_is_named(echo) -> None:  # type: ignore[no-untyped-def]
    import itertools

    counter = itertools.count()

    class Drifting(echo.EchoRegister):  # type: ignore[misc,name-defined]
        name = "drifting"

        def on_invoke(self, ctx, state, op, operation):  # type: ignore[no-untyped-def]
            state, effects = super().on_invoke(ctx, state, op, operation)
            return state, [*effects] * (2 if next(counter) == 0 else 1)  # hidden global input

    spec = ProtocolSpec(name="drifting", build=lambda n, f: Drifting())
    with pytest.raises(InvalidProtocol, match=r"'drifting' is not deterministic.*step 1"):
        spec.instantiate(4, 1)


def test_handler_raising_during_a_run_is_a_protocol_fault(echo) -> None:  # type: ignore[no-untyped-def]
    from tssbqs_pbt.errors import ProtocolFault

    class Crashing(echo.EchoRegister):  # type: ignore[misc,name-defined]
        name = "crashing"

        def on_server_message(self, ctx, state, envelope):  # type: ignore[no-untyped-def]
            raise KeyError("lost my state")

    spec = ProtocolSpec(name="crashing", build=lambda n, f: Crashing())
    with pytest.raises(ProtocolFault, match=r"'crashing': S1 raised KeyError.*while handling Put"):
        spec.instantiate(4, 1)


def test_unknown_protocol_lists_the_available_ones() -> None:
    with pytest.raises(InvalidArgument, match="no protocol called 'nope'; available: family-c"):
        protocols.get("nope")


def test_malformed_plugins_get_errors_naming_protocol_and_part() -> None:
    class MissingHandler:
        name = "half"
        message_types: tuple[type, ...] = ()

        def init_server(self, ctx: object) -> None:
            return None

    spec = ProtocolSpec(name="half", build=lambda n, f: MissingHandler())  # type: ignore[arg-type,return-value]
    with pytest.raises(InvalidProtocol, match="'half' lacks handler"):
        spec.instantiate(4, 1)

    def explode(n: int, f: int) -> object:
        raise RuntimeError("cannot build")

    with pytest.raises(InvalidProtocol, match="'boom': building it for n=4, f=1 raised"):
        ProtocolSpec(name="boom", build=explode).instantiate(4, 1)  # type: ignore[arg-type]

    @attrs.define
    class Mutable:
        x: int

    with pytest.raises(InvalidProtocol, match="Mutable is not frozen"):
        declare(Mutable)

    @attrs.frozen
    class Msg:
        x: int

    with pytest.raises(InvalidProtocol, match="Msg has no field 'y'"):
        declare(Msg, y=FieldRole.VALUE)
    with pytest.raises(InvalidProtocol, match="unknown role"):
        declare(Msg, x="colour")
    with pytest.raises(InvalidProtocol, match="already registered"):
        protocols.register(ProtocolSpec(name="family-c", build=lambda n, f: None))  # type: ignore[arg-type,return-value]
    with pytest.raises(InvalidProtocol, match="takes a ProtocolSpec"):
        protocols.register("family-x")  # type: ignore[arg-type]
