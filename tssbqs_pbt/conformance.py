"""The conformance kit any implementation of a storage protocol can run.

:func:`check_protocol` checks, in order, and stops at the first problem with one paragraph that
says what the plug-in must change:

1. its declarations: handlers present, message classes frozen attrs values, every message
   field usable by the adversary (a role other than *opaque*), nested data types listed;
2. determinism: the same honest schedule on two fresh builds gives the same trace;
3. that it survives the honest no-fault schedule (no Byzantine server): no handler raises,
   every message it sends is of a listed type, every operation completes, P1–P3 hold, the
   trace round-trips through JSON;
4. then the three properties under search (:func:`tssbqs_pbt.check`).

Steps 1–3 are :func:`tssbqs_pbt.preflight.preflight` (re-exported here), which ``check()`` runs
before every search: the kit sits above the checker, and the checker never imports the kit.
"""

from __future__ import annotations

from typing import Any

from tssbqs_pbt.check_settings import active
from tssbqs_pbt.checking import check
from tssbqs_pbt.preflight import Conformance, as_spec, own_parameter, preflight
from tssbqs_pbt.protocols.api import ProtocolSpec, StorageProtocol

__all__ = ["Conformance", "as_spec", "check_protocol", "own_parameter", "preflight"]


def check_protocol(
    spec: ProtocolSpec | StorageProtocol | str,
    *,
    n: int | None = None,
    f: int | None = None,
    **search: Any,
) -> Conformance:
    """The whole kit: preflight, then P1–P3 under search (keywords go to ``check()``).

    Returns the :class:`Conformance` on success; raises :class:`InvalidProtocol` for a
    malformed plug-in and :class:`tssbqs_pbt.checking.CheckFailed` (an ``AssertionError``)
    with the shrunk counterexample when a property is violated."""
    settings = active()
    resolved = as_spec(spec)
    done = preflight(resolved, settings.n if n is None else n, settings.f if f is None else f)
    check(resolved, n=n, f=f, **search)
    return done
