"""PSI blinding: commutativity, intersection correctness, validation, streaming."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.psi import PsiBlinder, PsiError, hash_to_point

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
