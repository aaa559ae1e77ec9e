"""Chunked end-to-end encryption for streamed queries (the STREAM construction over AES-256-GCM).

A streamed query (PSI or intersection-sum at 10⁶ keys) cannot be one envelope: it would not fit a
gRPC message and would hold everything in memory. The consumer draws a fresh 32-byte *stream
secret* and sends it inside an ordinary sealed envelope (:func:`crypto.envelope.seal`, X25519 +
HKDF + AES-GCM to the provider node's key, bound to grant, request and method). Both ends derive
one AES-256-GCM key per direction from that secret with HKDF-SHA256, then every chunk is sealed
with a nonce made of the chunk's position, and associated data naming the stream, the position
and whether it is the last chunk (Hoang, Reyhanitabar, Rogaway & Vizár, "Online
Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance", CRYPTO 2015). So a relay that
reorders, drops, repeats, splices between directions or streams, or truncates chunks is caught:
the opener wants exactly position 0, 1, 2, … and a final chunk before the end.

Security assumptions: AES-256-GCM with unique nonces per key (positions never repeat; a key is
used for one stream and one direction only; fewer than 2³² chunks per stream); the stream secret
is as secret as the envelope that carries it. The :class:`StreamDigest` of everything one side
sent is what the node's signed receipt names.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tongdao.crypto.errors import EnvelopeError, ParameterError
from tongdao.crypto.randomness import RandomBytes, resolve

SECRET_BYTES = 32
MAX_CHUNKS = 2**32 - 1
TAG_BYTES = 16
UPSTREAM = "query"  # consumer → provider node
DOWNSTREAM = "result"  # provider node → consumer
_DIRECTIONS = (UPSTREAM, DOWNSTREAM)


def new_stream_secret(rng: RandomBytes | None = None) -> bytes:
    """A fresh stream secret from the CSPRNG (``rng`` only for known-answer tests)."""
    return resolve(rng)(SECRET_BYTES)


def _key(secret: bytes, context: bytes, direction: str) -> bytes:
    if len(secret) != SECRET_BYTES:
        raise EnvelopeError(f"stream secret must be {SECRET_BYTES} bytes")
    if direction not in _DIRECTIONS:
        raise ParameterError(f"direction must be one of {_DIRECTIONS}")
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"tongdao/v1 stream " + direction.encode() + b"|" + context,
    ).derive(secret)


def _nonce(position: int) -> bytes:
    return position.to_bytes(12, "big")


def _ad(context: bytes, position: int, final: bool) -> bytes:
    return context + b"|" + position.to_bytes(8, "big") + (b"\x01" if final else b"\x00")


class ChunkSealer:
    """Seals one direction of one stream, chunk by chunk, in order."""

    def __init__(self, secret: bytes, context: bytes, direction: str) -> None:
        """Args:
            secret: the stream secret (32 bytes).
            context: what the stream is bound to (grant, request, method — see
                :func:`crypto.query_binding.query_associated_data`).
            direction: :data:`UPSTREAM` or :data:`DOWNSTREAM`.

        Raises:
            EnvelopeError: the secret has the wrong length.
        """
        self._aead = AESGCM(_key(secret, context, direction))
        self._context = context
        self._position = 0
        self._closed = False

    def seal(self, chunk: bytes, *, final: bool = False) -> bytes:
        """Encrypt the next chunk; ``final`` marks the last one.

        Raises:
            EnvelopeError: the stream was already finished, or is too long.
        """
        if self._closed:
            raise EnvelopeError("the stream was already finished")
        if self._position >= MAX_CHUNKS:
            raise EnvelopeError("too many chunks for one stream")
        out = self._aead.encrypt(
            _nonce(self._position), chunk, _ad(self._context, self._position, final)
        )
        self._position += 1
        self._closed = final
        return out


class ChunkOpener:
    """Opens one direction of one stream; refuses anything out of order, altered or truncated."""

    def __init__(self, secret: bytes, context: bytes, direction: str) -> None:
        """Args: as :class:`ChunkSealer`.

        Raises:
            EnvelopeError: the secret has the wrong length.
        """
        self._aead = AESGCM(_key(secret, context, direction))
        self._context = context
        self._position = 0
        self.finished = False

    def open(self, sealed: bytes) -> bytes:
        """Decrypt the next chunk (the final one sets :attr:`finished`).

        Raises:
            EnvelopeError: a chunk after the final one, or a chunk that does not authenticate at
                this position (reordered, dropped, repeated, altered, or from another stream).
        """
        if self.finished:
            raise EnvelopeError("a chunk arrived after the final chunk")
        if len(sealed) < TAG_BYTES:
            raise EnvelopeError("chunk is too short")
        nonce = _nonce(self._position)
        for final in (False, True):
            try:
                plain = self._aead.decrypt(nonce, sealed, _ad(self._context, self._position, final))
            except InvalidTag:
                continue
            self._position += 1
            self.finished = final
            return plain
        raise EnvelopeError(f"chunk {self._position} does not authenticate")

    def require_finished(self) -> None:
        """Raises:
        EnvelopeError: the stream ended without its final chunk (truncated).
        """
        if not self.finished:
            raise EnvelopeError(f"the stream was cut after {self._position} chunks")


class StreamDigest:
    """SHA-256 over a sequence of chunks, each length-prefixed (so boundaries count)."""

    def __init__(self) -> None:
        self._h = hashlib.sha256(b"tongdao/v1 stream digest")
        self.chunks = 0
        self.bytes = 0

    def update(self, chunk: bytes) -> None:
        """Add the next chunk."""
        self._h.update(len(chunk).to_bytes(8, "big"))
        self._h.update(chunk)
        self.chunks += 1
        self.bytes += len(chunk)

    def digest(self) -> bytes:
        """The digest of the chunks so far."""
        return self._h.digest()
