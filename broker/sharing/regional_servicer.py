"""The regional RPCs of tongdao.v1.Sharing (Art.23 regional splits, Art.26 return flows):
protobuf → sharing service → protobuf, nothing more."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker.kernel.wire import ContextServicer, iso
from tongdao.broker.sharing.models import RegionalSplit, ReturnFlow
from tongdao.broker.sharing.regional import Territory
from tongdao.broker.sharing.service import SharingService
from tongdao.v1 import sharing_pb2


def _territories(rows: list[dict[str, str]]) -> list[sharing_pb2.Territory]:
    return [sharing_pb2.Territory(region=t["region"], department=t["department"]) for t in rows]


def split_pb(s: RegionalSplit, article: str) -> sharing_pb2.RegionalSplit:
    return sharing_pb2.RegionalSplit(
        id=s.id,
        entry_code=s.entry_code,
        provider=s.provider,
        territories=_territories(s.territories),
        reason=s.reason,
        status=s.status,
        reviewer=s.reviewer,
        decision_reason=s.decision_reason,
        filed_at=iso(s.filed_at),
        decided_at=iso(s.decided_at),
        article=article,
    )


def flow_pb(f: ReturnFlow, article: str, on_withdrawal: str) -> sharing_pb2.ReturnFlow:
    return sharing_pb2.ReturnFlow(
        id=f.id,
        entry_code=f.entry_code,
        provider=f.provider,
        territories=_territories(f.territories),
        grant_ids=list(f.grant_ids),
        status=f.status,
        published_at=iso(f.published_at),
        withdrawn_at=iso(f.withdrawn_at),
        withdrawal_reason=f.withdrawal_reason,
        article=article,
        on_withdrawal=on_withdrawal,
    )


def _asked(territories) -> list[Territory]:  # type: ignore[no-untyped-def]
    return [Territory(t.region, t.department) for t in territories]


class RegionalServicerMixin(ContextServicer):
    """Regional splits and return flows; part of the Sharing servicer."""

    service: SharingService
    sessions: sessionmaker[Session]

    def _split(self, s: RegionalSplit) -> sharing_pb2.RegionalSplit:
        return split_pb(s, self.service.regional_rules.delegation_article)

    def _flow(self, f: ReturnFlow) -> sharing_pb2.ReturnFlow:
        rules = self.service.regional_rules
        return flow_pb(f, rules.return_flow_article, rules.on_withdrawal)

    def FileRegionalSplit(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            split = self.service.file_regional_split(
                session, caller, request.entry_code, _asked(request.territories), request.reason
            )
            return self._split(split)

    def DecideRegionalSplit(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            split = self.service.decide_regional_split(
                session, caller, request.id, request.approve, request.reason
            )
            return self._split(split)

    def WithdrawRegionalSplit(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            split = self.service.withdraw_regional_split(
                session, caller, request.id, request.reason
            )
            return self._split(split)

    def ListRegionalSplits(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions() as session:
            rows, token = self.service.list_regional_splits(
                session,
                caller,
                entry_code=request.entry_code,
                status=request.status,
                page_size=request.page_size,
                page_token=request.page_token,
            )
            return sharing_pb2.ListRegionalSplitsResponse(
                splits=[self._split(s) for s in rows], next_page_token=token
            )

    def PublishReturnFlow(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            flow = self.service.publish_return_flow(
                session, caller, request.entry_code, _asked(request.territories)
            )
            return self._flow(flow)

    def WithdrawReturnFlow(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            flow = self.service.withdraw_return_flow(session, caller, request.id, request.reason)
            return self._flow(flow)

    def ListReturnFlows(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions() as session:
            rows, token = self.service.list_return_flows(
                session,
                caller,
                entry_code=request.entry_code,
                status=request.status,
                page_size=request.page_size,
                page_token=request.page_token,
            )
            return sharing_pb2.ListReturnFlowsResponse(
                flows=[self._flow(f) for f in rows], next_page_token=token
            )
