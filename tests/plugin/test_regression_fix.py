"""A generated regression test behaves like one: it fails on the tutorial protocol while the
bug is there and passes once the protocol is fixed (the recorded schedule no longer applies in
full after the fix; the replay goes as far as it applies, drains and judges)."""

from __future__ import annotations

import shutil

import pytest
from plugin_project import load_tutorial, tutorial_project, tutorial_source

from tssbqs_pbt.engine.search import Budget, search
from tssbqs_pbt.kernel import SystemConfig

pytestmark = pytest.mark.search
pytest_plugins = ["pytester"]


def test_the_generated_regression_test_fails_on_the_bug_and_passes_once_fixed(
        pytester: pytest.Pytester) -> None:
    tutorial_project(pytester)  # the broken protocol, registered by the project's conftest
    protocol, q, t = load_tutorial().SPEC.instantiate(4, 1)
    result = search(protocol, SystemConfig(n=4, f=1, q=q, t=t, byzantine=frozenset({4})),
                    budget=Budget(400), seed=0, save_dir=pytester.path / "found")
    found = result.counterexample
    assert found is not None and found.report is not None
    assert found.report.test.name.startswith("regression_")

    # a plain pytest does not collect generated tests; naming the file runs it
    plain = pytester.runpytest_subprocess("found", "-p", "no:cacheprovider")
    assert plain.ret == pytest.ExitCode.NO_TESTS_COLLECTED

    broken = pytester.runpytest_subprocess(str(found.report.test), "-p", "no:cacheprovider")
    broken.assert_outcomes(failed=1)
    broken.stdout.fnmatch_lines([f"*{found.property} VIOLATED*"])

    (pytester.path / "quorum_register.py").write_text(tutorial_source(fixed=True),
                                                      encoding="utf-8")
    shutil.rmtree(pytester.path / "__pycache__", ignore_errors=True)
    fixed = pytester.runpytest_subprocess(str(found.report.test), "-p", "no:cacheprovider")
    fixed.assert_outcomes(passed=1)
