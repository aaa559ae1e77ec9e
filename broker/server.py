"""Run the broker: store, policy, calendar, keys, one servicer per context on a gRPC server with
mutual TLS (the services are wired in :mod:`tongdao.broker.app`)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2
from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker.app import BrokerServices, build_services
from tongdao.broker.cases.servicer import TypicalCasesServicer
from tongdao.broker.catalogue.servicer import CatalogueServicer, PublicCatalogueServicer
from tongdao.broker.directory.access import AccessInterceptor
from tongdao.broker.directory.accounts_servicer import AccountsServicer
from tongdao.broker.directory.servicer import DirectoryServicer
from tongdao.broker.disputes.servicer import DisputesServicer
from tongdao.broker.kernel.context import AUTHORITY
from tongdao.broker.kernel.db import (
    STARTUP_LOCK,
    exclusive,
    make_engine,
    read_only,
    resolve_database_url,
    session_factory,
    upgrade,
)
from tongdao.broker.kernel.settings import BrokerSettings
from tongdao.broker.ledger.chain import Ledger, latest_checkpoint
from tongdao.broker.ledger.refusals import RefusalRecorder
from tongdao.broker.ledger.rounds import LedgerRounds, start_ledger_rounds
from tongdao.broker.ledger.servicer import LedgerServicer
from tongdao.broker.ledger.writer import LedgerWriter
from tongdao.broker.opendata.servicer import OpenDataServicer, PublicDataServicer
from tongdao.broker.ops.startup import STORE_ERRORS, StoreUnavailable, explain
from tongdao.broker.ops.wiring import (
    Operations,
    build_operations,
    checkpoint_time_of,
    ledger_head_of,
)
from tongdao.broker.relay.gateway import GrpcNodeGateway
from tongdao.broker.relay.servicer import HANDS_ON_READ, QueryServicer
from tongdao.broker.sharing.servicer import SharingServicer
from tongdao.broker.supervision.reconcile_gateway import GrpcReconciliationNodes
from tongdao.broker.supervision.reconciliation import NodeTarget, Reconciler
from tongdao.broker.supervision.servicer import SupervisionServicer
from tongdao.crypto.pki import node_server_name
from tongdao.crypto.signing import SigningKey, VerifyKey
from tongdao.policies.calendar import CalendarDataError, WorkingDayCalendar
from tongdao.policies.i18n import msg
from tongdao.policies.lifecycle import load_schedule
from tongdao.policies.model import Policy, PolicyError
from tongdao.policies.official_schedule import ScheduleError
from tongdao.proto.edge import RateLimit
from tongdao.proto.errors import Unauthenticated
from tongdao.proto.stubs import BROKER_SERVICES
from tongdao.proto.transport import (
    TlsMaterial,
    TlsSource,
    add_health_and_reflection,
    bind,
    check_free,
    new_server,
    public_server_credentials,
    secure_channel,
    server_credentials,
)
from tongdao.proto.turn_interceptor import TurnInterceptor
from tongdao.proto.turns import NO_TURNS, Turns
from tongdao.v1 import (
    accounts_pb2_grpc,
    cases_pb2_grpc,
    catalogue_pb2_grpc,
    directory_pb2_grpc,
    disputes_pb2_grpc,
    ledger_pb2_grpc,
    opendata_pb2_grpc,
    query_pb2_grpc,
    sharing_pb2_grpc,
    supervision_pb2_grpc,
)

log = logging.getLogger("tongdao.broker")


@dataclass
class BrokerConfig:
    """Everything needed to run a broker."""

    tls: TlsMaterial
    signing_key: SigningKey
    database_url: str | None = None
    listen: str = "127.0.0.1:0"
    policy: str = "heilongjiang-2025"
    settings: BrokerSettings = field(default_factory=BrokerSettings)
    working_directory: Path | None = None
    public_listen: str = ""  # the public open catalogue (TLS, no client certificate); "" = off
    server_tls: TlsMaterial | TlsSource | None = None  # the server certificate (default: tls)
    client_tls: TlsSource | None = None  # re-read client material for calling nodes (renewal)
    identity: grpc.ServerInterceptor | None = None  # caller check before every handler
    policy_dir: Path | None = None  # successor rule files installed with `tongdao policy install`
    metrics_listen: str = ""  # plain HTTP /metrics, /healthz, /readyz; "" = off
    node_probe_interval: float = 0.0  # seconds between node health probes; 0 = off
    clock: Callable[[], dt.datetime] | None = None  # injectable for tests (lockout, sessions)


@dataclass
class RunningBroker:
    """A started broker; ``stop()`` drains it."""

    server: grpc.Server
    port: int
    services: BrokerServices
    health: object
    gateway: GrpcNodeGateway
    database_url: str
    public_server: grpc.Server | None = None
    public_port: int = 0
    ledger_rounds: LedgerRounds | None = None
    operations: Operations | None = None
    reconciler: Reconciler | None = None
    writer: LedgerWriter | None = None  # group commit of the relayed calls' entries
    _stopped: threading.Event = field(default_factory=threading.Event)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self, grace: float = 2.0) -> None:
        """Mark NOT_SERVING, finish in-flight calls, close node channels."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self.ledger_rounds is not None:
            self.ledger_rounds.stop()
        for name in BROKER_SERVICES:
            self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)  # type: ignore[attr-defined]
        if self.public_server is not None:
            self.public_server.stop(grace).wait()
        self.server.stop(grace).wait()
        if self.writer is not None:
            self.writer.close()  # after the last call: what it queued is committed
        if self.operations is not None:
            self.operations.stop()
        self.gateway.close()
        if self.reconciler is not None and isinstance(
            self.reconciler.gateway, GrpcReconciliationNodes
        ):
            self.reconciler.gateway.close()


def build_reconciler(
    services: BrokerServices, policy: Policy, tls: TlsMaterial
) -> Reconciler | None:
    """The daily reconciliation (Art.19) over the nodes' reports, or None when the rule file
    sets none."""
    if policy.reconciliation is None:
        return None
    directory = services.directory

    def nodes(session: Session) -> list[NodeTarget]:
        return [
            NodeTarget(d.code, d.node_endpoint, VerifyKey(d.signing_public_key))
            for d in directory.list_departments(session)
            if d.node_endpoint
        ]

    return Reconciler(
        kernel=services.kernel,
        ledger=services.ledger.chain,
        directory=directory,
        rules=policy.reconciliation,
        nodes=nodes,
        gateway=GrpcReconciliationNodes(tls),
        grants=services.sharing.grant_views,
        usage=services.sharing.usage_counts,
        versions=services.catalogue.current_versions,
    )


# the broker's own threads that use the store: the ledger's rounds (checkpoints,
# misuse detection), the node prober, the revocation watcher, the operations endpoint
BACKGROUND_CONNECTIONS = 6


def rate_limit(policy: Policy) -> RateLimit | None:
    """Each department's token bucket, from the rule file's ``[rate_limits]`` (None: none)."""
    rules = policy.rate_limits
    if rules is None:
        return None
    return RateLimit(rules.calls_per_second, rules.burst, rules.article)


def _admit(services: BrokerServices, sessions: sessionmaker[Session], caller: str | None) -> None:
    if not caller:
        raise Unauthenticated(msg("no verified client certificate"))
    if caller == AUTHORITY:
        return
    with sessions() as session:
        services.directory.require_registered(session, caller)


def log_policies_and_calendar(services: BrokerServices, official: tuple[int, ...]) -> None:
    """At start: the rule files in force and the calendar's coverage, warnings first."""
    supervision = services.supervision
    today = supervision.today()
    for policy in services.kernel.schedule().policies:
        log.info(
            "rule file %s valid %s to %s", policy.source, policy.valid_from, policy.valid_until
        )
    warning = services.kernel.expiry_warning(today)
    if warning is not None:
        log.warning("%s", warning.message())
    if official:
        log.info("official holiday schedules loaded at the broker: %s", official)
    for year in (today.year, today.year + 1):
        if supervision.calendar.is_provisional(year):
            log.warning(
                "%d has no official holiday schedule: deadlines counted through it are "
                "provisional (national holiday rules, no make-up working days); load the "
                "State Council's schedule with `tongdao calendar load FILE --to-broker`",
                year,
            )


def _warn_while_bootstrapping(
    services: BrokerServices, sessions: sessionmaker[Session], policy: Policy
) -> None:
    """Say at start when the authority's certificate alone still holds its bootstrap roles."""
    roles = policy.access_rules.bootstrap.get("authority")
    if not roles:
        return
    with sessions.begin() as session:
        if services.accounts.has_administrator(session, AUTHORITY):
            return
    log.warning(
        "the authority has no administrator account yet: until it has one, its certificate "
        "alone holds %s (bootstrap); create it with `tongdao account create NAME --for "
        "authority --role administrator --name …`, then every act at the authority needs a "
        "person's login",
        ", ".join(roles),
    )


def start_broker(config: BrokerConfig) -> RunningBroker:
    """Migrate the store, then start serving on ``config.listen``.

    Raises:
        StoreUnavailable: the store cannot be opened or migrated (one line naming the URL).
        RuntimeError: the rule files cannot be read, or an address cannot be bound (the message
            names the address and what to check).
    """
    url = resolve_database_url(config.database_url, directory=config.working_directory)
    try:
        policies = load_schedule(config.policy, config.policy_dir)
        calendar = WorkingDayCalendar.default()
    except (PolicyError, CalendarDataError) as exc:
        raise RuntimeError(str(exc)) from None
    # a port in use stops start-up before the store is created or migrated
    served = config.server_tls or config.tls
    check_free(config.listen, server_credentials(served))
    if config.public_listen:
        check_free(
            config.public_listen,
            public_server_credentials(served() if callable(served) else served),
        )
    limits = policies.first.limits
    try:
        engine = make_engine(
            url,
            statement_timeout_ms=limits["db_statement_timeout_ms"],
            lock_timeout_ms=limits["db_lock_timeout_ms"],
            # one connection for each thread that serves calls, and the background threads'
            pool_size=config.settings.server.threads * (2 if config.public_listen else 1)
            + BACKGROUND_CONNECTIONS,
        )
        upgrade(engine)
    except STORE_ERRORS as exc:
        raise StoreUnavailable(explain(url, exc)) from None
    sessions = session_factory(engine)
    services = build_services(
        policy=policies.first,
        calendar=calendar,
        signing_key=config.signing_key,
        ledger=Ledger(config.signing_key, clock=config.clock)
        if config.clock is not None
        else Ledger(config.signing_key),
        settings=config.settings,
        policies=policies,
        authority_ca_pem=config.tls.ca_pem,
        clock=config.clock,
    )
    try:
        with sessions.begin() as session:
            official = services.supervision.load_official_years(session)
    except ScheduleError as exc:
        raise RuntimeError(f"a stored holiday schedule is invalid: {exc}") from None
    log_policies_and_calendar(services, official)
    # brokers starting together on one store: one re-signs, the next finds nothing left to do
    regraded = 0
    with exclusive(engine, STARTUP_LOCK, wait_seconds=limits["db_lock_timeout_ms"] / 1000) as held:
        if held:
            with sessions.begin() as session:
                regraded = services.sharing.regrade_tokens(session)
        else:  # still held by another broker's start: it re-signs them
            log.warning("old grant tokens left to the broker starting beside this one")
    if regraded:
        log.warning(
            "re-signed %d grant token(s) to carry the catalogue's grades; their consumers fetch "
            "the new tokens with `tongdao consumer grant ID`",
            regraded,
        )
    # operational settings (ledger rounds, refusal folding) from the file in force at start
    policy = services.kernel.policy_on(services.supervision.today())
    gateway = GrpcNodeGateway(
        config.client_tls or config.tls,
        timeout_seconds=policy.limits["node_call_timeout_seconds"],
        stream_timeout_seconds=policy.limits["node_stream_timeout_seconds"],
    )
    # relayed calls' entries: one transaction, one fsync and one head signature per batch
    # Query calls run in turns (tongdao.proto.turns) on SQLite, whose statements are CPU work of
    # this process; they wait for the node and the writer without one. On PostgreSQL each
    # statement is a round trip to another process, and a turn held across it would keep every
    # other call waiting for it
    turns = Turns() if engine.dialect.name == "sqlite" else NO_TURNS
    writer = LedgerWriter(sessions, services.relay.ledger, turns=turns)
    services.relay.writer = writer
    services.relay.turns = turns
    operations = build_operations(
        engine=engine,
        sessions=sessions,
        policy_on=services.kernel.policy_on,
        today=services.supervision.today,
        overdue=lambda session: len(
            services.supervision.list_deadlines(session, AUTHORITY, overdue_only=True)
        ),
        ledger_head=ledger_head_of(services.ledger.page, AUTHORITY),
        checkpoint=checkpoint_time_of(latest_checkpoint),
        departments=services.directory.list_departments,
        node_channel=lambda code, endpoint: secure_channel(
            endpoint, gateway.client_material(), server_name=node_server_name(code)
        ),
        metrics_listen=config.metrics_listen,
        node_probe_interval=config.node_probe_interval,
    )
    # every refusal is a ledger entry, identical ones folded (docs/ledger.md)
    refusals = (
        RefusalRecorder(
            sessions,
            services.ledger.chain,
            dt.timedelta(seconds=policy.ledger.refusal_fold_seconds),
        )
        if policy.ledger
        else None
    )
    reconciler = build_reconciler(services, policy, config.tls)
    # the role table, checked before any handler (docs/architecture.md, "Roles and accounts")
    access = AccessInterceptor(
        policy.access_rules,
        sessions,
        services.directory,
        services.accounts,
        hand_on=HANDS_ON_READ,
    )
    _warn_while_bootstrapping(services, sessions, policy)
    server = new_server(
        config.settings.server,
        on_refusal=refusals,
        identity=config.identity,
        access=access,
        interceptors=[operations.interceptor],
        rate=rate_limit(policy),
        locale=config.settings.locale,
        # a stream's caller is vetted before the stream waits for its first message
        admit=lambda caller: _admit(services, sessions, caller),
        admitted_services=BROKER_SERVICES,
        turns=TurnInterceptor(turns, HANDS_ON_READ),
    )
    accounts_pb2_grpc.add_AccountsServicer_to_server(
        AccountsServicer(services.accounts, sessions), server
    )
    directory_pb2_grpc.add_DirectoryServicer_to_server(
        DirectoryServicer(services.directory, sessions), server
    )
    catalogue_pb2_grpc.add_CatalogueServicer_to_server(
        CatalogueServicer(services.catalogue, sessions), server
    )
    sharing_pb2_grpc.add_SharingServicer_to_server(
        SharingServicer(services.sharing, sessions, correction_nodes=gateway), server
    )
    query_pb2_grpc.add_QueryServicer_to_server(
        QueryServicer(services.relay, sessions, gateway), server
    )
    supervision_pb2_grpc.add_SupervisionServicer_to_server(
        SupervisionServicer(
            services.supervision, sessions, services.findings, services.orders, reconciler
        ),
        server,
    )
    ledger_pb2_grpc.add_LedgerServicer_to_server(LedgerServicer(services.ledger, sessions), server)
    disputes_pb2_grpc.add_DisputesServicer_to_server(
        DisputesServicer(services.disputes, sessions), server
    )
    cases_pb2_grpc.add_TypicalCasesServicer_to_server(
        TypicalCasesServicer(services.cases, sessions), server
    )
    opendata_pb2_grpc.add_OpenDataServicer_to_server(
        OpenDataServicer(services.opendata.withdrawals, sessions), server
    )
    health = add_health_and_reflection(server, BROKER_SERVICES)
    port = bind(server, config.listen, server_credentials(served))
    public_server, public_port = None, 0
    if config.public_listen:
        # a separate server, so nothing but open data is reachable without a certificate: the
        # public listener has the open catalogue and open-data downloads and requests only
        public_server = new_server(
            config.settings.server,
            interceptors=[operations.interceptor],
            rate=rate_limit(policy),
        )
        catalogue_pb2_grpc.add_PublicCatalogueServicer_to_server(
            PublicCatalogueServicer(services.catalogue, sessions), public_server
        )
        opendata_pb2_grpc.add_PublicDataServicer_to_server(
            PublicDataServicer(services.opendata, sessions, gateway), public_server
        )
        try:
            public_port = bind(
                public_server,
                config.public_listen,
                public_server_credentials(served() if callable(served) else served),
            )
        except RuntimeError:
            server.stop(None)
            raise
    server.start()
    operations.start()
    if public_server is not None:
        public_server.start()
        log.info("public open catalogue on port %d (TLS, no client certificate)", public_port)
    log.info(
        "broker listening on port %d (store: %s)",
        port,
        engine.url.render_as_string(hide_password=True),
    )
    # reconcile the nodes' receipt journals now and on schedule; checkpoints for the witnesses
    rounds = start_ledger_rounds(
        services.ledger.chain,
        policy.ledger,
        config.tls,
        sessions,
        directory=services.directory,
        sharing=services.sharing,
        refusals=refusals,
        extra=(
            lambda: _refresh_calendar(services, sessions),
            lambda: _detect_findings(services, sessions),
            lambda: _enforce_orders(services, sessions),
            *((lambda: reconciler.run_due(sessions),) if reconciler else ()),
        ),
    )
    return RunningBroker(
        server,
        port,
        services,
        health,
        gateway,
        url,
        public_server,
        public_port,
        rounds,
        operations,
        reconciler,
        writer,
    )


def _refresh_calendar(services: BrokerServices, sessions: sessionmaker[Session]) -> int:
    """Scheduled: the holiday schedules in the store — loaded through this broker or another on
    the same database — in force here from this round on; returns how many years."""
    try:
        with sessions() as session:
            return len(services.supervision.load_official_years(session))
    except ScheduleError as exc:  # the schedules in force stay as they were
        log.error("a stored holiday schedule is invalid: %s", exc)
        return 0


def _detect_findings(services: BrokerServices, sessions: sessionmaker[Session]) -> int:
    """Scheduled misuse detection (Art.27): record the findings new since the last round, in
    batches of ``[limits] misuse_scan_batch`` entries, each its own short transaction reading
    only the grants its entries name (a relayed query waits behind one batch at most, never
    behind the whole round). Between batches the round pauses ``[limits]
    misuse_scan_pause_ms`` so that other writers — the relay's ledger writer, another process on
    the store — take the write lock in turn. The idle grants are looked for in a read-only
    transaction beside the writers and recorded in a short one of their own."""
    findings = services.findings
    pause = findings.policy.limits["misuse_scan_pause_ms"] / 1000
    new: list[object] = []
    more = True
    while more:  # each batch moves the scan's cursor forward, so the round ends
        with sessions.begin() as session:
            found, more = findings.detect_batch(session, idle=False)
        new += found
        if more:
            time.sleep(pause)
    with read_only(sessions) as session:
        idle = findings.idle_found(session)
    if idle:
        with sessions.begin() as session:
            new += findings.record_found(session, idle)
    if new:
        log.warning("misuse detection recorded %d new finding(s)", len(new))
    return len(new)


def _enforce_orders(services: BrokerServices, sessions: sessionmaker[Session]) -> int:
    """Scheduled: suspend or terminate the grants of overdue rectification orders (Art.27)."""
    with sessions.begin() as session:
        changed = services.orders.enforce(session)
    if changed:
        log.warning(
            "%d rectification order(s) past due: grants suspended or terminated", len(changed)
        )
    return len(changed)
