"""Several brokers starting at once on one store run their start-up ledger rounds one after the
other (the store's rounds lock): the answers a node journaled while no broker ran are recorded
once each, every witness cosigns, the log verifies, and no round fails. On SQLite and, when
reachable, PostgreSQL (advisory lock)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
import time
import uuid

from sqlalchemy import func, select

from tongdao.broker.kernel.db import make_engine, session_factory, upgrade
from tongdao.broker.ledger.chain import Ledger, verify_ledger
from tongdao.broker.ledger.keeper import CosignReply, JournalLine, LedgerKeeper, WitnessNode
from tongdao.broker.ledger.models import LedgerCosignature, LedgerEntry
from tongdao.broker.ledger.rounds import LedgerRounds
from tongdao.crypto.checkpoint import LOG_KEY_NAME, NoteVerifier
from tongdao.crypto.query_binding import receipt_signing_bytes
from tongdao.crypto.signing import SigningKey
from tongdao.node.witness import Witness, WitnessRefusal
from tongdao.policies.loader import load_policy
from tongdao.proto.query import Receipt

RULES = load_policy().ledger
assert RULES is not None
BROKERS = 3
ANSWERED = 40
DEPARTMENTS = ("hlj.gat", "hlj.mzt")


class InProcessNodes:
    """The node calls, answered by real witnesses and journals held in memory."""

    def __init__(self, tmp, broker_key: SigningKey) -> None:
        self.keys = {code: SigningKey.generate() for code in DEPARTMENTS}
        log = NoteVerifier(LOG_KEY_NAME, broker_key.verify_key)
        self.witnesses = {
            code: Witness(tmp / code, name=code, key=key, log=log, origin=RULES.origin)
            for code, key in self.keys.items()
        }
        at = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(timespec="seconds")
        self.journals: dict[str, list[JournalLine]] = {}
        for code, key in self.keys.items():
            lines = []
            for position in range(1, ANSWERED + 1):
                fields = dict(
                    request_id=str(uuid.uuid4()),
                    grant_id="g-1",
                    provider=code,
                    result_digest=b"\1" * 32,
                    record_count=1,
                    answered_at=at,
                )
                signature = key.sign(receipt_signing_bytes(**fields))
                lines.append(JournalLine(position, "fetch", Receipt(**fields, signature=signature)))
            self.journals[code] = lines

    def targets(self, _session) -> list[WitnessNode]:
        return [WitnessNode(code, code, key.verify_key) for code, key in self.keys.items()]

    def add_checkpoint(self, endpoint, old_size, proof, note) -> CosignReply:
        witness = self.witnesses[endpoint]
        try:
            line = witness.add_checkpoint(old_size, list(proof), note)
        except WitnessRefusal as refusal:
            return CosignReply(
                refusal=refusal.reason,
                message=refusal.message,
                witnessed_size=refusal.witnessed_size,
                witnessed_checkpoint=refusal.witnessed,
            )
        held, _ = witness.latest()
        return CosignReply(cosignature=line.line(), witnessed_size=held.size if held else 0)

    def list_receipts(self, endpoint, after, limit) -> list[JournalLine]:
        return [line for line in self.journals[endpoint] if line.position > after][:limit]


def test_brokers_starting_at_once_reconcile_once_each(database_url, tmp_path):
    broker_key = SigningKey.generate()
    nodes = InProcessNodes(tmp_path, broker_key)
    engines = [make_engine(database_url) for _ in range(BROKERS)]
    upgrade(engines[0])
    with session_factory(engines[0]).begin() as s:  # a log that already has entries
        Ledger(broker_key).append(s, kind="test.entry", actor="hlj.gat", subject="x", payload={})
    inside: list[tuple[float, float]] = []
    lock = threading.Lock()

    def critical() -> None:  # a scheduled job of the round: records when it ran
        start = time.monotonic()
        time.sleep(0.05)
        with lock:
            inside.append((start, time.monotonic()))

    rounds = [
        LedgerRounds(
            LedgerKeeper(Ledger(broker_key), RULES, nodes),
            session_factory(engine),
            dt.timedelta(seconds=120),
            nodes.targets,
            extra=(critical,),
            lock_wait_seconds=120,
        )
        for engine in engines
    ]
    barrier = threading.Barrier(BROKERS)
    results: list[tuple[int, list]] = []
    errors: list[BaseException] = []

    def start(r: LedgerRounds) -> None:
        try:
            barrier.wait(timeout=30)
            results.append(r.run_once(answered_before=dt.datetime.now(dt.UTC)))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(r,)) for r in rounds]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors[0]
    assert len(results) == BROKERS
    # every journaled answer recorded once, by whichever round came first
    assert sum(late for late, _ in results) == ANSWERED * len(DEPARTMENTS)
    # the rounds did not overlap
    spans = sorted(inside)
    assert len(spans) == BROKERS
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))
    # every round's witnesses cosigned (none refused a checkpoint another round published)
    assert all(report.cosigned for _, reports in results for report in reports), results
    with session_factory(engines[0]).begin() as s:
        late = [
            json.loads(p)["request_id"]
            for p in s.execute(
                select(LedgerEntry.payload_json).where(LedgerEntry.kind == "query.relayed_late")
            ).scalars()
        ]
        assert len(late) == len(set(late)) == ANSWERED * len(DEPARTMENTS)
        refused = s.execute(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.kind == "ledger.witness_refused")
        ).scalar_one()
        assert refused == 0
        witnesses = set(s.execute(select(LedgerCosignature.witness)).scalars())
        assert witnesses == set(DEPARTMENTS)
        audit = verify_ledger(s, broker_key.verify_key)
    assert audit.ok, audit.problem
    for engine in engines:
        engine.dispose()
