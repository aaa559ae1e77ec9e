"""A node as a witness: it cosigns only checkpoints that extend what it cosigned, across restarts,
and reports a rolled-back store, a fork and a rewritten, re-signed history with the evidence."""

import pytest

from tongdao.crypto.checkpoint import (
    Checkpoint,
    CosignatureVerifier,
    NoteSigner,
    NoteVerifier,
    SignedNote,
    open_checkpoint,
    sign_checkpoint,
)
from tongdao.crypto.merkle import MemoryTree, consistency_proof, leaf_hash
from tongdao.crypto.signing import SigningKey
from tongdao.node.witness import CONFLICT, INCONSISTENT, Witness, WitnessRefusal

ORIGIN = "tongdao.example/ledger"
BROKER = SigningKey(bytes(range(32)))
DEPT = SigningKey(bytes(range(1, 33)))


class Log:
    """A log as the broker keeps it: entries, tree, signed checkpoints."""

    def __init__(self, entries: list[bytes]) -> None:
        self.tree = MemoryTree()
        for e in entries:
            self.tree.append(leaf_hash(e))

    def checkpoint(self, size: int | None = None) -> str:
        size = self.tree.size if size is None else size
        cp = Checkpoint(ORIGIN, size, self.tree.root(size))
        return sign_checkpoint(cp, NoteSigner("broker", BROKER)).to_text()

    def proof(self, old: int, new: int | None = None) -> list[bytes]:
        return consistency_proof(self.tree.read, old, self.tree.size if new is None else new)


def entries(n: int, tag: str = "") -> list[bytes]:
    return [f"entry {i}{tag}".encode() for i in range(n)]


def witness(tmp_path, clock=lambda: 1_796_000_000.0) -> Witness:
    return Witness(
        tmp_path,
        name="hlj.gat",
        key=DEPT,
        log=NoteVerifier("broker", BROKER.verify_key),
        origin=ORIGIN,
        clock=clock,
    )


def cosigned_by_witness(note_text: str, line) -> int:
    note = SignedNote.parse(note_text).with_signature(line)
    return CosignatureVerifier("hlj.gat", DEPT.verify_key).verify(note)


def test_cosigns_a_growing_log_and_remembers_across_restarts(tmp_path):
    log = Log(entries(9))
    w = witness(tmp_path)
    first = log.checkpoint(5)
    assert cosigned_by_witness(first, w.add_checkpoint(0, [], first)) == 1_796_000_000
    second = log.checkpoint(9)
    cosigned_by_witness(second, w.add_checkpoint(5, log.proof(5, 9), second))
    restarted = witness(tmp_path)
    held, _ = restarted.latest()
    assert held is not None and held.size == 9
    # the same checkpoint again is cosigned again (idempotent), a smaller one never
    cosigned_by_witness(second, restarted.add_checkpoint(9, [], second))
    with pytest.raises(WitnessRefusal):
        restarted.add_checkpoint(9, [], log.checkpoint(5))


def evidence_is_signed_by_the_broker(refusal: WitnessRefusal) -> tuple[Checkpoint, Checkpoint]:
    log_key = NoteVerifier("broker", BROKER.verify_key)
    held, _ = open_checkpoint(refusal.witnessed, log_key, ORIGIN)
    offered, _ = open_checkpoint(refusal.offered, log_key, ORIGIN)
    return held, offered


def test_a_rolled_back_store_is_detected_with_evidence(tmp_path):
    log = Log(entries(12))
    w = witness(tmp_path)
    w.add_checkpoint(0, [], log.checkpoint(12))
    restored = Log(entries(7))  # the store restored from an older, validly signed copy
    with pytest.raises(WitnessRefusal) as caught:
        w.add_checkpoint(7, [], restored.checkpoint())
    assert caught.value.reason == CONFLICT and caught.value.witnessed_size == 12
    with pytest.raises(WitnessRefusal) as caught:
        w.add_checkpoint(12, [], restored.checkpoint())
    assert caught.value.reason == INCONSISTENT
    held, offered = evidence_is_signed_by_the_broker(caught.value)
    assert (held.size, offered.size) == (12, 7)  # the broker signed both: it shrank its log


def test_a_forked_history_is_detected_with_evidence(tmp_path):
    honest = Log(entries(10))
    w = witness(tmp_path)
    w.add_checkpoint(0, [], honest.checkpoint())
    fork = Log(entries(6) + entries(8, tag=" rewritten")[6:] + entries(4, tag=" more"))
    with pytest.raises(WitnessRefusal) as caught:
        w.add_checkpoint(10, fork.proof(10), fork.checkpoint())
    assert caught.value.reason == INCONSISTENT
    held, offered = evidence_is_signed_by_the_broker(caught.value)
    assert held.size == 10 and offered.size == fork.tree.size
    assert caught.value.evidence()["proof"]  # the failing proof travels with the evidence
    assert witness(tmp_path).latest()[0].size == 10  # nothing of the fork was stored


def test_a_rewritten_and_re_signed_history_of_the_same_size_is_detected(tmp_path):
    honest = Log(entries(10))
    w = witness(tmp_path)
    w.add_checkpoint(0, [], honest.checkpoint())
    rewritten = Log(entries(3) + entries(10, tag=" altered")[3:])
    with pytest.raises(WitnessRefusal) as caught:
        w.add_checkpoint(10, [], rewritten.checkpoint())
    held, offered = evidence_is_signed_by_the_broker(caught.value)
    assert held.size == offered.size == 10 and held.root_hash != offered.root_hash


def test_a_checkpoint_not_signed_by_the_broker_is_refused(tmp_path):
    w = witness(tmp_path)
    forged = sign_checkpoint(
        Checkpoint(ORIGIN, 3, Log(entries(3)).tree.root()), NoteSigner("broker", DEPT)
    ).to_text()
    with pytest.raises(WitnessRefusal, match="signature"):
        w.add_checkpoint(0, [], forged)
    assert w.latest() == (None, "")


def test_state_file_is_replaced_atomically(tmp_path):
    log = Log(entries(4))
    w = witness(tmp_path)
    w.add_checkpoint(0, [], log.checkpoint())
    assert [p.name for p in tmp_path.iterdir()] == ["witness-checkpoint.json"]
