"""Chunked stream encryption: order, truncation, direction and context are all authenticated."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tongdao.crypto.errors import EnvelopeError
from tongdao.crypto.paillier import Evaluator, InvalidCiphertext, generate_paillier_keypair
from tongdao.crypto.stream import (
    DOWNSTREAM,
    UPSTREAM,
    ChunkOpener,
    ChunkSealer,
    StreamDigest,
    new_stream_secret,
)

CONTEXT = b"grant-1|request-1|intersection_sum"


def sealed(chunks, *, secret=b"k" * 32, context=CONTEXT, direction=UPSTREAM):
    sealer = ChunkSealer(secret, context, direction)
    return [sealer.seal(c, final=i == len(chunks) - 1) for i, c in enumerate(chunks)]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=8))
def test_round_trip_in_order(chunks):
    opener = ChunkOpener(b"k" * 32, CONTEXT, UPSTREAM)
    assert [opener.open(c) for c in sealed(chunks)] == chunks
    opener.require_finished()


def test_reordered_dropped_or_repeated_chunks_are_refused():
    a, b, c = sealed([b"a", b"b", b"c"])
    for wrong in ([b, a, c], [a, c], [a, a, b]):
        opener = ChunkOpener(b"k" * 32, CONTEXT, UPSTREAM)
        with pytest.raises(EnvelopeError, match="does not authenticate"):
            for chunk in wrong:
                opener.open(chunk)


def test_truncation_is_detected():
    a, b, _ = sealed([b"a", b"b", b"c"])
    opener = ChunkOpener(b"k" * 32, CONTEXT, UPSTREAM)
    opener.open(a)
    opener.open(b)
    with pytest.raises(EnvelopeError, match="cut after 2 chunks"):
        opener.require_finished()


def test_nothing_after_the_final_chunk():
    (only,) = sealed([b"x"])
    opener = ChunkOpener(b"k" * 32, CONTEXT, UPSTREAM)
    opener.open(only)
    with pytest.raises(EnvelopeError, match="after the final"):
        opener.open(only)
    sealer = ChunkSealer(b"k" * 32, CONTEXT, UPSTREAM)
    sealer.seal(b"x", final=True)
    with pytest.raises(EnvelopeError, match="already finished"):
        sealer.seal(b"y")


@pytest.mark.parametrize(
    ("secret", "context", "direction"),
    [
        (b"j" * 32, CONTEXT, UPSTREAM),  # another stream's secret
        (b"k" * 32, b"grant-1|request-2|intersection_sum", UPSTREAM),  # another request
        (b"k" * 32, CONTEXT, DOWNSTREAM),  # reflected back in the other direction
    ],
)
def test_chunks_do_not_open_in_another_stream_context_or_direction(secret, context, direction):
    (chunk,) = sealed([b"payload"])
    with pytest.raises(EnvelopeError):
        ChunkOpener(secret, context, direction).open(chunk)


def test_a_flipped_bit_is_refused():
    (chunk,) = sealed([b"payload"])
    bad = bytes([chunk[0] ^ 1]) + chunk[1:]
    with pytest.raises(EnvelopeError):
        ChunkOpener(b"k" * 32, CONTEXT, UPSTREAM).open(bad)
    with pytest.raises(EnvelopeError, match="too short"):
        ChunkOpener(b"k" * 32, CONTEXT, UPSTREAM).open(b"short")


def test_secret_must_be_32_bytes_and_fresh():
    with pytest.raises(EnvelopeError):
        ChunkSealer(b"short", CONTEXT, UPSTREAM)
    assert new_stream_secret() != new_stream_secret()
    assert new_stream_secret(lambda n: b"\x07" * n) == b"\x07" * 32  # injectable for KATs


def test_digest_counts_chunk_boundaries():
    one, two = StreamDigest(), StreamDigest()
    for c in (b"ab", b"c"):
        one.update(c)
    for c in (b"a", b"bc"):
        two.update(c)
    assert one.digest() != two.digest()
    assert (one.chunks, one.bytes) == (2, 3)


@pytest.fixture(scope="module")
def keypair():
    return generate_paillier_keypair(2048)


def test_sum_received_equals_the_plaintext_sum(keypair):
    public, private = keypair
    values = [5, -3, 10**12, 0, 7]
    blobs = [public.encrypt(v).to_bytes() for v in values]
    total = Evaluator(public).sum_received(blobs[:2])
    total = Evaluator(public).sum_received(blobs[2:], start=total)
    assert private.decrypt(total) == sum(values)


@pytest.mark.parametrize("kind", ["zero", "too_large", "shares_factor"])
def test_sum_received_refuses_invalid_ciphertexts(keypair, kind):
    public, private = keypair
    width = public.ciphertext_bytes
    bad = {
        "zero": 0,
        "too_large": int(public.nsquare),
        "shares_factor": int(private.p) * 12345,
    }[kind]
    blobs = [public.encrypt(1).to_bytes(), bad.to_bytes(width + 1, "big")]
    with pytest.raises(InvalidCiphertext):
        Evaluator(public).sum_received(blobs)
