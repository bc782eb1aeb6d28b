"""``tssbqs_pbt.check``: search one protocol from any test, fail with a readable counterexample.

Every argument left out comes from the active :class:`~tssbqs_pbt.check_settings.CheckSettings`
(under pytest: the ``--tssbqs-*`` options and the ``@pytest.mark.tssbqs`` marker).  The protocol
first passes the conformance preflight (:func:`tssbqs_pbt.preflight.preflight`), so a
malformed plug-in gets one paragraph naming what to fix; then the search runs with the
Hypothesis example database, so a counterexample found once is replayed first next time.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
from hypothesis.database import ExampleDatabase
from hypothesis.errors import Flaky

from tssbqs_pbt.check_settings import CheckSettings, active, record
from tssbqs_pbt.crypto import get_scheme
from tssbqs_pbt.crypto.api import ThresholdScheme
from tssbqs_pbt.engine.explore import Scope, explored_counterexample
from tssbqs_pbt.engine.explore import explore as explore_scope
from tssbqs_pbt.engine.search import (
    Budget,
    Counterexample,
    SearchResult,
    save_counterexample,
    search,
)
from tssbqs_pbt.engine.walks import DEEP, deep_walks, walked_counterexample
from tssbqs_pbt.errors import InvalidArgument, InvalidProtocol
from tssbqs_pbt.preflight import Conformance, as_spec, preflight
from tssbqs_pbt.properties import Property
from tssbqs_pbt.protocols.api import ProtocolSpec, StorageProtocol
from tssbqs_pbt.protocols.design_protocol import DesignProtocol
from tssbqs_pbt.protocols.options import DesignOptions
from tssbqs_pbt.report import write_report
from tssbqs_pbt.wording import plural, searched

__all__ = ["ALL", "CHECK_SCOPE", "CheckFailed", "backing", "check"]


class _Default(enum.Enum):
    SETTINGS = "the active settings' database"  # check(database=...) left out

ALL: frozenset[Property] = frozenset(Property)
_SHORT = {"p1": Property.CONSISTENCY, "p2": Property.AVAILABILITY,
          "p3": Property.CONFIDENTIALITY}


class CheckFailed(AssertionError):
    """A property is violated; the message is the shrunk report, ``result`` the search."""

    def __init__(self, message: str, result: SearchResult) -> None:
        super().__init__(message)
        self.result = result


def check(
    protocol: StorageProtocol | ProtocolSpec | str,
    *,
    n: int | None = None,
    f: int | None = None,
    options: Mapping[str, Any] | DesignOptions | None = None,
    properties: Iterable[Property | str] = ALL,
    budget: Budget | str | int | None = None,
    crypto: str | None = None,
    seed: int | None = None,
    report_dir: str | Path | None = None,
    database: str | Path | ExampleDatabase | _Default | None = _Default.SETTINGS,
    explore: bool | Scope | None = None,
    walks: int | None = None,
) -> SearchResult:
    """Search ``protocol`` (an instance, a spec or a registered name) with n servers of which
    f (the last ones) are Byzantine; raise :class:`CheckFailed` on a violation of one of
    ``properties``, with the numbered steps, the Mermaid chart and the saved files' paths.

    ``options`` changes options of the option-driven protocol (``{"sign_guard": "LOCAL"}``).
    ``database``: a Hypothesis example database (a directory or an ``ExampleDatabase``) whose
    saved failing schedules are replayed first and which keeps the ones found; ``None`` for
    none.  Left out: under pytest the plugin's (``.hypothesis/tssbqs-pbt``, when the Hypothesis
    profile has a database), outside pytest none, so that ``seed`` alone decides the run.
    ``explore``: when the search finds nothing, enumerate every adversary schedule of a scope
    too; a violation there fails the check with the shortest schedule within the scope, and
    the returned result's ``explored`` is the certificate either way (``exhausted`` False
    when ``max_states`` cut it short: then it is no certificate).  Left out (or ``True``):
    :data:`CHECK_SCOPE`, about a minute on a small plug-in, unless the settings say
    ``explore=False`` (the pytest marker ``@pytest.mark.tssbqs(explore=False)``); ``False``:
    the random search alone; a :class:`~tssbqs_pbt.explore.Scope`: that scope.
    ``walks``: when the exploration (or, without one, the search) found nothing, this many
    deep random walks over the explorer's moves (:data:`~tssbqs_pbt.engine.walks.DEEP`:
    six operations, eight chained adversary actions, no bound on interventions) look for
    what breadth first cannot reach; left out, the settings' (256); 0: none.  They are
    search, seeded by ``seed``, and a pass says how many ran.
    """
    settings = active()
    scope = _scope(settings.explore if explore is None else explore)
    changes = {k: v for k, v in (("n", n), ("f", f), ("crypto", crypto), ("seed", seed),
                                 ("report_dir", report_dir)) if v is not None}
    if budget is not None and not isinstance(budget, Budget):
        changes["budget"] = budget
    settings = settings.with_(changes)
    spec = as_spec(protocol)
    if options is not None:
        spec = _with_options(spec, options, settings.n, settings.f)
    ready = preflight(spec, settings.n, settings.f)
    wanted = _properties(properties)
    chosen = budget if isinstance(budget, Budget) else _budget(settings)
    try:
        result = search(
            ready.protocol, ready.config, declarations=ready.declarations, budget=chosen,
            seed=settings.seed, scheme=_scheme(settings), save_dir=settings.report_dir,
            database=(_database(settings, ready, wanted) if database is _Default.SETTINGS
                      else database),
            properties=None if wanted == ALL else wanted,
        )
    except Flaky as exc:
        raise InvalidProtocol(
            f"protocol {ready.protocol.name!r} is not deterministic: Hypothesis ran the same "
            f"schedule twice and the protocol behaved differently ({type(exc).__name__}); "
            "handlers must be pure — no randomness, clocks, global counters, iteration over "
            "sets or state kept outside the state they return"
        ) from None
    if settings.statistics:
        record("statistics", protocol=ready.protocol.name, examples=result.examples,
               searched=searched(result.examples, result.search_runs, result.budget.examples),
               kernel_steps=result.kernel_steps, seconds=f"{result.elapsed_s:.2f}",
               tactics=",".join(t.value for t in result.tactics), seed=settings.seed,
               found=result.counterexample.property if result.counterexample else "nothing")
    if result.counterexample is None and scope is not None:
        result = _explored(ready, result, scope, wanted, settings)
    deep = settings.walks if walks is None else walks
    if isinstance(deep, bool) or not isinstance(deep, int) or deep < 0:
        raise InvalidArgument(f"walks={deep!r} must be a whole number >= 0 (0: no deep walks)")
    if result.counterexample is None and deep:
        result = _walked(ready, result, deep, wanted, settings)
    found = result.counterexample
    if found is None:
        record("passed", protocol=ready.protocol.name, backing=backing(result))
        return result
    record("counterexample", protocol=ready.protocol.name, property=found.property,
           clause=found.clause, replay=found.path or "",
           svg=found.report.svg if found.report else "")
    raise CheckFailed(_message(ready, result, found, settings), result)


#: What ``check()`` explores after its random search unless told otherwise: the default
#: adversary (two operations by two clients, any cut, every Byzantine mode, one action of
#: each kind, three interventions, pauses) up to 60,000 distinct states.  It exhausts a
#: small plug-in in about a minute on one core; a larger protocol is cut short by the bound
#: and its result then says "not exhausted".
CHECK_SCOPE = Scope(max_states=60_000)


def backing(result: SearchResult) -> str:
    """What a passing check rests on, in one line: the examples searched (seed), and the
    exploration's certificate or that it was not exhausted or not run."""
    runs = searched(result.examples, result.search_runs, result.budget.examples)
    text = f"searched {runs} (seed {result.seed})"
    explored = result.explored
    if explored is None:
        text += "; not explored (random search only: no certificate)"
    else:
        text += f"; explored: {explored.backing()}"
    if result.walked is not None:
        text += f"; then {result.walked.backing()}"
    return text


def _scope(explore: object) -> Scope | None:
    if isinstance(explore, Scope):
        return explore
    if explore is True:
        return CHECK_SCOPE
    if explore is False or explore is None:
        return None
    raise InvalidArgument(f"explore={explore!r:.60} is neither True/False nor a "
                          "tssbqs_pbt.explore.Scope (e.g. Scope(operations=2, clients=1))")


def _explored(ready: Conformance, result: SearchResult, scope: Scope,
              wanted: frozenset[Property], settings: CheckSettings) -> SearchResult:
    """``result`` after the explorer ran on what the search left unbroken: its certificate, and
    the shortest violation within the scope (saved and rendered like a search's) if any."""
    explored = explore_scope(ready.protocol, ready.config, _judging(scope, wanted),
                             declarations=ready.declarations, scheme=_scheme(settings))
    result = attrs.evolve(result, explored=explored.certificate)
    if explored.failure is None:
        return result
    found = explored_counterexample(explored, ready.protocol, ready.config,
                                    scheme=_scheme(settings))
    return attrs.evolve(result, counterexample=_saved(found, settings))


def _walked(ready: Conformance, result: SearchResult, walks: int,
            wanted: frozenset[Property], settings: CheckSettings) -> SearchResult:
    """``result`` after ``walks`` deep random walks found nothing, or what one found."""
    done = deep_walks(ready.protocol, ready.config, _judging(DEEP, wanted), walks=walks,
                      seed=settings.seed,
                      declarations=ready.declarations, scheme=_scheme(settings))
    result = attrs.evolve(result, walked=done.walked)
    if done.failure is None:
        return result
    found = walked_counterexample(done, ready.protocol, ready.config, scheme=_scheme(settings))
    return attrs.evolve(result, counterexample=_saved(found, settings))


def _judging(scope: Scope, wanted: frozenset[Property]) -> Scope:
    """``scope`` judging only the ``wanted`` properties (the check's ``properties=``)."""
    if wanted == ALL:
        return scope
    return attrs.evolve(scope, properties=tuple(sorted(
        short.upper() for short, prop in _SHORT.items() if prop in wanted)))


def _saved(found: Counterexample, settings: CheckSettings) -> Counterexample:
    """``found`` saved and rendered like a search's, if there is a report directory."""
    if settings.report_dir is None:
        return found
    path = save_counterexample(found, settings.report_dir)
    report = write_report(found.trace, found.verdict, path, settings.report_dir)
    return attrs.evolve(found, path=path, report=report)


def _with_options(
    spec: ProtocolSpec, options: Mapping[str, Any] | DesignOptions, n: int, f: int
) -> ProtocolSpec:
    protocol, _, _ = spec.instantiate(n, f, smoke=False)
    if not isinstance(protocol, DesignProtocol):
        raise InvalidArgument(
            f"options= changes the option-driven protocol (family-c, family-j, design[...]); "
            f"{spec.name!r} is not one: change its code instead, or pass a family name"
        )
    if isinstance(options, DesignOptions):
        chosen = options
    elif isinstance(options, Mapping):
        chosen = protocol.design.options.with_(**dict(options))
    else:
        raise InvalidArgument(
            f"options={options!r} is neither a mapping like {{'sign_guard': 'LOCAL'}} nor "
            "a tssbqs_pbt.protocols.DesignOptions"
        )
    design = attrs.evolve(protocol.design, options=chosen)
    return as_spec(f"design[{design.describe()}]")


def _properties(wanted: Iterable[Property | str]) -> frozenset[Property]:
    if isinstance(wanted, (str, Property)):
        wanted = (wanted,)
    out = set()
    for item in wanted:
        if isinstance(item, Property):
            out.add(item)
            continue
        key = str(item).strip().lower()
        match = _SHORT.get(key) or next((p for p in Property if p.value.lower() == key), None)
        if match is None:
            raise InvalidArgument(
                f"properties: {item!r} is not a property; use P1, P2, P3 or "
                "tssbqs_pbt.properties.Property members"
            )
        out.add(match)
    if not out:
        raise InvalidArgument("properties= is empty; name at least one of P1, P2, P3")
    return frozenset(out)


def _budget(settings: CheckSettings) -> Budget:
    if settings.budget is None:
        from hypothesis import settings as hypothesis_settings

        profile = hypothesis_settings.default
        return Budget(examples=max(1, profile.max_examples if profile is not None else 100))
    if settings.budget.isdigit():
        return Budget(examples=int(settings.budget))
    return Budget.named(settings.budget)


def _scheme(settings: CheckSettings) -> ThresholdScheme:
    if settings.crypto == "real":
        return get_scheme("real", bits=settings.key_bits)
    return get_scheme("ideal")


def _database(
    settings: CheckSettings, ready: Conformance, wanted: frozenset[Property]
) -> Path | None:
    from hypothesis import settings as hypothesis_settings

    profile = hypothesis_settings.default
    if settings.database is None or profile is None or profile.database is None:
        return None  # a profile without a database: nothing is kept between runs
    config = ready.config
    key = "|".join((ready.protocol.name, f"{config.n},{config.f},{config.q},{config.t}",
                    settings.crypto, ",".join(sorted(p.value for p in wanted))))
    return settings.database / hashlib.sha256(key.encode()).hexdigest()[:16]


def _message(
    ready: Conformance, result: SearchResult, found: Counterexample, settings: CheckSettings
) -> str:
    config = ready.config
    runs = searched(result.examples, result.search_runs, result.budget.examples)
    how = (f"found by the {found.tactic.value} tactic in {runs} (seed {settings.seed}), shrunk "
           f"to {plural(found.steps, 'step')}.")
    if found.walks is not None:
        explored = ("" if result.explored is None else
                    f", nor within the explorer's scope ({result.explored.backing()})")
        how = (f"not found in {runs} (seed {settings.seed}){explored}; found by a deep "
               f"random walk ({found.walks}), cut to {plural(found.steps, 'step')}.")
    elif result.explored is not None:
        how = (f"not found in {runs} (seed {settings.seed}); found by the explorer, the "
               f"shortest schedule within "
               f"the scope ({result.explored.scope.describe()}): {plural(found.steps, 'step')}.")
    head = (
        f"tssbqs-pbt: protocol {ready.protocol.name!r} violates {found.property} "
        f"({found.clause}) — n={config.n} f={config.f} q={config.q} t={config.t}, "
        f"Byzantine: {', '.join(f'S{i}' for i in sorted(config.byzantine)) or 'none'}; {how}"
    )
    body = ""
    if found.report is not None:
        body = found.report.steps.read_text(encoding="utf-8")
    lines = [head, "", body.rstrip(), ""]
    if found.path is not None:
        lines.append(f"replay file:     {found.path}  (re-run: tssbqs-pbt replay {found.path})")
    if found.report is not None:
        lines += [f"chart (SVG):     {found.report.svg}",
                  f"steps and chart: {found.report.steps}",
                  f"regression test: {found.report.test}"]
    return "\n".join(lines)
