"""Writing a plug-in without surprises: check(database=...), a seed that alone decides a run
outside pytest, a protocol's own threshold never silently replaced, --plugin on the command
line, the initial value declared by the protocol."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from plugin_project import load_tutorial, tutorial_source
from tssbqs_pbt.protocols import ProtocolSpec
from tssbqs_pbt.protocols.registry import unregister

import tssbqs_pbt
from tssbqs_pbt.check_settings import CheckSettings
from tssbqs_pbt.cli import main
from tssbqs_pbt.conformance import as_spec, preflight
from tssbqs_pbt.errors import InvalidProtocol
from tssbqs_pbt.properties import Verdict, check_all, initial_value_of


def test_outside_pytest_there_is_no_example_database_by_default() -> None:
    assert CheckSettings().database is None


def test_check_takes_a_database(tmp_path: Path) -> None:
    spec = load_tutorial(fixed=True).SPEC
    db = tmp_path / "db"
    tssbqs_pbt.check(spec, budget=5, seed=3, database=db, report_dir=tmp_path / "r",
                     explore=False, walks=0)
    tssbqs_pbt.check(spec, budget=5, seed=3, database=None, report_dir=tmp_path / "r",
                     explore=False, walks=0)


def test_a_seed_alone_decides_a_run_outside_pytest(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    spec = load_tutorial().SPEC
    with pytest.raises(AssertionError):
        tssbqs_pbt.check(spec, budget=400, seed=0, report_dir=tmp_path / "r")
    assert not (tmp_path / ".hypothesis").exists()  # nothing kept, nothing replayed later


class _OwnThreshold:
    """A protocol object that says which threshold it was built for."""

    def __init__(self, inner: object, threshold: int) -> None:
        self._inner = inner
        self.threshold = threshold

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


def test_a_protocol_instances_own_threshold_is_used() -> None:
    inner = load_tutorial(fixed=True).SPEC.build(4, 1)
    wrapped = _OwnThreshold(inner, 3)
    assert preflight(as_spec(wrapped)).config.t == 3


def test_a_threshold_that_differs_from_the_configuration_is_an_error() -> None:
    tutorial = load_tutorial(fixed=True)
    spec = ProtocolSpec(name="own-threshold", build=lambda n, f: _OwnThreshold(
        tutorial.SPEC.build(n, f), 3), messages=tutorial.SPEC.messages,
        threshold=lambda n, f: 2)
    with pytest.raises(InvalidProtocol, match=r"declares threshold = 3 .* t = 2"):
        preflight(spec)


def _initial_variant(*, declared: bool) -> types.ModuleType:
    source = tutorial_source(fixed=True).replace('INITIAL = Datum("v0", (0, 0))',
                                                 'INITIAL = Datum("empty", (0, 0))')
    if declared:
        source = source.replace("class QuorumRegister:", 'class QuorumRegister:\n'
                                '    initial_value = "empty"')
    name = f"quorum_register_initial_{declared}"
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(source, name, "exec"), module.__dict__)
    return module


def _read_before_any_write(module: types.ModuleType) -> tuple[Verdict, ...]:
    from tssbqs_pbt.kernel import Drain, Invoke, Operation, OpKind, SystemConfig, Trace
    from tssbqs_pbt.kernel.ids import client
    from tssbqs_pbt.kernel.trace import run_actions

    protocol = module.SPEC.build(4, 1)
    world = run_actions(protocol, SystemConfig(n=4, f=1, q=3, t=2),
                        [Invoke(client(1), Operation(OpKind.READ)), Drain()])
    return check_all(Trace.of(world), signed_value=protocol.signed_value,
                     initial_value=initial_value_of(protocol))


def test_the_initial_value_comes_from_the_protocol() -> None:
    assert not any(v.violated for v in _read_before_any_write(_initial_variant(declared=True)))
    p1 = _read_before_any_write(_initial_variant(declared=False))[0]
    assert p1.violated and p1.violations[0].clause.value == "integrity"
    assert p1.violations[0].got == "empty"


def test_plugin_option_loads_a_protocol_without_an_entry_point(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "my_register.py").write_text(tutorial_source(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    try:
        assert main(["search", "--plugin", "my_register", "--budget", "400", "--seed", "0",
                     "--out", "r"]) == 1
        assert "VIOLATED: P1 data consistency" in capsys.readouterr().out
        (saved,) = (p for p in (tmp_path / "r").glob("counterexample-*.json")
                    if "-first" not in p.name)
        unregister("quorum-register")
        assert main(["replay", str(saved), "--plugin", "my_register:SPEC"]) == 0
        unregister("quorum-register")
        assert main(["render", str(saved), "--plugin", "my_register.py", "--out", "again"]) == 0
        assert main(["replay", str(saved), "--plugin", "my_register:NOPE"]) == 2
        assert "has no attribute 'NOPE'" in capsys.readouterr().err
    finally:
        unregister("quorum-register")
        sys.modules.pop("my_register", None)
