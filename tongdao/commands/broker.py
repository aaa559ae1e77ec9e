"""``tongdao broker serve``: run the data authority's broker."""

from __future__ import annotations

import argparse
import signal
import threading

from tongdao.broker.kernel.db import ENV_DATABASE_URL
from tongdao.cli import CommandError
from tongdao.commands._common import DEFAULT_HOME, bound_address, open_home
from tongdao.commands._config import Option, add_options, resolve
from tongdao.commands._enrol import (
    add_install_arguments,
    add_keygen_arguments,
    install,
    keygen,
    warn_expiring,
)
from tongdao.commands._grammar import add_json_argument
from tongdao.home import BROKER, HomeError
from tongdao.i18n import explained, said, tr
from tongdao.policies.i18n import msg
from tongdao.policies.model import PolicyError

SERVE_OPTIONS: tuple[Option, ...] = (
    Option(
        "home",
        DEFAULT_HOME,
        "Tongdao home with the broker's certificate and keys",
        env="TONGDAO_HOME",
        metavar="DIR",
    ),
    Option(
        "listen",
        "127.0.0.1:7443",
        "gRPC address, mutual TLS (port 0: any free port)",
        metavar="HOST:PORT",
    ),
    Option(
        "database-url",
        "",
        "SQLAlchemy URL of the store (empty: tongdao-broker.db in the current directory)",
        env=ENV_DATABASE_URL,
        metavar="URL",
    ),
    Option(
        "public-listen",
        "",
        "also serve the open catalogue to the public here (TLS, no "
        "client certificate; nothing else is reachable on it)",
        metavar="HOST:PORT",
    ),
    Option(
        "policy",
        "heilongjiang-2025",
        "policy name or rule file: the first of the series; successors installed with "
        "`tongdao policy install` (HOME/policies) follow it",
    ),
    Option("locale", "zh-CN", "decision language", choices=("zh-CN", "en")),
    Option(
        "revocation-list",
        "",
        "the authority's revocation list, re-read every few seconds (default "
        "HOME/authority-ca/crl.pem)",
        env="TONGDAO_REVOCATION_LIST",
        metavar="FILE",
    ),
    Option(
        "metrics-listen",
        "127.0.0.1:9464",
        "plain-HTTP address of /metrics, /healthz and "
        "/readyz, for scrapers without a client certificate (empty: off)",
        metavar="HOST:PORT",
    ),
    Option(
        "node-probe-interval",
        30.0,
        "seconds between health probes of the departments' "
        "nodes, for the node_reachable metric (0: off)",
        kind=float,
        metavar="SECONDS",
    ),
    Option(
        "log-format", "json", "log lines as JSON objects or as plain text", choices=("json", "text")
    ),
    Option(
        "log-level",
        "INFO",
        "least severe log level written",
        env="TONGDAO_LOG_LEVEL",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
    ),
)


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
            "production, e.g. postgresql+psycopg://user@host/db). Migrations run at start. "
            "Every flag can also be set in a TOML file given with --config, under the flag's "
            "name without the dashes (examples/broker.toml). Each call is logged as one JSON "
            "line on standard error; metrics and health are served over plain HTTP on "
            "--metrics-listen (docs/deployment.md)."
        ),
    )
    add_options(serve, SERVE_OPTIONS)
    add_json_argument(serve, lines=True)
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
    add_json_argument(gen, lines=True)
    gen.set_defaults(handler=lambda a: keygen(a, BROKER, "broker", endpoint=a.endpoint))

    ins = broker_sub.add_parser("install", help="install the broker's signed certificates")
    add_install_arguments(ins)
    add_json_argument(ins, lines=True)
    ins.set_defaults(handler=install)


def serve_command(args: argparse.Namespace) -> int:
    from tongdao.broker.kernel.settings import BrokerSettings
    from tongdao.broker.ops.http_listener import split_address
    from tongdao.broker.ops.logs import configure_logging
    from tongdao.broker.server import BrokerConfig, start_broker  # heavy: only when serving
    from tongdao.commands.policy import policy_dir
    from tongdao.policies.trust import load_trust_rules
    from tongdao.proto.identity import IdentityInterceptor, RevocationWatcher, file_source
    from tongdao.proto.memory import limit_arenas
    from tongdao.proto.scheduling import batch_scheduling

    limit_arenas()  # before any thread starts (tongdao.proto.memory)
    try:
        batch_scheduling()  # likewise (tongdao.proto.scheduling)
    except ValueError as exc:
        raise CommandError(explained(exc, "the broker cannot start: {reason}")) from None
    resolve(args, SERVE_OPTIONS)
    if args.metrics_listen:
        try:
            split_address(args.metrics_listen)
        except ValueError as exc:
            raise CommandError(msg("metrics-listen: {exc}", exc=exc)) from None
    if args.node_probe_interval < 0:
        raise CommandError(msg("node-probe-interval: must be 0 (off) or more seconds"))
    configure_logging(args.log_level, json_lines=args.log_format == "json")
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
                msg(
                    "no valid revocation list at {crl_path}: copy the authority "
                    "CA's crl.pem there or pass --revocation-list",
                    crl_path=crl_path,
                )
            )
        config = BrokerConfig(
            server_tls=server_tls,
            identity=IdentityInterceptor(revocation.start()),
            tls=home.tls(BROKER),
            client_tls=home.tls_source(BROKER, server=False),
            signing_key=home.signing_key(BROKER),
            database_url=args.database_url or None,
            listen=args.listen,
            policy=args.policy,
            settings=BrokerSettings(locale=args.locale),
            public_listen=args.public_listen,
            policy_dir=policy_dir(args.home),
            metrics_listen=args.metrics_listen,
            node_probe_interval=args.node_probe_interval,
        )
    except HomeError as exc:
        raise CommandError(said(exc)) from None
    try:
        running = start_broker(config)
    except (RuntimeError, PolicyError) as exc:
        raise CommandError(explained(exc, "the broker cannot start: {reason}")) from None
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if running.public_port:
        print(tr("public open catalogue on port {port}", port=running.public_port), flush=True)
    if running.operations is not None and running.operations.http_port:
        port = running.operations.http_port
        print(tr("metrics and health on port {port} (HTTP)", port=port), flush=True)
    # operators, the demo and the tests parse this exact line (any locale): "broker listening on"
    print(f"broker listening on {bound_address(args.listen, running.port)}", flush=True)
    stop.wait()
    revocation.stop()
    running.stop()
    print(tr("broker stopped"), flush=True)
    return 0
