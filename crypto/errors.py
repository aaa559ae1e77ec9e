"""Errors raised by the crypto core. Messages never contain key material or plaintext."""


class CryptoError(Exception):
    """Base class of every error the crypto core raises."""


class EnvelopeError(CryptoError):
    """A sealed envelope is malformed, was tampered with, or is bound to other associated data."""


class SignatureError(CryptoError):
    """A signature does not verify under the given public key."""


class KeyFormatError(CryptoError):
    """A key has the wrong length or encoding."""


class ProofError(CryptoError):
    """A Merkle inclusion or consistency proof is malformed or does not prove what it claims."""


class NoteError(CryptoError):
    """A signed note or checkpoint is malformed, or none of its signatures verifies."""
