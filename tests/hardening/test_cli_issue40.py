"""Issue 40, "what a user meets at the command line": flags a resumed sweep would ignore,
duplicated design options, one rule for the Byzantine servers, SIGTERM on a sweep, absurd
numbers, plug-ins checked alike by every entry point, replay files that keep apart."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli import here, refused

from tssbqs_pbt.cli import main
from tssbqs_pbt.engine.search import Budget
from tssbqs_pbt.sweep.space import SweepSpec, parse_pins
from tssbqs_pbt.sweep.store import write_manifest

PINS = ["STORE_FORM=SIGNED", "TS_SOURCE=CLIENT_BASIS", "SIGN_GUARD=EVIDENCE",
        "ACK_MODE=EVIDENCE", "READ_GUARD=EVIDENCE", "READ_SHAPE=TWO_PHASE"]


# -- 3. flags a resumed sweep would ignore ---------------------------------------------------
@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    """A sweep directory with only its manifest (n=4 f=1, budget 40, seed 11)."""
    folder = tmp_path / "sweep"
    folder.mkdir()
    write_manifest(folder, SweepSpec(qs=(3,), ts=(1, 2), pins=parse_pins(PINS),
                                     budget=Budget(40), budget_name="40", seed=11, explore=None))
    return folder


@pytest.mark.parametrize(("flag", "value", "said"), [
    ("--budget", "100", "keeps the budget its sweep.json records (40)"),
    ("--budget", "standard", "(40)"),
    ("--seed", "12", "keeps the seed its sweep.json records (11)"),
    ("--seed", "11", "(11)"),  # (the same value is refused too: the flag does nothing)
    ("--n", "7", "keeps the n its sweep.json records (4)"),
    ("--f", "2", "keeps the f its sweep.json records (1)"),
    ("--out", "elsewhere", "writes to"),
])
def test_resume_refuses_each_flag_it_would_ignore(
        flag: str, value: str, said: str, manifest: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    if flag == "--out":
        value = str(tmp_path / value)
    done = here(capsys, "sweep", "--resume", str(manifest), flag, value, "--no-progress")
    refused(done, f"with {flag} {value}", said, f"drop {flag}")
    assert not (manifest / "results.jsonl").exists()  # refused before any work
    assert not (tmp_path / "elsewhere").exists()


# -- 5. a key given twice --------------------------------------------------------------------
@pytest.mark.parametrize(("design", "key"), [
    ("n=4 f=1 q=3 t=2 q=2", "q is given twice"),
    ("n=4 f=1 q=3 t=2 SIGN_GUARD=LOCAL SIGN_GUARD=NONE", "SIGN_GUARD is given twice"),
    ("n=4 f=1 q=3 t=2 SIGN_GUARD=LOCAL sign-guard=LOCAL", "SIGN_GUARD is given twice"),
    ("n=4 n=4 f=1 q=3 t=2", "n is given twice"),
])
@pytest.mark.parametrize("command", ["search", "explore"])
def test_a_design_with_a_key_twice_is_refused(
        command: str, design: str, key: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    done = here(capsys, command, "--design", design, "--out", str(tmp_path / "never"))
    refused(done, key)
    assert not (tmp_path / "never").exists()


def test_check_refuses_a_design_name_with_a_key_twice() -> None:
    from tssbqs_pbt import check
    from tssbqs_pbt.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="t is given twice"):
        check("design[n=4 f=1 q=3 t=2 t=3]", budget=1, database=None)


def test_the_sweep_refuses_an_option_pinned_twice_even_to_one_value(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for second in ("SIGN_GUARD=NONE", "SIGN_GUARD=LOCAL"):
        done = here(capsys, "sweep", "--out", str(tmp_path / "never"), "--only",
                     "SIGN_GUARD=LOCAL", "--only", second)
        refused(done, "SIGN_GUARD is given twice", "--only SIGN_GUARD=LOCAL", f"--only {second}")
    assert not (tmp_path / "never").exists()


# -- 6. one rule for the Byzantine servers ---------------------------------------------------
class _Captured(Exception):
    def __init__(self, config: object) -> None:
        self.config = config


def _config_of(monkeypatch: pytest.MonkeyPatch, command: str, *args: str) -> object:
    """The SystemConfig ``command`` hands the engine (the engine is not run)."""
    import tssbqs_pbt.engine.explore as engine_explore
    import tssbqs_pbt.engine.search as engine_search

    def capture(protocol: object, config: object, *rest: object, **kw: object) -> None:
        raise _Captured(config)

    monkeypatch.setattr(engine_search, "search", capture)
    monkeypatch.setattr(engine_explore, "explore", capture)
    with pytest.raises(_Captured) as caught:
        main([command, *args])
    return caught.value.config


@pytest.mark.parametrize(("n", "f"), [(4, 0), (4, 1), (7, 2)])
@pytest.mark.parametrize("command", ["search", "explore"])
def test_every_entry_point_takes_the_last_f_servers_byzantine(
        command: str, n: int, f: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tssbqs_pbt.kernel import last_servers
    from tssbqs_pbt.preflight import as_spec, preflight

    assert last_servers(n, f) == frozenset(range(n - f + 1, n + 1))
    expected = preflight(as_spec("family-c"), n, f).config.byzantine  # what check() takes
    assert expected == last_servers(n, f)
    for way in (["--protocol", "family-c", "--n", str(n), "--f", str(f)],
                ["--design", f"n={n} f={f} q={n - f} t={f + 1}"]):
        config = _config_of(monkeypatch, command, *way, "--out", str(tmp_path))
        assert config.byzantine == expected, (way, config)  # type: ignore[attr-defined]


def test_search_byzantine_still_picks_one_server(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for given, expected in (("2", {2}), ("0", set())):
        config = _config_of(monkeypatch, "search", "--protocol", "family-c", "--n", "7",
                            "--f", "2", "--byzantine", given, "--out", str(tmp_path))
        assert config.byzantine == expected  # type: ignore[attr-defined]


# -- 7. SIGTERM stops a sweep as Ctrl-C does -------------------------------------------------
@pytest.mark.sweep
def test_sigterm_on_a_sweep_prints_the_summary_and_the_resume_hint(tmp_path: Path) -> None:
    import signal
    import sys
    import time

    out = tmp_path / "sweep"
    flags = ["--q", "3", "--t", "1,2", *(f"--only={p}" for p in PINS), "--budget", "150",
             "--seed", "11", "--workers", "1", "--no-progress", "--window", "2", "--no-explore"]
    process = subprocess.Popen(
        [sys.executable, "-m", "tssbqs_pbt.cli", "sweep", "--out", str(out), *flags],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = out / "results.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if results.exists() and results.read_text().count("\n") >= 1:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the sweep finished before it could be terminated"
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 3, stdout + stderr  # (not 143, killed by the signal)
    assert "Traceback" not in stderr, stderr
    assert "interrupted after" in stdout
    assert "finish with: tssbqs-pbt sweep --resume" in " ".join(stdout.split())
    assert (out / "report.md").exists()


# -- 8. numbers out of reason ----------------------------------------------------------------
@pytest.mark.parametrize("seconds", ["-5", "0", "nan", "inf"])
def test_explore_refuses_seconds_that_are_not_positive(
        seconds: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    done = here(capsys, "explore", "--design", "n=4 f=1 q=3 t=2", "--seconds", seconds,
                 "--out", str(tmp_path / "never"))
    refused(done, "--seconds", "positive number of seconds", "leave it out")


@pytest.mark.parametrize("budget", ["99999999999999999999", "10000001", "0", "-5"])
@pytest.mark.parametrize("command", ["search", "sweep"])
def test_a_budget_out_of_reason_is_refused(
        command: str, budget: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    which = ["--design", "n=4 f=1 q=3 t=2"] if command == "search" else []
    done = here(capsys, command, *which, "--budget", budget, "--out", str(tmp_path / "never"))
    refused(done, f"--budget {budget}", "from 1 to 10,000,000", "--budget 2000")
    assert not (tmp_path / "never").exists()


def test_the_largest_budget_and_the_names_still_pass() -> None:
    from tssbqs_pbt.search import MAX_EXAMPLES, parse_budget

    assert parse_budget(str(MAX_EXAMPLES)) == (str(MAX_EXAMPLES), Budget(MAX_EXAMPLES))
    assert parse_budget(" quick ") == ("quick", Budget(100))
    from tssbqs_pbt.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="unknown budget 'lots'; use one of quick"):
        parse_budget("lots")


# -- 10. scripts/check_rendering.py on a relative path ---------------------------------------
def test_the_rendering_check_takes_a_relative_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A stand-in Chromium (it measures nothing and writes no screenshot): what is checked is
    that the relative path reaches it as a file URI instead of raising ValueError."""
    import importlib.util
    import sys

    script = Path(__file__).resolve().parents[2] / "scripts" / "check_rendering.py"
    spec = importlib.util.spec_from_file_location("check_rendering_issue40", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    calls = tmp_path / "calls.txt"
    fake = tmp_path / "chromium"
    fake.write_text(f"#!{sys.executable}\nimport sys\n"
                    f"open({str(calls)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
                    "if '--dump-dom' in sys.argv:\n"
                    "    print('<pre id=\"verdict\">{\"problems\": [], \"text\": \"x\", "
                    "\"width\": 10, \"height\": 10}</pre>')\n", encoding="utf-8")
    fake.chmod(0o755)
    (tmp_path / "charts").mkdir()
    (tmp_path / "charts" / "chart.svg").write_text(
        "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'></svg>",
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert module.main(["charts/chart.svg", "--chromium", str(fake)]) == 0
    assert "ok " in capsys.readouterr().out
    assert f"--screenshot={tmp_path.resolve()}/charts/chart.png" in calls.read_text()


# -- 2. a plug-in is checked alike by every entry point --------------------------------------
STRAY = '''

@attrs.frozen
class Stray:
    """Not in message_types."""


class StrayRegister(QuorumRegister):
    name = "stray-register"

    def on_server_message(self, ctx: Any, state: Any, envelope: Any) -> Any:
        return state, [Send(envelope.src, Stray())]


STRAY_SPEC = ProtocolSpec(name="stray-register", build=lambda n, f: StrayRegister(),
                          messages=SPEC.messages)
'''


@pytest.fixture
def stray_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A plug-in file whose servers answer with a message type it does not list."""
    import sys

    from plugin_project import tutorial_source

    source = tutorial_source(fixed=True)
    if "    Send,\n" not in source:
        source = source.replace("from tssbqs_pbt.kernel import (",
                                "from tssbqs_pbt.kernel import (\n    Send,", 1)
    path = tmp_path / "stray_register.py"
    path.write_text(source + STRAY, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield path
    from tssbqs_pbt.protocols.registry import unregister

    unregister("stray-register")
    sys.modules.pop("stray_register", None)


WHY = "'stray-register' sends Stray (step 2, S1 to C1) but Stray is not in its message_types"


@pytest.mark.parametrize("command", ["search", "explore"])
def test_the_cli_refuses_a_plugin_check_refuses(
        command: str, stray_plugin: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tssbqs_pbt import check
    from tssbqs_pbt.errors import InvalidProtocol

    done = here(capsys, command, "--plugin", f"{stray_plugin.name}:STRAY_SPEC",
                 "--budget" if command == "search" else "--max-states", "20", "--out", "never")
    refused(done, WHY, "add Stray to message_types")
    assert not (stray_plugin.parent / "never").exists()
    with pytest.raises(InvalidProtocol, match=r"sends Stray \(step 2, S1 to C1\)"):
        check("stray-register", budget=5, database=None)


# -- 12. a plug-in's counterexample replayed without --plugin --------------------------------
@pytest.mark.parametrize("command", ["replay", "render"])
def test_replaying_a_plugin_counterexample_without_its_plugin_says_pass_plugin(
        command: str, replay_files: dict[str, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    import json

    data = json.loads(replay_files["p1"].read_text(encoding="utf-8"))
    data["header"]["protocol"] = "my-register"  # (a plug-in's name, not registered here)
    saved = tmp_path / "counterexample-p1-plugin.json"
    saved.write_text(json.dumps(data), encoding="utf-8")
    done = here(capsys, command, str(saved))
    refused(done, "protocol 'my-register', which is not registered",
             "pass --plugin MODULE[:ATTR]", f"tssbqs-pbt {command} {saved} --plugin")
    assert not list(tmp_path.glob("*.svg"))  # (render wrote nothing)


def test_a_saved_counterexample_is_never_replaced_by_another_of_the_same_name(
        replay_files: dict[str, Path], tmp_path: Path) -> None:
    """A sweep's reused-schedule files are named by the combination and the property, not by
    their content: a second, different one gets a name of its own; the same one keeps its."""
    from tssbqs_pbt.engine.machine import Tactic
    from tssbqs_pbt.engine.search import Counterexample, replay_counterexample
    from tssbqs_pbt.sweep.work import save_reused

    outcome = replay_counterexample(replay_files["p1"])
    assert outcome.trace is not None
    verdict = next(v for v in outcome.verdicts if v.violated)
    one, other = (Counterexample(verdict.property.value, verdict.violations[0].clause.value,
                                 tactic, outcome.trace, verdict)
                  for tactic in (Tactic.LAG, Tactic.SPLIT))
    stem = tmp_path / "counterexamples" / "00001-abcdef12"
    first = save_reused(one, stem)
    kept = first.read_bytes()
    second = save_reused(other, stem)
    assert second != first and first.read_bytes() == kept  # (not overwritten)
    assert second.name == "00001-abcdef12-p1-2.json.gz"
    assert save_reused(one, stem) == first and save_reused(other, stem) == second
    for path in (first, second):
        assert replay_counterexample(path).confirmed
