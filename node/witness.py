"""A department's node as a witness of the broker's ledger (C2SP tlog-witness semantics).

The witness remembers the latest checkpoint it cosigned (in a state file written atomically:
temporary file, fsync, rename). It cosigns a new checkpoint only when

* the note is signed by the broker's key, for the ledger's origin;
* the broker names the size the witness last cosigned (otherwise: *conflict*, and the witness
  says which size it holds, so an honest broker retries with the right proof);
* the consistency proof from that size to the new one verifies — a smaller tree, a different
  root at the same size or any fork fails here.

So the broker cannot roll the store back, fork the history or rewrite and re-sign it without
every witness refusing; the refusal carries the evidence: the checkpoint the witness cosigned
before (signed by the broker), the one now offered (also signed by the broker) and the proof.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tongdao.crypto.checkpoint import (
    Checkpoint,
    Cosigner,
    NoteSignature,
    NoteVerifier,
    SignedNote,
    open_checkpoint,
)
from tongdao.crypto.errors import NoteError, ProofError
from tongdao.crypto.merkle import verify_consistency
from tongdao.crypto.signing import SigningKey

STATE_FILE = "witness-checkpoint.json"

CONFLICT = "conflict"
INCONSISTENT = "inconsistent"
BAD_CHECKPOINT = "bad_checkpoint"


@dataclass
class WitnessRefusal(Exception):
    """The witness did not cosign.

    Attributes:
        reason: ``conflict`` (the broker named another size than the witness holds),
            ``inconsistent`` (no valid consistency proof: rollback, fork or rewrite), or
            ``bad_checkpoint`` (malformed, another log's, or not signed by the broker).
        message: what was wrong, for people.
        witnessed_size: the size of the checkpoint the witness holds.
        witnessed: that checkpoint's signed note (evidence; '' when none).
        offered: the note the broker offered (evidence).
        proof: the consistency proof offered (evidence).
    """

    reason: str
    message: str
    witnessed_size: int = 0
    witnessed: str = ""
    offered: str = ""
    proof: Sequence[bytes] = field(default_factory=tuple)

    def __str__(self) -> str:
        return self.message

    def evidence(self) -> dict[str, Any]:
        """The evidence, as JSON-ready data."""
        return {
            "reason": self.reason,
            "message": self.message,
            "witnessed_size": self.witnessed_size,
            "witnessed_checkpoint": self.witnessed,
            "offered_checkpoint": self.offered,
            "proof": [base64.b64encode(p).decode() for p in self.proof],
        }


class Witness:
    """Cosigns the broker's checkpoints that extend the last one it cosigned."""

    def __init__(
        self,
        state_dir: Path,
        *,
        name: str,
        key: SigningKey,
        log: NoteVerifier,
        origin: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / STATE_FILE
        self.cosigner = Cosigner(name, key)
        self.log = log
        self.origin = origin
        self._clock = clock
        self._lock = threading.Lock()

    def latest(self) -> tuple[Checkpoint | None, str]:
        """The checkpoint last cosigned and its note (``(None, '')`` before the first)."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            note_text = raw["checkpoint"]
        except FileNotFoundError:
            return None, ""
        except (OSError, ValueError, KeyError, TypeError):
            raise RuntimeError(f"{self.path}: witness state is unreadable") from None
        checkpoint, _ = open_checkpoint(note_text, self.log, self.origin)
        return checkpoint, note_text

    def add_checkpoint(
        self, old_size: int, proof: Sequence[bytes], note_text: str
    ) -> NoteSignature:
        """Cosign ``note_text`` if it extends the checkpoint cosigned last (size ``old_size``).

        Returns:
            The cosignature line.

        Raises:
            WitnessRefusal: not cosigned; the exception carries the evidence.
        """
        with self._lock:
            try:
                new, note = open_checkpoint(note_text, self.log, self.origin)
            except NoteError as exc:
                raise WitnessRefusal(BAD_CHECKPOINT, str(exc), offered=note_text) from None
            held, held_note = self.latest()
            held_size = held.size if held else 0

            def refuse(reason: str, message: str) -> WitnessRefusal:
                return WitnessRefusal(
                    reason, message, held_size, held_note, note.to_text(), tuple(proof)
                )

            if old_size > new.size:
                raise refuse(INCONSISTENT, f"old size {old_size} is larger than {new.size}")
            if old_size != held_size:
                raise refuse(CONFLICT, f"this witness holds size {held_size}, not {old_size}")
            if held is not None:
                try:
                    verify_consistency(held.size, new.size, held.root_hash, new.root_hash, proof)
                except ProofError as exc:
                    raise refuse(
                        INCONSISTENT,
                        f"checkpoint {new.size} does not extend cosigned {held.size}: {exc}",
                    ) from None
            line = self.cosigner.cosign(note.text, int(self._clock()))
            if held is None or new.size > held.size:
                self._store(SignedNote(note.text, note.signatures).to_text())
            return line

    def _store(self, note_text: str) -> None:
        data = json.dumps({"checkpoint": note_text}).encode()
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".witness-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
