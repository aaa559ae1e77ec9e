"""``tongdao broker serve``: run the data authority's broker."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading

from tongdao.broker.kernel.db import ENV_DATABASE_URL
from tongdao.cli import CommandError
from tongdao.commands._common import add_home_argument, open_home
from tongdao.commands._enrol import (
    add_install_arguments,
    add_keygen_arguments,
    install,
    keygen,
    warn_expiring,
)
from tongdao.home import BROKER, HomeError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("broker", help="run the broker (the authority's single channel)")
    broker_sub = parser.add_subparsers(dest="broker_command", metavar="COMMAND")
    broker_sub.required = True
    serve = broker_sub.add_parser(
        "serve",
        help="serve the Broker gRPC API over mutual TLS",
        description=(
            "Serve the broker. The store is a SQLite file in the current directory unless "
            f"--database-url or {ENV_DATABASE_URL} names another SQLAlchemy URL (PostgreSQL in "
            "production, e.g. postgresql+psycopg://user@host/db). Migrations run at start."
        ),
    )
    add_home_argument(serve)
    serve.add_argument("--listen", default="127.0.0.1:7443", help="address (port 0: any free port)")
    serve.add_argument(
        "--database-url", default=None, help=f"SQLAlchemy URL (env {ENV_DATABASE_URL})"
    )
    serve.add_argument(
        "--public-listen",
        default="",
        metavar="HOST:PORT",
        help="also serve the open catalogue to the public here (TLS, no client certificate; "
        "nothing else is reachable on it)",
    )
    serve.add_argument(
        "--policy",
        default="heilongjiang-2025",
        help="policy name or rule file: the first of the series; successors installed with "
        "`tongdao policy install` (HOME/policies) follow it",
    )
    serve.add_argument(
        "--locale", default="zh-CN", choices=("zh-CN", "en"), help="decision language"
    )
    serve.add_argument(
        "--revocation-list",
        default=os.environ.get("TONGDAO_REVOCATION_LIST", ""),
        metavar="FILE",
        help="the authority's revocation list, re-read every few seconds (env "
        "TONGDAO_REVOCATION_LIST; default HOME/authority-ca/crl.pem)",
    )
    serve.set_defaults(handler=serve_command)

    gen = broker_sub.add_parser(
        "keygen",
        help="create the broker's keys here and an enrolment request for the authority CA",
    )
    gen.add_argument(
        "--endpoint",
        default="127.0.0.1:7443",
        metavar="HOST:PORT",
        help="where the broker listens (its host is the server certificate's name)",
    )
    add_keygen_arguments(gen)
    gen.set_defaults(handler=lambda a: keygen(a, BROKER, "broker", endpoint=a.endpoint))

    ins = broker_sub.add_parser("install", help="install the broker's signed certificates")
    add_install_arguments(ins)
    ins.set_defaults(handler=install)


def serve_command(args: argparse.Namespace) -> int:
    from tongdao.broker.kernel.settings import BrokerSettings
    from tongdao.broker.server import BrokerConfig, start_broker  # heavy: only when serving
    from tongdao.commands.policy import policy_dir
    from tongdao.policies.trust import load_trust_rules
    from tongdao.proto.identity import IdentityInterceptor, RevocationWatcher, file_source

    logging.basicConfig(
        level=os.environ.get("TONGDAO_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    home = open_home(args.home)
    crl_path = args.revocation_list or str(home.ca_dir / "crl.pem")
    try:
        server_tls = home.tls_source(BROKER, server=True)
        warn_expiring(server_tls().certificate_pem)
        revocation = RevocationWatcher(
            server_tls().ca_pem, file_source(crl_path), interval=load_trust_rules().refresh_seconds
        )
        if revocation.current is None:
            raise CommandError(
                f"no valid revocation list at {crl_path}: copy the authority CA's crl.pem there "
                "or pass --revocation-list"
            )
        config = BrokerConfig(
            server_tls=server_tls,
            identity=IdentityInterceptor(revocation.start()),
            tls=home.tls(BROKER),
            client_tls=home.tls_source(BROKER, server=False),
            signing_key=home.signing_key(BROKER),
            database_url=args.database_url,
            listen=args.listen,
            policy=args.policy,
            settings=BrokerSettings(locale=args.locale),
            public_listen=args.public_listen,
            policy_dir=policy_dir(args.home),
        )
    except HomeError as exc:
        raise CommandError(str(exc)) from None
    try:
        running = start_broker(config)
    except RuntimeError as exc:
        raise CommandError(str(exc)) from None
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if running.public_port:
        print(f"public open catalogue on port {running.public_port}", flush=True)
    print(f"broker listening on 127.0.0.1:{running.port}", flush=True)
    stop.wait()
    revocation.stop()
    running.stop()
    print("broker stopped", flush=True)
    return 0
