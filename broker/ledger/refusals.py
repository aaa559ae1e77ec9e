"""Every refusal at the broker is a ledger entry — folded, so a flood cannot grow the log.

A refusal another context already recorded (a node's refusal of a relayed call is the relay's
``query.failed`` entry) is not recorded twice. The first refusal of a kind (same caller, method,
status, field, message and articles) in a fold period is appended as ``refusal`` (who, what,
which rule and article). Identical refusals later in the period only count; the count is
appended as one ``refusal.repeated`` entry when the period is over (at the next such refusal, or
at the next ledger round). So a flood of identical refusals adds at most two entries per period,
and every refusal is counted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker.kernel.actor import Actor, acting_as, current_actor
from tongdao.broker.ledger.chain import Ledger
from tongdao.broker.ledger.models import LedgerHead, LedgerRefusalFold
from tongdao.proto.errors import DomainError


class RefusalRecorder:
    """A :data:`tongdao.proto.transport.RefusalSink` that writes to the ledger."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        ledger: Ledger,
        fold: dt.timedelta,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.sessions = sessions
        self.ledger = ledger
        self.fold = fold
        self.clock = clock

    def __call__(self, method: str, caller: str | None, exc: DomainError) -> None:
        if getattr(exc, "recorded_in_ledger", False):  # e.g. a node's refusal: query.failed
            return
        if isinstance(exc.acted_by, Actor):  # the entry names the person the call acted for
            with acting_as(exc.acted_by):
                self._record(method, caller, exc)
        else:
            self._record(method, caller, exc)

    def _record(self, method: str, caller: str | None, exc: DomainError) -> None:
        what = {
            "method": method.rsplit("/", 1)[-1],
            "status": exc.code_name,
            "field": exc.field or "",
            "message": exc.message,
            "articles": list(exc.articles),
        }
        grant_id = getattr(exc, "grant_id", "")
        if grant_id:  # a grant's call refused at the broker: misuse findings read these
            what["grant_id"] = grant_id
        acting = current_actor()
        if acting is not None and acting.person:
            # one fold per person: two people's refusals are never counted as one's, and the
            # count appended later (outside the call) still names the person
            what["person"] = acting.person
        actor = caller or "(no certificate)"
        key = hashlib.sha256(json.dumps([actor, what], sort_keys=True).encode()).hexdigest()
        now = self.clock()
        with self.sessions.begin() as session:
            _lock(session)
            row = session.get(LedgerRefusalFold, key)
            if row is not None and now - _aware(row.first_at) < self.fold:
                row.count += 1
                row.last_at = now
                return
            if row is not None:
                self._close(session, row)
                session.delete(row)
                session.flush()
            entry = self.ledger.append(
                session, kind="refusal", actor=actor, subject=what["method"], payload=what
            )
            session.add(
                LedgerRefusalFold(
                    key=key,
                    actor=actor,
                    payload_json=json.dumps(what, sort_keys=True),
                    first_sequence=entry.sequence,
                    first_at=now,
                    last_at=now,
                    count=1,
                )
            )

    def flush(self) -> int:
        """Append the counts of fold periods that are over; returns how many entries."""
        now, done = self.clock(), 0
        with self.sessions.begin() as session:
            _lock(session)
            for row in session.execute(select(LedgerRefusalFold)).scalars().all():
                if now - _aware(row.first_at) >= self.fold:
                    done += self._close(session, row)
                    session.delete(row)
        return done

    def _close(self, session: Session, row: LedgerRefusalFold) -> int:
        if row.count <= 1:
            return 0
        what = json.loads(row.payload_json)
        self.ledger.append(
            session,
            kind="refusal.repeated",
            actor=row.actor,
            subject=what["method"],
            payload={
                **what,
                "repeats": row.count - 1,
                "first_entry": row.first_sequence,
                "from": _aware(row.first_at).isoformat(timespec="seconds"),
                "until": _aware(row.last_at).isoformat(timespec="seconds"),
            },
        )
        return 1


def _lock(session: Session) -> None:
    session.execute(select(LedgerHead).where(LedgerHead.id == 1).with_for_update()).scalar_one()


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
