"""``tongdao init``: a quick start on one machine — the CA in its own home, the broker and the
authority's administrator enrolled through it. Departments enrol themselves
(``tongdao department keygen``)."""

from __future__ import annotations

import argparse

from tongdao.ca_home import CaError, CaHome
from tongdao.cli import CommandError
from tongdao.commands._common import add_home_argument
from tongdao.commands._enrol import endpoint_hosts
from tongdao.commands._grammar import add_json_argument
from tongdao.commands.ca import DEFAULT_CA_HOME
from tongdao.home import AUTHORITY, BROKER, Home, HomeError, enrol, write_private
from tongdao.i18n import said, tr


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "init",
        help="create the authority CA (own home) and enrol the broker and authority administrator",
        description=(
            "Create the authority CA in --ca-home (keep it offline afterwards) and, in --home, "
            "the broker's and the authority administrator's keys, enrolled through the CA: each "
            "makes a request, the CA signs it, the certificates are installed. The CA's "
            "revocation list is copied to --home/authority-ca/crl.pem. Nothing is overwritten. "
            "Departments create their own keys on their own machines: `tongdao department "
            "keygen`, then `tongdao ca sign`, then `tongdao department install`."
        ),
    )
    add_home_argument(parser)
    parser.add_argument(
        "--ca-home", default=DEFAULT_CA_HOME, help=f"the CA's home (default ./{DEFAULT_CA_HOME})"
    )
    parser.add_argument(
        "--broker-endpoint",
        default="127.0.0.1:7443",
        metavar="HOST:PORT",
        help="where the broker will listen (its host is the server certificate's name)",
    )
    add_json_argument(parser, lines=True)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    home = Home(args.home)
    ca = CaHome(args.ca_home)
    try:
        if not ca.exists():
            ca.init()
            print(tr("created the authority CA in {dir}", dir=ca.dir))

        def sign(csr: bytes) -> bytes:
            return ca.sign(csr).bundle

        if home.exists() and (home.party_dir(BROKER) / "client.crt").exists():
            print(tr("{root} already holds the broker; nothing to do", root=home.root))
            return 0
        enrol(home, sign, BROKER, role="broker", server_names=endpoint_hosts(args.broker_endpoint))
        enrol(home, sign, AUTHORITY, role="administrator")
        write_private(home.ca_dir / "crl.pem", ca.crl_path.read_bytes())
    except (CaError, HomeError) as exc:
        raise CommandError(said(exc)) from None
    print(tr("enrolled the broker and the authority administrator in {root}", root=home.root))
    print(
        tr(
            "revocation list: {path} (copy the CA's crl.pem there after revoking)",
            path=home.ca_dir / "crl.pem",
        )
    )
    print(
        tr(
            "next: start the broker (`tongdao broker serve --home {root}`), then create the "
            "authority's first administrator (`tongdao account create NAME --for authority "
            "--role administrator --name …`)",
            root=home.root,
        )
    )
    return 0
