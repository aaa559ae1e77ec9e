"""The ledger as a Merkle log on SQLite and PostgreSQL: checkpoints, proofs from the store,
the export as a self-contained archive, tampering found, archiving that keeps proofs."""

import datetime as dt
import io

import pytest
from sqlalchemy import text

from tongdao.broker.kernel.db import make_engine, session_factory, upgrade
from tongdao.broker.ledger import chain as ledger_mod
from tongdao.broker.ledger.audit import body_of
from tongdao.broker.ledger.chain import Ledger, verify_ledger
from tongdao.broker.ledger.export import archive, audit_export, export_lines, read_export
from tongdao.broker.ledger.models import LedgerEntry
from tongdao.crypto.checkpoint import Cosigner
from tongdao.crypto.errors import ProofError
from tongdao.crypto.merkle import leaf_hash, verify_consistency, verify_inclusion
from tongdao.crypto.signing import SigningKey

ORIGIN = "tongdao.test/ledger"
BROKER = SigningKey(bytes(range(32)))
WITNESS = SigningKey(bytes(range(3, 35)))
T0 = dt.datetime(2022, 1, 3, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    clock = [T0]
    ledger = Ledger(BROKER, clock=lambda: clock[0])
    yield session_factory(engine), ledger, clock
    engine.dispose()


def append(sessions, ledger, n, start=0):
    for i in range(start, start + n):
        with sessions.begin() as s:
            ledger.append(s, kind="test.entry", actor="hlj.gat", subject=f"s{i}", payload={"i": i})


def cosigned_checkpoint(sessions, ledger):
    with sessions.begin() as s:
        cp = ledger.publish_checkpoint(s, ORIGIN)
        line = Cosigner("hlj.gat", WITNESS).cosign(cp.note.split("\n\n")[0] + "\n", 1_700_000_000)
        ledger_mod.add_cosignature(s, cp, "hlj.gat", WITNESS.verify_key, line.line())
        return cp.size


def export(sessions, **kw):
    with sessions.begin() as s:
        return "\n".join(
            export_lines(
                s,
                origin=ORIGIN,
                witnesses={"hlj.gat": WITNESS.verify_key},
                witnesses_required=1,
                broker_key=BROKER.verify_key,
                **kw,
            )
        )


def test_proofs_from_the_store_verify_against_checkpoints(store):
    sessions, ledger, _ = store
    append(sessions, ledger, 13)
    cosigned_checkpoint(sessions, ledger)
    append(sessions, ledger, 8, start=13)
    cosigned_checkpoint(sessions, ledger)
    with sessions.begin() as s:
        root13, root21 = ledger_mod.root_at(s, 13), ledger_mod.root_at(s, 21)
        verify_consistency(13, 21, root13, root21, ledger_mod.prove_consistency(s, 13, 21))
        for seq in (1, 7, 13, 21):
            entry = s.get(LedgerEntry, seq)
            proof = ledger_mod.prove_inclusion(s, seq, 21)
            verify_inclusion(seq - 1, 21, leaf_hash(body_of(entry)), proof, root21)
        with pytest.raises(ProofError):
            ledger_mod.prove_inclusion(s, 5, 22)


def test_entries_after_the_last_checkpoint_are_reported_not_verified(store):
    sessions, ledger, _ = store
    append(sessions, ledger, 10)
    cosigned_checkpoint(sessions, ledger)
    append(sessions, ledger, 3, start=10)
    with sessions.begin() as s:
        v = verify_ledger(
            s,
            BROKER.verify_key,
            origin=ORIGIN,
            witnesses={"hlj.gat": WITNESS.verify_key},
            witnesses_required=1,
        )
    assert v.ok and v.audit is not None
    assert (v.length, v.audit.verified, v.audit.unverified) == (13, 10, 3)
    assert v.audit.witnessed and v.audit.cosigned_by == ("hlj.gat",)
    result = audit_export(read_export(export(sessions).splitlines()), BROKER.verify_key)
    assert result.ok and (result.verified, result.unverified) == (10, 3)


def test_an_export_is_self_contained_and_any_change_is_found(store):
    sessions, ledger, _ = store
    append(sessions, ledger, 9)
    cosigned_checkpoint(sessions, ledger)
    wire = export(sessions)
    good = audit_export(read_export(wire.splitlines()), BROKER.verify_key)
    assert good.ok and good.verified == 9 and good.witnessed
    altered = wire.replace('\\"i\\":4', '\\"i\\":40')
    assert altered != wire
    assert not audit_export(read_export(altered.splitlines()), BROKER.verify_key).ok
    # another key than the broker's: no checkpoint verifies, nothing counts as verified
    other = audit_export(read_export(wire.splitlines()), WITNESS.verify_key)
    assert not other.ok and other.verified == 0


def test_a_rewritten_store_fails_the_checkpoint_even_with_a_fresh_chain(store):
    """Whoever holds the broker key can recompute the chain and head, not the witnessed root."""
    sessions, ledger, _ = store
    append(sessions, ledger, 6)
    cosigned_checkpoint(sessions, ledger)
    with sessions.begin() as s:
        s.execute(text("update ledger_entries set subject = 'rewritten' where sequence = 3"))
        previous = ledger_mod.GENESIS_HASH
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
        head = ledger_mod.read_head(s)
        head.head_hash = previous
        head.signature = BROKER.sign(ledger_mod.head_signing_bytes(head.length, previous))
    with sessions.begin() as s:
        v = verify_ledger(s, BROKER.verify_key, origin=ORIGIN)
    assert not v.ok and "rewritten" in v.problem


def test_archiving_keeps_proofs_and_the_audit_of_the_rest(store):
    sessions, ledger, clock = store
    append(sessions, ledger, 12)
    clock[0] = T0 + dt.timedelta(days=3 * 366)
    append(sessions, ledger, 5, start=12)
    cosigned_checkpoint(sessions, ledger)
    with sessions.begin() as s:
        root = ledger_mod.root_at(s, 17)
        with pytest.raises(ProofError, match="3 years"):
            archive(
                s,
                io.StringIO(),
                up_to=14,
                now=clock[0],
                retention_years=3,
                origin=ORIGIN,
                witnesses={"hlj.gat": WITNESS.verify_key},
                witnesses_required=1,
                broker_key=BROKER.verify_key,
            )
    out = io.StringIO()
    with sessions.begin() as s:
        moved = archive(
            s,
            out,
            up_to=10,
            now=clock[0],
            retention_years=3,
            origin=ORIGIN,
            witnesses={"hlj.gat": WITNESS.verify_key},
            witnesses_required=1,
            broker_key=BROKER.verify_key,
        )
    assert moved == 10
    archived = audit_export(read_export(out.getvalue().splitlines()), BROKER.verify_key)
    assert archived.ok and archived.verified == 10 and archived.witnessed
    with sessions.begin() as s:
        assert s.get(LedgerEntry, 5) is None
        proof = ledger_mod.prove_inclusion(s, 12, 17)
        verify_inclusion(11, 17, leaf_hash(body_of(s.get(LedgerEntry, 12))), proof, root)
        v = verify_ledger(s, BROKER.verify_key, origin=ORIGIN)
    assert v.ok and v.length == 17 and v.audit.verified == 7
    rest = audit_export(read_export(export(sessions).splitlines()), BROKER.verify_key)
    assert rest.ok and rest.first == 11 and rest.verified == 7
