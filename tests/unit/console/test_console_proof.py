"""The console's own check of an inclusion proof: it passes for an honest broker and fails,
saying why, for a wrong path, a checkpoint signed by another key, another log's checkpoint, or
a proof with no checkpoint."""

from __future__ import annotations

import json

import pytest

from tongdao.broker.ledger.audit import entry_body
from tongdao.console.reading import inclusion
from tongdao.crypto.checkpoint import LOG_KEY_NAME, Checkpoint, NoteSigner, sign_checkpoint
from tongdao.crypto.merkle import MemoryTree, inclusion_proof, leaf_hash
from tongdao.crypto.signing import SigningKey
from tongdao.v1 import ledger_pb2

ORIGIN = "tongdao.heilongjiang/ledger"
BROKER = SigningKey.generate()


def entries(n: int) -> list[ledger_pb2.LedgerEntry]:
    return [
        ledger_pb2.LedgerEntry(
            sequence=i,
            recorded_at=f"2026-12-01T09:00:{i:02d}+00:00",
            kind="share_request.filed",
            actor="hrb.rsj",
            subject=f"request-{i}",
            payload_json=json.dumps({"n": i}),
        )
        for i in range(1, n + 1)
    ]


class FakeReader:
    """Answers ProveInclusion as a broker would (or as a lying one)."""

    def __init__(self, n: int, key: SigningKey = BROKER, origin: str = ORIGIN) -> None:
        self.entries = entries(n)
        self.tree = MemoryTree()
        for e in self.entries:
            self.tree.append(leaf_hash(_body(e)))
        cp = Checkpoint(origin, n, self.tree.root(), ("time 2026-12-01T09:01:00Z",))
        self.note = sign_checkpoint(cp, NoteSigner(LOG_KEY_NAME, key)).to_text()
        self.tamper = False
        self.no_checkpoint = False

    def call(self, method: str, request: ledger_pb2.ProveInclusionRequest) -> object:
        assert method == "Ledger/ProveInclusion"
        size = self.tree.size
        path = inclusion_proof(self.tree.read, request.sequence - 1, size)
        if self.tamper:
            path[0] = bytes(32)
        return ledger_pb2.InclusionProof(
            entry=self.entries[request.sequence - 1],
            tree_size=size,
            proof=path,
            checkpoint="" if self.no_checkpoint else self.note,
        )


def _body(e: ledger_pb2.LedgerEntry) -> bytes:
    return entry_body(
        sequence=e.sequence,
        recorded_at=e.recorded_at,
        kind=e.kind,
        actor=e.actor,
        subject=e.subject,
        payload_json=e.payload_json,
    )


@pytest.mark.parametrize("sequence", [1, 4, 7])
def test_an_honest_proof_verifies(sequence):
    view = inclusion(FakeReader(7), sequence, BROKER.verify_key, ORIGIN)  # type: ignore[arg-type]
    assert view.verified and not view.problem
    assert view.tree_size == 7 and view.path and view.root


def test_a_wrong_audit_path_is_caught():
    reader = FakeReader(7)
    reader.tamper = True
    view = inclusion(reader, 3, BROKER.verify_key, ORIGIN)  # type: ignore[arg-type]
    assert not view.verified and "not in the tree" in view.problem


def test_a_checkpoint_signed_by_another_key_is_caught():
    reader = FakeReader(5, key=SigningKey.generate())
    view = inclusion(reader, 2, BROKER.verify_key, ORIGIN)  # type: ignore[arg-type]
    assert not view.verified and view.problem


def test_another_logs_checkpoint_is_caught():
    reader = FakeReader(5, origin="elsewhere.example/log")
    view = inclusion(reader, 2, BROKER.verify_key, ORIGIN)  # type: ignore[arg-type]
    assert not view.verified and "elsewhere.example/log" in view.problem


def test_a_proof_without_a_checkpoint_is_not_called_verified():
    reader = FakeReader(5)
    reader.no_checkpoint = True
    view = inclusion(reader, 2, BROKER.verify_key, ORIGIN)  # type: ignore[arg-type]
    assert not view.verified and "no signed checkpoint" in view.problem
