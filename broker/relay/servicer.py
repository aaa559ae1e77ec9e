"""tongdao.v1.Query: protobuf → relay service → protobuf, nothing more.

The relay opens its own short transactions around the node call."""

from __future__ import annotations

import grpc
from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker.kernel.wire import ContextServicer
from tongdao.broker.relay.gateway import NodeGateway
from tongdao.broker.relay.service import RelayService
from tongdao.policies.i18n import msg
from tongdao.proto.errors import InvalidArgument
from tongdao.proto.query import RelayedQuery
from tongdao.v1 import (
    query_pb2,
    query_pb2_grpc,
)

HANDS_ON_READ = ("/tongdao.v1.Query/Query",)
"""The unary call whose first read (the grant's checks) goes on with the read transaction the
caller's role was checked in (:func:`~tongdao.broker.kernel.db.handing_on_read`)."""


class QueryServicer(query_pb2_grpc.QueryServicer, ContextServicer):
    """Implements tongdao.v1.Query on :class:`RelayService`."""

    def __init__(
        self, service: RelayService, sessions: sessionmaker[Session], gateway: NodeGateway
    ) -> None:
        self.service = service
        self.sessions = sessions
        self.gateway = gateway

    def Query(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        query = RelayedQuery.from_pb(request)
        answer, sequence = self.service.relay_query(self.sessions, caller, query, self.gateway)
        return query_pb2.QueryResponse(
            sealed_result=answer.sealed_result,
            receipt=answer.receipt.to_pb(),
            ledger_sequence=sequence,
        )

    def QueryStream(self, request_iterator, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        first = next(request_iterator, None)
        if first is None or first.WhichOneof("part") != "open":
            raise InvalidArgument(msg("the first message must open the query"), field="open")
        query = RelayedQuery.from_pb(first.open)

        def chunks():  # type: ignore[no-untyped-def]
            # anything but a chunk ends the upstream; the node then says what is missing
            try:
                for message in request_iterator:
                    if message.WhichOneof("part") != "chunk":
                        return
                    yield message.chunk
            except grpc.RpcError:
                return  # the consumer left: end the node's upstream so it stops too

        for item in self.service.relay_stream(
            self.sessions,
            caller,
            query,
            chunks(),
            self.gateway,
            consumer_gone=lambda: not context.is_active(),
        ):
            if isinstance(item, tuple):
                receipt, sequence = item
                yield query_pb2.QueryStreamResponse(
                    end=query_pb2.QueryStreamEnd(receipt=receipt.to_pb(), ledger_sequence=sequence)
                )
            else:
                yield query_pb2.QueryStreamResponse(chunk=item)

    def Aggregate(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        parts = [RelayedQuery.from_pb(part) for part in request.parts]
        totals, answers, sequence = self.service.relay_aggregate(
            self.sessions, caller, parts, request.paillier_public_key, self.gateway
        )
        return query_pb2.AggregateResponse(
            ciphertexts=totals,
            parts=[
                query_pb2.AggregatePart(
                    provider=provider, suppressed=answer.suppressed, receipt=answer.receipt.to_pb()
                )
                for answer, provider in answers
            ],
            ledger_sequence=sequence,
        )
