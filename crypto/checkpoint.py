"""Signed checkpoints of the ledger's Merkle tree, in the C2SP formats.

* **Signed note** (c2sp.org/signed-note): UTF-8 text ending in a newline, a blank line, then one
  line per signature: ``— <key name> <base64(key id ‖ signature)>``. An Ed25519 key's id is the
  first four bytes of ``SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)``; the signature covers the text.
* **Checkpoint** (c2sp.org/tlog-checkpoint): the note text is the log's origin line, the tree size
  in decimal, the base64 root hash, then optional extension lines (ours: ``time <RFC 3339>``).
* **Cosignature** (c2sp.org/tlog-cosignature, ``cosignature/v1``): a witness signs
  ``"cosignature/v1\\ntime <unix seconds>\\n" ‖ checkpoint text``; its key id uses algorithm byte
  0x04 and the signature line carries ``key id ‖ 8-byte big-endian time ‖ signature``.

Pure code: no I/O, no clock (times are passed in), every problem a :class:`NoteError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from tongdao.crypto.errors import NoteError, SignatureError
from tongdao.crypto.merkle import HASH_BYTES
from tongdao.crypto.signing import SIGNATURE_BYTES, SigningKey, VerifyKey

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space
MAX_NOTE_BYTES = 1 << 20
MAX_SIGNATURES = 100
COSIGNATURE_HEADER = b"cosignature/v1\ntime "
LOG_KEY_NAME = "tongdao-broker"  # the key name on the broker's checkpoint signatures


def key_id(name: str, algorithm: int, public_key: bytes) -> bytes:
    """The 4-byte key id of a signed-note key: ``SHA-256(name ‖ \\n ‖ algorithm ‖ key)[:4]``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([algorithm]) + public_key).digest()[:4]


def _check_name(name: str) -> str:
    if not name or any(c.isspace() for c in name) or "+" in name:
        raise NoteError("a key name must be non-empty, without spaces or '+'")
    return name


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a note.

    Attributes:
        name: the signer's key name.
        key_id: 4 bytes.
        signature: the rest of the decoded line (for a cosignature: time ‖ signature).
    """

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        """The ``— name base64`` line, without its newline."""
        blob = base64.b64encode(self.key_id + self.signature).decode()
        return f"{SIGNATURE_PREFIX}{self.name} {blob}"


@dataclass(frozen=True)
class SignedNote:
    """A note's text and its signature lines (verified or not: see the verifiers)."""

    text: str
    signatures: tuple[NoteSignature, ...] = ()

    def to_text(self) -> str:
        """The note as it travels: text, blank line, signature lines."""
        return self.text + "\n" + "".join(s.line() + "\n" for s in self.signatures)

    def with_signature(self, signature: NoteSignature) -> SignedNote:
        """The same note with one more signature line (an existing line for the key is kept)."""
        if any(s.key_id == signature.key_id and s.name == signature.name for s in self.signatures):
            return self
        return SignedNote(self.text, (*self.signatures, signature))

    @classmethod
    def parse(cls, data: str | bytes) -> SignedNote:
        """Split a note into text and signature lines.

        Raises:
            NoteError: the note is too large, not UTF-8, or not in the signed-note format.
        """
        if isinstance(data, bytes):
            if len(data) > MAX_NOTE_BYTES:
                raise NoteError("note is too large")
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError:
                raise NoteError("note is not UTF-8") from None
        if len(data.encode()) > MAX_NOTE_BYTES:
            raise NoteError("note is too large")
        if any(ord(c) < 0x20 and c != "\n" for c in data):
            raise NoteError("note contains control characters")
        split = data.rfind("\n\n")
        if split < 0 or not data.endswith("\n"):
            raise NoteError("note has no blank line before its signatures")
        text, block = data[: split + 1], data[split + 2 :]
        signatures = []
        for line in block.splitlines():
            if not line.startswith(SIGNATURE_PREFIX):
                raise NoteError("a signature line must start with an em dash and a space")
            parts = line[len(SIGNATURE_PREFIX) :].split(" ")
            if len(parts) != 2:
                raise NoteError("a signature line is '— name base64'")
            name, blob = parts
            try:
                raw = base64.b64decode(blob, validate=True)
            except (binascii.Error, ValueError):
                raise NoteError("a signature is not base64") from None
            if len(raw) < 5:
                raise NoteError("a signature is too short")
            signatures.append(NoteSignature(_check_name(name), raw[:4], raw[4:]))
        if not signatures:
            raise NoteError("note has no signatures")
        if len(signatures) > MAX_SIGNATURES:
            raise NoteError("note has too many signatures")
        return cls(text, tuple(signatures))


@dataclass(frozen=True)
class Checkpoint:
    """A log's signed statement of its size and root (the note text of a checkpoint).

    Attributes:
        origin: the log's unique name, e.g. ``tongdao.hlj.gov.cn/ledger``.
        size: the number of leaves.
        root_hash: 32 bytes.
        extensions: further lines, e.g. ``("time 2026-12-01T09:00:00Z",)``.
    """

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise NoteError("a checkpoint's origin must be one non-empty line")
        if self.size < 0:
            raise NoteError("a checkpoint's size cannot be negative")
        if len(self.root_hash) != HASH_BYTES:
            raise NoteError(f"a checkpoint's root hash must be {HASH_BYTES} bytes")
        if any(not e or "\n" in e for e in self.extensions):
            raise NoteError("a checkpoint's extension lines must be non-empty lines")

    def text(self) -> str:
        """The note text: origin, size, base64 root, extensions, each ending in a newline."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode()]
        return "".join(line + "\n" for line in [*lines, *self.extensions])

    def extension(self, keyword: str) -> str:
        """The value of the extension line ``keyword value`` ('' when absent)."""
        for line in self.extensions:
            if line.startswith(keyword + " "):
                return line[len(keyword) + 1 :]
        return ""

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Read a checkpoint's note text.

        Raises:
            NoteError: not origin / decimal size / base64 32-byte root.
        """
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint has an origin, a size and a root hash line")
        origin, size, root, *extensions = lines[:-1]
        if not size.isdigit() or (size != "0" and size.startswith("0")) or len(size) > 20:
            raise NoteError("a checkpoint's size must be a decimal number")
        try:
            root_hash = base64.b64decode(root, validate=True)
        except (binascii.Error, ValueError):
            raise NoteError("a checkpoint's root hash is not base64") from None
        return cls(origin, int(size), root_hash, tuple(extensions))


class NoteSigner:
    """Signs notes with an Ed25519 key under a key name (the log's, or any signer's)."""

    def __init__(self, name: str, key: SigningKey) -> None:
        self.name = _check_name(name)
        self._key = key
        self.key_id = key_id(name, ALG_ED25519, key.verify_key.public_key)

    def sign(self, text: str) -> NoteSignature:
        """The signature line over ``text``."""
        return NoteSignature(self.name, self.key_id, self._key.sign(text.encode()))

    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self.name, self._key.verify_key)


class NoteVerifier:
    """Checks a note's signature by one named Ed25519 key."""

    def __init__(self, name: str, key: VerifyKey) -> None:
        self.name = _check_name(name)
        self.key = key
        self.key_id = key_id(name, ALG_ED25519, key.public_key)

    def vkey(self) -> str:
        """The signed-note verifier key string ``name+hex id+base64(0x01 ‖ key)``."""
        blob = base64.b64encode(bytes([ALG_ED25519]) + self.key.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{blob}"

    def verify(self, note: SignedNote) -> None:
        """Raises:
        NoteError: no line of this key, or its signature does not verify."""
        for s in note.signatures:
            if s.name == self.name and s.key_id == self.key_id:
                if len(s.signature) != SIGNATURE_BYTES:
                    raise NoteError(f"signature of {self.name} has the wrong length")
                try:
                    self.key.verify(s.signature, note.text.encode())
                except SignatureError:
                    raise NoteError(f"signature of {self.name} does not verify") from None
                return
        raise NoteError(f"the note carries no signature of {self.name}")


def cosigned_message(checkpoint_text: str, timestamp: int) -> bytes:
    """What a witness signs (cosignature/v1)."""
    return COSIGNATURE_HEADER + str(timestamp).encode() + b"\n" + checkpoint_text.encode()


class Cosigner:
    """A witness's cosigning key (cosignature/v1, Ed25519)."""

    def __init__(self, name: str, key: SigningKey) -> None:
        self.name = _check_name(name)
        self._key = key
        self.key_id = key_id(name, ALG_COSIGNATURE_V1, key.verify_key.public_key)

    def cosign(self, checkpoint_text: str, timestamp: int) -> NoteSignature:
        """The cosignature line over a checkpoint at ``timestamp`` (unix seconds)."""
        if timestamp < 0:
            raise NoteError("a cosignature's time cannot be negative")
        sig = self._key.sign(cosigned_message(checkpoint_text, timestamp))
        return NoteSignature(self.name, self.key_id, timestamp.to_bytes(8, "big") + sig)


class CosignatureVerifier:
    """Checks one witness's cosignature on a checkpoint."""

    def __init__(self, name: str, key: VerifyKey) -> None:
        self.name = _check_name(name)
        self.key = key
        self.key_id = key_id(name, ALG_COSIGNATURE_V1, key.public_key)

    def verify(self, note: SignedNote) -> int:
        """The time the witness cosigned ``note`` at.

        Raises:
            NoteError: no cosignature line of this witness, or it does not verify.
        """
        for s in note.signatures:
            if s.name == self.name and s.key_id == self.key_id:
                if len(s.signature) != 8 + SIGNATURE_BYTES:
                    raise NoteError(f"cosignature of {self.name} has the wrong length")
                timestamp = int.from_bytes(s.signature[:8], "big")
                try:
                    self.key.verify(s.signature[8:], cosigned_message(note.text, timestamp))
                except SignatureError:
                    raise NoteError(f"cosignature of {self.name} does not verify") from None
                return timestamp
        raise NoteError(f"the checkpoint carries no cosignature of {self.name}")


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> SignedNote:
    """The log's signed checkpoint note."""
    text = checkpoint.text()
    return SignedNote(text, (signer.sign(text),))


def open_checkpoint(
    data: str | bytes, log: NoteVerifier, origin: str
) -> tuple[Checkpoint, SignedNote]:
    """Parse a checkpoint note, check the log's signature and origin.

    Raises:
        NoteError: malformed, another log's, or not signed by the log's key.
    """
    note = SignedNote.parse(data)
    log.verify(note)
    checkpoint = Checkpoint.parse(note.text)
    if checkpoint.origin != origin:
        raise NoteError(f"checkpoint is for log {checkpoint.origin!r}, not {origin!r}")
    return checkpoint, note
