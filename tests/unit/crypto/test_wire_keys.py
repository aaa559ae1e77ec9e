"""Keys and envelopes from the wire: authenticated sealing, low-order keys, small Paillier keys.
Every refusal is a typed crypto error, never a ValueError."""

from __future__ import annotations

import pytest

from tongdao.crypto.envelope import (
    HEADER_BYTES,
    EncryptionKeyPair,
    check_public_key,
    open_authenticated,
    open_sealed,
    seal,
    seal_authenticated,
)
from tongdao.crypto.errors import CryptoError, EnvelopeError, KeyFormatError, ParameterError
from tongdao.crypto.paillier import PaillierPublicKey, generate_paillier_keypair
from tongdao.crypto.psi import LOW_ORDER_U
from tongdao.crypto.stream import ChunkSealer

NODE = EncryptionKeyPair.from_private_bytes(bytes(range(32)))
CONSUMER = EncryptionKeyPair.from_private_bytes(bytes(range(1, 33)))
BROKER = EncryptionKeyPair.from_private_bytes(bytes(range(2, 34)))
AD = b"grant|request|fetch|query"
LOW_ORDER = [u.to_bytes(32, "little") for u in LOW_ORDER_U if u < 2**255]


def test_authenticated_envelope_opens_only_under_its_senders_key():
    env = seal_authenticated(CONSUMER.private_key, NODE.public_key, b"keys", AD)
    assert open_authenticated(NODE.private_key, CONSUMER.public_key, env, AD) == b"keys"
    with pytest.raises(EnvelopeError):  # a relay's own key cannot pass for the consumer's
        open_authenticated(NODE.private_key, BROKER.public_key, env, AD)
    with pytest.raises(EnvelopeError):  # not a plain envelope either
        open_sealed(NODE.private_key, env, AD)
    with pytest.raises(EnvelopeError):
        open_authenticated(NODE.private_key, CONSUMER.public_key, env, AD + b"x")


def test_a_plain_envelope_is_not_accepted_as_authenticated():
    """What a broker can make with only the node's public key is refused."""
    env = seal(NODE.public_key, b"keys", AD)
    with pytest.raises(EnvelopeError):
        open_authenticated(NODE.private_key, CONSUMER.public_key, env, AD)
    forged = bytes([2]) + env[1:]  # relabelled as authenticated: the key derivation differs
    with pytest.raises(EnvelopeError):
        open_authenticated(NODE.private_key, CONSUMER.public_key, forged, AD)


@pytest.mark.parametrize("low", LOW_ORDER, ids=lambda b: b.hex()[:8])
def test_low_order_ephemeral_key_gives_the_envelope_error(low):
    env = seal(NODE.public_key, b"x", AD)
    bad = env[:2] + low + env[2 + 32 :]
    assert len(bad) == len(env) and bad[HEADER_BYTES:] == env[HEADER_BYTES:]
    with pytest.raises(EnvelopeError):
        open_sealed(NODE.private_key, bad, AD)
    auth = seal_authenticated(CONSUMER.private_key, NODE.public_key, b"x", AD)
    with pytest.raises(EnvelopeError):
        open_authenticated(NODE.private_key, CONSUMER.public_key, auth[:2] + low + auth[34:], AD)


@pytest.mark.parametrize("low", LOW_ORDER, ids=lambda b: b.hex()[:8])
def test_low_order_keys_are_refused_as_recipient_and_sender(low):
    with pytest.raises(KeyFormatError):
        seal(low, b"x", AD)
    env = seal_authenticated(CONSUMER.private_key, NODE.public_key, b"x", AD)
    with pytest.raises(EnvelopeError):
        open_authenticated(NODE.private_key, low, env, AD)


@pytest.mark.parametrize("low", LOW_ORDER, ids=lambda b: b.hex()[:8])
def test_directory_keys_of_low_order_are_refused(low):
    with pytest.raises(KeyFormatError):
        check_public_key(low)
    assert check_public_key(NODE.public_key) == NODE.public_key
    with pytest.raises(KeyFormatError):
        check_public_key(NODE.public_key[:31])


def test_malformed_keys_are_typed_errors():
    with pytest.raises(KeyFormatError):
        seal(b"short", b"x", AD)
    env = seal_authenticated(CONSUMER.private_key, NODE.public_key, b"x", AD)
    with pytest.raises(EnvelopeError):
        open_authenticated(NODE.private_key, b"short", env, AD)


def test_stream_direction_is_a_typed_error():
    with pytest.raises(ParameterError):
        ChunkSealer(bytes(32), b"ctx", "sideways")


PK_1024, _ = generate_paillier_keypair(1024)


def test_paillier_keys_below_2048_bits_are_refused_from_the_wire():
    data = PK_1024.to_bytes()
    with pytest.raises(KeyFormatError, match="below the minimum 2048"):
        PaillierPublicKey.from_bytes(data)
    assert PaillierPublicKey.from_bytes(data, min_key_bits=1024) == PK_1024


def _key_bytes(n: int, hs: int, size: int) -> bytes:
    return size.to_bytes(2, "big") + n.to_bytes(size, "big") + hs.to_bytes(2 * size, "big")


@pytest.mark.parametrize(
    "n, hs",
    [
        pytest.param(2**2000 + 1, 5, id="undersized-n-in-a-2048-bit-field"),
        pytest.param(2**2047 * 2, 5, id="even-n"),
        pytest.param(2**2047 + 1, 0, id="hs-zero"),
        pytest.param(0, 0, id="zero"),
        pytest.param((2**1024 + 643) ** 2, 5, id="square-n"),
    ],
)
def test_undersized_or_malformed_paillier_values_are_typed_errors(n, hs):
    size = 256
    n %= 2 ** (8 * size)
    with pytest.raises(KeyFormatError):
        PaillierPublicKey.from_bytes(_key_bytes(n, hs, size))


def test_paillier_truncated_and_unsupported_sizes():
    for data in (b"", b"\x00", b"\x01\x00" + bytes(10), b"\x00\x40" + bytes(3 * 64)):
        with pytest.raises(KeyFormatError):
            PaillierPublicKey.from_bytes(data)
    with pytest.raises(ParameterError):
        generate_paillier_keypair(1000)


def test_every_crypto_error_is_typed_not_value_error():
    for cls in (EnvelopeError, KeyFormatError, ParameterError):
        assert issubclass(cls, CryptoError) and not issubclass(cls, ValueError)


@pytest.mark.parametrize("kept", [1024, 2])  # the remembered secrets, also when they overflow
def test_remembered_key_agreements_never_mix_up_pairs_of_keys(kept, monkeypatch):
    from tongdao.crypto import envelope

    monkeypatch.setattr(envelope, "_STATIC_SECRETS_KEPT", kept)
    senders = [EncryptionKeyPair.generate() for _ in range(3)]
    recipients = [NODE, BROKER]
    for _round in range(2):  # the second round meets every pair's remembered secret
        for sender in senders:
            for recipient in recipients:
                env = seal_authenticated(sender.private_key, recipient.public_key, b"k", AD)
                assert open_authenticated(recipient.private_key, sender.public_key, env, AD) == b"k"
                for other in senders:
                    if other is not sender:
                        with pytest.raises(EnvelopeError):
                            open_authenticated(recipient.private_key, other.public_key, env, AD)
                for wrong in recipients:
                    if wrong is not recipient:
                        with pytest.raises(EnvelopeError):
                            open_authenticated(wrong.private_key, sender.public_key, env, AD)
    env = seal_authenticated(CONSUMER.private_key, NODE.public_key, b"x", AD)
    for _ in range(2):  # a low-order sender key is refused every time, not once
        with pytest.raises(EnvelopeError):
            open_authenticated(NODE.private_key, LOW_ORDER[0], env, AD)
