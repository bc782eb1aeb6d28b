"""Shoup threshold RSA (``tssbqs_pbt.crypto.real``): signing, Byzantine partials, refresh, cache.

Fast tests use 512-bit keys generated into a per-session temporary cache.  The ``slow`` tests use
2048-bit keys from the user cache (``$TSSBQS_PBT_KEY_CACHE`` or ``~/.cache/tssbqs-pbt/keys``) and
check the combined signatures with ``cryptography`` and the ``openssl`` command line.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tssbqs_pbt.crypto import (
    Dealing,
    IdealScheme,
    PartialSignature,
    Signature,
    ThresholdScheme,
    check_partial,
    get_scheme,
    real,
)
from tssbqs_pbt.crypto.real import (
    PUBLIC_EXPONENT,
    ShoupRSA,
    encode_message,
    public_key_pem,
    public_key_to_cryptography,
    share_value,
    signature_bytes,
)
from tssbqs_pbt.crypto.real_keygen import CACHE_ENV, generate_safe_prime, resolve_cache_dir
from tssbqs_pbt.errors import InvalidArgument, InvalidPartialSignature, NotEnoughShares

MSG = b"write(x, v=42, ts=7)"
OTHER = b"write(x, v=666, ts=7)"


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shoup-keys")


@pytest.fixture(scope="session")
def scheme(key_dir: Path) -> ShoupRSA:
    return ShoupRSA(bits=512, cache_dir=key_dir)


@pytest.fixture(scope="session")
def d42(scheme: ShoupRSA) -> Dealing:
    return scheme.deal(4, 2)


@pytest.fixture(scope="session")
def d73(scheme: ShoupRSA) -> Dealing:
    return scheme.deal(7, 3)


def partials(scheme: ShoupRSA, dealing: Dealing, msg: bytes = MSG) -> list[PartialSignature]:
    return [scheme.partial_sign(share, msg) for share in dealing.shares]


def crypto_verify(dealing: Dealing, msg: bytes, sig: Signature) -> None:
    """Raise unless ``cryptography``'s stock RSA PKCS#1 v1.5 / SHA-256 check accepts ``sig``."""
    public_key_to_cryptography(dealing.public_key).verify(
        signature_bytes(dealing.public_key, sig), msg, padding.PKCS1v15(), hashes.SHA256()
    )


# --- construction, key generation ---------------------------------------------------------


@pytest.mark.parametrize("bits", [0, 128, 254, 255, 1025, True, 2048.0, "2048"])
def test_bad_modulus_sizes_are_rejected_with_the_fix(bits: object) -> None:
    with pytest.raises(InvalidArgument, match=r"bits=.*even whole number >= 256"):
        ShoupRSA(bits=bits, cache_dir="/nonexistent")  # type: ignore[arg-type]


def test_get_scheme_real_is_shoup(key_dir: Path) -> None:
    scheme = get_scheme("real", bits=512, cache_dir=key_dir)
    assert isinstance(scheme, ShoupRSA) and scheme.name == "real"
    assert isinstance(scheme, ThresholdScheme)


def test_safe_prime_generation() -> None:
    for _ in range(3):
        p = generate_safe_prime(256)
        assert p.bit_length() == 256 and p >> 254 == 3
        assert all(pow(2, k - 1, k) == 1 for k in (p, (p - 1) // 2))


def test_dealing_shape(d42: Dealing, d73: Dealing) -> None:
    for dealing, (n, t) in ((d42, (4, 2)), (d73, (7, 3))):
        pk = dealing.public_key
        assert (pk.scheme, pk.n, pk.t, pk.exponent) == ("real", n, t, PUBLIC_EXPONENT)
        assert pk.modulus.bit_length() == 512 and len(pk.key_id) == 16
        assert dealing.epoch == 0 and len(dealing.verification.keys) == n
        assert [s.index for s in dealing.shares] == list(range(1, n + 1))
        assert len({s.secret for s in dealing.shares}) == n
        assert str(dealing.shares[0].secret) not in repr(dealing.shares[0])
        for share, vi in zip(dealing.shares, dealing.verification.keys, strict=True):
            assert pow(dealing.verification.base, share.secret, pk.modulus) == vi
    assert d42.public_key.modulus == d73.public_key.modulus  # primes are cached per size
    assert d42.public_key.key_id != d73.public_key.key_id


def test_too_many_servers_for_the_exponent(scheme: ShoupRSA) -> None:
    with pytest.raises(InvalidArgument, match=r"n=65537 .*use n < 65537"):
        scheme.deal(PUBLIC_EXPONENT, 2)


# --- signing and combining ----------------------------------------------------------------


@pytest.mark.parametrize("which", ["d42", "d73"])
def test_every_t_subset_combines_to_the_same_valid_signature(
    scheme: ShoupRSA, which: str, request: pytest.FixtureRequest
) -> None:
    dealing: Dealing = request.getfixturevalue(which)
    pk, vk = dealing.public_key, dealing.verification
    parts = partials(scheme, dealing)
    assert all(scheme.verify_partial(vk, p, MSG) for p in parts)
    sigs = set()
    for subset in itertools.combinations(parts, pk.t):
        sig = scheme.combine(pk, vk, MSG, reversed(subset))
        assert scheme.verify(pk, MSG, sig) and sig.key_id == pk.key_id and sig.msg == MSG
        sigs.add(sig)
    assert len(sigs) == 1  # RSA-PKCS#1 v1.5 is deterministic: x^d whatever the subset
    crypto_verify(dealing, MSG, sigs.pop())


def test_share_value_is_the_partial_value(scheme: ShoupRSA, d42: Dealing) -> None:
    share, n = d42.shares[2], d42.public_key.n
    x = encode_message(MSG, d42.public_key.modulus)
    expected = pow(x, 2 * math.factorial(n) * share.secret, d42.public_key.modulus)
    assert share_value(x, share.secret, n, d42.public_key.modulus) == expected
    assert scheme.partial_sign(share, MSG).value == expected


@pytest.mark.parametrize("which", ["d42", "d73"])
def test_fewer_than_t_partials_do_not_combine(
    scheme: ShoupRSA, which: str, request: pytest.FixtureRequest
) -> None:
    dealing: Dealing = request.getfixturevalue(which)
    parts = partials(scheme, dealing)
    for subset in itertools.combinations(parts, dealing.public_key.t - 1):
        with pytest.raises(NotEnoughShares, match=rf"t={dealing.public_key.t} .* got"):
            scheme.combine(dealing.public_key, dealing.verification, MSG, subset)


def test_duplicates_from_one_signer_count_once(scheme: ShoupRSA, d42: Dealing) -> None:
    p1 = scheme.partial_sign(d42.shares[0], MSG)
    with pytest.raises(NotEnoughShares):
        scheme.combine(d42.public_key, d42.verification, MSG, [p1, p1, p1])


def test_partial_sign_is_deterministic(scheme: ShoupRSA, d42: Dealing, key_dir: Path) -> None:
    share = d42.shares[1]
    first = scheme.partial_sign(share, MSG)
    assert scheme.partial_sign(share, MSG) == first
    assert ShoupRSA(bits=512, cache_dir=key_dir).partial_sign(share, MSG) == first
    assert scheme.partial_sign(share, OTHER).proof != first.proof


def _tampered_secret(scheme: ShoupRSA, dealing: Dealing) -> PartialSignature:
    share = dealing.shares[2]
    return scheme.partial_sign(attrs.evolve(share, secret=share.secret + 1), MSG)


def _other_message(scheme: ShoupRSA, dealing: Dealing) -> PartialSignature:
    return attrs.evolve(scheme.partial_sign(dealing.shares[2], OTHER), msg=MSG)


CORRUPTIONS: dict[str, Callable[[ShoupRSA, Dealing, PartialSignature], PartialSignature]] = {
    "value+1": lambda s, d, p: attrs.evolve(p, value=p.value + 1),
    "value squared": lambda s, d, p: attrs.evolve(p, value=p.value**2 % d.public_key.modulus),
    "c+1": lambda s, d, p: attrs.evolve(p, proof=(p.proof[0] + 1, p.proof[1])),  # type: ignore[index]
    "z+1": lambda s, d, p: attrs.evolve(p, proof=(p.proof[0], p.proof[1] + 1)),  # type: ignore[index]
    "no proof": lambda s, d, p: attrs.evolve(p, proof=None),
    "relabelled S2->S3": lambda s, d, p: attrs.evolve(s.partial_sign(d.shares[1], MSG), signer=3),
    "tampered share secret": lambda s, d, p: _tampered_secret(s, d),
    "signed another message": lambda s, d, p: _other_message(s, d),
    "epoch relabelled": lambda s, d, p: attrs.evolve(p, epoch=1),
    "other key id": lambda s, d, p: attrs.evolve(p, key_id="0" * 16),
}


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_corrupted_partial_is_rejected_naming_the_signer(
    scheme: ShoupRSA, d73: Dealing, kind: str
) -> None:
    honest = scheme.partial_sign(d73.shares[2], MSG)
    bad = CORRUPTIONS[kind](scheme, d73, honest)
    assert bad.signer == 3
    assert not scheme.verify_partial(d73.verification, bad, MSG)
    with pytest.raises(InvalidPartialSignature, match=r"signer S3 rejected") as info:
        check_partial(scheme, d73.verification, bad, MSG)
    assert info.value.signer == 3
    check_partial(scheme, d73.verification, honest, MSG)  # the honest one passes


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_one_byzantine_partial_never_breaks_combine(
    scheme: ShoupRSA, d73: Dealing, kind: str
) -> None:
    honest = partials(scheme, d73)
    bad = CORRUPTIONS[kind](scheme, d73, honest[2])
    pk, vk = d73.public_key, d73.verification
    reference = scheme.combine(pk, vk, MSG, honest[3:6])
    for valid in ([honest[0], honest[1], honest[3]], [honest[4], honest[5], honest[6]]):
        sig = scheme.combine(pk, vk, MSG, [bad, *valid])
        assert sig == reference and scheme.verify(pk, MSG, sig)
    with pytest.raises(NotEnoughShares, match=r"rejected invalid partials from S3"):
        scheme.combine(pk, vk, MSG, [bad, honest[0], honest[1]])


GARBAGE: dict[str, dict[str, Any]] = {
    "negative value": {"value": -5},
    "zero value": {"value": 0},
    "value >= N": {"value": 1 << 600},
    "value not int": {"value": "12"},
    "bool signer": {"signer": True},
    "signer 0": {"signer": 0},
    "signer n+1": {"signer": 8},
    "signer str": {"signer": "1"},
    "epoch str": {"epoch": "0"},
    "short proof": {"proof": (1,)},
    "proof of strings": {"proof": ("a", "b")},
    "proof list": {"proof": [1, 2]},
    "negative c": {"proof": (-1, 5)},
    "huge z": {"proof": (1, 1 << 5000)},
    "msg not bytes": {"msg": "text"},
    "key id not str": {"key_id": 7},
}


@pytest.mark.parametrize("kind", list(GARBAGE))
def test_verify_partial_never_raises_on_garbage(scheme: ShoupRSA, d73: Dealing, kind: str) -> None:
    honest = scheme.partial_sign(d73.shares[0], MSG)
    bad = attrs.evolve(honest, **GARBAGE[kind])
    assert scheme.verify_partial(d73.verification, bad, MSG) is False


def test_verify_partial_with_garbage_keys_and_types(scheme: ShoupRSA, d73: Dealing) -> None:
    honest = scheme.partial_sign(d73.shares[0], MSG)
    vk = d73.verification
    n = d73.public_key.modulus
    prime = real._KEYS[vk.key_id].record.p
    assert not scheme.verify_partial(vk, attrs.evolve(honest, value=prime), MSG)
    for bad_vk in (
        attrs.evolve(vk, base=2),
        attrs.evolve(vk, keys=vk.keys[:-1]),
        attrs.evolve(vk, keys=(0, *vk.keys[1:])),
        attrs.evolve(vk, keys=(n, *vk.keys[1:])),
        attrs.evolve(vk, keys=(3, *vk.keys[1:])),
        attrs.evolve(vk, keys=(prime, *vk.keys[1:])),  # not invertible mod N
        attrs.evolve(vk, key_id="nope"),
    ):
        assert scheme.verify_partial(bad_vk, honest, MSG) is False
    assert scheme.verify_partial(None, honest, MSG) is False  # type: ignore[arg-type]
    assert scheme.verify_partial(vk, None, MSG) is False  # type: ignore[arg-type]
    assert scheme.verify_partial(vk, honest, None) is False  # type: ignore[arg-type]


def test_verify_rejects_wrong_signatures(scheme: ShoupRSA, d42: Dealing) -> None:
    pk = d42.public_key
    sig = scheme.combine(pk, d42.verification, MSG, partials(scheme, d42)[:2])
    assert scheme.verify(pk, MSG, sig)
    assert not scheme.verify(pk, OTHER, sig)
    assert not scheme.verify(pk, OTHER, attrs.evolve(sig, msg=OTHER))
    assert not scheme.verify(pk, MSG, attrs.evolve(sig, value=sig.value + 1))
    assert not scheme.verify(pk, MSG, attrs.evolve(sig, value=pk.modulus + sig.value))
    assert not scheme.verify(pk, MSG, attrs.evolve(sig, value="x"))  # type: ignore[arg-type]
    assert not scheme.verify(pk, MSG, attrs.evolve(sig, key_id="other"))
    ideal_pk = IdealScheme().deal(4, 2).public_key
    assert not scheme.verify(attrs.evolve(ideal_pk, key_id=pk.key_id), MSG, sig)
    with pytest.raises(InvalidSignature):
        crypto_verify(d42, OTHER, attrs.evolve(sig, msg=OTHER))


def test_combine_rejects_mismatched_keys(scheme: ShoupRSA, d42: Dealing, d73: Dealing) -> None:
    parts = partials(scheme, d42)
    with pytest.raises(InvalidArgument, match="verification keys of key"):
        scheme.combine(d42.public_key, d73.verification, MSG, parts)
    with pytest.raises(InvalidArgument, match="does not match the dealt key"):
        scheme.combine(attrs.evolve(d42.public_key, t=1), d42.verification, MSG, parts)


def test_unknown_key_is_a_clear_error(scheme: ShoupRSA, d42: Dealing) -> None:
    share = attrs.evolve(d42.shares[0], key_id="feedfacefeedface")
    with pytest.raises(InvalidArgument, match=r"unknown real-scheme key 'feedfacefeedface'"):
        scheme.partial_sign(share, MSG)


def test_exports_for_other_rsa_implementations(scheme: ShoupRSA, d42: Dealing) -> None:
    sig = scheme.combine(d42.public_key, d42.verification, MSG, partials(scheme, d42)[1:3])
    assert len(signature_bytes(d42.public_key, sig)) == 64
    assert public_key_pem(d42.public_key).startswith(b"-----BEGIN PUBLIC KEY-----")
    with pytest.raises(InvalidArgument, match="no RSA modulus"):
        public_key_to_cryptography(IdealScheme().deal(4, 2).public_key)


def test_toy_256_bit_keys_work(tmp_path: Path) -> None:
    scheme = ShoupRSA(bits=256, cache_dir=tmp_path)
    dealing = scheme.deal(4, 2)
    sig = scheme.combine(dealing.public_key, dealing.verification, MSG, partials(scheme, dealing))
    assert scheme.verify(dealing.public_key, MSG, sig)
    assert not scheme.verify(dealing.public_key, OTHER, attrs.evolve(sig, msg=OTHER))


# --- proactive refresh --------------------------------------------------------------------


def test_refresh(scheme: ShoupRSA, d73: Dealing) -> None:
    d1 = scheme.refresh(d73)
    pk = d73.public_key
    assert d1.epoch == 1 and d1.public_key == pk
    assert all(s.epoch == 1 for s in d1.shares)
    assert all(a.secret != b.secret for a, b in zip(d73.shares, d1.shares, strict=True))
    assert d1.verification.base == d73.verification.base
    assert set(d1.verification.keys).isdisjoint(d73.verification.keys)
    assert scheme.refresh(d73) == d1  # deterministic

    old, new = partials(scheme, d73), partials(scheme, d1)
    reference = scheme.combine(pk, d73.verification, MSG, old[:3])
    assert scheme.combine(pk, d1.verification, MSG, new[2:5]) == reference
    for p in old:
        assert not scheme.verify_partial(d1.verification, p, MSG)
        assert not scheme.verify_partial(d1.verification, attrs.evolve(p, epoch=1), MSG)
    for p in new:
        assert not scheme.verify_partial(d73.verification, p, MSG)
    for vk, mixed in ((d1.verification, [old[0], old[1], new[2]]),
                      (d73.verification, [new[0], new[1], old[2]])):  # fmt: skip
        with pytest.raises(NotEnoughShares):
            scheme.combine(pk, vk, MSG, mixed)

    d2 = scheme.refresh(d1)
    assert d2.epoch == 2 and d2.public_key == pk
    assert scheme.combine(pk, d2.verification, MSG, partials(scheme, d2)[4:]) == reference


# --- the key cache ------------------------------------------------------------------------


def test_cache_gives_the_same_dealing_in_a_new_process(
    scheme: ShoupRSA, d42: Dealing, key_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (key_dir / "safe-primes-512.json").is_file()
    assert (key_dir / "shoup-512-n4-t2.json").is_file()
    d1 = scheme.refresh(d42)
    monkeypatch.setattr(real, "_KEYS", {})  # forget every in-memory key: as in a new process
    again = ShoupRSA(bits=512, cache_dir=key_dir)
    assert again.deal(4, 2) == d42
    monkeypatch.setattr(real, "_KEYS", {})
    fresh = ShoupRSA(bits=512, cache_dir=key_dir)  # finds the key by id for signing / refresh
    assert fresh.partial_sign(d42.shares[0], MSG) == scheme.partial_sign(d42.shares[0], MSG)
    assert fresh.refresh(d42) == d1
    assert fresh.verify_partial(d1.verification, fresh.partial_sign(d1.shares[3], MSG), MSG)


def test_cache_dir_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "env"))
    assert ShoupRSA(bits=512).cache_dir == tmp_path / "env"
    assert ShoupRSA(bits=512, cache_dir=tmp_path / "arg").cache_dir == tmp_path / "arg"
    monkeypatch.delenv(CACHE_ENV)
    assert resolve_cache_dir(None) == Path.home() / ".cache" / "tssbqs-pbt" / "keys"


def _copy_cache(key_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "cache"
    target.mkdir()
    for name in ("safe-primes-512.json", "shoup-512-n4-t2.json"):
        shutil.copy(key_dir / name, target / name)
    return target


@pytest.mark.parametrize(
    ("name", "mangle"),
    [
        ("shoup-512-n4-t2.json", lambda data: "{not json"),
        ("shoup-512-n4-t2.json", lambda data: json.dumps([1, 2])),
        ("shoup-512-n4-t2.json", lambda data: json.dumps({**data, "v": "zz"})),
        ("shoup-512-n4-t2.json", lambda data: json.dumps({**data, "v": "1234"})),
        ("shoup-512-n4-t2.json", lambda data: json.dumps({**data, "coefficients": ["5", "7"]})),
        ("shoup-512-n4-t2.json", lambda data: json.dumps({**data, "refresh_seed": None})),
        ("shoup-512-n4-t2.json", lambda data: json.dumps({**data, "p": data["q"]})),
        ("safe-primes-512.json", lambda data: json.dumps({**data, "p": "ff"})),
    ],
)
def test_corrupt_cache_file_is_a_clear_error(
    d42: Dealing,
    key_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    mangle: Callable[[dict[str, object]], str],
) -> None:
    cache = _copy_cache(key_dir, tmp_path)
    path = cache / name
    path.write_text(mangle(json.loads(path.read_text())))
    monkeypatch.setattr(real, "_KEYS", {})
    scheme = ShoupRSA(bits=512, cache_dir=cache)
    n, t = (4, 3) if name.startswith("safe") else (4, 2)  # (4, 3) is not cached: needs primes
    with pytest.raises(
        InvalidArgument, match=rf"key cache file {re.escape(str(path))} is corrupt .*delete it"
    ):
        scheme.deal(n, t)


def test_unwritable_cache_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(InvalidArgument, match=r"cannot use key cache directory .*cache_dir"):
        ShoupRSA(bits=512, cache_dir=blocker / "keys").deal(2, 1)


# --- 2048-bit acceptance ------------------------------------------------------------------


@pytest.fixture(scope="module")
def scheme2048() -> ShoupRSA:
    return ShoupRSA(bits=2048)  # the user cache (or $TSSBQS_PBT_KEY_CACHE): reruns are fast


def _openssl_verify(dealing: Dealing, msg: bytes, sig: Signature, tmp_path: Path) -> bool:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command line tool is not on PATH")
    (tmp_path / "pub.pem").write_bytes(public_key_pem(dealing.public_key))
    (tmp_path / "msg.bin").write_bytes(msg)
    (tmp_path / "sig.bin").write_bytes(signature_bytes(dealing.public_key, sig))
    result = subprocess.run(
        [openssl, "dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig.bin", "msg.bin"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0 and "Verified OK" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(("n", "t"), [(4, 2), (7, 3)])
def test_2048_bit_signatures_verify_with_cryptography_and_openssl(
    scheme2048: ShoupRSA, n: int, t: int, tmp_path: Path
) -> None:
    dealing = scheme2048.deal(n, t)
    pk, vk = dealing.public_key, dealing.verification
    assert pk.modulus.bit_length() == 2048
    parts = partials(scheme2048, dealing)
    subsets = list(itertools.combinations(parts, t))
    sigs = {scheme2048.combine(pk, vk, MSG, subset) for subset in subsets[:: max(1, n - t)]}
    assert len(sigs) == 1
    sig = sigs.pop()
    assert scheme2048.verify(pk, MSG, sig)
    crypto_verify(dealing, MSG, sig)
    assert _openssl_verify(dealing, MSG, sig, tmp_path)
    assert not _openssl_verify(dealing, OTHER, sig, tmp_path)
    with pytest.raises(InvalidSignature):
        crypto_verify(dealing, OTHER, sig)


@pytest.mark.slow
@pytest.mark.parametrize(("n", "t"), [(4, 2), (7, 3)])
def test_2048_bit_any_t_minus_1_shares_cannot_sign(scheme2048: ShoupRSA, n: int, t: int) -> None:
    dealing = scheme2048.deal(n, t)
    pk, vk = dealing.public_key, dealing.verification
    modulus, x = pk.modulus, encode_message(MSG, pk.modulus)
    parts = partials(scheme2048, dealing)
    delta = math.factorial(n)
    for subset in itertools.combinations(parts, t - 1):
        with pytest.raises(NotEnoughShares):
            scheme2048.combine(pk, vk, MSG, subset)
        missing = next(i for i in range(1, n + 1) if i not in {p.signer for p in subset})
        forged = attrs.evolve(subset[0], signer=missing)  # pose as a t-th signer
        with pytest.raises(NotEnoughShares, match=rf"S{missing}"):
            scheme2048.combine(pk, vk, MSG, [*subset, forged])
        # Interpolating the t-1 shares as if the threshold were t-1 gives no valid signature.
        signers = [p.signer for p in subset]
        w = 1
        for p in subset:
            num = delta * math.prod(j for j in signers if j != p.signer)
            den = math.prod(j - p.signer for j in signers if j != p.signer)
            w = w * pow(p.value, 2 * (num // den), modulus) % modulus
        _, a, b = _egcd(4 * delta**2, pk.exponent)
        y = pow(w, a, modulus) * pow(x, b, modulus) % modulus
        assert pow(y, pk.exponent, modulus) != x
        assert not scheme2048.verify(pk, MSG, Signature(pk.key_id, MSG, y))


def _egcd(a: int, b: int) -> tuple[int, int, int]:
    if b == 0:
        return a, 1, 0
    g, x, y = _egcd(b, a % b)
    return g, y, x - (a // b) * y
