"""The broker's ledger rounds: at start and then every interval of the rule file, reconcile the
nodes' receipt journals with the log and publish a checkpoint for the witnesses to cosign.

Started by :func:`broker.server.start_broker`; one daemon thread, stopped with the broker.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker.directory.service import DirectoryService
from tongdao.broker.kernel.db import ROUNDS_LOCK, exclusive
from tongdao.broker.ledger.chain import Ledger
from tongdao.broker.ledger.keeper import LedgerKeeper, WitnessNode, WitnessReport
from tongdao.broker.ledger.refusals import RefusalRecorder
from tongdao.broker.sharing.service import SharingService
from tongdao.crypto.signing import VerifyKey
from tongdao.policies.model import LedgerRules
from tongdao.proto.errors import NotFound
from tongdao.proto.query import Receipt
from tongdao.proto.transport import TlsMaterial

log = logging.getLogger("tongdao.broker.ledger")
# A receipt younger than this may still be on its way into the ledger through the live relay
# (the broker's node call times out after 30 s); a scheduled reconciliation leaves it alone.
RELAY_GRACE = dt.timedelta(seconds=120)


def witness_nodes(directory: DirectoryService) -> Callable[[Session], list[WitnessNode]]:
    """The departments that run a node: they witness the log and journal receipts."""

    def nodes(session: Session) -> list[WitnessNode]:
        return [
            WitnessNode(d.code, d.node_endpoint, VerifyKey(d.signing_public_key))
            for d in directory.list_departments(session)
            if d.node_endpoint
        ]

    return nodes


def late_use_counter(sharing: SharingService) -> Callable[[Session, Receipt], str]:
    """A query the node answered but the log missed still counts one use of its grant (as the
    node counted it); returns the grant's consumer, the late entry's actor."""

    def count(session: Session, receipt: Receipt) -> str:
        try:
            grant = sharing.grant(session, receipt.grant_id)
        except NotFound:
            return receipt.provider
        sharing.count_use(session, grant.id, counted=True)
        return grant.consumer

    return count


@dataclass
class LedgerRounds:
    """The background rounds; ``run_once`` is also what a test or an operator calls."""

    keeper: LedgerKeeper
    sessions: sessionmaker[Session]
    grace: dt.timedelta
    nodes: Callable[[Session], Sequence[WitnessNode]]
    refusals: RefusalRecorder | None = None
    # further scheduled work run after each round (e.g. misuse detection), wired by the server
    extra: Sequence[Callable[[], object]] = ()
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    # how long a round waits for another broker's round on the same store before it is skipped
    # (default: two round intervals of the rule file)
    lock_wait_seconds: float | None = None
    last_reports: list[WitnessReport] = field(default_factory=list)
    rounds: int = 0

    def run_once(
        self, *, answered_before: dt.datetime | None = None
    ) -> tuple[int, list[WitnessReport]]:
        """Reconcile, then checkpoint and collect cosignatures. Returns (late entries, reports).

        The round holds the store's rounds lock (:data:`~tongdao.broker.kernel.db.ROUNDS_LOCK`):
        brokers sharing a PostgreSQL store — several starting at once — run their rounds one
        after the other, each finding what the one before it recorded. A round that cannot take
        the lock within ``lock_wait_seconds`` (two round intervals) is skipped (the next one runs).
        """
        engine = self.sessions.kw["bind"]
        rules = self.keeper.rules
        wait = self.lock_wait_seconds
        if wait is None:
            wait = 2.0 * min(rules.checkpoint_interval_seconds, rules.reconcile_interval_seconds)
        with exclusive(engine, ROUNDS_LOCK, wait_seconds=wait) as held:
            if not held:
                log.warning("ledger round skipped: another broker's round holds the store")
                return 0, []
            return self._round(answered_before)

    def _round(self, answered_before: dt.datetime | None) -> tuple[int, list[WitnessReport]]:
        with self.sessions() as session:
            nodes = list(self.nodes(session))
        cutoff = answered_before or self.keeper.clock() - self.grace
        late = self.keeper.reconcile(self.sessions, nodes, answered_before=cutoff)
        if self.refusals is not None:
            self.refusals.flush()
        for job in self.extra:
            job()
        reports = self.keeper.publish_and_collect(self.sessions, nodes)
        self.last_reports = reports
        self.rounds += 1
        return late, reports

    def start(self) -> None:
        """The first round at once (every receipt answered before this start is reconciled: none
        of them can still be in flight here), then every interval of the rule file (the shorter
        of ``checkpoint_interval_seconds`` and ``reconcile_interval_seconds``)."""
        rules = self.keeper.rules
        interval = min(rules.checkpoint_interval_seconds, rules.reconcile_interval_seconds)
        started = self.keeper.clock()

        def loop() -> None:
            first = True
            while not self._stop.is_set():
                try:
                    late, _ = self.run_once(answered_before=started if first else None)
                    if late:
                        log.warning("reconciliation recorded %d late entries", late)
                except Exception:  # a round must never stop the broker; the next one retries
                    log.exception("ledger round failed")
                first = False
                self._stop.wait(interval)

        self._thread = threading.Thread(target=loop, name="ledger-rounds", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def start_ledger_rounds(
    ledger: Ledger,
    rules: LedgerRules | None,
    tls: TlsMaterial,
    sessions: sessionmaker[Session],
    *,
    directory: DirectoryService,
    sharing: SharingService,
    refusals: RefusalRecorder | None = None,
    extra: Sequence[Callable[[], object]] = (),
) -> LedgerRounds | None:
    """Start the rounds for a broker (none when the rule file has no ``[ledger]`` table)."""
    if rules is None:
        return None
    from tongdao.broker.ledger.witness_gateway import GrpcLedgerNodes

    keeper = LedgerKeeper(ledger, rules, GrpcLedgerNodes(tls), on_late=late_use_counter(sharing))
    rounds = LedgerRounds(
        keeper, sessions, RELAY_GRACE, witness_nodes(directory), refusals=refusals, extra=extra
    )
    rounds.start()
    return rounds
