"""Shoup's "Practical Threshold Signatures" (Eurocrypt 2000): threshold RSA, the "real" scheme.

Dealing.  N = pq with safe primes p = 2p'+1, q = 2q'+1 (:mod:`.real_keygen`), m = p'q',
e = 65537 (a prime larger than n), d = e^-1 mod m.  The dealer draws a polynomial f of degree
t-1 over Z_m with f(0) = d and gives server i the share s_i = f(i) mod m.  It publishes a
random square v and the verification keys v_i = v^{s_i} mod N.

Partial signature.  x is the EMSA-PKCS1-v1_5 encoding of SHA-256(msg) (so the combined
signature is an ordinary RSASSA-PKCS1-v1_5 signature that OpenSSL verifies).  With Δ = n!, server
i sends x_i = x^{2Δs_i} mod N and a proof (c, z) that log_v(v_i) = log_{x̃}(x_i^2), x̃ = x^{4Δ}:
v' = v^r, x' = x̃^r, c = H(v, x̃, v_i, x_i^2, v', x'), z = s_i·c + r with r < 2^{L(N)+2·256}.
H is SHA-256 and also binds the key id, epoch and signer.  r comes from a SHA-256 expansion of
(share secret, key, epoch, signer, msg) – like deterministic ECDSA nonces – so that the
simulation handlers that call :meth:`ShoupRSA.partial_sign` stay deterministic.

Combining.  For a set S of t signers the integers λ_i = Δ·∏_{j∈S∖i} j/(j-i) satisfy
Σ λ_i s_i ≡ Δd (mod m), so w = ∏ x_i^{2λ_i} = x^{4Δ²d}, i.e. w^e = x^{e'} with e' = 4Δ².  From
a·e' + b·e = 1 the signature is y = w^a·x^b, and y^e = x.  Only partials whose proof checks are
used (:func:`~tssbqs_pbt.crypto.api.select_valid_partials`), so Byzantine shares cannot
break ``combine`` while t valid ones are present.

Refresh.  The dealer adds a sharing of 0 (degree t-1, g(0) = 0) to every share; N, e, v and so
the public key stay, the v_i change, and partials of different epochs never verify together.
The epoch-k sharing polynomials are derived from a secret seed drawn at dealing time, so
``refresh`` is deterministic (the :class:`ThresholdScheme` contract) but unpredictable.

Speed.  v is fixed per key, so v^r, v^z and v^{s_i} use a precomputed fixed-base table
(Brickell–Gordon–McCurley–Wilson); so does v_i^c in verification.  The rest are gmpy2 powmods.

Keys and dealer secrets are cached on disk (see :mod:`.real_keygen`) and found again by
key id, so repeated runs get the same key and ``refresh`` works in a new process.
"""

from __future__ import annotations

import hashlib
import math
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import gmpy2
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tssbqs_pbt.crypto.api import (
    Dealing,
    KeyShare,
    PartialSignature,
    PublicKey,
    Signature,
    VerificationKeys,
    select_valid_partials,
)
from tssbqs_pbt.crypto.real_keygen import (
    DEALING_FORMAT,
    DealerRecord,
    cache_error,
    cache_lock,
    read_cache_file,
    resolve_cache_dir,
    safe_prime_pair,
    write_cache_file,
)
from tssbqs_pbt.errors import CryptoError, InvalidArgument
from tssbqs_pbt.validation import check_system_size

__all__ = [
    "PUBLIC_EXPONENT",
    "ShoupRSA",
    "encode_message",
    "public_key_pem",
    "public_key_to_cryptography",
    "share_value",
    "signature_bytes",
]

PUBLIC_EXPONENT = 65537
_SCHEME = "real"
_L1 = 256  # bits of the hash (SHA-256) in the proof
_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")  # DER prefix, SHA-256
_MEMO_LIMIT = 1024  # memoised verification keys and their fixed-base tables, per key


def _ib(value: Any) -> bytes:
    number = int(value)
    return number.to_bytes(number.bit_length() // 8 + 1, "big", signed=True)


def _hash(*parts: bytes) -> bytes:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.digest()


def _expand(seed: bytes, nbits: int) -> int:
    """A ``nbits``-bit integer from SHA-256 in counter mode over ``seed``."""
    blocks = (nbits + 255) // 256
    stream = b"".join(hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(blocks))
    return int.from_bytes(stream, "big") >> (blocks * 256 - nbits)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def encode_message(msg: bytes, modulus: int) -> int:
    """EMSA-PKCS1-v1_5 encoding of SHA-256(msg) for ``modulus``, as an integer.

    Moduli under 496 bits are too short for it; they get the toy encoding
    00 01 || SHA-256-expansion(digest), which no other RSA implementation accepts.
    """
    k = (modulus.bit_length() + 7) // 8
    digest = hashlib.sha256(msg).digest()
    t = _DIGEST_INFO + digest
    if k >= len(t) + 11:
        return int.from_bytes(b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t, "big")
    return (1 << (8 * (k - 2))) | _expand(b"tssbqs-pbt/shoup/short-encoding" + digest, 8 * (k - 2))


def share_value(x: int, secret: int, n: int, modulus: int) -> int:
    """The bare share exponentiation x_i = x^{2Δ·s_i} mod N (Δ = n!), as x^{2Δ} then ^s_i."""
    u = gmpy2.powmod(x, 2 * math.factorial(n), modulus)
    return int(gmpy2.powmod(u, secret, modulus))


class _FixedBase:
    """g^e mod N for a fixed g by BGMW: table g^(2^(w·j)), then ≈ e.bits/w + 2^w products."""

    __slots__ = ("_base", "_modulus", "_table", "_window")

    def __init__(self, base: int, modulus: Any, max_bits: int, window: int) -> None:
        self._base, self._modulus, self._window = gmpy2.mpz(base), modulus, window
        table, g = [], self._base % modulus
        for _ in range(-(-max_bits // window)):
            table.append(g)
            g = gmpy2.powmod(g, 1 << window, modulus)
        self._table = table

    def pow(self, exponent: int) -> Any:
        w, table, modulus = self._window, self._table, self._modulus
        if exponent < 0 or exponent.bit_length() > len(table) * w:
            return gmpy2.powmod(self._base, exponent, modulus)
        mask = (1 << w) - 1
        buckets: list[list[Any]] = [[] for _ in range(mask + 1)]
        j, e = 0, exponent
        while e:
            if e & mask:
                buckets[e & mask].append(table[j])
            e >>= w
            j += 1
        acc: Any = None
        run: Any = None  # product of table[j] over digits >= d
        for d in range(mask, 0, -1):
            for entry in buckets[d]:
                run = entry if run is None else run * entry % modulus
            if run is not None:
                acc = run if acc is None else acc * run % modulus
        return gmpy2.mpz(1) if acc is None else acc


class _Key:
    """One dealt key: public data, dealer secrets, per-epoch dealings and speed-up tables."""

    def __init__(self, record: DealerRecord) -> None:
        n, t, v, exponent = record.n, record.t, record.v, record.exponent
        self.n, self.t, self.v, self.exponent = n, t, v, exponent
        self.modulus = record.p * record.q
        self.mod = gmpy2.mpz(self.modulus)
        self.m = (record.p // 2) * (record.q // 2)
        self.delta = math.factorial(n)
        self.exp_bits = self.modulus.bit_length() + 2 * _L1 + 1  # bound on r and z
        self._v_table = _FixedBase(v, self.mod, self.exp_bits, 6)
        self._key_tables: dict[int, _FixedBase] = {}
        self._own_keys: dict[int, int] = {}
        shares = self._shares(record.coefficients)
        keys = tuple(self.v_pow(s) for s in shares)
        fingerprint = _hash(
            b"tssbqs-pbt/shoup/key", *map(_ib, (self.modulus, exponent, n, t, v, *keys))
        )
        self.key_id = fingerprint.hex()[:16]
        self.record = attrs.evolve(record, key_id=self.key_id)
        self.public_key = PublicKey(_SCHEME, self.key_id, n, t, self.modulus, exponent)
        self._coefficients = {0: record.coefficients}  # of f + g_1 + ... + g_epoch, by epoch
        self._dealings = {0: self._dealing(0, shares, keys)}

    @classmethod
    def create(cls, p: int, q: int, n: int, t: int) -> _Key:
        """A fresh dealing on the primes p, q (dealer randomness from :mod:`secrets`)."""
        m, modulus = (p // 2) * (q // 2), p * q
        d = int(gmpy2.invert(PUBLIC_EXPONENT, m))
        coefficients = (d, *(secrets.randbelow(m) for _ in range(t - 1)))
        v = 1
        while v <= 1 or math.gcd(v, modulus) != 1:
            v = pow(secrets.randbelow(modulus), 2, modulus)
        seed = secrets.token_bytes(32)
        return cls(DealerRecord(n, t, p, q, PUBLIC_EXPONENT, v, coefficients, seed))

    @classmethod
    def load(cls, data: Mapping[str, Any], path: Path) -> _Key:
        """The key of a cache file, checked against its stored key id."""
        record = DealerRecord.from_json(data, path)
        key = cls(record)
        if key.key_id != record.key_id:
            raise cache_error(path, "stored key_id does not match the stored key")
        return key

    def _shares(self, coefficients: tuple[int, ...]) -> list[int]:
        return [
            sum(c * i**j for j, c in enumerate(coefficients)) % self.m for i in range(1, self.n + 1)
        ]

    def _dealing(self, epoch: int, shares: list[int], keys: tuple[int, ...]) -> Dealing:
        key_shares = tuple(
            KeyShare(_SCHEME, self.key_id, i, epoch, s) for i, s in enumerate(shares, start=1)
        )
        return Dealing(
            self.public_key, VerificationKeys(self.key_id, epoch, self.v, keys), key_shares
        )

    def dealing(self, epoch: int) -> Dealing:
        """The dealing of key epoch ``epoch``: f plus the zero sharings g_1..g_epoch."""
        if epoch not in self._dealings:
            start = max(k for k in self._coefficients if k < epoch)
            coeffs = list(self._coefficients[start])
            nbits = self.m.bit_length() + 128
            for k in range(start + 1, epoch + 1):
                for j in range(1, self.t):
                    seed = _hash(
                        b"tssbqs-pbt/shoup/refresh", self.record.refresh_seed, _ib(k), _ib(j)
                    )
                    coeffs[j] = (coeffs[j] + _expand(seed, nbits)) % self.m
            self._coefficients[epoch] = tuple(coeffs)
            shares = self._shares(self._coefficients[epoch])
            keys = tuple(self.v_pow(s) for s in shares)
            self._dealings[epoch] = self._dealing(epoch, shares, keys)
        return self._dealings[epoch]

    def v_pow(self, exponent: int) -> int:
        return int(self._v_table.pow(exponent))

    def own_key(self, secret: int) -> int:
        """v^secret: a signer's verification key, from its own share (memoised)."""
        if secret not in self._own_keys:
            if len(self._own_keys) >= _MEMO_LIMIT:
                self._own_keys.clear()
            self._own_keys[secret] = self.v_pow(secret)
        return self._own_keys[secret]

    def key_pow(self, vi: int, c: int) -> Any:
        """vi^c for a verification key vi and a challenge c (fixed-base table per vi)."""
        table = self._key_tables.get(vi)
        if table is None:
            if len(self._key_tables) >= _MEMO_LIMIT:
                self._key_tables.clear()
            table = self._key_tables[vi] = _FixedBase(vi, self.mod, _L1, 4)
        return table.pow(c)

    def challenge(self, epoch: int, signer: int, *values: Any) -> int:
        parts = (self.key_id.encode(), _ib(epoch), _ib(signer), *map(_ib, values))
        return int.from_bytes(_hash(b"tssbqs-pbt/shoup/proof", *parts), "big")


_KEYS: dict[str, _Key] = {}  # every key dealt or loaded in this process, by key id


class ShoupRSA:
    """Shoup threshold RSA with a ``bits``-bit modulus; keys cached in ``cache_dir``."""

    name = _SCHEME

    def __init__(self, bits: int = 2048, cache_dir: str | os.PathLike[str] | None = None) -> None:
        if isinstance(bits, bool) or not isinstance(bits, int) or bits < 256 or bits % 2:
            raise InvalidArgument(
                f"bits={bits!r} is not a usable RSA modulus size; pass an even whole number "
                f">= 256 (2048 for signatures that other RSA implementations accept)"
            )
        self.bits = bits
        self.cache_dir = resolve_cache_dir(cache_dir)
        self._dealt: dict[tuple[int, int], Dealing] = {}
        self._missing: set[str] = set()

    def __repr__(self) -> str:
        return f"ShoupRSA(bits={self.bits}, cache_dir={str(self.cache_dir)!r})"

    def deal(self, n: int, t: int) -> Dealing:
        """Epoch 0 of the cached (n, t) key of this size; generated and cached if missing."""
        check_system_size(n, t)
        if n >= PUBLIC_EXPONENT:
            raise InvalidArgument(
                f"n={n} servers needs a public exponent above n but e={PUBLIC_EXPONENT}; "
                f"use n < {PUBLIC_EXPONENT}"
            )
        if (n, t) not in self._dealt:
            path = self.cache_dir / f"shoup-{self.bits}-n{n}-t{t}.json"
            with cache_lock(self.cache_dir):
                data = read_cache_file(path, DEALING_FORMAT)
                if data is None:
                    key = _Key.create(*safe_prime_pair(self.cache_dir, self.bits), n, t)
                    write_cache_file(path, key.record.to_json())
                else:
                    key = _Key.load(data, path)
                    if (key.n, key.t, key.modulus.bit_length()) != (n, t, self.bits):
                        raise cache_error(path, f"it holds no {self.bits}-bit key for n={n}, t={t}")
            key = _KEYS.setdefault(key.key_id, key)
            self._missing.clear()
            self._dealt[(n, t)] = key.dealing(0)
        return self._dealt[(n, t)]

    def _lookup(self, key_id: object) -> _Key | None:
        """The key with this id: dealt in this process or found in the cache directory."""
        if not isinstance(key_id, str):
            return None
        key = _KEYS.get(key_id)
        if key is not None or key_id in self._missing:
            return key
        for path in sorted(self.cache_dir.glob(f"shoup-{self.bits}-n*-t*.json")):
            try:
                data = read_cache_file(path, DEALING_FORMAT)
            except InvalidArgument:
                continue
            if data is not None and data.get("key_id") == key_id:
                key = _KEYS.setdefault(key_id, _Key.load(data, path))
                return key
        self._missing.add(key_id)
        return None

    def _require(self, key_id: str, public_key: PublicKey | None = None) -> _Key:
        key = self._lookup(key_id)
        if key is None:
            raise InvalidArgument(
                f"unknown real-scheme key {key_id!r} (not dealt in this process nor cached in "
                f"{self.cache_dir}); deal it with ShoupRSA(bits={self.bits}).deal(n, t) first"
            )
        if public_key is not None and public_key != key.public_key:
            raise InvalidArgument(
                f"public key {public_key!r} does not match the dealt key {key.key_id}; "
                f"pass the public_key of the dealing"
            )
        return key

    def refresh(self, dealing: Dealing) -> Dealing:
        """The next epoch's dealing (the dealer's secrets come from memory or the cache)."""
        key = self._require(dealing.public_key.key_id, dealing.public_key)
        epoch = dealing.epoch
        if not _is_int(epoch) or epoch < 0:
            raise InvalidArgument(f"dealing epoch {epoch!r} is not a whole number >= 0")
        return key.dealing(epoch + 1)

    def partial_sign(self, share: KeyShare, msg: bytes) -> PartialSignature:
        """x_i = x^{2Δs_i} with its proof (c, z); deterministic in (share, msg)."""
        key = self._require(share.key_id)
        if not 1 <= share.index <= key.n or share.secret < 0 or share.epoch < 0:
            raise InvalidArgument(f"{share!r} has no valid index 1..{key.n}, secret and epoch")
        mod, secret = key.mod, share.secret
        x = encode_message(msg, key.modulus)
        xi = share_value(x, secret, key.n, key.modulus)
        xt = gmpy2.powmod(x, 4 * key.delta, mod)
        xi2 = gmpy2.powmod(xi, 2, mod)
        vi = key.own_key(secret)
        seed = _hash(
            b"tssbqs-pbt/shoup/nonce",
            _ib(secret),
            key.key_id.encode(),
            _ib(share.epoch),
            _ib(share.index),
            msg,
        )
        r = _expand(seed, key.exp_bits - 1)
        v1 = key.v_pow(r)
        x1 = gmpy2.powmod(xt, r, mod)
        c = key.challenge(share.epoch, share.index, key.v, xt, vi, xi2, v1, x1)
        return PartialSignature(key.key_id, share.index, share.epoch, msg, xi, (c, secret * c + r))

    def verify_partial(
        self, verification: VerificationKeys, partial: PartialSignature, msg: bytes
    ) -> bool:
        """Whether the proof of ``partial`` checks; False (never an error) on garbage."""
        try:
            return self._verify_partial(verification, partial, msg)
        except (ArithmeticError, ValueError, TypeError):  # garbage input: not a valid partial
            return False

    def _verify_partial(
        self, verification: VerificationKeys, partial: PartialSignature, msg: bytes
    ) -> bool:
        if not (
            isinstance(verification, VerificationKeys)
            and isinstance(partial, PartialSignature)
            and isinstance(msg, bytes)
        ):
            return False
        key = self._lookup(verification.key_id)
        if key is None or partial.key_id != key.key_id or partial.msg != msg:
            return False
        epoch, signer, value, proof = partial.epoch, partial.signer, partial.value, partial.proof
        if not (_is_int(epoch) and epoch == verification.epoch and _is_int(signer)):
            return False
        if (
            not 1 <= signer <= key.n
            or verification.base != key.v
            or len(verification.keys) != key.n
        ):
            return False
        vi = verification.keys[signer - 1]
        if not (
            _is_int(vi) and _is_int(value) and 0 < vi < key.modulus and 0 < value < key.modulus
        ):
            return False
        if not (isinstance(proof, tuple) and len(proof) == 2 and all(map(_is_int, proof))):
            return False
        c, z = proof
        if not (0 <= c < 1 << _L1 and 0 <= z < 1 << key.exp_bits):
            return False
        mod = key.mod
        xt = gmpy2.powmod(encode_message(msg, key.modulus), 4 * key.delta, mod)
        xi2 = gmpy2.powmod(value, 2, mod)
        v1 = key.v_pow(z) * gmpy2.invert(key.key_pow(vi, c), mod) % mod
        x1 = gmpy2.powmod(xt, z, mod) * gmpy2.invert(gmpy2.powmod(xi2, c, mod), mod) % mod
        return c == key.challenge(epoch, signer, key.v, xt, vi, xi2, v1, x1)

    def combine(
        self,
        public_key: PublicKey,
        verification: VerificationKeys,
        msg: bytes,
        partials: Iterable[PartialSignature],
    ) -> Signature:
        """y = w^a·x^b from the first t valid partials (see the module docstring)."""
        key = self._require(public_key.key_id, public_key)
        if verification.key_id != key.key_id:
            raise InvalidArgument(
                f"verification keys of key {verification.key_id} cannot combine partials for "
                f"key {key.key_id}; pass the verification keys of the same dealing"
            )
        chosen = select_valid_partials(self, public_key, verification, msg, partials)
        mod, x = key.mod, encode_message(msg, key.modulus)
        signers = [partial.signer for partial in chosen]
        w = gmpy2.mpz(1)
        for partial in chosen:
            i = partial.signer
            num, den = key.delta, 1
            for j in signers:
                if j != i:
                    num, den = num * j, den * (j - i)
            w = w * gmpy2.powmod(partial.value, 2 * (num // den), mod) % mod
        g, a, b = gmpy2.gcdext(4 * key.delta**2, key.exponent)
        y = gmpy2.powmod(w, a, mod) * gmpy2.powmod(x, b, mod) % mod
        if g != 1 or gmpy2.powmod(y, key.exponent, mod) != x:
            raise CryptoError(
                f"combined signature of key {key.key_id} from signers {signers} does not verify "
                f"although every partial's proof checked; the key material is inconsistent"
            )
        return Signature(key.key_id, msg, int(y))

    def verify(self, public_key: PublicKey, msg: bytes, signature: Signature) -> bool:
        """Textbook RSA: y^e mod N equals the PKCS#1 v1.5 encoding of ``msg``."""
        try:
            if not (isinstance(public_key, PublicKey) and isinstance(signature, Signature)):
                return False
            modulus, exponent, value = public_key.modulus, public_key.exponent, signature.value
            if not (
                signature.key_id == public_key.key_id
                and signature.msg == msg
                and isinstance(msg, bytes)
                and _is_int(value)
                and _is_int(modulus)
                and _is_int(exponent)
                and modulus > 2
                and exponent > 0
                and 0 <= value < modulus
            ):
                return False
            return bool(gmpy2.powmod(value, exponent, modulus) == encode_message(msg, modulus))
        except (ArithmeticError, ValueError, TypeError):
            return False


def public_key_to_cryptography(public_key: PublicKey) -> rsa.RSAPublicKey:
    """The public key as a ``cryptography`` RSA public key (verify with PKCS1v15 + SHA256)."""
    if not (public_key.modulus and public_key.exponent):
        raise InvalidArgument(
            f"public key {public_key.key_id} of scheme {public_key.scheme!r} has no RSA modulus; "
            f"only keys of the real scheme (ShoupRSA) convert"
        )
    return rsa.RSAPublicNumbers(public_key.exponent, public_key.modulus).public_key()


def public_key_pem(public_key: PublicKey) -> bytes:
    """The public key as PEM SubjectPublicKeyInfo (``openssl dgst -verify`` reads it)."""
    return public_key_to_cryptography(public_key).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def signature_bytes(public_key: PublicKey, signature: Signature) -> bytes:
    """The signature as big-endian bytes of the modulus' length (the RSASSA-PKCS1-v1_5 format)."""
    return signature.value.to_bytes((public_key.modulus.bit_length() + 7) // 8, "big")
