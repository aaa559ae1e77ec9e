"""``tongdao certificates``: each certificate in a home with its expiry (warns ahead of it)."""

from __future__ import annotations

import argparse
import datetime as dt
import json

from tongdao.cli import CommandError
from tongdao.commands._common import add_home_argument
from tongdao.commands._grammar import add_json_argument
from tongdao.home import Home, HomeError
from tongdao.i18n import said, tr
from tongdao.policies.i18n import msg
from tongdao.policies.trust import load_trust_rules


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "certificates",
        help="show each certificate in a home with its expiry (warns ahead of it)",
        description=(
            "List the CA certificate and every party's client and server certificate in --home "
            "with role, serial and expiry. A certificate within the trust rule file's warning "
            "period of expiry (warn_days; staff_warn_days for the authority's staff) is marked "
            "RENEW (make a request with `… keygen --renew`); the exit code is 1 if any is "
            "expired or due for renewal."
        ),
    )
    add_home_argument(parser)
    add_json_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    rules = load_trust_rules()
    home = Home(args.home, passphrase=None)
    try:
        certificates = home.certificates()
    except HomeError as exc:
        raise CommandError(said(exc)) from None
    if not certificates:
        raise CommandError(msg("no certificates in {home}", home=args.home))
    now = dt.datetime.now(dt.UTC)
    due = False
    listing = []
    for path, info in certificates:
        days = info.days_left(now)
        if days < 0:
            state, shown, due = "EXPIRED", tr("EXPIRED"), True
        elif days < rules.warn_days_for(info.role):
            state, due = f"RENEW ({days:.0f} days left)", True
            shown = tr("RENEW ({days:.0f} days left)", days=days)
        else:
            state, shown = f"{days:.0f} days left", tr("{days:.0f} days left", days=days)
        kind = "ca" if info.is_ca else "/".join(sorted(u.value for u in info.usages))
        listing.append(
            {
                "party": info.common_name,
                "role": info.role,
                "usage": kind,
                "serial": f"{info.serial:x}",
                "not_after": info.not_after.isoformat(),
                "state": state,
                "file": str(path.relative_to(home.root)),
            }
        )
        if args.json:
            continue
        until = tr("until {not_after:%Y-%m-%d %H:%M} UTC", not_after=info.not_after)
        print(
            f"{info.common_name:<22} {info.role or '-':<13} {kind:<6} {info.serial:x}  "
            f"{until}  {shown}  {path.relative_to(home.root)}"
        )
    if args.json:
        print(json.dumps(listing, ensure_ascii=False, indent=2))
    return 1 if due else 0
