"""Secrets a server keeps in its database, sealed under a key that only its home holds.

A second factor's TOTP secret must be readable by the broker (it computes the expected code) but
not by whoever holds a copy of the database — a backup, a replica, a dump. The broker derives a
256-bit key with HKDF-SHA256 from its Ed25519 signing key (in its home, encrypted under its
passphrase when one is configured) and seals each secret with AES-256-GCM, bound to the row it
belongs to (the associated data), so a sealed value copied to another account does not open.

Stored form: ``v1:`` followed by URL-safe base64 of the 12-byte nonce, the ciphertext and the tag.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tongdao.crypto.errors import KeyFormatError
from tongdao.crypto.randomness import RandomBytes, resolve

PREFIX = "v1:"
NONCE_BYTES = 12
KEY_BYTES = 32


class SealedSecrets:
    """Seal and open short secrets under one AES-256-GCM key."""

    def __init__(self, key: bytes, rng: RandomBytes | None = None) -> None:
        if len(key) != KEY_BYTES:
            raise KeyFormatError(f"a sealing key has {KEY_BYTES} bytes")
        self._aead = AESGCM(key)
        self._rng = resolve(rng)

    def __repr__(self) -> str:  # never print the key
        return "SealedSecrets(AES-256-GCM)"

    @classmethod
    def derive(cls, master: bytes, purpose: str) -> SealedSecrets:
        """The sealer for ``purpose`` from a server's long-term secret ``master`` (HKDF-SHA256;
        a different purpose gives an unrelated key)."""
        if len(master) < KEY_BYTES:
            raise KeyFormatError(f"a master secret has at least {KEY_BYTES} bytes")
        key = HKDF(
            algorithm=hashes.SHA256(),
            length=KEY_BYTES,
            salt=None,
            info=b"tongdao/v1 sealed secrets: " + purpose.encode(),
        ).derive(master)
        return cls(key)

    def seal(self, secret: str, bound_to: str) -> str:
        """``secret`` sealed, opening only with the same ``bound_to`` (e.g. the account name)."""
        nonce = self._rng(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret.encode(), bound_to.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, stored: str, bound_to: str) -> str:
        """The secret sealed in ``stored``.

        Raises:
            KeyFormatError: not a sealed value, sealed under another key, for another row, or
                altered.
        """
        if not is_sealed(stored):
            raise KeyFormatError("not a sealed secret")
        try:
            raw = base64.urlsafe_b64decode(stored[len(PREFIX) :].encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise KeyFormatError("a sealed secret is not base64") from None
        if len(raw) <= NONCE_BYTES + 16:
            raise KeyFormatError("a sealed secret is too short")
        try:
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], bound_to.encode())
        except InvalidTag:
            raise KeyFormatError("a sealed secret does not open with this key") from None
        return plain.decode()


def is_sealed(stored: str) -> bool:
    """Whether ``stored`` is in the sealed form (else a value from before sealing, or empty)."""
    return stored.startswith(PREFIX)
