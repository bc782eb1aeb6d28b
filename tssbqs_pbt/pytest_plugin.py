"""The pytest plugin (entry point ``pytest11``: ``tssbqs_pbt = "tssbqs_pbt.pytest_plugin"``).

Loads only pytest and the standard library; the settings module (attrs) is loaded when pytest
configures, the search machinery when a test first calls :func:`tssbqs_pbt.check`.

- options ``--tssbqs-budget``, ``--tssbqs-crypto``, ``--tssbqs-key-bits``,
  ``--tssbqs-report-dir``, ``--tssbqs-n``, ``--tssbqs-f``; ``--hypothesis-seed`` sets the
  search seed, ``--hypothesis-profile`` the default budget (its ``max_examples``) and whether
  the example database is used, ``--hypothesis-show-statistics`` adds search statistics to the
  summary;
- the marker ``@pytest.mark.tssbqs(budget=..., crypto=..., n=..., f=..., ...)`` overrides them
  for one test; the fixture ``tssbqs`` gives that test's settings (``.report_dir`` included);
- the report directory is never collected (its regression tests pin bugs, see
  :mod:`tssbqs_pbt.report.regression`);
- a failing ``check()`` shows the shrunk report, not a traceback; the terminal summary lists
  every counterexample saved in the session (also under ``pytest -n``, through the reports).
"""

from __future__ import annotations

import sys
from collections.abc import Generator
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from tssbqs_pbt.wording import plural

__all__ = [
    "pytest_addoption",
    "pytest_configure",
    "pytest_ignore_collect",
    "pytest_report_header",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "tssbqs",
]

_SETTINGS = pytest.StashKey[Any]()
_PROPERTY = "tssbqs"
_OWN_MODULES = ("tssbqs_pbt/checking.py", "tssbqs_pbt/conformance.py",
                "tssbqs_pbt/preflight.py", "tssbqs_pbt/pytest_plugin.py")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tssbqs", "tssbqs-pbt (search BFT storage protocols)")
    group.addoption("--tssbqs-budget", default=None, metavar="BUDGET",
                    help="quick | standard | thorough | a number of examples (default: the "
                    "Hypothesis profile's max_examples)")
    group.addoption("--tssbqs-crypto", default=None, choices=("ideal", "real"),
                    help="threshold signatures: ideal (symbolic, default) or real (Shoup RSA)")
    group.addoption("--tssbqs-key-bits", default=None, type=int, metavar="BITS",
                    help="RSA modulus size with --tssbqs-crypto real (default 2048)")
    group.addoption("--tssbqs-report-dir", default=None, metavar="DIR",
                    help="where counterexamples and their reports go (default tssbqs-report/ "
                    "under the rootdir)")
    group.addoption("--tssbqs-n", default=None, type=int, metavar="N", help="servers (4)")
    group.addoption("--tssbqs-f", default=None, type=int, metavar="F",
                    help="Byzantine servers (1)")
    group.addoption("--tssbqs-no-explore", action="store_true", default=False,
                    help="check() searches only, without exploring a scope after the search "
                    "(then a pass rests on the random search alone: no certificate)")
    group.addoption("--tssbqs-walks", default=None, type=int, metavar="N",
                    help="deep random walks check() takes after the exploration (default "
                    "256; 0: none)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "tssbqs(**settings): tssbqs-pbt settings for tssbqs_pbt.check() in this test "
        "(budget, crypto, key_bits, report_dir, n, f, seed, explore, walks)",
    )
    from tssbqs_pbt.check_settings import CheckSettings, parse_seed
    from tssbqs_pbt.errors import InvalidArgument

    option = config.getoption
    given = {
        "budget": option("tssbqs_budget", None),
        "crypto": option("tssbqs_crypto", None),
        "key_bits": option("tssbqs_key_bits", None),
        "n": option("tssbqs_n", None),
        "f": option("tssbqs_f", None),
        "walks": option("tssbqs_walks", None),
    }
    report_dir = option("tssbqs_report_dir", None)
    seed = option("hypothesis_seed", None)
    root = config.rootpath
    try:
        settings = CheckSettings(
            **{k: v for k, v in given.items() if v is not None},
            report_dir=(config.invocation_params.dir / report_dir if report_dir
                        else root / "tssbqs-report"),
            seed=parse_seed(seed) if seed is not None else 0,
            database=root / ".hypothesis" / "tssbqs-pbt",
            statistics=bool(option("hypothesis_show_statistics", False)),
            explore=not option("tssbqs_no_explore", False),
        )
    except InvalidArgument as exc:
        raise pytest.UsageError(f"tssbqs-pbt: {exc}") from None
    config.stash[_SETTINGS] = settings
    config.pluginmanager.register(_Session(config), "tssbqs-pbt-session")


def pytest_report_header(config: pytest.Config) -> str:
    settings = config.stash[_SETTINGS]
    line = f"tssbqs-pbt: {settings.describe()}"
    hypothesis = sys.modules.get("hypothesis")
    if settings.budget is None and hypothesis is not None:
        line += f" ({plural(hypothesis.settings.default.max_examples, 'example')})"
    return line


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Never collect the report directory: its generated regression tests pass only while the
    bug is present (copy one into your tests to pin a bug on purpose)."""
    report_dir = config.stash[_SETTINGS].report_dir
    if collection_path == report_dir or report_dir in collection_path.parents:
        return True
    return None


def _item_settings(item: pytest.Item) -> Any:
    from tssbqs_pbt.errors import InvalidArgument

    settings = item.config.stash[_SETTINGS]
    for marker in reversed(list(item.iter_markers("tssbqs"))):  # the closest marker wins
        if marker.args:
            raise InvalidArgument(
                f"@pytest.mark.tssbqs takes keyword arguments only (budget=..., crypto=..., "
                f"n=..., f=...), got {marker.args!r}"
            )
        changes = dict(marker.kwargs)
        if "report_dir" in changes:
            changes["report_dir"] = item.config.rootpath / Path(changes["report_dir"])
        settings = settings.with_(changes)
    return settings


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    from tssbqs_pbt.check_settings import activate, take_records

    take_records()
    try:
        with activate(_item_settings(item)):
            return (yield)
    finally:
        for entry in take_records():
            item.user_properties.append((_PROPERTY, entry))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.excinfo is not None and report.failed and _ours(call.excinfo):
        error = call.excinfo.value
        if _is(error, "tssbqs_pbt.checking", "CheckFailed"):
            report.longrepr = str(error)
        else:
            report.longrepr = f"{type(error).__name__}: {error}"
    return report


def _is(error: BaseException, module: str, name: str) -> bool:
    """``isinstance`` by name, without importing ``module`` (or trusting ``sys.modules``)."""
    return any(c.__module__ == module and c.__name__ == name for c in type(error).__mro__)


def _ours(excinfo: pytest.ExceptionInfo[BaseException]) -> bool:
    """A framework error raised by check()/check_protocol()/this plugin, or a failed check."""
    error = excinfo.value
    if _is(error, "tssbqs_pbt.checking", "CheckFailed"):
        return True
    if not _is(error, "tssbqs_pbt.errors", "TssbqsError"):
        return False
    tb: TracebackType | None = excinfo.tb
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.replace("\\", "/").endswith(_OWN_MODULES):
            return True
        tb = tb.tb_next
    return False


@pytest.fixture
def tssbqs(request: pytest.FixtureRequest) -> Any:
    """This test's tssbqs-pbt settings (``.report_dir``, ``.budget``, ``.crypto``, ``.n``...)."""
    return _item_settings(request.node)


class _Session:
    """Collects what check() recorded, from this process or from xdist workers' reports."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.saved: list[tuple[str, dict[str, str]]] = []
        self.statistics: list[tuple[str, dict[str, str]]] = []
        self.passed: list[tuple[str, dict[str, str]]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":  # user_properties ride on every later report of the test
            return
        for name, entry in report.user_properties:
            if name != _PROPERTY or not isinstance(entry, dict):
                continue
            if entry.get("kind") == "counterexample":
                self.saved.append((report.nodeid, entry))
            elif entry.get("kind") == "statistics":
                self.statistics.append((report.nodeid, entry))
            elif entry.get("kind") == "passed":
                self.passed.append((report.nodeid, entry))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        write = terminalreporter.write_line
        if self.statistics:
            terminalreporter.write_sep("=", "tssbqs-pbt search statistics")
            for nodeid, s in self.statistics:
                runs = s.get("searched") or plural(int(s["examples"]), "example")
                write(f"{nodeid}: {s['protocol']}: {runs}, "
                      f"{plural(int(s['kernel_steps']), 'kernel step')} in {s['seconds']}s "
                      f"(seed {s['seed']}, "
                      f"tactics {s['tactics']}); found: {s['found']}")
        if self.passed:
            terminalreporter.write_sep("=", "tssbqs-pbt: what each passing check rests on")
            for nodeid, s in self.passed:
                write(f"{nodeid}: {s['protocol']}: {s['backing']}")
        if self.saved:
            terminalreporter.write_sep("=", "tssbqs-pbt counterexamples saved")
            for nodeid, s in self.saved:
                write(f"{nodeid}: {s['protocol']} violates {s['property']} ({s['clause']})")
                write(f"    replay: {s['replay']}  (tssbqs-pbt replay {s['replay']})")
                if s.get("svg"):
                    write(f"    chart:  {s['svg']}")
