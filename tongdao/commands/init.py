"""``tongdao init``: create the authority CA and every party's certificate."""

from __future__ import annotations

import argparse

from tongdao.cli import CommandError
from tongdao.commands._common import add_home_argument
from tongdao.home import DepartmentProfile, Home, HomeError


def _department_spec(text: str) -> DepartmentProfile:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4 or not all(parts):
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected CODE,NAME,REGION,LEVEL e.g. hlj.gat,黑龙江省公安厅,230000,province"
        )
    return DepartmentProfile(code=parts[0], name=parts[1], region=parts[2], level=parts[3])


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "init",
        help="create the authority CA, the broker's keys and department certificates",
        description=(
            "Create a Tongdao home: the authority CA, the broker's TLS certificate and grant-"
            "signing "
            "key, the authority operator's certificate, and one certificate plus encryption and "
            "signing keys per --department. On an existing home, only adds departments; nothing "
            "is overwritten."
        ),
    )
    add_home_argument(parser)
    parser.add_argument(
        "--department",
        action="append",
        type=_department_spec,
        default=[],
        metavar="CODE,NAME,REGION,LEVEL",
        help="add a department (repeatable), e.g. hlj.gat,黑龙江省公安厅,230000,province",
    )
    parser.add_argument(
        "--san",
        action="append",
        default=[],
        help="extra DNS name or IP for the departments' certificates (repeatable)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    home = Home(args.home)
    try:
        created = False
        if not home.exists():
            home.create_authority()
            created = True
            print(f"created authority CA, broker and authority operator in {home.root}")
        sans = ("localhost", "127.0.0.1", "::1", *args.san)
        for profile in args.department:
            if profile.level not in ("province", "city", "county"):
                raise CommandError(f"{profile.code}: level must be province, city or county")
            home.add_department(profile, sans)
            print(f"issued certificate and keys for {profile.code} ({profile.name})")
        if not created and not args.department:
            print(f"{home.root} already initialised; add departments with --department")
    except HomeError as exc:
        raise CommandError(str(exc)) from None
    return 0
