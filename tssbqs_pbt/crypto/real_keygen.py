"""Safe-prime generation and the on-disk key cache of the real (Shoup RSA) scheme.

Shoup's scheme needs an RSA modulus N = pq made of two *safe* primes p = 2p'+1, q = 2q'+1.
:func:`generate_safe_prime` picks a random odd p' with its top two bits set and scans
p', p'+6, p'+12, ... (all ≡ 5 mod 6, so neither p' nor 2p'+1 is divisible by 2 or 3).  A
bytearray sieve over a window of candidates strikes out every p' for which p' or 2p'+1 has a
prime factor below ~2^18; the survivors get a base-2 Fermat test on p' and on p and only then
gmpy2's Miller–Rabin on both.  A 1024-bit safe prime takes well under a second on average.

Generated keys are expensive, so they are cached as JSON files (written atomically: temp file
+ :func:`os.replace`, mode 0600 because they hold dealer secrets) in a cache directory: the
``cache_dir`` argument, else ``$TSSBQS_PBT_KEY_CACHE``, else ``~/.cache/tssbqs-pbt/keys``.  A
safe-prime pair is cached per modulus size, so that dealing another (n, t) at the same size
reuses the primes.  An unreadable or inconsistent cache file raises :class:`InvalidArgument`
naming the file (it is never silently replaced: that would silently change the key).

Together with :mod:`tssbqs_pbt.crypto.real` this is the only module that imports ``gmpy2``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import tempfile
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import attrs
import gmpy2

from tssbqs_pbt.errors import InvalidArgument

__all__ = [
    "CACHE_ENV",
    "DEALING_FORMAT",
    "DealerRecord",
    "cache_error",
    "cache_lock",
    "generate_safe_prime",
    "hex_field",
    "read_cache_file",
    "resolve_cache_dir",
    "safe_prime_pair",
    "write_cache_file",
]

CACHE_ENV = "TSSBQS_PBT_KEY_CACHE"
_PRIMES_FORMAT = "tssbqs-pbt/safe-primes/1"
DEALING_FORMAT = "tssbqs-pbt/shoup-dealing/1"
_SIEVE_WIDTH = 1 << 17  # candidates per sieve window (p' = base + 6j, 0 <= j < width)


def resolve_cache_dir(cache_dir: str | os.PathLike[str] | None) -> Path:
    """The key cache directory: ``cache_dir``, else ``$TSSBQS_PBT_KEY_CACHE``, else the default."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "tssbqs-pbt" / "keys"


@lru_cache(maxsize=4)
def _sieve_table(bound: int) -> tuple[tuple[int, int, int], ...]:
    """(q, 6^-1 mod q, (q-1)/2) for every prime 5 <= q <= bound."""
    flags = bytearray([1]) * (bound + 1)
    flags[0] = flags[1] = 0
    for i in range(2, int(bound**0.5) + 1):
        if flags[i]:
            flags[i * i :: i] = bytes(len(range(i * i, bound + 1, i)))
    return tuple((q, pow(6, -1, q), (q - 1) // 2) for q in range(5, bound + 1) if flags[q])


def _sieve(base: int, width: int, table: tuple[tuple[int, int, int], ...]) -> bytearray:
    """flags[j] == 1 iff neither p' = base + 6j nor 2p' + 1 has a factor in ``table``."""
    flags = bytearray([1]) * width
    for q, inv6, half in table:
        r = base % q
        for target in (0, half):  # p' ≡ 0 (q divides p') or p' ≡ (q-1)/2 (q divides 2p'+1)
            j = (target - r) * inv6 % q
            if j < width:
                flags[j::q] = bytes((width - 1 - j) // q + 1)
    return flags


def generate_safe_prime(bits: int) -> int:
    """A random safe prime p = 2p'+1 of exactly ``bits`` bits with its top two bits set."""
    if bits < 64:
        raise InvalidArgument(f"safe prime size bits={bits} is too small; use at least 64 bits")
    b1 = bits - 1  # size of p'
    table = _sieve_table(max(1 << 10, min(1 << 18, bits << 8)))
    while True:
        base = secrets.randbits(b1 - 2) | (3 << (b1 - 2))
        base += (5 - base % 6) % 6
        flags = _sieve(base, _SIEVE_WIDTH, table)
        zbase = gmpy2.mpz(base)
        j = flags.find(1)
        while j >= 0:
            pp = zbase + 6 * j
            if pp.bit_length() != b1:
                break
            if gmpy2.powmod(2, pp - 1, pp) == 1:
                p = 2 * pp + 1
                # p' prime and 2^(p-1) ≡ 1 mod p prove p prime (Pocklington); MR is belt and braces.
                if (
                    gmpy2.powmod(2, p - 1, p) == 1
                    and gmpy2.is_prime(pp, 40)
                    and gmpy2.is_prime(p, 40)
                ):
                    return int(p)
            j = flags.find(1, j + 1)


def cache_error(path: Path, detail: str) -> InvalidArgument:
    """The error for a corrupt cache file: names the file and the fix."""
    return InvalidArgument(
        f"key cache file {path} is corrupt ({detail}); delete it to generate a new key, or point "
        f"cache_dir / ${CACHE_ENV} at another directory"
    )


@contextlib.contextmanager
def cache_lock(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``directory`` (so parallel workers generate a key only once)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle = open(directory / ".lock", "a+b")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise InvalidArgument(
            f"cannot use key cache directory {directory} ({exc}); pass a writable cache_dir or "
            f"set ${CACHE_ENV}"
        ) from exc
    with handle:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no cross-process lock
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_cache_file(path: Path, fmt: str) -> dict[str, Any] | None:
    """The JSON object in ``path`` (None if there is no such file); checks its format tag."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise cache_error(path, f"unreadable: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise cache_error(path, f"not JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != fmt:
        raise cache_error(path, f"expected a JSON object with format {fmt!r}")
    return data


def write_cache_file(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as JSON to ``path`` atomically (temp file in the same directory + replace)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def hex_field(data: Mapping[str, Any], name: str, path: Path) -> int:
    """The non-negative integer stored as a hex string under ``name``."""
    value = data.get(name)
    if not isinstance(value, str):
        raise cache_error(path, f"field {name!r} missing or not a hex string")
    try:
        number = int(value, 16)
    except ValueError as exc:
        raise cache_error(path, f"field {name!r} is not hexadecimal") from exc
    if number < 0:
        raise cache_error(path, f"field {name!r} is negative")
    return number


def _is_safe_prime(p: int, bits: int) -> bool:
    return (
        p.bit_length() == bits
        and p % 4 == 3
        and bool(gmpy2.is_prime(p, 2))
        and bool(gmpy2.is_prime((p - 1) // 2, 2))
    )


def safe_prime_pair(directory: Path, bits: int) -> tuple[int, int]:
    """Two distinct safe primes of ``bits // 2`` bits each, cached in ``directory``.

    The caller holds :func:`cache_lock` on ``directory``.
    """
    half = bits // 2
    path = directory / f"safe-primes-{bits}.json"
    data = read_cache_file(path, _PRIMES_FORMAT)
    if data is not None:
        p, q = hex_field(data, "p", path), hex_field(data, "q", path)
        if p == q or not (_is_safe_prime(p, half) and _is_safe_prime(q, half)):
            raise cache_error(path, f"p and q are not two distinct {half}-bit safe primes")
        return p, q
    p = generate_safe_prime(half)
    q = p
    while q == p:
        q = generate_safe_prime(half)
    write_cache_file(path, {"format": _PRIMES_FORMAT, "bits": bits, "p": f"{p:x}", "q": f"{q:x}"})
    return p, q


@attrs.frozen(repr=False)
class DealerRecord:
    """What the dealer keeps of one dealing (cached on disk): enough to re-deal every epoch."""

    n: int
    t: int
    p: int
    q: int
    exponent: int
    v: int  # the random square of the verification keys
    coefficients: tuple[int, ...]  # f over Z_m, f(0) = d
    refresh_seed: bytes  # derives the zero sharings of the refreshes
    key_id: str = ""

    def __repr__(self) -> str:
        return f"DealerRecord(key={self.key_id}, n={self.n}, t={self.t})"

    def to_json(self) -> dict[str, Any]:
        return {
            "format": DEALING_FORMAT,
            "bits": (self.p * self.q).bit_length(),
            "n": self.n,
            "t": self.t,
            "key_id": self.key_id,
            "modulus": f"{self.p * self.q:x}",
            "exponent": self.exponent,
            "v": f"{self.v:x}",
            "p": f"{self.p:x}",
            "q": f"{self.q:x}",
            "coefficients": [f"{c:x}" for c in self.coefficients],
            "refresh_seed": self.refresh_seed.hex(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], path: Path) -> DealerRecord:
        """The record in a cache file; raises the corrupt-file error if it is inconsistent."""
        coefficients, n, exponent = data.get("coefficients"), data.get("n"), data.get("exponent")
        if not isinstance(coefficients, list) or not coefficients:
            raise cache_error(path, "field 'coefficients' missing or empty")
        if not (
            isinstance(n, int) and isinstance(exponent, int) and isinstance(data.get("key_id"), str)
        ):
            raise cache_error(path, "fields 'n', 'exponent' or 'key_id' missing or wrong")
        p, q, v = (hex_field(data, name, path) for name in ("p", "q", "v"))
        coeffs = tuple(hex_field({"c": c}, "c", path) for c in coefficients)
        m, t = (p // 2) * (q // 2), len(coeffs)
        if (
            p % 4 != 3
            or q % 4 != 3
            or p == q
            or data.get("t") != t
            or not 1 <= t <= n < exponent
            or exponent * coeffs[0] % m != 1
            or any(c >= m for c in coeffs)
            or hex_field(data, "modulus", path) != p * q
            or not 1 < v < p * q
        ):
            raise cache_error(path, "the stored primes, exponent, v and polynomial do not fit")
        try:
            seed = bytes.fromhex(str(data.get("refresh_seed")))
        except ValueError as exc:
            raise cache_error(path, "field 'refresh_seed' is not hexadecimal") from exc
        if len(seed) < 16:
            raise cache_error(path, "field 'refresh_seed' is missing or too short")
        return cls(n, t, p, q, exponent, v, coeffs, seed, str(data["key_id"]))
