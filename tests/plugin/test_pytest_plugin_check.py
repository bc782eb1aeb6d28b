"""tssbqs_pbt.check() under the plugin: the shrunk report, the session summary, the example
database, statistics, real crypto and xdist — tried with pytester on the tutorial protocol."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import tssbqs_pbt.protocols as protocols
from plugin_project import tutorial_project, tutorial_source

from tssbqs_pbt.engine.search import replay_counterexample

pytest_plugins = ["pytester"]
QUICK = "--tssbqs-budget=100"


@pytest.fixture(autouse=True)
def _forget_the_tutorial() -> Iterator[None]:
    yield
    protocols.unregister("quorum-register")  # registered in-process by the inner conftest


def _replay(pytester: pytest.Pytester, path: Path, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Replay in this process: the inner run's modules are gone, so register afresh."""
    monkeypatch.syspath_prepend(str(pytester.path))
    monkeypatch.delitem(sys.modules, "quorum_register", raising=False)
    module = importlib.import_module("quorum_register")
    protocols.register(module.SPEC, replace=True)
    try:
        return replay_counterexample(path).confirmed
    finally:
        sys.modules.pop("quorum_register", None)


def _saved(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("counterexample-*.json")
                  if not p.name.endswith("-first.json"))


def test_a_violation_fails_with_the_shrunk_report_and_lists_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    tutorial_project(pytester)
    result = pytester.runpytest(QUICK, "--tssbqs-report-dir=reports/ce")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    result.stdout.fnmatch_lines([
        "*tssbqs-pbt: protocol 'quorum-register' violates P1 data consistency (regular "
        "semantics)*shrunk to * steps.",
        "### Steps",
        "1. C1 invokes *Query*",
        "*sequenceDiagram*",
        "replay file: *counterexample-p1-*.json  (re-run: tssbqs-pbt replay *",
        "chart (SVG): *counterexample_p1_*.svg",
        "*= tssbqs-pbt counterexamples saved =*",
        "test_quorum_register.py::test_quorum_register_keeps_its_promises: quorum-register "
        "violates P1 data consistency (regular semantics)",
        "    replay: *counterexample-p1-*.json*",
    ])
    assert "Reply{op" in out and "->>" in out  # its own messages, in steps and chart
    assert "Traceback" not in out and "checking.py" not in out
    (replay,) = _saved(pytester.path / "reports" / "ce")
    assert not (pytester.path / "tssbqs-report").exists()
    assert replay.with_name(replay.stem.replace("-", "_") + ".svg").exists()
    assert _replay(pytester, replay, monkeypatch)


def test_the_counterexample_is_replayed_first_on_the_next_run(
    pytester: pytest.Pytester,
) -> None:
    # a profile with an example database (Hypothesis's own CI profile, loaded when CI is set,
    # has none: then nothing is kept between runs, by design)
    from hypothesis import settings
    from hypothesis.database import DirectoryBasedExampleDatabase

    settings.register_profile(
        "tssbqs-test-with-db", database=DirectoryBasedExampleDatabase(str(pytester.path / "db")),
        derandomize=False)
    with_db = "--hypothesis-profile=tssbqs-test-with-db"
    tutorial_project(pytester)
    pytester.runpytest(QUICK, with_db).assert_outcomes(failed=1)
    # one example: only the example database finds it again (without the database, one
    # example does not; like Hypothesis, --hypothesis-seed turns the database off)
    pytester.runpytest("--tssbqs-budget=1", with_db).assert_outcomes(failed=1)
    pytester.runpytest("--tssbqs-budget=1", "--hypothesis-seed=0", "--tssbqs-no-explore",
                       "--tssbqs-walks=0",
                       with_db).assert_outcomes(passed=1)
    # the fixed protocol is re-checked against the stored counterexample, and passes
    stored = pytester.path / ".hypothesis" / "tssbqs-pbt"
    assert any(stored.rglob("*"))
    pytester.makepyfile(quorum_register=tutorial_source(fixed=True))
    pytester.runpytest("--tssbqs-budget=1", "--tssbqs-no-explore", "--tssbqs-walks=0",
                       with_db).assert_outcomes(passed=1)


def test_statistics_and_a_passing_check(pytester: pytest.Pytester) -> None:
    tutorial_project(pytester, fixed=True)
    result = pytester.runpytest("--tssbqs-budget=20", "--hypothesis-show-statistics",
                                "--tssbqs-no-explore", "--tssbqs-walks=0")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "*= tssbqs-pbt search statistics =*",
        "*test_quorum_register_keeps_its_promises: quorum-register: * examples*, * kernel steps "
        "in *s (seed 0, tactics *); found: nothing",
    ])
    assert "counterexamples saved" not in result.stdout.str()
    result.stdout.fnmatch_lines([
        "*= tssbqs-pbt: what each passing check rests on =*",
        "*test_quorum_register_keeps_its_promises: quorum-register: searched * (seed 0); "
        "not explored (random search only: no certificate)",
    ])


def test_real_threshold_rsa(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                            tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setenv("TSSBQS_PBT_KEY_CACHE", str(tmp_path_factory.mktemp("plugin-keys")))
    tutorial_project(pytester, fixed=True)
    pytester.makepyfile(test_real="""
        import tssbqs_pbt

        def test_real():
            result = tssbqs_pbt.check("quorum-register", budget=4, explore=False, walks=0)
            assert type(result.counterexample) is type(None) and result.examples >= 4
    """)
    result = pytester.runpytest("--tssbqs-crypto=real", "--tssbqs-key-bits=256", "-k", "real")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["tssbqs-pbt: *crypto=real (256-bit RSA)*"])


def test_works_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_designs="""
        import tssbqs_pbt

        def test_family_c_passes():
            tssbqs_pbt.check("family-c", budget=5, explore=False, walks=0)

        def test_a_threshold_above_n_minus_f_fails():  # a silent B blocks every signature
            tssbqs_pbt.check("design[n=4 f=1 q=3 t=4]", budget=20)
    """)
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*violates P2 data availability*",
        "*= tssbqs-pbt counterexamples saved =*",
        "test_designs.py::test_a_threshold_above_n_minus_f_fails: design?n=4 f=1 q=3 t=4 *? "
        "violates P2 data availability*",  # ? for [ and ]: fnmatch reads [...] as a class
        "    replay: *counterexample-p2-*.json*",
    ])
