"""The ledger through the broker: the rounds collect the nodes' cosignatures, and `tongdao ledger
verify / export / prove --remote` check the broker's export here with the broker's key."""

import json

import grpc
import pytest

from tongdao.cli import main
from tongdao.crypto.checkpoint import LOG_KEY_NAME, NoteVerifier, open_checkpoint
from tongdao.crypto.merkle import verify_consistency
from tongdao.local_stack import start_stack
from tongdao.policies.loader import load_policy
from tongdao.v1 import ledger_pb2

RULES = load_policy().ledger


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(tmp_path_factory.mktemp("ledger-remote"), records=20)
    late, reports = s.broker.ledger_rounds.run_once()
    assert late == 0 and reports and all(r.cosigned for r in reports), reports
    yield s
    s.stop()


def run(stack, capsys, *argv):
    capsys.readouterr()
    code = main([*argv, "--home", str(stack.home.root), "--broker", stack.broker.target])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_verify_remote_checks_the_broker_export_with_witnesses(stack, capsys):
    code, out, _ = run(stack, capsys, "ledger", "verify", "--remote", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["ok"] and summary["witnessed"], summary
    assert summary["verified"] == summary["entries"] - summary["unverified"]
    assert len(summary["cosigned_by"]) == len(stack.nodes)
    reply = stack.stub("authority").ledger.VerifyLedger(ledger_pb2.VerifyLedgerRequest())
    assert reply.ok and reply.checkpoint_size == summary["checkpoint_size"]
    assert sorted(reply.cosigned_by) == sorted(summary["cosigned_by"])


def test_export_and_prove_remote(stack, capsys, tmp_path):
    archive = tmp_path / "ledger.jsonl"
    code, out, _ = run(stack, capsys, "ledger", "export", str(archive))
    assert code == 0 and "exported" in out
    key = stack.home.broker_verify_key().public_key.hex()
    assert main(["ledger", "verify", "--export", str(archive), "--broker-key", key]) == 0
    code, out, _ = run(stack, capsys, "ledger", "prove", "2", "--remote")
    assert code == 0 and "signed by the broker" in out


def test_any_department_gets_consistency_proofs_only_the_authority_entries(stack):
    department = stack.stub("hrb.rsj").ledger
    size = (
        stack.stub("authority")
        .ledger.VerifyLedger(ledger_pb2.VerifyLedgerRequest())
        .checkpoint_size
    )
    reply = department.ProveConsistency(
        ledger_pb2.ProveConsistencyRequest(old_size=3, new_size=size)
    )
    log = NoteVerifier(LOG_KEY_NAME, stack.home.broker_verify_key())
    new, _ = open_checkpoint(reply.new_checkpoint, log, RULES.origin)
    verify_consistency(3, size, reply.old_root, new.root_hash, list(reply.proof))
    with pytest.raises(grpc.RpcError) as caught:
        department.ProveInclusion(ledger_pb2.ProveInclusionRequest(sequence=1))
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    proof = stack.stub("authority").ledger.ProveInclusion(
        ledger_pb2.ProveInclusionRequest(sequence=1)
    )
    assert proof.tree_size == size and proof.entry.sequence == 1 and proof.checkpoint
