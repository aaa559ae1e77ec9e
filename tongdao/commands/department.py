"""``tongdao department``: a department creates its own keys and installs its certificates."""

from __future__ import annotations

import argparse

from tongdao.cli import CommandError
from tongdao.commands._enrol import add_install_arguments, add_keygen_arguments, install, keygen
from tongdao.commands._grammar import add_json_argument
from tongdao.crypto.enrolment import LEVELS
from tongdao.home import DepartmentProfile, Home, HomeError
from tongdao.i18n import said
from tongdao.policies.i18n import msg


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "department", help="a department's own keys and certificates (made on its machine)"
    )
    dsub = parser.add_subparsers(dest="department_command", metavar="COMMAND")
    dsub.required = True
    gen = dsub.add_parser(
        "keygen",
        help="create the department's keys here and an enrolment request for the authority",
        description=(
            "Create the department's TLS, X25519 (decryption) and Ed25519 (signing) keys in "
            "--home and write a PKCS#10 request carrying the public keys with a proof of "
            "possession. Only the request leaves this machine."
        ),
    )
    gen.add_argument("code", help="department code, e.g. hlj.gat")
    gen.add_argument("--name", default="", help="the department's name (first request)")
    gen.add_argument("--region", default="", help="6-digit administrative region code")
    gen.add_argument("--level", default="", choices=("", *LEVELS), help="administrative level")
    gen.add_argument(
        "--endpoint",
        default="",
        metavar="HOST:PORT",
        help="the node's endpoint, if the department runs one (its host goes in the node "
        "certificate)",
    )
    add_keygen_arguments(gen)
    add_json_argument(gen, lines=True)
    gen.set_defaults(handler=keygen_command)

    ins = dsub.add_parser(
        "install", help="install the certificates the authority signed for this department"
    )
    add_install_arguments(ins)
    add_json_argument(ins, lines=True)
    ins.set_defaults(handler=install)


def keygen_command(args: argparse.Namespace) -> int:
    profile = None
    if not args.renew:
        if not (args.name and args.region and args.level):
            raise CommandError(msg("a first request needs --name, --region and --level"))
        profile = DepartmentProfile(args.code, args.name, args.region, args.level)
    else:
        try:
            Home(args.home).profile(args.code)
        except HomeError as exc:
            raise CommandError(said(exc)) from None
    return keygen(args, args.code, "department", profile=profile, endpoint=args.endpoint)
