"""``tongdao node serve``: run a department's node."""

from __future__ import annotations

import argparse
import os
import signal
import threading

from tongdao.cli import CommandError
from tongdao.commands._common import bound_address
from tongdao.commands._enrol import warn_expiring
from tongdao.commands._grammar import add_json_argument
from tongdao.i18n import explained, tr
from tongdao.policies.i18n import msg


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("node", help="run a department's node (keeps its data at home)")
    nsub = parser.add_subparsers(dest="node_command", metavar="COMMAND")
    nsub.required = True
    serve = nsub.add_parser(
        "serve",
        help="serve catalogue entries from CSV or SQL over mutual TLS",
        description=(
            "Serve the entries named in the node configuration file. A documented example "
            "ships as examples/node.toml (every key explained; unknown keys are refused)."
        ),
    )
    serve.add_argument("--config", required=True, help="node configuration file (TOML)")
    serve.add_argument("--listen", default=None, help="override the configured HOST:PORT")
    serve.add_argument(
        "--log-format",
        default="text",
        choices=("text", "json"),
        help="log lines as plain text (default) or as JSON objects, one per line, as the broker "
        "writes them (for journald or a log collector)",
    )
    add_json_argument(serve, lines=True)
    serve.set_defaults(handler=serve_command)


def serve_command(args: argparse.Namespace) -> int:
    from tongdao.home import Home, HomeError
    from tongdao.node.config import ConfigError, load_node_config
    from tongdao.node.server import build_engine, start_node
    from tongdao.policies.trust import load_trust_rules
    from tongdao.proto.identity import (
        IdentityInterceptor,
        RevocationWatcher,
        file_source,
        only_broker,
    )
    from tongdao.proto.memory import limit_arenas
    from tongdao.proto.scheduling import batch_scheduling
    from tongdao.proto.transport import check_free, server_credentials

    limit_arenas()  # before any thread starts (tongdao.proto.memory)
    try:
        batch_scheduling()  # likewise (tongdao.proto.scheduling)
    except ValueError as exc:
        raise CommandError(explained(exc, "the node cannot start: {reason}")) from None
    from tongdao.broker.ops.logs import configure_logging

    configure_logging(
        os.environ.get("TONGDAO_LOG_LEVEL", "INFO"), json_lines=args.log_format == "json"
    )
    try:
        config = load_node_config(args.config)
        listen = args.listen or config.listen
        home = Home(config.home)
        tls = home.tls_source(config.department, server=True)
        tls()  # the node certificate must be installed and open now, not at the first call
        # a port in use stops start-up before the state directory is created
        try:
            check_free(listen, server_credentials(tls))
        except RuntimeError as exc:
            raise CommandError(explained(exc, "the node cannot start: {reason}")) from None
        crl_path = config.revocation_list_path
        if not crl_path.exists():
            raise CommandError(
                msg(
                    "no revocation list at {crl_path}: copy the authority's "
                    "crl.pem there or set revocation_list in the node "
                    "configuration",
                    crl_path=crl_path,
                )
            )
        revocation = RevocationWatcher(
            tls().ca_pem, file_source(str(crl_path)), interval=load_trust_rules().refresh_seconds
        )
        if revocation.current is None:
            raise CommandError(
                msg(
                    "{crl_path} is not a valid revocation list of the authority CA",
                    crl_path=crl_path,
                )
            )
        # the state directory is created here, once everything it needs is known to be there
        engine = build_engine(
            config,
            signing_key=home.signing_key(config.department),
            encryption_keys=home.encryption_keys(config.department),
            broker_key=home.broker_verify_key(),
        )
    except (ConfigError, HomeError) as exc:
        raise CommandError(
            explained(exc, "the node's configuration cannot be used: {reason}")
        ) from None
    warn_expiring(tls().certificate_pem)
    identity = IdentityInterceptor(
        revocation.start(), accept=only_broker, describe=msg("only the broker may call a node")
    )
    try:
        running = start_node(engine, tls, listen, identity=identity)
    except RuntimeError as exc:
        raise CommandError(explained(exc, "the node cannot start: {reason}")) from None
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    served = ", ".join(
        tr("{code} ({count} records)", code=e.code, count=e.source.count())
        for e in engine.entries.values()
    )
    print(tr("serving {entries}", entries=served), flush=True)
    address = bound_address(listen, running.port)
    # the demo and operators parse this exact line (any locale):
    # "node <code> listening on <host>:<port>"
    print(f"node {config.department} listening on {address}", flush=True)
    stop.wait()
    revocation.stop()
    running.stop()
    print(tr("node {code} stopped", code=config.department), flush=True)
    return 0
