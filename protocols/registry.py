"""Which protocols exist: built-ins, ``register()``-ed ones, and entry points.

Third-party packages register through the ``tssbqs_pbt.protocols`` entry-point group; an entry
point names a :class:`~tssbqs_pbt.protocols.api.ProtocolSpec` or a zero-argument callable that
returns one.  Entry points are loaded the first time the registry is asked.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from tssbqs_pbt.protocols.api import ProtocolSpec, StorageProtocol
from tssbqs_pbt.protocols.design_protocol import DesignProtocol
from tssbqs_pbt.protocols.families import family_c, family_j
from tssbqs_pbt.protocols.options import parse_design

from tssbqs_pbt.errors import InvalidArgument, InvalidProtocol

__all__ = [
    "ENTRY_POINT_GROUP",
    "available",
    "get",
    "protocol_named",
    "register",
    "unregister",
]

ENTRY_POINT_GROUP = "tssbqs_pbt.protocols"

_SPECS: dict[str, ProtocolSpec] = {}
_entry_points_loaded = False


def register(spec: ProtocolSpec, *, replace: bool = False) -> ProtocolSpec:
    """Make ``spec`` available as ``get(spec.name)``; returns it (usable as a decorator target)."""
    if not isinstance(spec, ProtocolSpec):
        raise InvalidProtocol(
            f"register() takes a ProtocolSpec, got {type(spec).__name__}; wrap your protocol "
            "in tssbqs_pbt.protocols.ProtocolSpec(name=..., build=...)"
        )
    if not spec.name or spec.name.startswith("design[") or any(c.isspace() for c in spec.name):
        raise InvalidProtocol(
            f"protocol name {spec.name!r} is not allowed: use a short name without spaces that "
            "does not start with 'design['"
        )
    known = _SPECS.get(spec.name)
    if known is not None and known is not spec and not replace:
        raise InvalidProtocol(
            f"a protocol called {spec.name!r} is already registered; pick another name or pass "
            "replace=True"
        )
    _SPECS[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    _SPECS.pop(name, None)


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        where = f"entry point {ep.name!r} ({ep.value}) of group {ENTRY_POINT_GROUP!r}"
        try:
            target = ep.load()
        except Exception as exc:
            raise InvalidProtocol(f"{where} failed to load: {type(exc).__name__}: {exc}") from exc
        spec = target if isinstance(target, ProtocolSpec) else None
        if spec is None and callable(target):
            try:
                spec = target()
            except Exception as exc:
                raise InvalidProtocol(
                    f"{where} raised {type(exc).__name__}: {exc} when called"
                ) from exc
        if not isinstance(spec, ProtocolSpec):
            raise InvalidProtocol(
                f"{where} gives {target!r}, not a ProtocolSpec (or a callable returning one)"
            )
        register(spec, replace=True)


def available() -> tuple[str, ...]:
    """Names of every registered protocol, sorted."""
    _load_entry_points()
    return tuple(sorted(_SPECS))


def get(name: str) -> ProtocolSpec:
    """The spec registered as ``name``; a clear error listing the others if there is none."""
    _load_entry_points()
    try:
        return _SPECS[name]
    except KeyError:
        raise InvalidArgument(
            f"no protocol called {name!r}; available: {', '.join(available())} (or a "
            "'design[n=... f=... q=... t=... OPTION=VALUE ...]' name)"
        ) from None


def protocol_named(name: str, n: int, f: int) -> StorageProtocol:
    """Rebuild the protocol a trace names: a ``design[...]`` name or a registered spec."""
    if name.startswith("design[") and name.endswith("]"):
        return DesignProtocol(parse_design(name[len("design["):-1]))
    protocol, _, _ = get(name).instantiate(n, f)
    return protocol


def _design_spec(name: str, make: object, threshold: object, text: str) -> ProtocolSpec:
    return ProtocolSpec(
        name=name,
        build=lambda n, f: DesignProtocol(make(n, f)),  # type: ignore[operator]
        threshold=threshold,  # type: ignore[arg-type]
        description=text,
    )


register(_design_spec(
    "family-c", family_c, lambda n, f: f + 1,
    "COCA/CODEX: EVIDENCE guards everywhere, client basis, t = f+1",
))
register(_design_spec(
    "family-c-large", lambda n, f: family_c(n, f, n - f), lambda n, f: n - f,
    "COCA/CODEX options with the largest threshold t = n-f",
))
register(_design_spec(
    "family-j", family_j, lambda n, f: n - f,
    "Jing et al.: t = n-f, LOCAL guards with promises, request de-duplication",
))
