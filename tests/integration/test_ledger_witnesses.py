"""Departments' nodes witness the ledger over gRPC: a rolled-back store, a forked history and a
rewritten, re-signed history are each refused by every witness, with the evidence."""

import shutil

import pytest
from sqlalchemy import delete

from tongdao.broker.kernel.db import make_engine, session_factory, upgrade
from tongdao.broker.ledger import chain as ledger_mod
from tongdao.broker.ledger.audit import body_of
from tongdao.broker.ledger.chain import Ledger, verify_ledger
from tongdao.broker.ledger.keeper import LedgerKeeper, WitnessNode
from tongdao.broker.ledger.models import LedgerEntry, LedgerTree, LedgerTreeNode
from tongdao.broker.ledger.witness_gateway import GrpcLedgerNodes
from tongdao.ca_home import enrol_all_locally
from tongdao.crypto.checkpoint import LOG_KEY_NAME, NoteVerifier, open_checkpoint
from tongdao.crypto.merkle import CompactRange, leaf_hash
from tongdao.home import BROKER, Home
from tongdao.local_stack import GAT, MZT, SW
from tongdao.node.config import NodeConfig
from tongdao.node.server import build_engine, start_node
from tongdao.policies.loader import load_policy

RULES = load_policy().ledger


@pytest.fixture
def world(tmp_path):
    home = Home(tmp_path / "home")
    enrol_all_locally(home, tmp_path / "ca", (GAT, MZT, SW))
    nodes, witnesses = [], []
    for profile in (GAT, MZT, SW):
        config = NodeConfig(
            department=profile.code,
            home=home.root,
            listen="127.0.0.1:0",
            state_dir=tmp_path / f"state-{profile.code}",
            policy="heilongjiang-2025",
            entries=[],
            base_dir=tmp_path,
        )
        engine = build_engine(
            config,
            signing_key=home.signing_key(profile.code),
            encryption_keys=home.encryption_keys(profile.code),
            broker_key=home.broker_verify_key(),
        )
        node = start_node(engine, home.server_tls(profile.code), "127.0.0.1:0")
        nodes.append(node)
        witnesses.append(
            WitnessNode(profile.code, node.target, home.signing_key(profile.code).verify_key)
        )
    client = GrpcLedgerNodes(home.tls(BROKER))
    yield tmp_path, home, witnesses, client
    client.close()
    for node in nodes:
        node.stop(0)


class Store:
    def __init__(self, path, home, client):
        self.path = path
        self.engine = make_engine(f"sqlite:///{path}")
        upgrade(self.engine)
        self.sessions = session_factory(self.engine)
        self.ledger = Ledger(home.signing_key(BROKER))
        self.keeper = LedgerKeeper(self.ledger, RULES, client)

    def append(self, n, tag="entry"):
        for i in range(n):
            with self.sessions.begin() as s:
                self.ledger.append(
                    s, kind="test.entry", actor="hlj.gat", subject=f"{tag}-{i}", payload={}
                )

    def close(self):
        self.engine.dispose()


def assert_refused_with_evidence(reports, home, held_size, offered_size):
    log = NoteVerifier(LOG_KEY_NAME, home.broker_verify_key())
    assert reports and all(not r.cosigned for r in reports), reports
    for r in reports:
        assert r.refusal in ("conflict", "inconsistent")
        held, _ = open_checkpoint(r.evidence["witnessed_checkpoint"], log, RULES.origin)
        offered, _ = open_checkpoint(r.evidence["offered_checkpoint"], log, RULES.origin)
        # both statements carry the broker's signature: the evidence needs no trust in anyone
        assert (held.size, offered.size) == (held_size, offered_size)
        if held.size == offered.size:
            assert held.root_hash != offered.root_hash


def test_witnesses_cosign_a_growing_log_and_refuse_a_rollback(world):
    tmp, home, witnesses, client = world
    store = Store(tmp / "broker.db", home, client)
    store.append(10)
    assert all(r.cosigned for r in store.keeper.publish_and_collect(store.sessions, witnesses))
    store.close()
    shutil.copy(tmp / "broker.db", tmp / "backup-10.db")
    store = Store(tmp / "broker.db", home, client)
    store.append(5)
    assert all(r.cosigned for r in store.keeper.publish_and_collect(store.sessions, witnesses))
    with store.sessions() as s:
        v = verify_ledger(
            s,
            home.broker_verify_key(),
            origin=RULES.origin,
            witnesses={w.code: w.key for w in witnesses},
            witnesses_required=RULES.witness_cosignatures,
        )
    assert v.ok and v.audit.witnessed and v.audit.verified == 15
    store.close()
    # the store is restored from the older, validly signed copy
    shutil.copy(tmp / "backup-10.db", tmp / "broker.db")
    store = Store(tmp / "broker.db", home, client)
    reports = store.keeper.publish_and_collect(store.sessions, witnesses)
    assert_refused_with_evidence(reports, home, held_size=15, offered_size=10)
    with store.sessions() as s:  # the refusals are in the log itself, with the evidence
        kinds = [e.kind for e in s.query(LedgerEntry).order_by(LedgerEntry.sequence)]
    assert kinds[-3:] == ["ledger.witness_refused"] * 3
    store.close()


def test_witnesses_refuse_a_forked_history(world):
    tmp, home, witnesses, client = world
    store = Store(tmp / "broker.db", home, client)
    store.append(8)
    store.keeper.publish_and_collect(store.sessions, witnesses)
    store.close()
    shutil.copy(tmp / "broker.db", tmp / "fork.db")
    store = Store(tmp / "broker.db", home, client)
    store.append(4, tag="honest")
    assert all(r.cosigned for r in store.keeper.publish_and_collect(store.sessions, witnesses))
    store.close()
    fork = Store(tmp / "fork.db", home, client)  # the same prefix, another continuation
    fork.append(4, tag="forked")
    reports = fork.keeper.publish_and_collect(fork.sessions, witnesses)
    assert_refused_with_evidence(reports, home, held_size=12, offered_size=12)
    fork.close()


def test_witnesses_refuse_a_rewritten_and_re_signed_history(world):
    tmp, home, witnesses, client = world
    store = Store(tmp / "broker.db", home, client)
    store.append(9)
    assert all(r.cosigned for r in store.keeper.publish_and_collect(store.sessions, witnesses))
    key = home.signing_key(BROKER)
    with store.sessions.begin() as s:  # whoever holds the broker key rewrites entry 4 ...
        s.get(LedgerEntry, 4).subject = "rewritten"
        s.execute(delete(LedgerTreeNode))
        previous, edge = ledger_mod.GENESIS_HASH, CompactRange()
        for e in s.query(LedgerEntry).order_by(LedgerEntry.sequence):
            e.previous_hash = previous
            e.entry_hash = ledger_mod.entry_hash(
                previous,
                sequence=e.sequence,
                recorded_at=e.recorded_at,
                kind=e.kind,
                actor=e.actor,
                subject=e.subject,
                payload_json=e.payload_json,
            )
            previous = e.entry_hash
            for level, idx, h in edge.append(leaf_hash(body_of(e))):
                s.add(LedgerTreeNode(level=level, idx=idx, hash=h))
        tree = s.get(LedgerTree, 1)
        tree.size, tree.compact_range = edge.size, edge.to_bytes()
        head = ledger_mod.read_head(s)
        head.head_hash = previous
        head.signature = key.sign(ledger_mod.head_signing_bytes(head.length, previous))
    store.append(1, tag="after")  # ... and signs a new checkpoint over the rewritten tree
    reports = store.keeper.publish_and_collect(store.sessions, witnesses)
    assert_refused_with_evidence(reports, home, held_size=9, offered_size=10)
    assert {r.refusal for r in reports} == {"inconsistent"}
    store.close()
