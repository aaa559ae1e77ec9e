"""PSI blinding: commutativity, intersection correctness, validation, streaming."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from tongdao.crypto import crypto_mb, psi
from tongdao.crypto.errors import ParameterError
from tongdao.crypto.psi import (
    LOW_ORDER_U,
    PsiBlinder,
    PsiError,
    hash_to_point,
    hash_to_points,
    is_low_order,
    split_points,
)

ROOT = Path(__file__).resolve().parents[3]
VECTORS = json.loads((Path(__file__).parent / "vectors" / "psi.json").read_text())


@settings(max_examples=30, deadline=None)
@given(st.binary(min_size=0, max_size=64))
def test_blinding_commutes(item):
    a, b = PsiBlinder(), PsiBlinder()
    assert b.reblind(a.blind(item)) == a.reblind(b.blind(item))


@settings(max_examples=10, deadline=None)
@given(st.sets(st.integers(0, 300), max_size=60), st.sets(st.integers(0, 300), max_size=60))
def test_intersection_matches_plaintext(xs, ys):
    consumer, provider = PsiBlinder(), PsiBlinder()
    x_items = [str(x).encode() for x in sorted(xs)]
    y_items = [str(y).encode() for y in sorted(ys)]
    double_x = provider.reblind_many(consumer.blind_many(x_items))
    double_y = set(consumer.reblind_many(provider.blind_many(y_items)))
    found = {x for x, d in zip(sorted(xs), double_x, strict=True) if d in double_y}
    assert found == xs & ys


def test_known_answer_vectors():
    for v in VECTORS["cases"]:
        blinder = PsiBlinder(bytes.fromhex(v["scalar"]))
        assert hash_to_point(v["item"].encode()).hex() == v["point"]
        assert blinder.blind(v["item"].encode()).hex() == v["blinded"]


def test_low_order_and_malformed_points_are_refused():
    b = PsiBlinder()
    with pytest.raises(PsiError):
        b.reblind(bytes(32))  # the point of order 1/2: all-zero shared secret
    with pytest.raises(PsiError):
        b.reblind(b"short")
    with pytest.raises(PsiError):
        PsiBlinder(b"short")


def test_stream_equals_batch_and_is_chunked():
    b = PsiBlinder()
    items = [f"key-{i}".encode() for i in range(1000)]
    chunks = list(b.blind_stream(iter(items), chunk=128))
    assert max(len(c) for c in chunks) == 128
    assert [p for c in chunks for p in c] == b.blind_many(items)


def test_domain_separation():
    assert hash_to_point(b"x", b"one") != hash_to_point(b"x", b"two")


def test_scalar_never_in_repr():
    b = PsiBlinder(bytes(range(32)))
    assert bytes(range(32)).hex() not in repr(b)


def test_reblind_is_x25519_rfc7748():
    v = VECTORS["rfc7748"]
    assert PsiBlinder(bytes.fromhex(v["scalar"])).reblind(bytes.fromhex(v["u"])).hex() == v["out"]


def test_reblind_stream_and_shared_pool_match_batch():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    a, b = PsiBlinder(), PsiBlinder()
    items = [str(i).encode() for i in range(9000)]
    batch = a.blind_many(items)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert a.blind_many(items, executor=pool) == batch
        double = b.reblind_many(batch, executor=pool)
    streamed = [p for chunk in b.reblind_stream(iter(batch), chunk=1000) for p in chunk]
    assert streamed == double
    with pytest.raises(PsiError):
        next(b.reblind_stream([b"\x00" * 32]))


# ---------------------------------------------------------------- both backends, same function

P = 2**255 - 19
LOW_ORDER_ENCODINGS = [u.to_bytes(32, "little") for u in LOW_ORDER_U] + [
    (u + 2**255).to_bytes(32, "little")
    for u in LOW_ORDER_U  # bit 255 is ignored (RFC 7748)
]


def _openssl(scalar: bytes, point: bytes) -> bytes | None:
    try:
        return X25519PrivateKey.from_private_bytes(scalar).exchange(
            X25519PublicKey.from_public_bytes(point)
        )
    except ValueError:
        return None


def _crypto_mb():
    try:
        return crypto_mb.load()
    except crypto_mb.CryptoMbUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(params=["crypto_mb", "openssl"])
def backend(request, monkeypatch):
    """Run a test once per backend (the crypto_mb run is skipped where it cannot load)."""
    mb = _crypto_mb() if request.param == "crypto_mb" else None
    monkeypatch.setattr(psi, "_backend", mb)
    monkeypatch.setattr(psi, "_backend_chosen", True)
    assert psi.backend() == request.param
    return request.param


def test_low_order_list_is_exactly_the_points_openssl_refuses():
    scalar = bytes(range(32))
    for point in LOW_ORDER_ENCODINGS:
        assert is_low_order(point)
        assert _openssl(scalar, point) is None
    # and its neighbours are ordinary points
    for u in (2, 3, P - 2, P + 2, 2**255 - 1):
        assert not is_low_order(u.to_bytes(32, "little"))
        assert _openssl(scalar, u.to_bytes(32, "little")) is not None


@pytest.mark.parametrize("index", [0, 5, 8, 4095])
def test_batches_refuse_low_order_and_malformed_points(backend, index):
    b = PsiBlinder()
    good = split_points(hash_to_points([str(i).encode() for i in range(4096)]))
    for bad in LOW_ORDER_ENCODINGS:
        points = list(good)
        points[index] = bad
        with pytest.raises(PsiError):
            b.reblind_many(points)
        with pytest.raises(PsiError):
            b.reblind_packed(b"".join(points))
    with pytest.raises(PsiError):
        b.reblind_many([*good[:10], b"short"])
    with pytest.raises(PsiError):
        b.reblind_packed(b"".join(good[:10]) + b"x")
    with pytest.raises(PsiError):
        next(b.reblind_stream([*good[:9], bytes(32)]))


def test_single_point_refuses_every_low_order_encoding():
    b = PsiBlinder()
    for bad in LOW_ORDER_ENCODINGS:
        with pytest.raises(PsiError):
            b.reblind(bad)


def _random_points(n: int) -> list[bytes]:
    return split_points(hash_to_points([os.urandom(16) for _ in range(n)]))


# inputs on which crypto_mb 2026.2 returns wrong results for some scalars (found by differential
# testing against OpenSSL; docs/crypto.md): u close to p, and values with long runs of ones
CRYPTO_MB_BAD_INPUTS = [
    (P - 2).to_bytes(32, "little"),
    (P - 400).to_bytes(32, "little"),
    (2**255 - 1412).to_bytes(32, "little"),
    (0x7FFFFFFFFFFFF00000000000020000000000000000000000000).to_bytes(32, "little"),
    (0x8000000000000FFFFFFFFFFFFFFFFFFFFFFFFFF0000000000002).to_bytes(32, "little"),
    (0x7FFFFFFFFFFF << 156 | 0xF << 152).to_bytes(32, "little"),
]


def test_crypto_mb_matches_openssl_on_random_points():
    mb = _crypto_mb()
    points = _random_points(4000)
    for scalar in (bytes(32), b"\xff" * 32, os.urandom(32), os.urandom(32)):
        out, status = mb.x25519(scalar, b"".join(points))
        assert status == 0
        assert split_points(out) == [_openssl(scalar, p) for p in points]


def test_crypto_mb_partial_groups_and_empty():
    mb = _crypto_mb()
    scalar = os.urandom(32)
    points = _random_points(21)
    for n in (0, 1, 7, 8, 9, 21):
        out, status = mb.x25519(scalar, b"".join(points[:n]))
        assert status == 0
        assert split_points(out) == [_openssl(scalar, p) for p in points[:n]]
    with pytest.raises(ParameterError):
        mb.x25519(scalar[:31], b"")


def test_peer_points_never_reach_crypto_mb(backend, monkeypatch):
    def refuse(self, scalar, points):
        raise AssertionError("a peer point reached crypto_mb")

    monkeypatch.setattr(crypto_mb.CryptoMb, "x25519", refuse)
    b = PsiBlinder()
    points = _random_points(100) + CRYPTO_MB_BAD_INPUTS
    expected = [_openssl(b._scalar, p) for p in points]
    assert b.reblind_many(points) == expected
    assert b.reblind_packed(b"".join(points)) == b"".join(expected)
    assert [p for c in b.reblind_stream(points, chunk=16) for p in c] == expected


def test_own_points_near_p_go_to_openssl(backend):
    b = PsiBlinder()
    near_p = [(P - d).to_bytes(32, "little") for d in range(2, 40)]
    points = b"".join(_random_points(20) + near_p)
    out = psi._scalarmult_packed(b, points, "point", own=True)
    assert split_points(out) == [_openssl(b._scalar, p) for p in split_points(points)]


def test_crypto_mb_disagreement_falls_back_to_openssl(backend, monkeypatch):
    if backend != "crypto_mb":
        pytest.skip("crypto_mb path only")
    real = crypto_mb.CryptoMb.x25519

    def corrupt(self, scalar, points):
        out, status = real(self, scalar, points)
        return bytes(32 * 5) + out[32 * 5 :], status  # wrong (zero) results in the first lanes

    monkeypatch.setattr(crypto_mb.CryptoMb, "x25519", corrupt)
    monkeypatch.setattr(psi, "SPOT_CHECK_EVERY", 1)
    b = PsiBlinder()
    items = [str(i).encode() for i in range(50)]
    with pytest.warns(RuntimeWarning, match="recomputed with OpenSSL"):
        assert b.blind_many(items) == [b.blind(x) for x in items]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.binary(min_size=0, max_size=40), min_size=1, max_size=40), st.data())
def test_batch_blinding_commutes_on_both_backends(items, data):
    mb = crypto_mb.load() if _mb_loads() else None
    a = PsiBlinder(data.draw(st.binary(min_size=32, max_size=32)))
    b = PsiBlinder(data.draw(st.binary(min_size=32, max_size=32)))
    results = []
    for chosen in [None, mb] if mb else [None]:
        psi._backend, psi._backend_chosen = chosen, True
        try:
            ab = b.reblind_many(a.blind_many(items))
            ba = a.reblind_many(b.blind_many(items))
        finally:
            psi._backend_chosen = False
        assert ab == ba
        assert ab == [b.reblind(a.blind(x)) for x in items]
        results.append(ab)
    assert all(r == results[0] for r in results)


def _mb_loads() -> bool:
    try:
        crypto_mb.load()
    except crypto_mb.CryptoMbUnavailable:
        return False
    return True


def test_known_answer_vectors_on_batches(backend):
    for v in VECTORS["cases"]:
        blinder = PsiBlinder(bytes.fromhex(v["scalar"]))
        items = [v["item"].encode()] * 9
        assert blinder.blind_many(items) == [bytes.fromhex(v["blinded"])] * 9
    rfc = VECTORS["rfc7748"]
    blinder = PsiBlinder(bytes.fromhex(rfc["scalar"]))
    assert blinder.reblind_packed(bytes.fromhex(rfc["u"]) * 8).hex() == rfc["out"] * 8


def test_packed_and_list_apis_agree_with_progress():
    b = PsiBlinder()
    items = [f"k{i}".encode() for i in range(10_000)]
    seen: list[tuple[int, int]] = []
    packed = b.blind_packed(items, progress=lambda d, t: seen.append((d, t)))
    assert split_points(packed) == b.blind_many(items)
    assert seen[-1] == (10_000, 10_000) and len(seen) == 3
    assert b.reblind_packed(packed) == b"".join(b.reblind_many(split_points(packed)))


def test_shared_pool_uses_packed_chunks_and_matches_local():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    a = PsiBlinder()
    items = [str(i).encode() for i in range(2 * psi.POOL_CHUNK + 5)]
    seen: list[int] = []
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        pooled = a.blind_many(items, executor=pool, progress=lambda d, t: seen.append(d))
        double = a.reblind_packed(b"".join(pooled), executor=pool)
    assert seen == [psi.POOL_CHUNK, 2 * psi.POOL_CHUNK, len(items)]
    assert pooled == a.blind_many(items)
    assert double == b"".join(a.reblind_many(pooled))


def test_backend_env_openssl_and_unknown():
    code = "from tongdao.crypto import psi; print(psi.backend())"
    env = {**os.environ, "TONGDAO_PSI_BACKEND": "openssl", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "openssl" and "RuntimeWarning" not in out.stderr
    env["TONGDAO_PSI_BACKEND"] = "bogus"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "TONGDAO_PSI_BACKEND" in out.stderr


def test_fallback_warns_once_and_forced_crypto_mb_fails_loudly(monkeypatch):
    def unavailable():
        raise crypto_mb.CryptoMbUnavailable("no IFMA here")

    monkeypatch.setattr(crypto_mb, "load", unavailable)
    monkeypatch.setattr(psi, "_backend_chosen", False)
    monkeypatch.setattr(psi, "_backend", None)
    monkeypatch.setenv("TONGDAO_PSI_BACKEND", "auto")
    with pytest.warns(RuntimeWarning, match="falls back to OpenSSL"):
        assert psi.backend() == "openssl"
    assert PsiBlinder(bytes(32)).blind_many([b"x"] * 9)  # works on the fallback
    monkeypatch.setattr(psi, "_backend_chosen", False)
    monkeypatch.setenv("TONGDAO_PSI_BACKEND", "crypto_mb")
    with pytest.raises(PsiError, match="no IFMA here"):
        psi.backend()
