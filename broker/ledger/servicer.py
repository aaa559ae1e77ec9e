"""tongdao.v1.Ledger: protobuf → ledger service → protobuf, nothing more."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker.kernel import validation as v
from tongdao.broker.kernel.wire import ContextServicer
from tongdao.broker.ledger.service import LedgerService
from tongdao.policies.i18n import msg
from tongdao.proto.errors import InvalidArgument
from tongdao.v1 import (
    ledger_pb2,
    ledger_pb2_grpc,
)


class LedgerServicer(ledger_pb2_grpc.LedgerServicer, ContextServicer):
    """Implements tongdao.v1.Ledger on :class:`LedgerService`."""

    def __init__(self, service: LedgerService, sessions: sessionmaker[Session]) -> None:
        self.service = service
        self.sessions = sessions

    def GetLedger(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        v.row_id(request.from_sequence, "from_sequence", low=0)
        page = self.service.pages(request.page_size or request.limit, request.page_token)
        with self.sessions.begin() as session:
            rows, head = self.service.page(session, caller, request.from_sequence, page)
            return ledger_pb2.GetLedgerResponse(
                entries=[_entry_pb(e) for e in rows],
                head_hash=head.head_hash,
                head_signature=head.signature,
                length=head.length,
                next_page_token=rows.next_page_token,
            )

    def VerifyLedger(self, request, context):  # type: ignore[no-untyped-def]
        self._caller(context)
        with self.sessions.begin() as session:
            result = self.service.verify(session)
            audit = result.audit
            return ledger_pb2.LedgerVerification(
                ok=result.ok,
                length=result.length,
                head_hash=result.head_hash,
                problem=result.problem,
                verified=audit.verified if audit else 0,
                unverified=audit.unverified if audit else result.length,
                checkpoint_size=audit.checkpoint_size if audit else 0,
                cosigned_by=list(audit.cosigned_by) if audit else [],
                witnesses_required=audit.witnesses_required if audit else 0,
            )

    def ExportLedger(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        page = self.service.pages(request.page_size, request.page_token, kind="ledger-export")
        with self.sessions() as session:
            for line, next_token in self.service.export(session, caller, page):
                yield ledger_pb2.ExportLedgerLine(line=line, next_page_token=next_token)

    def ProveInclusion(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        if request.sequence < 1:
            raise InvalidArgument(msg("must be 1 or more"), field="sequence")
        if request.tree_size < 0:
            raise InvalidArgument(msg("cannot be negative"), field="tree_size")
        with self.sessions() as session:
            e, size, proof, note = self.service.prove_inclusion(
                session, caller, request.sequence, request.tree_size
            )
            return ledger_pb2.InclusionProof(
                entry=_entry_pb(e), tree_size=size, proof=proof, checkpoint=note
            )

    def ProveConsistency(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions() as session:
            proof, old_note, new_note, old_root, new_root = self.service.prove_consistency(
                session, caller, request.old_size, request.new_size
            )
            return ledger_pb2.ConsistencyProof(
                proof=proof,
                old_checkpoint=old_note,
                new_checkpoint=new_note,
                old_root=old_root,
                new_root=new_root,
            )


def _entry_pb(e):  # type: ignore[no-untyped-def]
    return ledger_pb2.LedgerEntry(
        sequence=e.sequence,
        recorded_at=e.recorded_at,
        kind=e.kind,
        actor=e.actor,
        subject=e.subject,
        payload_json=e.payload_json,
        previous_hash=e.previous_hash,
        entry_hash=e.entry_hash,
    )
