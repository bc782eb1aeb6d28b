"""The pytest plugin's options, marker, fixture and header, tried with pytester (no search)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]

SHOW = """
def test_show(tssbqs):
    print("SETTINGS", tssbqs.budget, tssbqs.crypto, tssbqs.key_bits, tssbqs.n, tssbqs.f,
          tssbqs.seed, tssbqs.report_dir, tssbqs.database)
"""


def _settings_line(result: pytest.RunResult) -> list[str]:
    line = next(s for s in result.outlines if "SETTINGS" in s)
    return line.split("SETTINGS", 1)[1].split()


def test_defaults_appear_in_the_header_and_the_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SHOW)
    result = pytester.runpytest("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["tssbqs-pbt: budget=from the Hypothesis profile, "
                                 "crypto=ideal, n=4, f=1, seed=0, report dir=*tssbqs-report*"])
    budget, crypto, bits, n, f, seed, report_dir, database = _settings_line(result)
    assert (budget, crypto, bits, n, f, seed) == ("None", "ideal", "2048", "4", "1", "0")
    assert report_dir == str(pytester.path / "tssbqs-report")
    assert database == str(pytester.path / ".hypothesis" / "tssbqs-pbt")


def test_every_option_reaches_the_fixture_and_the_header(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SHOW)
    result = pytester.runpytest(
        "-s", "--tssbqs-budget=thorough", "--tssbqs-crypto=real", "--tssbqs-key-bits=512",
        "--tssbqs-n=7", "--tssbqs-f=2", "--tssbqs-report-dir=out/ce", "--hypothesis-seed=42",
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["tssbqs-pbt: budget=thorough, crypto=real (512-bit RSA), n=7, "
                                 "f=2, seed=42, report dir=*out/ce"])
    assert _settings_line(result)[:7] == [
        "thorough", "real", "512", "7", "2", "42", str(pytester.path / "out" / "ce")]


def test_no_explore_reaches_the_settings_and_the_header(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        def test_default(tssbqs):
            assert tssbqs.explore is False and tssbqs.walks == 5

        @pytest.mark.tssbqs(explore=True)
        def test_marked(tssbqs):
            assert tssbqs.explore is True
    """)
    result = pytester.runpytest("--tssbqs-no-explore", "--tssbqs-walks=5")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["tssbqs-pbt: *seed=0, no exploration, report dir=*"])
    pytester.makepyfile(test_default="def test_on(tssbqs):\n    assert tssbqs.explore is True\n")
    pytester.runpytest("test_default.py").assert_outcomes(passed=1)


def test_a_number_is_a_budget_and_a_word_seed_is_hashed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SHOW)
    result = pytester.runpytest("-s", "--tssbqs-budget=25", "--hypothesis-seed=abc")
    result.assert_outcomes(passed=1)
    budget, *_, seed, _, _ = _settings_line(result)
    assert budget == "25" and int(seed) > 0


def test_the_marker_overrides_the_options(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        pytestmark = pytest.mark.tssbqs(budget="standard", n=7)

        @pytest.mark.tssbqs(f=2, budget=33)
        def test_marked(tssbqs):
            assert (tssbqs.budget, tssbqs.n, tssbqs.f, tssbqs.crypto) == ("33", 7, 2, "ideal")

        def test_module_marker(tssbqs):
            assert (tssbqs.budget, tssbqs.n, tssbqs.f) == ("standard", 7, 0)  # f from the option

        @pytest.mark.tssbqs(report_dir="elsewhere")
        def test_report_dir(tssbqs, pytestconfig):
            assert tssbqs.report_dir == pytestconfig.rootpath / "elsewhere"
    """)
    pytester.runpytest("--tssbqs-f=0").assert_outcomes(passed=3)


def test_bad_settings_are_named(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.tssbqs(budgte="quick")
        def test_typo(tssbqs):
            pass

        @pytest.mark.tssbqs(crypto="rsa")
        def test_bad_crypto(tssbqs):
            pass

        @pytest.mark.tssbqs("quick")
        def test_positional():
            pass
    """)
    result = pytester.runpytest()
    result.assert_outcomes(errors=2, failed=1)
    result.stdout.fnmatch_lines(["*unknown tssbqs setting(s) budgte; use budget, crypto*",
                                 "*crypto='rsa' is not a threshold-signature scheme*",
                                 "InvalidArgument: @pytest.mark.tssbqs takes keyword arguments "
                                 "only (budget=..., crypto=..., n=..., f=...), got ('quick',)"])
    bad = pytester.runpytest("--tssbqs-budget=lots")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*tssbqs-pbt: budget='lots' is not a budget; use one of quick, "
                              "standard, thorough or a whole number*"])
    assert pytester.runpytest("--tssbqs-n=0").ret == pytest.ExitCode.USAGE_ERROR
    assert pytester.runpytest("--tssbqs-crypto=rsa").ret == pytest.ExitCode.USAGE_ERROR


def test_the_profile_sets_the_default_budget(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        from hypothesis import settings
        settings.register_profile("tiny", max_examples=3)
    """)
    pytester.makepyfile(SHOW)
    result = pytester.runpytest("-s", "--hypothesis-profile=tiny")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["tssbqs-pbt: budget=from the Hypothesis profile*(3 examples)"])


def test_help_lists_the_options(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    for option in ("--tssbqs-budget", "--tssbqs-crypto", "--tssbqs-key-bits",
                   "--tssbqs-report-dir", "--tssbqs-n", "--tssbqs-f"):
        result.stdout.fnmatch_lines([f"*{option}*"])


def test_importing_the_plugin_loads_nothing_heavy() -> None:
    code = (
        "import sys, tssbqs_pbt.pytest_plugin, tssbqs_pbt\n"
        "heavy = ('cryptography', 'gmpy2', 'hypothesis', 'attrs', 'tssbqs_pbt.protocols',\n"
        "         'tssbqs_pbt.kernel', 'tssbqs_pbt.checking', 'tssbqs_pbt.check_settings')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
        "assert callable(tssbqs_pbt.check)  # resolved lazily, on first use\n"
        "print('protocols' if 'tssbqs_pbt.protocols' in sys.modules else '')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split("\n")[:2] == ["", "protocols"], done.stdout + done.stderr
