"""Assemble and run the broker: store, policy, calendar, keys, gRPC server with mTLS."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2
from sqlalchemy.exc import SQLAlchemyError

from tongdao.broker.db import (
    make_engine,
    resolve_database_url,
    session_factory,
    store_problem,
    upgrade,
)
from tongdao.broker.ledger import Ledger
from tongdao.broker.node_gateway import GrpcNodeGateway
from tongdao.broker.servicer import BrokerServicer, PublicCatalogueServicer
from tongdao.broker.services import BrokerServices, BrokerSettings
from tongdao.crypto.signing import SigningKey, VerifyKey
from tongdao.policies.calendar import WorkingDayCalendar
from tongdao.policies.loader import load_policy
from tongdao.proto.transport import (
    TlsMaterial,
    add_health_and_reflection,
    bind,
    new_server,
    public_server_credentials,
    server_credentials,
)
from tongdao.v1 import broker_pb2, broker_pb2_grpc

log = logging.getLogger("tongdao.broker")
SERVICE_NAME = broker_pb2.DESCRIPTOR.services_by_name["Broker"].full_name


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
    _stopped: threading.Event = field(default_factory=threading.Event)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self, grace: float = 2.0) -> None:
        """Mark NOT_SERVING, finish in-flight calls, close node channels."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self.health.set(SERVICE_NAME, health_pb2.HealthCheckResponse.NOT_SERVING)  # type: ignore[attr-defined]
        if self.public_server is not None:
            self.public_server.stop(grace).wait()
        self.server.stop(grace).wait()
        self.gateway.close()


def start_broker(config: BrokerConfig) -> RunningBroker:
    """Migrate the store, then start serving on ``config.listen``.

    Raises:
        RuntimeError: the store cannot be opened or migrated, or the address cannot be bound
            (the message names the store or address and what to check).
    """
    url = resolve_database_url(config.database_url, directory=config.working_directory)
    policy = load_policy(config.policy)
    engine = make_engine(
        url,
        statement_timeout_ms=policy.limits["db_statement_timeout_ms"],
        lock_timeout_ms=policy.limits["db_lock_timeout_ms"],
    )
    sessions = session_factory(engine)
    services = BrokerServices(
        policy=policy,
        calendar=WorkingDayCalendar.default(),
        signing_key=config.signing_key,
        ledger=Ledger(config.signing_key),
        settings=config.settings,
    )
    gateway = GrpcNodeGateway(config.tls)
    server = new_server()
    broker_pb2_grpc.add_BrokerServicer_to_server(
        BrokerServicer(
            services, sessions, gateway, VerifyKey(config.signing_key.verify_key.public_key)
        ),
        server,
    )
    health = add_health_and_reflection(server, [SERVICE_NAME])
    port = bind(server, config.listen, server_credentials(config.tls))
    public_server, public_port = None, 0
    if config.public_listen:
        # a separate server, so nothing but the open catalogue is reachable without a
        # certificate: the public listener has no other service registered
        public_server = new_server()
        broker_pb2_grpc.add_PublicCatalogueServicer_to_server(
            PublicCatalogueServicer(services, sessions), public_server
        )
        try:
            public_port = bind(
                public_server, config.public_listen, public_server_credentials(config.tls)
            )
        except RuntimeError:
            server.stop(None)
            raise
    # the ports are bound before the store is touched: a broker that cannot listen creates
    # and migrates nothing
    try:
        upgrade(engine)
    except SQLAlchemyError as exc:
        server.stop(None)
        if public_server is not None:
            public_server.stop(None)
        raise RuntimeError(store_problem(url, exc)) from None
    server.start()
    if public_server is not None:
        public_server.start()
        log.info("public open catalogue on port %d (TLS, no client certificate)", public_port)
    log.info(
        "broker listening on port %d (store: %s)",
        port,
        engine.url.render_as_string(hide_password=True),
    )
    return RunningBroker(server, port, services, health, gateway, url, public_server, public_port)
