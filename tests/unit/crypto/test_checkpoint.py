"""Signed checkpoints and cosignatures in the C2SP signed-note formats."""

import base64
import hashlib

import pytest

from tongdao.crypto.checkpoint import (
    Checkpoint,
    CosignatureVerifier,
    Cosigner,
    NoteSigner,
    NoteVerifier,
    SignedNote,
    cosigned_message,
    open_checkpoint,
    sign_checkpoint,
)
from tongdao.crypto.errors import NoteError
from tongdao.crypto.signing import SigningKey

LOG_KEY = SigningKey(bytes(range(32)))
WITNESS_KEY = SigningKey(bytes(range(32, 64)))
ORIGIN = "tongdao.example/ledger"
ROOT = hashlib.sha256(b"root").digest()


def signed(size: int = 7, root: bytes = ROOT) -> SignedNote:
    return sign_checkpoint(
        Checkpoint(ORIGIN, size, root, ("time 2026-12-01T09:00:00Z",)),
        NoteSigner("broker", LOG_KEY),
    )


def test_checkpoint_text_is_origin_size_base64_root_then_extensions():
    text = Checkpoint(ORIGIN, 7, ROOT, ("time 2026-12-01T09:00:00Z",)).text()
    assert text == f"{ORIGIN}\n7\n{base64.b64encode(ROOT).decode()}\ntime 2026-12-01T09:00:00Z\n"
    assert Checkpoint.parse(text).size == 7


def test_note_round_trips_and_signature_line_format():
    note = signed()
    wire = note.to_text()
    _body, sigs = wire.split("\n\n")
    assert sigs.startswith("\u2014 broker ")
    raw = base64.b64decode(sigs.split(" ")[2])
    # key id: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4], then the 64-byte Ed25519 signature
    expected_id = hashlib.sha256(b"broker\n\x01" + LOG_KEY.verify_key.public_key).digest()[:4]
    assert raw[:4] == expected_id and len(raw) == 68
    checkpoint, again = open_checkpoint(wire, NoteVerifier("broker", LOG_KEY.verify_key), ORIGIN)
    assert checkpoint.size == 7 and checkpoint.root_hash == ROOT and again == note
    assert checkpoint.extension("time") == "2026-12-01T09:00:00Z"


def test_vkey_names_the_key():
    vkey = NoteVerifier("broker", LOG_KEY.verify_key).vkey()
    name, kid, blob = vkey.split("+", 2)
    assert name == "broker" and len(kid) == 8
    assert base64.b64decode(blob) == b"\x01" + LOG_KEY.verify_key.public_key


def test_altered_checkpoint_or_other_key_or_origin_is_refused():
    wire = signed().to_text()
    tampered = wire.replace("\n7\n", "\n8\n", 1)
    log = NoteVerifier("broker", LOG_KEY.verify_key)
    with pytest.raises(NoteError, match="does not verify"):
        open_checkpoint(tampered, log, ORIGIN)
    with pytest.raises(NoteError, match="no signature"):
        open_checkpoint(wire, NoteVerifier("broker", WITNESS_KEY.verify_key), ORIGIN)
    with pytest.raises(NoteError, match="not"):
        open_checkpoint(wire, log, "another.example/log")


def test_cosignature_v1_format_and_verification():
    note = signed()
    line = Cosigner("hlj.gat", WITNESS_KEY).cosign(note.text, 1_796_000_000)
    raw = line.key_id + line.signature
    assert (
        raw[:4] == hashlib.sha256(b"hlj.gat\n\x04" + WITNESS_KEY.verify_key.public_key).digest()[:4]
    )
    assert int.from_bytes(raw[4:12], "big") == 1_796_000_000
    WITNESS_KEY.verify_key.verify(raw[12:], cosigned_message(note.text, 1_796_000_000))
    cosigned = SignedNote.parse(note.with_signature(line).to_text())
    verifier = CosignatureVerifier("hlj.gat", WITNESS_KEY.verify_key)
    assert verifier.verify(cosigned) == 1_796_000_000
    # a cosignature is not valid for another checkpoint
    other = SignedNote(signed(size=8).text, cosigned.signatures)
    with pytest.raises(NoteError):
        verifier.verify(other)


@pytest.mark.parametrize(
    "wire",
    [
        "",
        "no blank line\n",
        "a\n1\nAAAA\n\nnot a signature\n",
        "a\n1\nAAAA\n\n\u2014 broker !!!\n",
        "a\n1\nAAAA\n\n",
        "a\x01\n\n\u2014 broker AAAAAAAA\n",
    ],
)
def test_malformed_notes_are_refused_with_a_typed_error(wire):
    with pytest.raises(NoteError):
        open_checkpoint(wire, NoteVerifier("broker", LOG_KEY.verify_key), ORIGIN)


@pytest.mark.parametrize("text", ["o\n01\nAAAA\n", "o\n-1\nAAAA\n", "o\n1\nAAAA\n", "o\n1\n"])
def test_malformed_checkpoints_are_refused(text):
    with pytest.raises(NoteError):
        Checkpoint.parse(text)
