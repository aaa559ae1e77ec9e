"""Corrections that correct (SHR-5, Art.24), over real gRPC with real nodes: the record key and
the corrected values are sealed to the provider's node, which applies an accepted correction
through its adapter (a CSV file rewritten atomically, one SQL UPDATE) and returns a signed
receipt with the record's digests before and after; the broker records it on the correction
and in the ledger, never holding a value; the requester sees the outcome with `requests mine`.
Refusals (no such record, an item not in the entry, the record key, a read-only source, a
replayed or misdirected envelope) are signed and recorded the same way."""

from __future__ import annotations

import base64
import csv
import json
import sqlite3
import uuid

import grpc
import pytest
from sqlalchemy import create_engine, select

from tongdao import synthetic
from tongdao.broker.ledger.models import LedgerEntry
from tongdao.broker.sharing.models import ServiceRequest
from tongdao.cli import main
from tongdao.crypto.correction import CorrectionReceipt, record_digest, seal_correction
from tongdao.crypto.pki import node_server_name
from tongdao.home import BROKER
from tongdao.local_stack import _grades
from tongdao.node.reconciliation import holdings_key
from tongdao.policies.loader import load_policy
from tongdao.proto.transport import secure_channel
from tongdao.v1 import node_pb2, node_pb2_grpc

from .stack import start_stack

GAT, MZT, SW = "hlj.gat", "hlj.mzt", "hlj.sw"
RECORDS = 12
MARKER = "CORR7Q9"  # in every corrected value, so a leak anywhere in the broker's store shows


@pytest.fixture
def world(database_url, tmp_path):
    people = synthetic.population(RECORDS)
    db = tmp_path / "marriage.db"
    names = {p["id_number"]: p["name"] for p in people}
    # the civil-affairs copy of people's names, two of them recorded differently
    rows = [{**r, "name": names[r["id_number"]]} for r in synthetic.marriages(people)]
    for r in rows[6:8]:
        r["name"] = f"{MARKER}{r['name']}"
    with sqlite3.connect(db) as conn:
        columns = list(rows[0])
        conn.execute(f"CREATE TABLE marriage ({', '.join(c + ' TEXT' for c in columns)})")
        conn.executemany(
            f"INSERT INTO marriage VALUES ({', '.join('?' for _ in columns)})",
            [tuple(r[c] for c in columns) for r in rows],
        )
    stack = start_stack(
        tmp_path,
        database_url,
        records=RECORDS,
        node_overrides={
            "mzt.marriage": {
                "source": f"sql:sqlite:///{db}#marriage",
                "grades": {**_grades("mzt.marriage"), "name": "personal"},
            },
            "sw.income": {"read_only": True},
        },
    )
    yield stack, tmp_path, db
    stack.stop()


def run(stack, capsys, *argv: str, party: str) -> tuple[int, str]:
    capsys.readouterr()
    common = ["--home", str(stack.home.root), "--broker", stack.broker.target, "--as", party]
    code = main([*argv, *common])
    out, err = capsys.readouterr()
    assert code == 0, err
    return code, out


def file_correction(stack, capsys, provider, entry, key, *sets) -> dict:
    argv = ["requests", "correction", "--provider", provider, "--entry", entry]
    argv += ["--record-key", key, "--requester", "张三", "--description", "记录有误", "--json"]
    for item in sets:
        argv += ["--set", item]
    _, out = run(stack, capsys, *argv, party="authority")
    return json.loads(out)


def decide(stack, capsys, provider, request_id) -> dict:
    _, out = run(
        stack, capsys, "requests", "decide", request_id, "--approve", "--json", party=provider
    )
    return json.loads(out)


def read_csv(path):
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return {r["id_number"]: r for r in csv.DictReader(fh)}


def broker_text(stack) -> str:
    """Everything the broker stores about service requests and in its ledger."""
    engine = create_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            requests = conn.execute(select(ServiceRequest.__table__)).all()
            ledger = conn.execute(select(LedgerEntry.payload_json)).scalars().all()
    finally:
        engine.dispose()
    return json.dumps([list(map(str, r)) for r in requests], ensure_ascii=False) + "".join(ledger)


def ledger_payloads(stack, kind: str) -> list[dict]:
    engine = create_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(LedgerEntry.payload_json).where(LedgerEntry.kind == kind)
            ).scalars()
            return [json.loads(p) for p in rows]
    finally:
        engine.dispose()


def test_an_accepted_correction_is_applied_at_the_node_and_seen_by_the_requester(world, capsys):
    stack, tmp, db = world
    person = stack.people[3]
    key = person["id_number"]
    new_address = f"哈尔滨市道里区{MARKER}号"

    filed = file_correction(
        stack, capsys, GAT, "gat.population", key, f"household_address={new_address}"
    )
    assert filed["status"] == "pending"
    assert filed["data_items"] == ["household_address"]
    assert "sealed_correction" not in filed and "record_key" not in filed
    # before the provider answers, the broker holds ciphertext only: no value, no key
    stored = broker_text(stack)
    assert MARKER not in stored and key not in stored
    _, out = run(stack, capsys, "requests", "mine", "--id", filed["id"], party="authority")
    assert "sealed to hlj.gat's node: household_address" in out

    before = read_csv(tmp / "population.csv")[key]
    decided = decide(stack, capsys, GAT, filed["id"])
    assert decided["status"] == "corrected"
    receipt = decided["correction_receipt"]
    assert receipt["fields"] == ["household_address"] and "refusal" not in receipt

    # the node's file now holds the corrected value, every other record and column unchanged
    after_rows = read_csv(tmp / "population.csv")
    assert after_rows[key] == {**before, "household_address": new_address}
    assert len(after_rows) == RECORDS
    assert all(after_rows[p["id_number"]]["name"] == p["name"] for p in stack.people)
    engine_entry = stack.nodes[GAT].engine.entries["gat.population"]
    assert engine_entry.source.lookup(key)["household_address"] == new_address

    # the receipt is the node's, signed, with the digests of the record before and after
    hkey = holdings_key(tmp / f"state-{GAT}")
    signed = CorrectionReceipt(
        request_id=filed["id"],
        department=GAT,
        entry_code="gat.population",
        correction_id=filed["correction_id"],
        fields=("household_address",),
        before_digest=record_digest(hkey, before),
        after_digest=record_digest(hkey, after_rows[key]),
        key_id=receipt["key_id"],
        decided_at=receipt["decided_at"],
        signature=base64.b64decode(receipt["signature"]),
    )
    signed.verify(stack.home.signing_key(GAT).verify_key)
    [applied] = ledger_payloads(stack, "correction.applied")
    assert applied["before_digest"] == signed.before_digest.hex()
    assert applied["after_digest"] == signed.after_digest.hex()
    assert applied["articles"] == ["Art.24"]
    # after it as before: the broker never held the value or the key, and the envelope is gone
    stored = broker_text(stack)
    assert MARKER not in stored and key not in stored and "sealed_correction" not in stored

    # the requester sees status and outcome
    _, out = run(stack, capsys, "requests", "mine", "--id", filed["id"], party="authority")
    assert "corrected" in out
    assert "applied by hlj.gat's node" in out
    assert signed.after_digest.hex() in out
    _, out = run(
        stack, capsys, "requests", "mine", "--kind", "correction", "--json", party="authority"
    )
    [mine] = json.loads(out)["requests"]
    assert mine["correction_receipt"]["after_digest"] == receipt["after_digest"]

    # a SQL source: one UPDATE, the row changed in the database
    wed = stack.marriages[5]["id_number"]
    filed = file_correction(
        stack,
        capsys,
        MZT,
        "mzt.marriage",
        wed,
        "marital_status=已婚",
        f"registration_office={MARKER}",
    )
    decided = decide(stack, capsys, MZT, filed["id"])
    assert decided["status"] == "corrected", decided
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT marital_status, registration_office FROM marriage WHERE id_number = ?",
            (wed,),
        ).fetchone()
    assert row == ("已婚", MARKER)
    assert MARKER not in broker_text(stack)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_correction_the_node_cannot_apply_is_refused_with_its_reason(world, capsys):
    stack, tmp, _ = world
    key = stack.people[1]["id_number"]
    original = (tmp / "population.csv").read_bytes()
    cases = [
        (GAT, "gat.population", "230103000000000000", "name=李四", "no record with that key"),
        (GAT, "gat.population", key, "region=230102", "'region' is not a data item"),
        (GAT, "gat.population", key, "id_number=1", "the record key 'id_number' cannot"),
        (SW, "sw.income", stack.incomes[0]["id_number"], "annual_income=1", "read-only"),
    ]
    for provider, entry, record, item, reason in cases:
        filed = file_correction(stack, capsys, provider, entry, record, item)
        decided = decide(stack, capsys, provider, filed["id"])
        assert decided["status"] == "refused"
        assert reason in decided["correction_receipt"]["refusal"]
        assert reason in decided["decision"]["reason"]
        _, out = run(stack, capsys, "requests", "mine", "--id", filed["id"], party="authority")
        assert "did not apply it" in out and reason in out
    assert (tmp / "population.csv").read_bytes() == original
    assert len(ledger_payloads(stack, "correction.not_applied")) == len(cases)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_node_applies_a_correction_once_and_only_its_own(world):
    stack, tmp, _ = world
    node = stack.nodes[GAT]
    gat_key = stack.home.encryption_keys(GAT).public_key
    channel = secure_channel(node.target, stack.home.tls(BROKER), server_name=node_server_name(GAT))
    stub = node_pb2_grpc.NodeStub(channel)
    key = stack.people[2]["id_number"]
    cid = str(uuid.uuid4())

    def apply(envelope, correction_id=cid, entry="gat.population"):
        return stub.ApplyCorrection(
            node_pb2.ApplyCorrectionRequest(
                request_id=str(uuid.uuid4()),
                entry_code=entry,
                correction_id=correction_id,
                fields=["name"],
                sealed_correction=envelope,
            ),
            timeout=10,
        )

    def sealed(to=gat_key, entry="gat.population", correction_id=cid, provider=GAT):
        return seal_correction(
            to,
            provider=provider,
            entry_code=entry,
            correction_id=correction_id,
            record_key=key,
            values={"name": "王五"},
        )

    try:
        assert apply(sealed()).refusal == ""
        assert apply(sealed()).refusal == "this correction was applied before"
        other = str(uuid.uuid4())
        # bound to another correction id, another provider, or sealed to another node's key
        assert "not sealed to this node" in apply(sealed(), correction_id=other).refusal
        assert (
            "not sealed to this node"
            in apply(sealed(provider=MZT, correction_id=other), correction_id=other).refusal
        )
        mzt_key = stack.home.encryption_keys(MZT).public_key
        assert (
            "not sealed to this node"
            in apply(sealed(to=mzt_key, correction_id=other), correction_id=other).refusal
        )
        assert "does not serve" in apply(sealed(), entry="mzt.marriage").refusal
        with pytest.raises(grpc.RpcError) as err:
            apply(sealed(), correction_id="not-a-uuid")
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        channel.close()
    assert read_csv(tmp / "population.csv")[key]["name"] == "王五"
    # only the broker may call a node
    stranger = secure_channel(node.target, stack.home.tls(GAT), server_name=node_server_name(GAT))
    try:
        with pytest.raises(grpc.RpcError) as err:
            node_pb2_grpc.NodeStub(stranger).ApplyCorrection(
                node_pb2.ApplyCorrectionRequest(), timeout=10
            )
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    finally:
        stranger.close()


def test_cross_verification_opens_notices_for_mismatches_seen_as_digests_only(world, capsys):
    stack, _, _ = world
    keys = [m["id_number"] for m in stack.marriages[3:8]] + ["230103000000000001"]
    argv = ["requests", "cross-check", "--entry", "gat.population", "--entry", "mzt.marriage"]
    argv += ["--item", "name", "--description", "年度人口信息交叉核验", "--json"]
    for key in keys:
        argv += ["--key", key]
    _, out = run(stack, capsys, *argv, party="authority")
    result = json.loads(out)
    assert (result["checked"], result["matched"], result["mismatched"], result["missing"]) == (
        6,
        3,
        2,
        1,
    )
    differing = [m["id_number"] for m in stack.marriages[6:8]]
    assert sorted(result["mismatched_keys"]) == sorted(differing)
    assert len(result["notice_ids"]) == 4  # each mismatch at each provider
    assert result["articles"] == ["Art.24"]
    stored = broker_text(stack)
    assert MARKER not in stored
    assert not any(key in stored for key in keys)
    [logged] = ledger_payloads(stack, "cross_check.run")
    assert logged["mismatched"] == 2 and logged["missing"] == 1

    # each provider finds the notices in its inbox, on the correction clock, and reads the key
    for provider in (GAT, MZT):
        _, out = run(stack, capsys, "requests", "inbox", party=provider)
        for key in differing:
            assert f"name of record {key}" in out
        _, out = run(stack, capsys, "requests", "inbox", "--json", party=provider)
        notices = [r for r in json.loads(out)["requests"] if r.get("cross_check_run")]
        assert len(notices) == 2
        assert all(r["due_date"] and r["status"] == "pending" for r in notices)
    # the authority's view of another party's notice shows no key
    _, out = run(stack, capsys, "requests", "mine", "--kind", "correction", party="authority")
    assert not any(key in out for key in keys)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_cross_verification_is_bounded_by_the_rule_file(world, capsys, tmp_path):
    stack, _, _ = world
    limit = load_policy().cross_verification.max_keys
    keys = tmp_path / "keys.txt"
    keys.write_text("\n".join(f"2301030000{n:08d}" for n in range(limit + 1)), encoding="utf-8")
    common = ["--home", str(stack.home.root), "--broker", stack.broker.target, "--as", "authority"]
    argv = ["requests", "cross-check", "--entry", "gat.population", "--entry", "mzt.marriage"]
    argv += ["--item", "name", "--description", "d", "--key-file", str(keys), *common]
    capsys.readouterr()
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert f"at most {limit} record keys" in err and "Art.24" in err
    # and only the data authority runs it
    argv = ["requests", "cross-check", "--entry", "gat.population", "--entry", "mzt.marriage"]
    argv += ["--item", "name", "--description", "d", "--key", "1"]
    argv += ["--home", str(stack.home.root), "--broker", stack.broker.target, "--as", "hrb.rsj"]
    assert main(argv) != 0
    assert "PERMISSION_DENIED" in capsys.readouterr().err
