"""Roles (encryptor / decryptor / evaluator), batch serialisation, phe key adoption, processes."""

import numpy as np
import phe
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tongdao.crypto.errors import ParameterError
from tongdao.crypto.paillier import (
    Ciphertext,
    Decryptor,
    EncryptedNumber,
    Encryptor,
    Evaluator,
    InvalidCiphertext,
    PaillierPublicKey,
    ciphertexts_from_bytes,
    ciphertexts_to_bytes,
    generate_paillier_keypair,
)

PK, SK = generate_paillier_keypair(1024)
PHE_SK = SK.to_phe()


def test_roles_split_public_and_private_operations():
    public = PaillierPublicKey.from_bytes(PK.to_bytes(), min_key_bits=1024)  # as received
    enc, ev, dec = Encryptor(public), Evaluator(public), Decryptor(SK)
    a, b = enc.encrypt(40), enc.encrypt(-2)
    assert dec.decrypt(ev.subtract(a, b)) == 42
    assert dec.decrypt(ev.negate(a)) == -40
    assert dec.decrypt(ev.add_plain(a, 2)) == 42
    assert dec.decrypt(ev.multiply(a, -3)) == -120
    cts = enc.encrypt_many(np.array([1, 2, 3], dtype=np.int64))
    assert dec.decrypt(ev.dot(cts, np.array([4, 5, 6]))) == 32
    assert dec.decrypt_many(ev.multiply_vector(cts, [2, 2, 2])) == [2, 4, 6]
    with pytest.raises(ParameterError):
        ev.multiply_vector(cts, [1])
    assert EncryptedNumber is Ciphertext


def test_decrypt_array_types():
    dec = Decryptor(SK)
    small = dec.decrypt_array(PK.encrypt_many([1, -2, 3]))
    assert small.dtype == np.int64 and small.tolist() == [1, -2, 3]
    big = dec.decrypt_array([PK.encrypt(2**80)])
    assert big.dtype == object and big[0] == 2**80


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(-(2**300), 2**300), max_size=8))
def test_vector_bytes_round_trip_and_phe_agrees(values):
    cts = PK.encrypt_many(values)
    data = ciphertexts_to_bytes(cts)
    assert len(data) == len(values) * PK.ciphertext_bytes
    back = ciphertexts_from_bytes(PK, data)
    assert SK.decrypt_many(back) == values
    assert [PHE_SK.decrypt(c.to_phe()) for c in back] == values


def test_vector_bytes_refuse_bad_input():
    with pytest.raises(InvalidCiphertext):
        ciphertexts_from_bytes(PK, b"\x00" * (PK.ciphertext_bytes + 1))
    with pytest.raises(InvalidCiphertext):  # an all-zero ciphertext is not a unit
        ciphertexts_from_bytes(PK, b"\x00" * PK.ciphertext_bytes)
    other, _ = generate_paillier_keypair(1024)
    with pytest.raises(InvalidCiphertext):
        ciphertexts_to_bytes([PK.encrypt(1), other.encrypt(1)])
    with pytest.raises(InvalidCiphertext):
        Ciphertext.from_bytes(PK, PK.encrypt(1).to_bytes()[1:])
    assert SK.decrypt(Ciphertext.from_bytes(PK, PK.encrypt(7).to_bytes())) == 7


def test_public_key_adopted_from_phe_both_ways():
    phe_pk, phe_sk = phe.generate_paillier_keypair(n_length=1024)
    mine = PaillierPublicKey.from_phe(phe_pk)
    assert mine.to_phe() == phe_pk
    # encrypt here (DJN short exponent) and decrypt in phe; encrypt in phe, evaluate here
    assert phe_sk.decrypt(mine.encrypt(-77).to_phe()) == -77
    c = Ciphertext.from_phe(mine, phe_pk.encrypt(5))
    assert phe_sk.decrypt((c * 3 + mine.encrypt(1)).to_phe()) == 16


def test_raw_encrypt_with_given_obfuscator_matches_formula():
    r = PK.hs  # h_s^1: deterministic, for the formula only
    c = PK.encrypt_raw(5, r)
    assert c.value == (1 + 5 * PK.n) * r % PK.nsquare
    assert SK.decrypt(c) == 5


def test_parallel_decrypt_with_progress():
    values = list(range(-200, 200))
    cts = PK.encrypt_many(values)
    seen = []
    assert Decryptor(SK).decrypt_many(cts, workers=2, progress=lambda d, t: seen.append(d)) == (
        values
    )
    assert seen[-1] == 400
    other, _ = generate_paillier_keypair(1024)
    with pytest.raises(InvalidCiphertext):
        SK.decrypt_many([other.encrypt(1)] * 300, workers=2)
