"""Client stubs for the broker's services: one stub per context over one channel."""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from tongdao.proto.transport import with_session
from tongdao.v1 import (
    accounts_pb2,
    accounts_pb2_grpc,
    cases_pb2,
    cases_pb2_grpc,
    catalogue_pb2,
    catalogue_pb2_grpc,
    directory_pb2,
    directory_pb2_grpc,
    disputes_pb2,
    disputes_pb2_grpc,
    ledger_pb2,
    ledger_pb2_grpc,
    opendata_pb2,
    opendata_pb2_grpc,
    query_pb2,
    query_pb2_grpc,
    sharing_pb2,
    sharing_pb2_grpc,
    supervision_pb2,
    supervision_pb2_grpc,
)

BROKER_SERVICES: tuple[str, ...] = tuple(
    module.DESCRIPTOR.services_by_name[name].full_name
    for module, name in (
        (directory_pb2, "Directory"),
        (catalogue_pb2, "Catalogue"),
        (sharing_pb2, "Sharing"),
        (query_pb2, "Query"),
        (supervision_pb2, "Supervision"),
        (ledger_pb2, "Ledger"),
        (accounts_pb2, "Accounts"),
        (disputes_pb2, "Disputes"),
        (cases_pb2, "TypicalCases"),
        (opendata_pb2, "OpenData"),
    )
)
"""Full names of the services a broker serves on its mutual-TLS listener."""

PUBLIC_SERVICES: tuple[str, ...] = ("tongdao.v1.PublicCatalogue", "tongdao.v1.PublicData")
"""Full names of the services on the broker's public listener (no client certificate)."""


@dataclass(frozen=True)
class BrokerStubs:
    """The broker's services as seen by a department, all over one mutual-TLS channel.

    Attributes:
        directory: departments (``tongdao.v1.Directory``).
        catalogue: catalogue entries, search, import/export (``tongdao.v1.Catalogue``).
        sharing: share requests, grants and service requests (``tongdao.v1.Sharing``).
        query: the query relay (``tongdao.v1.Query``).
        supervision: deadlines and the overdue report (``tongdao.v1.Supervision``).
        ledger: the tamper-evident ledger (``tongdao.v1.Ledger``).
        accounts: people's accounts, login sessions (``tongdao.v1.Accounts``).
        disputes: disputes between users and providers (``tongdao.v1.Disputes``).
        cases: typical use cases (``tongdao.v1.TypicalCases``).
        opendata: withdrawals of open data (``tongdao.v1.OpenData``).
    """

    directory: directory_pb2_grpc.DirectoryStub
    catalogue: catalogue_pb2_grpc.CatalogueStub
    sharing: sharing_pb2_grpc.SharingStub
    query: query_pb2_grpc.QueryStub
    supervision: supervision_pb2_grpc.SupervisionStub
    ledger: ledger_pb2_grpc.LedgerStub
    accounts: accounts_pb2_grpc.AccountsStub
    disputes: disputes_pb2_grpc.DisputesStub
    cases: cases_pb2_grpc.TypicalCasesStub
    opendata: opendata_pb2_grpc.OpenDataStub

    @classmethod
    def over(cls, channel: grpc.Channel, session_token: str = "") -> BrokerStubs:
        """Stubs for every broker service over ``channel``; with ``session_token`` every call
        carries that person's login session (metadata ``tongdao-session``)."""
        if session_token:
            channel = with_session(channel, session_token)
        return cls(
            directory=directory_pb2_grpc.DirectoryStub(channel),
            catalogue=catalogue_pb2_grpc.CatalogueStub(channel),
            sharing=sharing_pb2_grpc.SharingStub(channel),
            query=query_pb2_grpc.QueryStub(channel),
            supervision=supervision_pb2_grpc.SupervisionStub(channel),
            ledger=ledger_pb2_grpc.LedgerStub(channel),
            accounts=accounts_pb2_grpc.AccountsStub(channel),
            disputes=disputes_pb2_grpc.DisputesStub(channel),
            cases=cases_pb2_grpc.TypicalCasesStub(channel),
            opendata=opendata_pb2_grpc.OpenDataStub(channel),
        )
