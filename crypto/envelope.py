"""End-to-end envelope encryption: X25519 ECDH + HKDF-SHA256 + AES-256-GCM with associated data.

A sender seals a message to a recipient's X25519 public key. Each envelope uses a fresh ephemeral
key pair, so the AES key is unique per message. The associated data (for Tongdao: grant id,
request id, method and direction) is authenticated but not encrypted; opening with different
associated data fails, so a ciphertext cannot be replayed into another grant or request.

Wire format (all lengths fixed except the ciphertext)::

    version (1) | suite (1) | ephemeral public key (32) | nonce (12) | ciphertext || tag (16)

The header is part of the GCM associated data, so it cannot be altered either.

Suites (the suite byte): 1 = X25519 + HKDF-SHA256 + AES-256-GCM (default); 2 = X25519 +
HKDF-SM3 + SM4-GCM, for deployments that require the national SM3/SM4 algorithms (SM2 key
agreement is not offered: no well-kept C-backed SM2 implementation is available to Python here,
see docs/crypto.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tongdao.crypto.errors import EnvelopeError, KeyFormatError
from tongdao.crypto.randomness import RandomBytes, resolve

VERSION = 1
SUITE_X25519_HKDF_SHA256_AES256GCM = 1
SUITE_X25519_HKDF_SM3_SM4GCM = 2
SUITES = (SUITE_X25519_HKDF_SHA256_AES256GCM, SUITE_X25519_HKDF_SM3_SM4GCM)
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
HEADER_BYTES = 2 + KEY_BYTES + NONCE_BYTES
OVERHEAD_BYTES = HEADER_BYTES + TAG_BYTES
_HKDF_INFO = {
    SUITE_X25519_HKDF_SHA256_AES256GCM: b"tongdao/v1 envelope x25519-hkdf-sha256-aes256gcm",
    SUITE_X25519_HKDF_SM3_SM4GCM: b"tongdao/v1 envelope x25519-hkdf-sm3-sm4gcm",
}


@dataclass(frozen=True)
class EncryptionKeyPair:
    """An X25519 key pair for receiving envelopes.

    Attributes:
        private_key: 32 raw private-key bytes; keep secret.
        public_key: 32 raw public-key bytes; publish in the broker's directory.
    """

    private_key: bytes
    public_key: bytes

    def __repr__(self) -> str:  # never print the private key
        return f"EncryptionKeyPair(public_key={self.public_key.hex()})"

    @classmethod
    def generate(cls, rng: RandomBytes | None = None) -> EncryptionKeyPair:
        """Create a key pair from the CSPRNG (or ``rng`` in known-answer tests)."""
        return cls.from_private_bytes(resolve(rng)(KEY_BYTES))

    @classmethod
    def from_private_bytes(cls, private_key: bytes) -> EncryptionKeyPair:
        """Rebuild a key pair from its 32 private-key bytes.

        Raises:
            KeyFormatError: the key is not 32 bytes.
        """
        if len(private_key) != KEY_BYTES:
            raise KeyFormatError(f"X25519 private key must be {KEY_BYTES} bytes")
        sk = X25519PrivateKey.from_private_bytes(private_key)
        return cls(private_key=bytes(private_key), public_key=sk.public_key().public_bytes_raw())


def _derive_key(
    suite: int, shared: bytes, ephemeral_public: bytes, recipient_public: bytes
) -> bytes:
    sm = suite == SUITE_X25519_HKDF_SM3_SM4GCM
    return HKDF(
        algorithm=hashes.SM3() if sm else hashes.SHA256(),
        length=16 if sm else 32,
        salt=ephemeral_public + recipient_public,
        info=_HKDF_INFO[suite],
    ).derive(shared)


def _encrypt(suite: int, key: bytes, nonce: bytes, plaintext: bytes, ad: bytes) -> bytes:
    if suite == SUITE_X25519_HKDF_SHA256_AES256GCM:
        return AESGCM(key).encrypt(nonce, plaintext, ad)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(ad)
    return encryptor.update(plaintext) + encryptor.finalize() + encryptor.tag


def _decrypt(suite: int, key: bytes, nonce: bytes, ciphertext: bytes, ad: bytes) -> bytes:
    if suite == SUITE_X25519_HKDF_SHA256_AES256GCM:
        return AESGCM(key).decrypt(nonce, ciphertext, ad)
    body, tag = ciphertext[:-TAG_BYTES], ciphertext[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(ad)
    return decryptor.update(body) + decryptor.finalize()


def _load_public(public_key: bytes) -> X25519PublicKey:
    if len(public_key) != KEY_BYTES:
        raise KeyFormatError(f"X25519 public key must be {KEY_BYTES} bytes")
    return X25519PublicKey.from_public_bytes(public_key)


def seal(
    recipient_public_key: bytes,
    plaintext: bytes,
    associated_data: bytes,
    *,
    suite: int = SUITE_X25519_HKDF_SHA256_AES256GCM,
    rng: RandomBytes | None = None,
) -> bytes:
    """Encrypt ``plaintext`` so that only the holder of the recipient's private key can read it.

    Args:
        recipient_public_key: the recipient's 32-byte X25519 public key.
        plaintext: the message.
        associated_data: context bound to the ciphertext (must be given again to open it).
        suite: 1 (AES-256-GCM, default) or 2 (SM3/SM4).
        rng: random source for known-answer tests only; the CSPRNG otherwise.

    Returns:
        The envelope bytes (``OVERHEAD_BYTES`` longer than the plaintext).

    Raises:
        KeyFormatError: the public key is malformed.
    """
    if suite not in SUITES:
        raise EnvelopeError(f"unknown envelope suite {suite}")
    rand = resolve(rng)
    recipient = _load_public(recipient_public_key)
    ephemeral = X25519PrivateKey.from_private_bytes(rand(KEY_BYTES))
    ephemeral_public = ephemeral.public_key().public_bytes_raw()
    shared = ephemeral.exchange(recipient)
    if shared == bytes(KEY_BYTES):
        raise KeyFormatError("recipient public key is a low-order point")
    key = _derive_key(suite, shared, ephemeral_public, recipient_public_key)
    nonce = rand(NONCE_BYTES)
    header = bytes([VERSION, suite]) + ephemeral_public + nonce
    return header + _encrypt(suite, key, nonce, plaintext, header + associated_data)


def open_sealed(private_key: bytes, envelope: bytes, associated_data: bytes) -> bytes:
    """Decrypt an envelope made by :func:`seal`.

    Args:
        private_key: the recipient's 32-byte X25519 private key.
        envelope: bytes produced by :func:`seal`.
        associated_data: the same associated data the sender bound.

    Returns:
        The plaintext.

    Raises:
        EnvelopeError: the envelope is truncated, of an unknown version or suite, was altered, or
            was sealed for other associated data or another recipient.
        KeyFormatError: the private key is malformed.
    """
    if len(envelope) < OVERHEAD_BYTES:
        raise EnvelopeError("envelope is truncated")
    if envelope[0] != VERSION:
        raise EnvelopeError(f"unknown envelope version {envelope[0]}")
    suite = envelope[1]
    if suite not in SUITES:
        raise EnvelopeError(f"unknown envelope suite {suite}")
    keys = EncryptionKeyPair.from_private_bytes(private_key)
    ephemeral_public = envelope[2 : 2 + KEY_BYTES]
    nonce = envelope[2 + KEY_BYTES : HEADER_BYTES]
    header = envelope[:HEADER_BYTES]
    shared = X25519PrivateKey.from_private_bytes(private_key).exchange(
        _load_public(ephemeral_public)
    )
    key = _derive_key(suite, shared, ephemeral_public, keys.public_key)
    try:
        return _decrypt(suite, key, nonce, envelope[HEADER_BYTES:], header + associated_data)
    except InvalidTag:
        raise EnvelopeError(
            "envelope does not authenticate (altered, wrong recipient or wrong associated data)"
        ) from None
