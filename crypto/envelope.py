"""End-to-end envelope encryption: X25519 ECDH + HKDF-SHA256 + AES-256-GCM with associated data.

A sender seals a message to a recipient's X25519 public key. Each envelope uses a fresh ephemeral
key pair, so the AES key is unique per message. The associated data (for Tongdao: grant id,
request id, method and direction) is authenticated but not encrypted; opening with different
associated data fails, so a ciphertext cannot be replayed into another grant or request.

Wire format (all lengths fixed except the ciphertext)::

    version (1) | suite (1) | ephemeral public key (32) | nonce (12) | ciphertext || tag (16)

The header is part of the GCM associated data, so it cannot be altered either.

Two modes (the version byte): version 1 (:func:`seal` / :func:`open_sealed`) authenticates
nothing about the sender; version 2 (:func:`seal_authenticated` / :func:`open_authenticated`,
HPKE's "auth" mode, RFC 9180 §5.1.3) mixes in a second Diffie–Hellman between the *sender's static*
key and the recipient's key, so only the holder of the sender's private key can make an envelope
that opens under that sender's public key. A node opens every query this way with the consumer key
named in the signed grant: a relay holding a grant token and the node's public key cannot make a
query the node accepts.

Every peer key is checked: a low-order (small-subgroup) ephemeral or static key gives an all-zero
shared secret and is refused with :class:`EnvelopeError` (opening) or :class:`KeyFormatError`
(sealing to it).

Suites (the suite byte): 1 = X25519 + HKDF-SHA256 + AES-256-GCM (default); 2 = X25519 +
HKDF-SM3 + SM4-GCM, for deployments that require the national SM3/SM4 algorithms (SM2 key
agreement is not offered: no well-kept C-backed SM2 implementation is available to Python here,
see docs/crypto.md).
"""

from __future__ import annotations

import hmac
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
VERSION_AUTHENTICATED = 2
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
_AUTH_INFO = b" auth"


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
    suite: int,
    shared: bytes,
    ephemeral_public: bytes,
    recipient_public: bytes,
    sender_public: bytes = b"",
) -> bytes:
    sm = suite == SUITE_X25519_HKDF_SM3_SM4GCM
    return HKDF(
        algorithm=hashes.SM3() if sm else hashes.SHA256(),
        length=16 if sm else 32,
        salt=ephemeral_public + recipient_public + sender_public,
        info=_HKDF_INFO[suite] + (_AUTH_INFO if sender_public else b""),
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


def check_public_key(public_key: bytes) -> bytes:
    """Accept an X25519 public key received from elsewhere (a directory entry, a grant).

    Returns:
        The key, unchanged.

    Raises:
        KeyFormatError: not 32 bytes, or a point of low order (any key agreement with it gives
            an all-zero secret, so nothing sealed to it would be secret).
    """
    probe = X25519PrivateKey.from_private_bytes(bytes([9] * KEY_BYTES))
    if _exchange(probe, public_key) is None:
        raise KeyFormatError("X25519 public key is a low-order point")
    return public_key


def _exchange(private: X25519PrivateKey, public_key: bytes) -> bytes | None:
    """X25519 with a peer key; None for a low-order key (all-zero shared secret)."""
    try:
        shared = private.exchange(_load_public(public_key))
    except ValueError:  # OpenSSL refuses an all-zero result
        return None
    return None if shared == bytes(KEY_BYTES) else shared


def _seal(
    version: int,
    recipient_public_key: bytes,
    plaintext: bytes,
    associated_data: bytes,
    suite: int,
    rng: RandomBytes | None,
    sender_private_key: bytes | None,
) -> bytes:
    if suite not in SUITES:
        raise EnvelopeError(f"unknown envelope suite {suite}")
    rand = resolve(rng)
    ephemeral = X25519PrivateKey.from_private_bytes(rand(KEY_BYTES))
    ephemeral_public = ephemeral.public_key().public_bytes_raw()
    shared = _exchange(ephemeral, recipient_public_key)
    sender_public = b""
    if shared is not None and sender_private_key is not None:
        sender, sender_public = _own_key(sender_private_key)
        static = _static_secret(sender, sender_public, recipient_public_key)
        shared = None if static is None else shared + static
    if shared is None:
        raise KeyFormatError("recipient public key is a low-order point")
    key = _derive_key(suite, shared, ephemeral_public, recipient_public_key, sender_public)
    nonce = rand(NONCE_BYTES)
    header = bytes([version, suite]) + ephemeral_public + nonce
    return header + _encrypt(suite, key, nonce, plaintext, header + associated_data)


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
        KeyFormatError: the public key is malformed or of low order.
        EnvelopeError: an unknown suite.
    """
    return _seal(VERSION, recipient_public_key, plaintext, associated_data, suite, rng, None)


def seal_authenticated(
    sender_private_key: bytes,
    recipient_public_key: bytes,
    plaintext: bytes,
    associated_data: bytes,
    *,
    suite: int = SUITE_X25519_HKDF_SHA256_AES256GCM,
    rng: RandomBytes | None = None,
) -> bytes:
    """Like :func:`seal`, and only the holder of ``sender_private_key`` could have made it.

    Args:
        sender_private_key: the sender's 32-byte X25519 private key (its public key is what the
            recipient checks against, e.g. the consumer key in a grant).
        recipient_public_key: the recipient's 32-byte X25519 public key.
        plaintext: the message.
        associated_data: context bound to the ciphertext.
        suite: 1 (AES-256-GCM, default) or 2 (SM3/SM4).
        rng: random source for known-answer tests only; the CSPRNG otherwise.

    Raises:
        KeyFormatError: a key is malformed or the recipient key is of low order.
        EnvelopeError: an unknown suite.
    """
    return _seal(
        VERSION_AUTHENTICATED,
        recipient_public_key,
        plaintext,
        associated_data,
        suite,
        rng,
        sender_private_key,
    )


_last_own: tuple[bytes, X25519PrivateKey, bytes] | None = None
_static_secrets: dict[tuple[bytes, bytes], bytes | None] = {}
_STATIC_SECRETS_KEPT = 1024  # pairs of keys; the whole memory is dropped when it is full


def _own_key(private_key: bytes) -> tuple[X25519PrivateKey, bytes]:
    """Our key object and public key, built once for the key in use (a node opens every query
    with the same key, a consumer seals every query and opens every answer with its own; building
    it costs as much as a key agreement)."""
    global _last_own
    last = _last_own
    if last is not None and hmac.compare_digest(last[0], private_key):
        return last[1], last[2]
    if len(private_key) != KEY_BYTES:
        raise KeyFormatError(f"X25519 private key must be {KEY_BYTES} bytes")
    own = X25519PrivateKey.from_private_bytes(private_key)
    public = own.public_key().public_bytes_raw()
    _last_own = (bytes(private_key), own, public)
    return own, public


def _static_secret(own: X25519PrivateKey, own_public: bytes, peer_public: bytes) -> bytes | None:
    """The static–static X25519 secret of our key and a peer's (None for a low-order peer key),
    computed once per pair of keys: it never changes, and it is kept only where the private key
    it comes from is kept, in this process's memory. The ephemeral agreement of each envelope
    is never remembered.

    Raises:
        KeyFormatError: the peer key is not 32 bytes.
    """
    pair = (own_public, peer_public)
    try:
        return _static_secrets[pair]
    except KeyError:
        pass
    secret = _exchange(own, peer_public)
    if len(_static_secrets) >= _STATIC_SECRETS_KEPT:
        _static_secrets.clear()
    _static_secrets[pair] = secret
    return secret


def _open(
    version: int,
    private_key: bytes,
    envelope: bytes,
    associated_data: bytes,
    sender_public_key: bytes | None,
) -> bytes:
    if len(envelope) < OVERHEAD_BYTES:
        raise EnvelopeError("envelope is truncated")
    if envelope[0] != version:
        raise EnvelopeError(f"unexpected envelope version {envelope[0]}")
    suite = envelope[1]
    if suite not in SUITES:
        raise EnvelopeError(f"unknown envelope suite {suite}")
    own, own_public = _own_key(private_key)
    ephemeral_public = envelope[2 : 2 + KEY_BYTES]
    nonce = envelope[2 + KEY_BYTES : HEADER_BYTES]
    header = envelope[:HEADER_BYTES]
    shared = _exchange(own, ephemeral_public)
    if shared is None:
        raise EnvelopeError("envelope's ephemeral key is a low-order point")
    sender_public = b""
    if sender_public_key is not None:
        try:
            static = _static_secret(own, own_public, sender_public_key)
        except KeyFormatError:
            raise EnvelopeError("the sender's public key is malformed") from None
        if static is None:
            raise EnvelopeError("the sender's public key is a low-order point")
        shared += static
        sender_public = sender_public_key
    key = _derive_key(suite, shared, ephemeral_public, own_public, sender_public)
    try:
        return _decrypt(suite, key, nonce, envelope[HEADER_BYTES:], header + associated_data)
    except InvalidTag:
        raise EnvelopeError(
            "envelope does not authenticate (altered, wrong sender or recipient, or wrong "
            "associated data)"
        ) from None


def open_sealed(private_key: bytes, envelope: bytes, associated_data: bytes) -> bytes:
    """Decrypt an envelope made by :func:`seal`.

    Args:
        private_key: the recipient's 32-byte X25519 private key.
        envelope: bytes produced by :func:`seal`.
        associated_data: the same associated data the sender bound.

    Returns:
        The plaintext.

    Raises:
        EnvelopeError: the envelope is truncated, of an unknown version or suite, has a
            low-order ephemeral key, was altered, or was sealed for other associated data or
            another recipient.
        KeyFormatError: the private key is malformed.
    """
    return _open(VERSION, private_key, envelope, associated_data, None)


def open_authenticated(
    private_key: bytes, sender_public_key: bytes, envelope: bytes, associated_data: bytes
) -> bytes:
    """Decrypt an envelope that the holder of ``sender_public_key`` sealed (authenticated).

    Args:
        private_key: the recipient's 32-byte X25519 private key.
        sender_public_key: the public key the sender must hold (e.g. the grant's consumer key).
        envelope: bytes produced by :func:`seal_authenticated`.
        associated_data: the same associated data the sender bound.

    Raises:
        EnvelopeError: as :func:`open_sealed`, and also when another key sealed it, when it is
            an unauthenticated (version 1) envelope, or when the sender key is malformed or of
            low order.
        KeyFormatError: the private key is malformed.
    """
    return _open(VERSION_AUTHENTICATED, private_key, envelope, associated_data, sender_public_key)
