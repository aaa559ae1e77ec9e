"""``tongdao console serve``: the web console for the people of one party (the authority's, or
a department's), in front of the broker's gRPC API (docs/console.md)."""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import socket

from tongdao.cli import CommandError
from tongdao.commands._common import DEFAULT_BROKER, DEFAULT_HOME, check_own_certificate, open_home
from tongdao.commands._config import Option, add_options, resolve
from tongdao.commands._grammar import add_json_argument
from tongdao.home import AUTHORITY, HomeError
from tongdao.i18n import explained, said, tr
from tongdao.policies.i18n import msg, os_reason
from tongdao.policies.model import PolicyError

SERVE_OPTIONS: tuple[Option, ...] = (
    Option(
        "home",
        DEFAULT_HOME,
        "Tongdao home with the party's certificate and the broker's key",
        env="TONGDAO_HOME",
        metavar="DIR",
    ),
    Option("as", AUTHORITY, "the party whose certificate the console uses", env="TONGDAO_PARTY"),
    Option("broker", DEFAULT_BROKER, "the broker's gRPC address", env="TONGDAO_BROKER"),
    Option(
        "listen",
        "127.0.0.1:8080",
        "HTTP(S) address of the console (port 0: any free port); an address other than "
        "loopback needs --tls-certificate and --tls-key",
        metavar="HOST:PORT",
    ),
    Option("tls-certificate", "", "PEM certificate (chain) the console serves HTTPS with"),
    Option("tls-key", "", "PEM private key of --tls-certificate"),
    Option(
        "allow-plain-http",
        0,
        "1: serve plain HTTP on a non-loopback --listen anyway (only inside a container whose "
        "port is published on the host's loopback, or behind a TLS-terminating proxy)",
        kind=int,
        choices=None,
        metavar="0|1",
    ),
    Option(
        "broker-metrics",
        "",
        "the broker's metrics URL (e.g. http://127.0.0.1:9464/metrics), for the nodes' health",
        metavar="URL",
    ),
    Option("policy", "heilongjiang-2025", "rule file: the role table and the log's origin"),
)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("console", help="the web console for people of one party")
    console_sub = parser.add_subparsers(dest="console_command", metavar="COMMAND")
    console_sub.required = True
    serve = console_sub.add_parser(
        "serve",
        help="serve the web console (log in with people's accounts)",
        description=(
            "Serve the web console for the people of one party: the authority's (catalogue "
            "review, supervision, the log) or a department's (share-request decisions, usage). "
            "It calls the broker over mutual TLS with the party's certificate, each page "
            "carrying the logged-in person's session, so the broker's role table decides what "
            "each person sees. zh-CN by default, English by a link on every page. Every flag "
            "can be set in a TOML file given with --config (docs/console.md)."
        ),
    )
    add_options(serve, SERVE_OPTIONS)
    add_json_argument(serve, lines=True)
    serve.set_defaults(handler=serve_command)


def split_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise CommandError(msg("listen: {value!r} is not HOST:PORT", value=value))
    return host.strip("[]"), int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_command(args: argparse.Namespace) -> int:
    import uvicorn

    from tongdao.console.app import ConsoleConfig, create_app
    from tongdao.console.gateway import Gateway
    from tongdao.console.reading import certificates_of
    from tongdao.policies.loader import load_policy
    from tongdao.policies.trust import load_trust_rules

    resolve(args, SERVE_OPTIONS)
    party = getattr(args, "as")
    host, port = split_listen(args.listen)
    tls = bool(args.tls_certificate or args.tls_key)
    if tls and not (args.tls_certificate and args.tls_key):
        raise CommandError(msg("give both --tls-certificate and --tls-key"))
    if not tls and not is_loopback(host) and args.allow_plain_http != 1:
        raise CommandError(
            msg(
                "listen: {host} is not a loopback address: serve HTTPS "
                "(--tls-certificate, --tls-key) or put the console behind a "
                "TLS-terminating proxy on this host",
                host=host,
            )
        )
    home = open_home(args.home)
    try:
        policy = load_policy(args.policy)
        access = policy.access_rules
    except PolicyError as exc:
        raise CommandError(explained(exc, "cannot load the rule file: {reason}")) from None
    if policy.ledger is None:
        raise CommandError(msg("{policy}: the rule file has no [ledger] table", policy=args.policy))
    try:
        party_tls = home.tls(party)
        broker_key = home.broker_verify_key()
    except HomeError as exc:
        raise CommandError(said(exc)) from None
    check_own_certificate(party, party_tls.certificate_pem)
    rules = load_trust_rules()

    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def certificates() -> list:  # type: ignore[type-arg]
        infos = [
            (str(path.relative_to(home.root)), info.not_after, rules.warn_days_for(info.role))
            for path, info in home.certificates()
        ]
        return certificates_of(infos, now)

    gateway = Gateway(args.broker, party_tls, party)
    app = create_app(
        ConsoleConfig(
            gateway=gateway,
            party=party,
            access=access,
            broker_key=broker_key,
            origin=policy.ledger.origin,
            certificates=certificates,
            metrics_url=args.broker_metrics,
        )
    )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        raise CommandError(
            msg(
                "listen: cannot listen on {listen}: {strerror}",
                listen=args.listen,
                strerror=os_reason(exc),
            )
        ) from None
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        ssl_certfile=args.tls_certificate or None,
        ssl_keyfile=args.tls_key or None,
        server_header=False,
    )
    server = uvicorn.Server(config)
    scheme = "https" if tls else "http"
    bound = sock.getsockname()[1]
    url = f"{scheme}://{host}:{bound}/"
    print(tr("console for {party} at {url}", party=party, url=url), flush=True)
    # scripts and the tests parse this exact line (any locale): "console listening on"
    print(f"console listening on {host}:{bound}", flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        gateway.close()
    print(tr("console stopped"), flush=True)
    return 0
