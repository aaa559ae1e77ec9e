"""Errors raised by the crypto core. Messages never contain key material or plaintext.

Every error the crypto core raises is a :class:`CryptoError`; none is a bare ``ValueError``, so a
caller at the edge maps each to a clear refusal and never to a traceback.
"""


class CryptoError(Exception):
    """Base class of every error the crypto core raises."""


class EnvelopeError(CryptoError):
    """A sealed envelope is malformed, was tampered with, or is bound to other associated data."""


class SignatureError(CryptoError):
    """A signature does not verify under the given public key."""


class KeyFormatError(CryptoError):
    """A key has the wrong length or encoding, or is too small or weak to be accepted."""


class ParameterError(CryptoError):
    """A parameter is outside what the primitive accepts (a size, a bound, a scale, a name)."""


class PrivacyBudgetError(CryptoError):
    """A differential-privacy release was asked for with no budget (epsilon) to pay for it."""


class ProofError(CryptoError):
    """A Merkle inclusion or consistency proof is malformed or does not prove what it claims."""


class NoteError(CryptoError):
    """A signed note or checkpoint is malformed, or none of its signatures verifies."""


class PassphraseError(CryptoError):
    """An encrypted private key was opened without its passphrase, or with the wrong one."""


class EnrolmentError(CryptoError):
    """A certificate signing request is malformed, forged, stale or names the wrong party.

    Attributes:
        field: the part of the request at fault (``subject``, ``signature``, ``proof``, …).
    """

    def __init__(self, message: str, *, field: str = "request") -> None:
        super().__init__(message)
        self.field = field


class RevocationError(CryptoError):
    """A revocation list is malformed, not signed by the authority, stale or older than ours."""
