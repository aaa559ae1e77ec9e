"""``tongdao node serve``: run a department's node."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading

from tongdao.cli import CommandError


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
    serve.set_defaults(handler=serve_command)


def serve_command(args: argparse.Namespace) -> int:
    from tongdao.home import Home, HomeError
    from tongdao.node.config import ConfigError, load_node_config
    from tongdao.node.server import build_engine, start_node

    logging.basicConfig(
        level=os.environ.get("TONGDAO_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    try:
        config = load_node_config(args.config)
        home = Home(config.home)
        engine = build_engine(
            config,
            signing_key=home.signing_key(config.department),
            encryption_keys=home.encryption_keys(config.department),
            broker_key=home.broker_verify_key(),
        )
        tls = home.tls(config.department)
    except (ConfigError, HomeError) as exc:
        raise CommandError(str(exc)) from None
    try:
        running = start_node(engine, tls, args.listen or config.listen)
    except RuntimeError as exc:
        raise CommandError(str(exc)) from None
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    served = ", ".join(f"{e.code} ({e.source.count()} records)" for e in engine.entries.values())
    print(f"serving {served}", flush=True)
    listen = args.listen or config.listen
    host = listen.rpartition(":")[0] or "127.0.0.1"
    # the demo and operators parse this exact line: "node <code> listening on <host>:<port>"
    print(f"node {config.department} listening on {host}:{running.port}", flush=True)
    stop.wait()
    running.stop()
    print(f"node {config.department} stopped", flush=True)
    return 0
