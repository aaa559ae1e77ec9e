"""Paillier against the phe oracle, algebraic laws, validation, encodings and packing."""

from decimal import Decimal

import numpy as np
import phe
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tongdao.crypto.encoding import FixedPointEncoder, PackingOverflow, PackingScheme
from tongdao.crypto.errors import KeyFormatError, ParameterError
from tongdao.crypto.paillier import (
    Ciphertext,
    Evaluator,
    InvalidCiphertext,
    PaillierPrivateKey,
    PaillierPublicKey,
    PlaintextOverflow,
    generate_paillier_keypair,
)

PK, SK = generate_paillier_keypair(1024)  # small key: fast tests; the laws do not depend on size
PHE_SK = SK.to_phe()
PHE_PK = PHE_SK.public_key
INTS = st.integers(min_value=-(2**200), max_value=2**200)


def test_keys_have_the_requested_size_and_g_is_n_plus_one():
    assert PK.key_bits == 1024
    assert PHE_PK.g == PK.n + 1


@settings(max_examples=25, deadline=None)
@given(INTS)
def test_encrypt_here_decrypt_in_phe_and_back(m):
    assert PHE_SK.decrypt(PK.encrypt(m).to_phe()) == m
    assert PHE_SK.decrypt(SK.encrypt(m).to_phe()) == m  # key-owner fast path
    assert SK.decrypt(Ciphertext.from_phe(PK, PHE_PK.encrypt(m))) == m


@settings(max_examples=25, deadline=None)
@given(INTS, INTS)
def test_addition_law(a, b):
    assert SK.decrypt(PK.encrypt(a) + PK.encrypt(b)) == a + b
    assert SK.decrypt(PK.encrypt(a) - PK.encrypt(b)) == a - b
    assert SK.decrypt(PK.encrypt(a) + b) == a + b
    # phe agrees on the same ciphertexts
    assert PHE_SK.decrypt(PK.encrypt(a).to_phe() + PK.encrypt(b).to_phe()) == a + b


NSQ = int(PK.nsquare)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, NSQ - 1),
    st.integers(0, NSQ - 1),
    st.integers(-int(PK.max_int), int(PK.max_int)),
)
def test_digit_form_arithmetic_is_multiplication_modulo_n_squared(x, y, k):
    # ciphertexts are kept as base-n digits; every result must be the textbook product mod n²
    cx, cy = Ciphertext(PK, x), Ciphertext(PK, y)
    assert int(cx.hi) * int(PK.n) + int(cx.lo) == x and 0 <= cx.lo < PK.n
    assert (cx + cy).value == x * y % NSQ
    assert (cx + k).value == x * (1 + (k % int(PK.n)) * int(PK.n)) % NSQ
    assert Evaluator(PK).sum([cx, cy, cx]).value == x * y * x % NSQ
    assert Evaluator(PK).sum([]).value == 1
    assert Ciphertext(PK, (cx + cy).value) == cx + cy


@settings(max_examples=25, deadline=None)
@given(st.integers(-(2**100), 2**100), st.integers(-(2**63), 2**64))
def test_scalar_multiplication_and_negation(a, k):
    assert SK.decrypt(PK.encrypt(a) * k) == a * k
    assert SK.decrypt(k * PK.encrypt(a)) == a * k
    assert SK.decrypt(-PK.encrypt(a)) == -a
    assert PHE_SK.decrypt(PK.encrypt(a).to_phe() * k) == a * k


def test_encryption_is_randomised_and_rerandomisable():
    a, b = PK.encrypt(5), PK.encrypt(5)
    assert a.value != b.value
    c = a.rerandomise()
    assert c.value != a.value and SK.decrypt(c) == 5


def test_evaluator_sums_with_the_public_key_only():
    ev = Evaluator(PaillierPublicKey.from_bytes(PK.to_bytes(), min_key_bits=1024))
    cts = [PK.encrypt(v) for v in range(-5, 50)]
    assert SK.decrypt(ev.sum(Ciphertext(ev.public_key, c.value) for c in cts)) == sum(range(-5, 50))


def test_overflow_is_detected_never_wrapped():
    with pytest.raises(PlaintextOverflow):
        PK.encrypt(int(PK.max_int) + 1)
    big = PK.encrypt(int(PK.max_int))
    with pytest.raises(PlaintextOverflow):
        SK.decrypt(big + big)


@pytest.mark.parametrize("bad", [0, -1, "n2", "multiple_of_p", "under_n2_plus"])
def test_invalid_ciphertexts_are_refused(bad):
    values = {
        "n2": int(PK.nsquare),
        "multiple_of_p": int(SK.p) * 12345,
        "under_n2_plus": int(PK.nsquare) + 5,
    }
    value = values.get(bad, bad)
    with pytest.raises(InvalidCiphertext):
        PK.ciphertext(value)
    if isinstance(value, int) and value > 0:
        with pytest.raises(InvalidCiphertext):
            SK.decrypt(Ciphertext(PK, value))


def test_ciphertexts_of_another_key_are_refused():
    other_pk, _ = generate_paillier_keypair(1024)
    with pytest.raises(InvalidCiphertext):
        PK.encrypt(1) + other_pk.encrypt(1)
    with pytest.raises(InvalidCiphertext):
        SK.decrypt(other_pk.encrypt(1))
    with pytest.raises(InvalidCiphertext):
        Ciphertext.from_phe(PK, other_pk.to_phe().encrypt(1))


def test_serialisation_round_trips():
    c = PK.encrypt(-99)
    assert SK.decrypt(PK.ciphertext(c.to_bytes())) == -99
    assert len(c.to_bytes()) == PK.ciphertext_bytes
    assert PaillierPublicKey.from_bytes(PK.to_bytes(), min_key_bits=1024) == PK
    sk2 = PaillierPrivateKey.from_bytes(SK.to_bytes())
    assert sk2.decrypt(c) == -99
    with pytest.raises(KeyFormatError):
        PaillierPublicKey.from_bytes(PK.to_bytes()[:-1], min_key_bits=1024)


def test_phe_key_pair_adopted():
    _pub, priv = phe.generate_paillier_keypair(n_length=1024)
    mine = PaillierPrivateKey.from_phe(priv)
    assert priv.decrypt(mine.public_key.encrypt(1234).to_phe()) == 1234
    assert repr(mine).count(str(int(mine.p))) == 0  # p never printed


def test_batches_lists_numpy_and_processes():
    values = np.arange(-300, 300, dtype=np.int64)
    seen = []
    cts = PK.encrypt_many(values, workers=2, progress=lambda d, t: seen.append((d, t)))
    assert SK.decrypt_many(cts) == values.tolist()
    assert seen[-1] == (600, 600)
    assert SK.decrypt_many(SK.encrypt_many([1, 2, 3])) == [1, 2, 3]


def test_fixed_point():
    enc = FixedPointEncoder(digits=4)
    total = enc.encrypt(PK, "12.3456") + enc.encrypt(PK, Decimal("-0.0456")) + enc.encrypt(PK, 0.5)
    assert enc.decrypt(SK, total) == Decimal("12.8000")
    with pytest.raises(ParameterError):
        enc.encode("nan")


@settings(max_examples=20, deadline=None)
@given(
    st.lists(st.lists(st.integers(-1000, 70_000), min_size=40, max_size=40), min_size=1, max_size=4)
)
def test_packing_round_trip_and_packed_addition(vectors):
    scheme = PackingScheme.for_bounds(PK, -1000, 70_000, additions=4)
    packed = [scheme.encrypt(PK, v) for v in vectors]
    total = [Evaluator(PK).sum(cs) for cs in zip(*packed, strict=True)]
    expected = [sum(col) for col in zip(*vectors, strict=True)]
    assert scheme.decrypt(SK, total, 40, summed=len(vectors)) == expected


def test_packing_overflow_is_detected():
    scheme = PackingScheme.for_bounds(PK, 0, 100, additions=2)
    assert scheme.slots > 10
    cts = scheme.encrypt(PK, [100] * 5)
    with pytest.raises(PackingOverflow):  # three additions where two were declared
        scheme.decrypt(SK, [cts[0] + cts[0] + cts[0]], 5, summed=3)
    with pytest.raises(PackingOverflow):  # the sum lies about how many were added
        scheme.decrypt(SK, [cts[0] + cts[0]], 5, summed=1)
    with pytest.raises(PackingOverflow):
        scheme.pack([101])


def _drbg(seed: bytes):
    import hashlib

    state = {"c": 0}

    def rng(n: int) -> bytes:
        out = b""
        while len(out) < n:
            out += hashlib.sha256(seed + state["c"].to_bytes(8, "big")).digest()
            state["c"] += 1
        return out[:n]

    return rng


def test_known_answer_vectors():
    import json
    from pathlib import Path

    from gmpy2 import mpz

    data = json.loads((Path(__file__).parent / "vectors" / "paillier-1024.json").read_text())
    pk, sk = generate_paillier_keypair(1024, rng=_drbg(b"tongdao kat key"))
    assert (int(pk.n), int(pk.hs), int(sk.p)) == (
        int(data["n"], 16),
        int(data["hs"], 16),
        int(data["p"], 16),
    )
    phe_sk = sk.to_phe()
    for case in data["cases"]:
        m, c = int(case["m"]), mpz(int(case["c"], 16))
        assert pk.encrypt(m, rng=_drbg(case["seed"].encode())).value == c
        assert sk.encrypt(m, rng=_drbg(case["seed"].encode())).value == c
        assert sk.decrypt(Ciphertext(pk, c)) == m
        assert phe_sk.decrypt(Ciphertext(pk, c).to_phe()) == m
