"""Reading JSON files that a person may have edited, cut short or replaced: every problem is a
:class:`~tssbqs_pbt.errors.TraceFormatError` that names it, never another exception.

Before parsing, the size of the document is checked against a limit (default
:data:`DEFAULT_MAX_MB` MiB; the environment variable :data:`MAX_MB_ENV`, or the ``--max-file-mb``
option of ``tssbqs-pbt replay`` and ``render``, raises it).  Parsing refuses duplicated keys,
``NaN``/``Infinity``, numbers of more digits than Python converts and nesting deeper than the
parser's recursion bound; the trace decoder then bounds nesting at :data:`MAX_DEPTH`.  A
gzip-compressed file (a sweep keeps its reused counterexamples so) is read through, its
*uncompressed* size counted against the same limit.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import zlib
from pathlib import Path
from typing import Any

from tssbqs_pbt.errors import InvalidArgument, TraceFormatError

__all__ = [
    "DEFAULT_MAX_MB",
    "MAX_DEPTH",
    "MAX_MB_ENV",
    "max_bytes",
    "parse_json",
    "read_json",
    "read_text",
    "set_max_mb",
    "too_deep",
]

#: environment variable naming the largest JSON document read, in MiB
MAX_MB_ENV = "TSSBQS_PBT_MAX_FILE_MB"
#: the default limit: the largest counterexample a search writes is well under 1 MiB
DEFAULT_MAX_MB = 16
#: deepest nesting of values a trace may have (a counterexample nests about 15 levels); the
#: decoder checks it (:mod:`tssbqs_pbt.kernel.codec`), the parser stops at Python's own bound
MAX_DEPTH = 100

_override: list[float] = []  # set by set_max_mb (the CLI's --max-file-mb)
_GZIP_MAGIC = b"\x1f\x8b"


def _parse_mb(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise InvalidArgument(f"{where}={text!r} is not a size; give a positive number of MiB, "
                              f"e.g. {where}=64")
    return value


def set_max_mb(value: str | float | None) -> None:
    """Override the limit for this process (None: back to the environment or the default)."""
    _override.clear()
    if value is not None:
        _override.append(_parse_mb(str(value), "--max-file-mb"))


def max_bytes() -> int:
    """The largest document read, in bytes: ``--max-file-mb``, else ``$TSSBQS_PBT_MAX_FILE_MB``,
    else :data:`DEFAULT_MAX_MB` MiB."""
    if _override:
        return int(_override[0] * 1024 * 1024)
    text = os.environ.get(MAX_MB_ENV)
    mb = _parse_mb(text, MAX_MB_ENV) if text not in (None, "") else DEFAULT_MAX_MB
    return int(mb * 1024 * 1024)


def _too_big(source: str, size: int | None, limit: int) -> TraceFormatError:
    said = f"is {size:,} bytes" if size is not None else "holds more"
    mb = limit / 2**20
    return TraceFormatError(
        f"{source} {said}, more than the {f'{mb:,.0f}' if mb >= 100 else f'{mb:.3g}'} MiB "
        "limit for a JSON document "
        f"(a counterexample is well under 1 MiB, so this is probably not one); if it is, raise "
        f"the limit with {MAX_MB_ENV}=<MiB> or --max-file-mb <MiB>"
    )


def read_text(path: str | Path, source: str, *, limit: int | None = None) -> str:
    """The UTF-8 text of ``path`` (gunzipped when it is gzip data), at most ``limit`` bytes."""
    file = Path(path)
    limit = max_bytes() if limit is None else limit
    try:
        with file.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > limit:  # (a compressed file this size holds more still)
                raise _too_big(source, size, limit)
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise TraceFormatError(f"{source} does not exist") from None
    except IsADirectoryError:
        raise TraceFormatError(f"{source} is a directory, not a file") from None
    except OSError as exc:
        raise TraceFormatError(f"cannot read {source}: {exc.strerror or exc}") from None
    if data.startswith(_GZIP_MAGIC):
        data = _gunzip(file, source, limit)
    if len(data) > limit:
        raise _too_big(source, None, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TraceFormatError(f"{source} is not UTF-8 text (byte {exc.start}); the file is "
                               "corrupt or not a tssbqs-pbt file") from None


def _gunzip(file: Path, source: str, limit: int) -> bytes:
    try:
        with gzip.open(file, "rb") as handle:
            data = handle.read(limit + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise TraceFormatError(f"{source} is gzip data that does not decompress ({exc}); the "
                               "file is corrupt or truncated") from None
    if len(data) > limit:
        raise _too_big(source, None, limit)
    return data


def read_json(path: str | Path, source: str, *, limit: int | None = None) -> Any:
    """The JSON document in ``path``; ``source`` names it in messages (``"replay file 'x'"``)."""
    return parse_json(read_text(path, source, limit=limit), source, limit=limit)


def parse_json(text: str | bytes, source: str, *, limit: int | None = None) -> Any:
    """``json.loads`` that only raises :class:`TraceFormatError` (size, depth, duplicated keys,
    NaN/Infinity, oversized numbers and syntax each named)."""
    limit = max_bytes() if limit is None else limit
    if len(text) > limit:
        raise _too_big(source, len(text), limit)
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except _Refused as exc:
        raise TraceFormatError(f"{source}: {exc}; the file was edited or is corrupt") from None
    except json.JSONDecodeError as exc:
        raise TraceFormatError(
            f"{source} is not readable JSON: it is not valid JSON from line {exc.lineno}, column "
            f"{exc.colno} on ({exc.msg}); the file is corrupt or truncated") from None
    except RecursionError:
        raise too_deep(source) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise TraceFormatError(f"{source} is not readable JSON ({exc}); the file is "
                               "corrupt") from None


def too_deep(source: str) -> TraceFormatError:
    """The error for a document nested deeper than :data:`MAX_DEPTH` levels."""
    return TraceFormatError(f"{source} nests arrays and objects more than {MAX_DEPTH} levels "
                            "deep; a tssbqs-pbt file never does (a counterexample nests about "
                            "15): the file is corrupt or not one of ours")


class _Refused(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")
