"""A bounded-exhaustive explorer: every adversary schedule within a :class:`Scope`, breadth first.

Random search finds shallow attacks fast; its "valid" means only that the runs it drew found
nothing.  The explorer enumerates, in breadth-first order, every sequence of the adversary's
*strategic* moves within a scope — which client starts which operation, which correct servers
the network cuts off during it, what each Byzantine server does, and between operations the
adversary's own actions (release what the network held, synthesise a request, answer a client
as its delegate, give back a kept message) — and settles everything else canonically
(deliveries oldest first), as Twins enumerates partitions per round rather than message
orders.  A move is one call of one of the SPLIT rule machine's own rules with its draws given
(:class:`Moves`, :mod:`tssbqs_pbt.engine.explore_moves`): there is one definition of what the
adversary can do, the one the random search uses.

World states are deduplicated by a fingerprint (every node's state, what is in flight and held,
the adversary's pooled knowledge and emulated states, the cut, the client-visible history), so a
state reached twice (with no less budget left) is expanded once.  P1 and P3 are checked after
every move; at every new state the run is also ended the way a search ends it (a read while the
network is still cut, then a fair drain, a final read) and P2, P1, P3 judged.  The first
violation in breadth-first order is the shortest within the scope (fewest moves); with none,
the result is a certificate: the scope, states, transitions, depth reached, the reductions
used, and whether the scope was exhausted or a bound cut it short.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from tssbqs_pbt.crypto.api import ThresholdScheme
from tssbqs_pbt.engine.bfs import BreadthFirst, Progress
from tssbqs_pbt.engine.certificate import Certificate, ExploreResult, Moves
from tssbqs_pbt.engine.explore_moves import ACTIONS
from tssbqs_pbt.engine.machine import SearchSetup, Tactic, make_machine
from tssbqs_pbt.engine.partition import B_MODES
from tssbqs_pbt.engine.search import Counterexample, counterexample_of, trace_pass
from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.kernel import SystemConfig
from tssbqs_pbt.kernel.memo import HandlerMemo
from tssbqs_pbt.properties import Property
from tssbqs_pbt.protocols.api import MessageDecl, ProtocolSpec, StorageProtocol
from tssbqs_pbt.wording import plural

__all__ = ["Certificate", "ExploreResult", "Moves", "Scope", "explore", "explored_counterexample"]

_MODES = frozenset(B_MODES)
_PROPERTIES = {"P1": Property.CONSISTENCY, "P2": Property.AVAILABILITY,
               "P3": Property.CONFIDENTIALITY}


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _positive(instance: object, attribute: Any, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(f"Scope({attribute.name}={value!r}): must be a whole number >= 1")


def _count(instance: object, attribute: Any, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < 0):
        raise InvalidArgument(f"Scope({attribute.name}={value!r}): must be a whole number >= 0"
                              + (" or None" if attribute.name != "actions" else ""))


def _one_of(allowed: tuple[str, ...], empty: bool = False) -> Any:
    def check(instance: object, attribute: Any, value: tuple[str, ...]) -> None:
        bad = [m for m in value if m not in allowed]
        if bad or (not value and not empty):
            raise InvalidArgument(f"Scope({attribute.name}={value!r}): each must be one of "
                                  f"{', '.join(allowed)}" + ("" if empty else " (at least one)"))
    return check


def _which_clients(instance: object, attribute: Any, value: str) -> None:
    if value not in ("first", "any"):
        raise InvalidArgument(f"Scope(which_clients={value!r}): must be 'first' (the clients "
                              "C1..Ck act) or 'any' (any k of the configuration's clients)")


def _targets(instance: object, attribute: Any, value: str) -> None:
    if value not in ("all", "each"):
        raise InvalidArgument(f"Scope(targets={value!r}): must be 'all' (every correct server "
                              "at once) or 'each' (that, or any one correct server)")


@attrs.frozen
class Scope:
    """The bounds of one exploration.

    - ``operations``: client operations in a schedule; ``clients``: how many clients may act,
      either the first ones, C1..Ck (``which_clients="first"``), or any k of the
      configuration's clients (``"any"``).  Which client acts decides, in protocols that pick
      servers by the client (delegates that rotate with it), whether a Byzantine server
      serves the operation.
    - ``max_cut``: at most this many correct servers cut off at once (None: any number);
      ``blocking_cuts``: also cuts that leave fewer than q servers reachable, so that an
      operation waits for the adversary to release what it held (the default; False: a cut
      holds at most max(1, n - q) correct servers).
    - ``modes``: what a Byzantine server may do during an operation; with ``keep`` it keeps
      every message of one of the first ``keep_kinds`` kinds it has seen (those carrying
      data first; None: any kind).
    - ``actions``: how many adversary actions besides operations a schedule holds, of the
      kinds in ``powers``: ``release`` what the network held for one server, ``answer`` a
      client as its delegate, ``give_back`` a kept message, ``synthesise`` a request.
    - ``interventions``: what the adversary may do in all (None: no bound): each new cut
      (healing is free), each Byzantine server not honest during an operation, each action.
    - A synthesised message takes its first field (its datum, else its request) among the
      first ``width`` candidates of the rule's pool and, for a datum, those B made up; every
      other field among the first ``field_width``.  ``targets``: it goes to every correct
      server at once (``all``) or also to any single one (``each``).
    - ``properties``: the properties judged (a violation of another does not stop it);
      ``symmetry``: use the symmetries the protocol declares.
    - ``pauses``: an operation may pause once the Byzantine servers have answered its k-th
      message to them, for any k up to this (0: never), before anything they sent is
      delivered; the adversary then takes one action (it counts as one) and the network runs
      on; a schedule does not end at a pause (P2 is judged after the action).  What B does
      with a request it holds before any correct server has stored it (get it signed ahead
      at a timestamp it makes up) is reachable only so.
    - ``max_states`` and ``seconds``: bounds that cut the exploration short (the certificate
      then says it is not exhausted)."""

    operations: int = attrs.field(default=2, validator=_positive)
    clients: int = attrs.field(default=2, validator=_positive)
    which_clients: str = attrs.field(default="first", validator=_which_clients)
    max_cut: int | None = attrs.field(default=None, validator=_count)
    blocking_cuts: bool = True
    modes: tuple[str, ...] = attrs.field(default=("honest", "silent", "restart", "keep"),
                                         converter=_strings, validator=_one_of(B_MODES))
    keep_kinds: int | None = attrs.field(default=2, validator=_count)
    actions: int = attrs.field(default=1, validator=_count)
    interventions: int | None = attrs.field(default=3, validator=_count)
    powers: tuple[str, ...] = attrs.field(default=ACTIONS, converter=_strings,
                                          validator=_one_of(ACTIONS, empty=True))
    width: int = attrs.field(default=2, validator=_positive)
    field_width: int = attrs.field(default=1, validator=_positive)
    targets: str = attrs.field(default="all", validator=_targets)
    properties: tuple[str, ...] = attrs.field(default=("P1", "P2", "P3"), converter=_strings,
                                              validator=_one_of(tuple(_PROPERTIES)))
    symmetry: bool = True
    pauses: int = attrs.field(default=3, validator=_count)
    max_states: int = attrs.field(default=150_000, validator=_positive)
    seconds: float | None = None

    def describe(self) -> str:
        cut = "any" if self.max_cut is None else f"at most {self.max_cut}"
        modes = "/".join(self.modes)
        if "keep" in self.modes and self.keep_kinds is not None:
            modes += f" ({self.keep_kinds} kinds kept)"
        reach = "" if self.blocking_cuts else " leaving a quorum reachable"
        who = plural(self.clients, "client")
        if self.which_clients == "any":
            who = f"any {who}"
        text = (f"{plural(self.operations, 'operation')} by {who}, "
                f"cuts of {cut} "
                f"correct servers{reach}, Byzantine modes {modes}")
        if self.actions and self.powers:
            text += (f", {self.actions} adversary action{'s' if self.actions > 1 else ''} "
                     f"({'/'.join(self.powers)}; width {self.width}/{self.field_width}, "
                     f"to {self.targets})")
        if self.pauses and self.actions and self.powers:
            text += (f", an operation may pause for an action once B answered 1-{self.pauses} "
                     "of its messages")
        if self.interventions is not None:
            text += f", at most {self.interventions} interventions"
        if set(self.properties) != set(_PROPERTIES):
            text += f", judging {'/'.join(self.properties)}"
        return text


def explore(protocol: StorageProtocol, config: SystemConfig, scope: Scope | None = None, *,
            declarations: Mapping[type, MessageDecl] | None = None,
            scheme: ThresholdScheme | None = None, workers: int = 1,
            progress: Progress | None = None, client: Any = None) -> ExploreResult:
    """Explore every schedule of ``scope`` breadth first; return the first violation (the
    shortest within the scope) or a certificate of what was covered.  ``workers`` > 1
    expands each level on that many forked processes, ``client`` (a ``distributed.Client``)
    on the workers of its Dask cluster instead: the same states, verdict and counterexample
    as one process.  ``progress`` is called with a mapping of the counts so far (level,
    states, transitions, frontier, elapsed_s) after each chunk of a level."""
    scope = scope or Scope()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidArgument(f"explore(workers={workers!r}): must be a whole number >= 1")
    if client is not None and workers != 1:
        raise InvalidArgument(f"explore(workers={workers}, client=...): the cluster's workers "
                              "expand the levels; give one or the other")
    machine_class = move_machine(protocol, config, scope, declarations, scheme)
    cluster = None
    if client is not None:
        from tssbqs_pbt.engine.explore_dask import DaskLevels

        cluster = DaskLevels(client, functools.partial(
            move_machine, protocol, config, scope, declarations, scheme))
    search = BreadthFirst(machine_class, scope, _reductions(protocol, scope), workers,
                          progress, cluster)
    return search.run()


def move_machine(protocol: StorageProtocol, config: SystemConfig, scope: Scope,
                 declarations: Mapping[type, MessageDecl] | None = None,
                 scheme: ThresholdScheme | None = None) -> type:
    """The SPLIT rule machine whose rules the moves of ``scope`` call (for the explorer and
    the deep walks alike), with a handler memo of its own."""
    if declarations is None:
        declarations = ProtocolSpec(name=protocol.name, build=lambda n, f: protocol
                                    ).declarations(protocol)
    setup = SearchSetup(protocol, config, declarations, scheme=scheme,
                        signed_value=getattr(protocol, "signed_value", None),
                        tactic=Tactic.SPLIT, max_ops=scope.operations, pauses=scope.pauses,
                        properties=frozenset(_PROPERTIES[p] for p in scope.properties),
                        memo=HandlerMemo())
    return make_machine(setup)


def _reductions(protocol: StorageProtocol, scope: Scope) -> tuple[str, ...]:
    """What makes schedules coincide, each sound: the same state (fingerprint) reached
    again with no less budget left; a "new" cut equal to the current one (the same move as
    keeping it); synthesised messages built twice by different draws; and, only for a
    protocol that declares it, clients that never acted being interchangeable."""
    out = ["state fingerprints", "budget dominance", "repeated cuts"]
    if scope.actions and "synthesise" in scope.powers:
        out.append("duplicate syntheses")
    if scope.symmetry and getattr(protocol, "symmetric_clients", False):
        out.append("client symmetry")
    return tuple(out)


def explored_counterexample(result: ExploreResult, protocol: StorageProtocol,
                            config: SystemConfig, *,
                            scheme: ThresholdScheme | None = None) -> Counterexample:
    """The violation ``result`` found, as a counterexample: shrunk on its kernel actions (the
    trace pass: the explorer's schedule is shortest in moves, not in kernel steps) and marked
    as found by the explorer within its scope (the replay file and its regression test say
    so)."""
    if result.failure is None:
        raise InvalidArgument("the exploration found no violation: there is no counterexample")
    found = attrs.evolve(counterexample_of(result.failure, Tactic.SPLIT),
                         scope=result.certificate.scope.describe())
    return trace_pass(found, protocol, config, scheme=scheme)
