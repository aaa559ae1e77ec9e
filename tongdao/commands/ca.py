"""``tongdao ca``: the authority CA — sign enrolment requests, revoke, publish revocation lists.

The CA's home needs no network: requests come in as files, bundles and lists go out as files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from pathlib import Path

from tongdao.ca_home import CA_PASSPHRASE_ENV, CaError, CaHome
from tongdao.cli import CommandError
from tongdao.commands._enrol import add_passphrase_argument, endpoint_hosts, passphrase
from tongdao.commands._grammar import add_json_argument
from tongdao.commands._summaries import level_label
from tongdao.crypto.revocation import REASONS
from tongdao.i18n import said, tr
from tongdao.policies.i18n import msg, os_reason

DEFAULT_CA_HOME = "tongdao-ca"


def _add_ca_home(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--home",
        default=os.environ.get("TONGDAO_CA_HOME", DEFAULT_CA_HOME),
        help=f"the CA's home (env TONGDAO_CA_HOME; default ./{DEFAULT_CA_HOME}); keep it offline",
    )
    add_passphrase_argument(parser, CA_PASSPHRASE_ENV)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("ca", help="the authority CA: sign requests, revoke, revocation lists")
    csub = parser.add_subparsers(dest="ca_command", metavar="COMMAND")
    csub.required = True

    init = csub.add_parser("init", help="create the authority CA in its own home")
    _add_ca_home(init)
    add_json_argument(init, lines=True)
    init.set_defaults(handler=init_command)

    sign = csub.add_parser(
        "sign",
        help="check an enrolment request and issue its certificates",
        description=(
            "Check a PKCS#10 enrolment request (signature, proof of possession of the Ed25519 "
            "key, party, role, profile, age; never signed before) and write a bundle with the "
            "client certificate, the server certificate if the party runs a server, and the CA "
            "certificate. Lifetimes come from the trust rule file."
        ),
    )
    _add_ca_home(sign)
    sign.add_argument("request", help="the request file (PEM or DER)")
    sign.add_argument("--party", default=None, help="refuse a request naming another party")
    sign.add_argument(
        "--endpoint",
        default=None,
        metavar="HOST:PORT",
        help="the node's registered endpoint: its host is the server certificate's name "
        "(default: the host the request asks for)",
    )
    sign.add_argument("--out", default="", help="bundle file (default PARTY.bundle.pem here)")
    sign.add_argument(
        "--rekey",
        action="store_true",
        help="accept new data keys for a party enrolled with others (after revoking them)",
    )
    add_json_argument(sign, lines=True)
    sign.set_defaults(handler=sign_command)

    rvk = csub.add_parser("revoke", help="revoke a certificate and publish a new revocation list")
    _add_ca_home(rvk)
    which = rvk.add_mutually_exclusive_group(required=True)
    which.add_argument("--serial", help="hex serial (see `tongdao ca list`)")
    which.add_argument("--party", help="every unexpired certificate of this party")
    rvk.add_argument("--reason", default="unspecified", choices=sorted(REASONS))
    add_json_argument(rvk, lines=True)
    rvk.set_defaults(handler=revoke_command)

    crl = csub.add_parser(
        "crl", help="sign and publish the next revocation list (before the current one expires)"
    )
    _add_ca_home(crl)
    add_json_argument(crl, lines=True)
    crl.set_defaults(handler=crl_command)

    lst = csub.add_parser("list", help="every certificate issued, with expiry and revocation")
    _add_ca_home(lst)
    add_json_argument(lst)
    lst.set_defaults(handler=list_command)


def _ca(args: argparse.Namespace) -> CaHome:
    return CaHome(args.home, passphrase=passphrase(args, CA_PASSPHRASE_ENV))


def init_command(args: argparse.Namespace) -> int:
    ca = CaHome(args.home, passphrase=passphrase(args, CA_PASSPHRASE_ENV, confirm=True))
    try:
        ca.init()
    except CaError as exc:
        raise CommandError(said(exc)) from None
    print(
        tr(
            "created the authority CA in {dir} (valid {days} days)",
            dir=ca.dir,
            days=ca.rules.ca_days,
        )
    )
    print(
        tr(
            "give every party {certificate}; publish {crl}",
            certificate=ca.certificate_path,
            crl=ca.crl_path,
        )
    )
    return 0


def _refusal(exc: CaError) -> CommandError:
    if exc.field:
        return CommandError(
            msg("request refused ({field}): {reason}", field=exc.field, reason=said(exc))
        )
    return CommandError(msg("request refused: {reason}", reason=said(exc)))


def sign_command(args: argparse.Namespace) -> int:
    try:
        data = Path(args.request).read_bytes()
    except OSError as exc:
        raise CommandError(
            msg("{request}: {strerror}", request=args.request, strerror=os_reason(exc))
        ) from None
    hosts = endpoint_hosts(args.endpoint) if args.endpoint is not None else None
    try:
        signed = _ca(args).sign(data, expect_party=args.party, server_names=hosts, rekey=args.rekey)
    except CaError as exc:
        raise _refusal(exc) from None
    request = signed.request
    out = Path(args.out or f"{request.party}.bundle.pem")
    out.write_bytes(signed.bundle)
    print(
        tr(
            "signed {party} ({role}), requested {at:%Y-%m-%d %H:%M} UTC",
            party=request.party,
            role=request.role,
            at=request.requested_at,
        )
    )
    if request.profile:
        p = request.profile
        print(
            "  "
            + tr(
                "{name} · region {region} · {level}",
                name=p["name"],
                region=p["region"],
                level=level_label(p["level"]),
            )
        )
    if request.signing_public_key:
        key = request.signing_public_key.hex()
        print("  " + tr("Ed25519 {key} (possession proved)", key=key))
    if request.encryption_public_key:
        print(f"  X25519  {request.encryption_public_key.hex()}")
    print("  " + tr("serials {serials}", serials=", ".join(f"{s:x}" for s in signed.serials)))
    print(
        tr(
            "bundle: {out} — return it to {party} (`tongdao … install {name}`)",
            out=out,
            party=request.party,
            name=out.name,
        )
    )
    return 0


def revoke_command(args: argparse.Namespace) -> int:
    ca = _ca(args)
    try:
        serials = ca.revoke(serial=args.serial, party=args.party, reason=args.reason)
    except CaError as exc:
        raise CommandError(said(exc)) from None
    print(tr("revoked {serials} ({reason})", serials=", ".join(serials), reason=args.reason))
    print(
        tr(
            "published revocation list #{number} at {path}",
            number=ca.crl_number(),
            path=ca.crl_path,
        )
    )
    return 0


def crl_command(args: argparse.Namespace) -> int:
    ca = _ca(args)
    try:
        path = ca.publish_crl()
    except CaError as exc:
        raise CommandError(said(exc)) from None
    until = dt.datetime.now(dt.UTC) + ca.rules.crl_valid
    print(
        tr(
            "published revocation list #{number} at {path}, valid until {until:%Y-%m-%d %H:%M} UTC",
            number=ca.crl_number(),
            path=path,
            until=until,
        )
    )
    return 0


def list_command(args: argparse.Namespace) -> int:
    ca = CaHome(args.home, passphrase=None)
    if not ca.certificate_path.exists():
        raise CommandError(msg("{home} is not a CA home", home=args.home))
    revoked = {f"{r.serial:x}" for r in ca.revoked()}
    now = dt.datetime.now(dt.UTC)
    listing = []
    for row in ca.issued():
        expiry = dt.datetime.fromisoformat(row["not_after"])
        days = (expiry - now).total_seconds() / 86400
        if row["serial"] in revoked:
            state, shown = "REVOKED", tr("REVOKED")
        elif days < 0:
            state, shown = "expired", tr("expired")
        elif days < ca.rules.warn_days_for(row.get("role", "")):
            state = f"renew: {days:.0f} days left"
            shown = tr("renew: {days:.0f} days left", days=days)
        else:
            state, shown = f"{days:.0f} days left", tr("{days:.0f} days left", days=days)
        listing.append({**row, "state": state, "revoked": row["serial"] in revoked})
        if args.json:
            continue
        print(
            f"{row['serial']:<42} {row['party']:<14} {row['role']:<13} {row['usage']:<6} "
            f"{expiry:%Y-%m-%d}  {shown}"
        )
    if args.json:
        print(json.dumps(listing, ensure_ascii=False, indent=2))
    return 0
