"""Reading a saved counterexample file: its shape and types checked before anything uses them.

A counterexample file is a trace document (:mod:`tssbqs_pbt.kernel.trace`) with another
``format`` name and an ``expect`` section.  :func:`read_counterexample` reads it through
:func:`tssbqs_pbt.kernel.jsonfile.read_json` (size limit, duplicated keys, ...), checks the
format, the version, the ``expect`` section and the header (decoded and type-checked, so the
protocol name and the configuration can be trusted), and raises
:class:`~tssbqs_pbt.errors.TraceFormatError` naming the first problem.  The steps are decoded
later, against the registry of the protocol the header names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tssbqs_pbt.errors import TraceFormatError
from tssbqs_pbt.kernel.codec import TypeRegistry, decode
from tssbqs_pbt.kernel.config import SystemConfig
from tssbqs_pbt.kernel.jsonfile import read_json
from tssbqs_pbt.kernel.trace import TraceHeader, check_version

__all__ = ["MAX_NODES", "check_counterexample", "read_counterexample"]

#: the most servers (or clients) a counterexample's configuration may name: a replay builds
#: every one of them, so a corrupt count must not be taken at its word
MAX_NODES = 1024

# key of the 'expect' section -> (the JSON type it must have, what to call it, required)
_EXPECT: dict[str, tuple[tuple[type, ...], str, bool]] = {
    "property": ((str,), "a string", True),
    "clause": ((str,), "a string", False),
    "tactic": ((str,), "a string", False),
    "steps": ((int,), "an integer", False),
    "shrunk": ((bool,), "true or false", False),
    # where it came from: "search" (with its seed), "explorer" (with its scope, described),
    # "walks" (deep random walks over the explorer's moves, described) or
    # "reuse" (a sweep replayed a schedule found for another combination); absent in files
    # written before these keys
    "found_by": ((str,), "a string", False),
    "seed": ((int,), "an integer", False),
    "scope": ((str,), "a string", False),
    "walks": ((str,), "a string", False),
}


def read_counterexample(
    file: Path, counterexample_format: str
) -> tuple[dict[str, Any], dict[str, Any], str, dict[str, Any]]:
    """A counterexample file's document, its ``expect`` section, protocol name and (checked)
    configuration; every problem is a :class:`TraceFormatError` naming the bad field."""
    source = f"counterexample file {str(file)!r}"
    return check_counterexample(read_json(file, source), counterexample_format, source,
                                repr(str(file)))


def check_counterexample(
    raw: Any, counterexample_format: str, source: str, name: str
) -> tuple[dict[str, Any], dict[str, Any], str, dict[str, Any]]:
    """:func:`read_counterexample` of a document already parsed (e.g. the one a regression
    test embeds); ``source`` and ``name`` name it in messages."""
    if not isinstance(raw, dict) or raw.get("format") != counterexample_format:
        found = raw.get("format") if isinstance(raw, dict) else None
        raise TraceFormatError(
            f"{name} is not a tssbqs-pbt counterexample (format "
            f"{found if isinstance(found, str) else None!r}); pass a file written by a search"
        )
    check_version(raw, source)
    expected = raw.get("expect")
    if not isinstance(expected, dict):
        raise TraceFormatError(f"{source} lacks its 'expect' section (an object); the file is "
                               "corrupt")
    for key, (kinds, said, required) in _EXPECT.items():
        if key not in expected:
            if required:
                raise TraceFormatError(f"{source}: expect.{key} is missing; the file is corrupt")
            continue
        value = expected[key]
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            raise TraceFormatError(f"{source}: expect.{key} must be {said}, not "
                                   f"{type(value).__name__} {value!r:.60}; the file was edited "
                                   "or is corrupt")
    header = raw.get("header")
    if not isinstance(header, dict):
        raise TraceFormatError(f"{source} has no 'header' object (protocol name and "
                               "configuration); the file is corrupt")
    decoded = decode(header, TypeRegistry((TraceHeader, SystemConfig)), "$.header")
    if not isinstance(decoded, TraceHeader):
        raise TraceFormatError(f"{source}: the header is a {type(decoded).__name__}, not a "
                               "TraceHeader; the file is corrupt")
    config = decoded.config
    if config.n > MAX_NODES or config.clients > MAX_NODES:
        raise TraceFormatError(
            f"{source}: the configuration names {config.n} servers and {config.clients} "
            f"clients; a counterexample has at most {MAX_NODES} of each: the file is corrupt"
        )
    if "steps" not in raw or not isinstance(raw["steps"], list):
        raise TraceFormatError(f"{source}: 'steps' must be a list of steps; the file is corrupt")
    return raw, expected, decoded.protocol, header["config"]
