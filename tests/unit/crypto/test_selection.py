"""Verified 0/1 selections (crypto.selection): completeness, the sum law, and a consumer that
tries to make the provider sum anything but a 0/1 selection — packed weights, a forged proof,
a doctored modulus, replayed records, a false count."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import gmpy2
import pytest
from gmpy2 import mpz
from hypothesis import given, settings
from hypothesis import strategies as st

from tongdao.crypto import selection
from tongdao.crypto.paillier import PlaintextOverflow
from tongdao.crypto.selection import (
    SelectedSum,
    SelectionKey,
    SelectionKeyError,
    SelectionProofError,
    SelectionPublicKey,
)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "selection.json").read_text())
CONTEXT = b"session context"


def _drbg(seed: bytes):
    state = {"c": 0}

    def rng(n: int) -> bytes:
        out = b""
        while len(out) < n:
            out += hashlib.sha256(seed + state["c"].to_bytes(8, "big")).digest()
            state["c"] += 1
        return out[:n]

    return rng


@pytest.fixture(scope="module")
def key() -> SelectionKey:
    return SelectionKey.generate(2048)


@pytest.fixture(scope="module")
def public(key) -> SelectionPublicKey:
    return SelectionPublicKey.from_bytes(key.public_key.to_bytes())


def summed(key, public, bits, values, claimed=None):
    total = SelectedSum(public)
    total.add(public.verifier(CONTEXT).verify(key.prove(bits, CONTEXT, 0), 0), values)
    return key.decrypt_sum(total.result(sum(bits) if claimed is None else claimed))


@settings(max_examples=8, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(-(10**12), 10**12)), max_size=12))
def test_the_sum_is_the_selected_rows_sum(key, public, rows):
    bits, values = [b for b, _ in rows], [v for _, v in rows]
    assert summed(key, public, bits, values) == sum(b * v for b, v in rows)


def test_known_answer_vector():
    v = VECTORS
    key = SelectionKey.generate(2048, rng=_drbg(v["seed"].encode()))
    assert hashlib.sha256(key.public_key.to_bytes()).hexdigest() == v["public_key_sha256"]
    records = key.prove(v["bits"], v["context"].encode(), v["start"])
    assert hashlib.sha256(records).hexdigest() == v["records_sha256"]
    public = SelectionPublicKey.from_bytes(key.public_key.to_bytes())
    total = SelectedSum(public)
    total.add(public.verifier(v["context"].encode()).verify(records, v["start"]), v["values"])
    result = total.result(sum(v["bits"]), rng=_drbg(b"result"))
    assert hashlib.sha256(result).hexdigest() == v["result_sha256"]
    assert key.decrypt_sum(result) == v["sum"]


# ---------------------------------------------------------------- a cheating consumer


def _record(public, c: mpz, proof: bytes) -> bytes:
    return int(c).to_bytes(public.paillier.ciphertext_bytes, "big") + proof


def _split(public, record: bytes) -> tuple[mpz, bytes]:
    width = public.paillier.ciphertext_bytes
    return mpz(int.from_bytes(record[:width], "big")), record[width:]


def test_the_prover_refuses_a_weight_that_is_not_a_bit(key):
    with pytest.raises(SelectionProofError):
        key.prove([2**64], CONTEXT, 0)


@pytest.mark.parametrize("weight", [2, 2**64, -1, 2**62 + 1])
def test_a_packed_weight_does_not_verify(key, public, weight):
    """The attack on a bare encrypted selection: replace Enc(0) by Enc(weight) (same proof)."""
    n = public.paillier.n
    c, proof = _split(public, key.prove([0], CONTEXT, 0))
    packed = c * (1 + (weight % n) * n) % public.paillier.nsquare
    with pytest.raises(SelectionProofError, match="does not verify"):
        public.verifier(CONTEXT).verify(_record(public, packed, proof), 0)


def test_a_proof_simulated_in_both_branches_does_not_verify(key, public):
    """Without knowing a 0/1 opening the prover can only simulate both branches: the
    challenges then have to hit the hash, probability 2^-144 per attempt."""
    pk = public.paillier
    rng = _drbg(b"forger")
    c = pk.encrypt(2**64).value  # the weight the attacker wants summed
    bits = selection._response_bits(pk)
    zb = selection._response_bytes(pk)
    proof = b""
    for _ in range(selection.repetitions(pk)):
        e0 = int.from_bytes(rng(3), "big") % 2**24
        e1 = int.from_bytes(rng(3), "big") % 2**24
        z0 = int.from_bytes(rng(zb), "big") % 2**bits
        z1 = int.from_bytes(rng(zb), "big") % 2**bits
        proof += e0.to_bytes(3, "big") + e1.to_bytes(3, "big")
        proof += z0.to_bytes(zb, "big") + z1.to_bytes(zb, "big")
    with pytest.raises(SelectionProofError, match="does not verify"):
        public.verifier(CONTEXT).verify(_record(public, c, proof), 0)


def test_records_are_bound_to_the_session_and_the_row(key, public):
    records = key.prove([1, 0], CONTEXT, 5)
    assert len(public.verifier(CONTEXT).verify(records, 5)) == 2
    with pytest.raises(SelectionProofError):
        public.verifier(b"another session").verify(records, 5)
    with pytest.raises(SelectionProofError):
        public.verifier(CONTEXT).verify(records, 6)  # rows shifted
    swapped = records[len(records) // 2 :] + records[: len(records) // 2]
    with pytest.raises(SelectionProofError):
        public.verifier(CONTEXT).verify(swapped, 5)


@pytest.mark.parametrize("bad", ["zero", "n-squared", "shares-a-factor", "response-too-large"])
def test_out_of_range_values_are_refused(key, public, bad):
    c, proof = _split(public, key.prove([1], CONTEXT, 0))
    pk = public.paillier
    if bad == "zero":
        record = _record(public, mpz(0), proof)
    elif bad == "n-squared":
        record = _record(public, pk.nsquare, proof)
    elif bad == "shares-a-factor":
        record = _record(public, key.private_key.p, proof)
    else:
        zb = selection._response_bytes(pk)
        record = _record(public, c, proof[:6] + b"\xff" * zb + proof[6 + zb :])
    with pytest.raises(SelectionProofError, match="out of range"):
        public.verifier(CONTEXT).verify(record, 0)


def test_a_false_count_yields_noise(key, public):
    values = [123_456] * 12
    bits = [1, 1] + [0] * 10
    assert summed(key, public, bits, values) == 2 * 123_456
    for claimed in (10, 3, 0):
        try:
            value = summed(key, public, bits, values, claimed=claimed)
        except PlaintextOverflow:
            continue  # outside the signed range: noise
        assert not -(10**30) < value < 10**30


# ---------------------------------------------------------------- the consumer's key


def test_a_key_round_trips_and_is_checked(key, public):
    assert public.to_bytes() == key.public_key.to_bytes()
    again = SelectionKey.from_bytes(key.to_bytes())
    assert again.public_key.to_bytes() == key.public_key.to_bytes()


def _key_bytes(n: int, h: int, roots: list[int], size: int = 256) -> bytes:
    return size.to_bytes(2, "big") + b"".join(v.to_bytes(size, "big") for v in [n, h, *roots])


def test_a_modulus_with_a_small_factor_is_refused(key):
    pk = key.public_key
    f = 16_777_213  # the largest prime below 2^24
    n = gmpy2.next_prime(mpz(2) ** 2047 // f + 12345) * f
    assert int(n).bit_length() == 2048
    data = _key_bytes(int(n), 5, [int(r) for r in pk.roots])
    with pytest.raises(SelectionKeyError, match="prime factor below"):
        SelectionPublicKey.from_bytes(data)


def test_a_modulus_without_its_certificate_is_refused(key):
    pk = key.public_key
    n = int(pk.paillier.n)
    good = [int(r) for r in pk.roots]
    with pytest.raises(SelectionKeyError, match="certificate"):
        SelectionPublicKey.from_bytes(_key_bytes(n, int(pk.h), [good[0] + 1, *good[1:]]))
    with pytest.raises(SelectionKeyError, match="certificate"):  # the roots are bound to h
        SelectionPublicKey.from_bytes(_key_bytes(n, int(pk.h) + 1, good))


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00", (128).to_bytes(2, "big") + b"\x01" * 128 * 8, b"\x01\x00" + b"\xff" * 10],
    ids=["empty", "truncated", "1024-bit", "short"],
)
def test_malformed_or_small_keys_are_refused(data):
    with pytest.raises(SelectionKeyError):
        SelectionPublicKey.from_bytes(data)


def test_an_even_modulus_or_a_non_unit_generator_is_refused(key):
    pk = key.public_key
    n = int(pk.paillier.n)
    roots = [int(r) for r in pk.roots]
    with pytest.raises(SelectionKeyError, match="even"):
        SelectionPublicKey.from_bytes(_key_bytes(n - 1, int(pk.h), roots))
    with pytest.raises(SelectionKeyError, match="not a unit"):
        SelectionPublicKey.from_bytes(_key_bytes(n, int(key.private_key.p), roots))


def test_key_sizes_are_checked():
    with pytest.raises(SelectionKeyError):
        SelectionKey.generate(1024)
