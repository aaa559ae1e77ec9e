"""Ed25519 signatures: the broker signs grants and ledger checkpoints, nodes sign receipts."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tongdao.crypto.errors import KeyFormatError, SignatureError
from tongdao.crypto.randomness import RandomBytes, resolve

KEY_BYTES = 32
SIGNATURE_BYTES = 64


@dataclass(frozen=True)
class VerifyKey:
    """An Ed25519 public key.

    Attributes:
        public_key: 32 raw bytes.
    """

    public_key: bytes
    # the parsed key, built once: a key verifying many signatures is checked and parsed once
    _key: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.public_key) != KEY_BYTES:
            raise KeyFormatError(f"Ed25519 public key must be {KEY_BYTES} bytes")
        try:
            key = Ed25519PublicKey.from_public_bytes(self.public_key)
        except ValueError:
            raise KeyFormatError("not an Ed25519 public key") from None
        object.__setattr__(self, "_key", key)

    def __reduce__(self) -> tuple[type[VerifyKey], tuple[bytes]]:  # pickled as its bytes
        return (type(self), (self.public_key,))

    def verify(self, signature: bytes, message: bytes) -> None:
        """Check ``signature`` over ``message``.

        Raises:
            SignatureError: the signature is malformed or does not verify.
        """
        if len(signature) != SIGNATURE_BYTES:
            raise SignatureError("signature has the wrong length")
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            raise SignatureError("signature does not verify") from None


@functools.lru_cache(maxsize=1024)
def verify_key_of(public_key: bytes) -> VerifyKey:
    """The :class:`VerifyKey` of ``public_key``, parsed once for a key that verifies again and
    again (a provider's receipts, at every query): in a request path with cold caches a parse
    costs a tenth of a verification. Keys are immutable, so one object serves every caller.

    Raises:
        KeyFormatError: as :class:`VerifyKey` (a malformed key is never kept).
    """
    return VerifyKey(public_key)


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 private key.

    Attributes:
        private_key: 32 raw seed bytes; keep secret.
    """

    private_key: bytes
    # the key object, built once: rebuilding it from the seed doubled the cost of a signature
    _key: Ed25519PrivateKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.private_key) != KEY_BYTES:
            raise KeyFormatError(f"Ed25519 private key must be {KEY_BYTES} bytes")
        object.__setattr__(self, "_key", Ed25519PrivateKey.from_private_bytes(self.private_key))

    def __reduce__(self) -> tuple[type[SigningKey], tuple[bytes]]:  # pickled as its seed
        return (type(self), (self.private_key,))

    def __repr__(self) -> str:  # never print the private key
        return f"SigningKey(public_key={self.verify_key.public_key.hex()})"

    @classmethod
    def generate(cls, rng: RandomBytes | None = None) -> SigningKey:
        """Create a key from the CSPRNG (or ``rng`` in known-answer tests)."""
        return cls(resolve(rng)(KEY_BYTES))

    @property
    def verify_key(self) -> VerifyKey:
        """The matching public key."""
        return VerifyKey(self._key.public_key().public_bytes_raw())

    def sign(self, message: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of ``message``."""
        return self._key.sign(message)
