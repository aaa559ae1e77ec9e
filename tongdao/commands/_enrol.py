"""Shared by ``tongdao department``, ``tongdao broker`` and ``tongdao authority``: make an
enrolment request on this machine, install the certificates the authority returns."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from pathlib import Path

from tongdao.cli import CommandError
from tongdao.commands._common import add_home_argument
from tongdao.crypto.enrolment import check_host
from tongdao.crypto.errors import EnrolmentError
from tongdao.home import PASSPHRASE_ENV, DepartmentProfile, Home, HomeError
from tongdao.i18n import said, tr
from tongdao.policies.i18n import msg, os_reason


def warn_expiring(certificate_pem: bytes) -> None:
    """Log a warning if the certificate expires within the trust rule file's warn_days."""
    from tongdao.crypto.pki import certificate_info, expiry_warning
    from tongdao.policies.trust import load_trust_rules

    info = certificate_info(certificate_pem)
    warning = expiry_warning(info, load_trust_rules().warn_days_for(info.role))
    if warning:
        logging.getLogger("tongdao.identity").warning("%s", warning)


def add_passphrase_argument(parser: argparse.ArgumentParser, env: str = PASSPHRASE_ENV) -> None:
    parser.add_argument(
        "--ask-passphrase",
        action="store_true",
        help=f"prompt for the passphrase that encrypts the private keys (else env {env}; "
        "neither: keys are stored unencrypted, mode 0600)",
    )


def passphrase(
    args: argparse.Namespace, env: str = PASSPHRASE_ENV, *, confirm: bool = False
) -> bytes | None:
    """The passphrase: prompted with --ask-passphrase, else from ``env``, else None."""
    if getattr(args, "ask_passphrase", False):
        if not sys.stdin.isatty():
            raise CommandError(msg("--ask-passphrase needs a terminal; set {env} instead", env=env))
        first = getpass.getpass(tr("passphrase: "))
        if confirm and getpass.getpass(tr("again: ")) != first:
            raise CommandError(msg("the passphrases differ"))
        if not first:
            raise CommandError(msg("an empty passphrase"))
        return first.encode()
    value = os.environ.get(env, "")
    return value.encode() if value else None


def endpoint_hosts(endpoint: str) -> tuple[str, ...]:
    """The host of ``HOST:PORT`` for a server certificate ((), when no endpoint)."""
    if not endpoint:
        return ()
    host = endpoint.rpartition(":")[0] if ":" in endpoint else endpoint
    host = host.strip("[]")
    try:
        return (check_host(host),)
    except EnrolmentError as exc:
        raise CommandError(msg("--endpoint: {exc}", exc=exc)) from None


def add_keygen_arguments(parser: argparse.ArgumentParser) -> None:
    add_home_argument(parser)
    parser.add_argument(
        "--renew",
        action="store_true",
        help="renew: a fresh TLS key and request, keeping the data keys (the current "
        "certificates keep working until the new ones are installed)",
    )
    parser.add_argument("--out", default="", help="also write the request here")
    add_passphrase_argument(parser)


def add_install_arguments(parser: argparse.ArgumentParser) -> None:
    add_home_argument(parser)
    parser.add_argument("bundle", help="the certificate bundle the authority returned (PEM)")
    parser.add_argument(
        "--broker-certificate",
        default="",
        metavar="FILE",
        help="the broker's certificate: its CA-signed grant-signing key is what the node "
        "verifies grant tokens with",
    )
    add_passphrase_argument(parser)


def keygen(
    args: argparse.Namespace,
    party: str,
    role: str,
    *,
    profile: DepartmentProfile | None = None,
    endpoint: str = "",
) -> int:
    home = Home(args.home, passphrase=passphrase(args, confirm=not args.renew))
    try:
        csr = home.request(
            party,
            role=role,
            profile=profile,
            server_names=endpoint_hosts(endpoint),
            renew=args.renew,
        )
    except HomeError as exc:
        raise CommandError(said(exc)) from None
    path = home.party_dir(party) / "request.csr"
    if args.out:
        Path(args.out).write_bytes(csr)
        path = Path(args.out)
    print(
        tr(
            "created the keys of {party} ({role}) in {dir}",
            party=party,
            role=role,
            dir=home.party_dir(party),
        )
    )
    print(
        tr(
            "enrolment request: {path} — send it to the authority (`tongdao ca sign {name}`)",
            path=path,
            name=path.name,
        )
    )
    return 0


def install(args: argparse.Namespace) -> int:
    home = Home(args.home, passphrase=passphrase(args))
    try:
        data = Path(args.bundle).read_bytes()
    except OSError as exc:
        raise CommandError(
            msg("{bundle}: {strerror}", bundle=args.bundle, strerror=os_reason(exc))
        ) from None
    try:
        infos = home.install(data)
    except HomeError as exc:
        raise CommandError(said(exc)) from None
    if getattr(args, "broker_certificate", ""):
        try:
            key = home.install_broker_certificate(Path(args.broker_certificate).read_bytes())
        except OSError as exc:
            raise CommandError(
                msg(
                    "{broker_certificate}: {strerror}",
                    broker_certificate=args.broker_certificate,
                    strerror=os_reason(exc),
                )
            ) from None
        except HomeError as exc:
            raise CommandError(said(exc)) from None
        print(tr("trusting the broker's grant-signing key {key}", key=key.public_key.hex()))
    for info in infos:
        usage = "/".join(sorted(u.value for u in info.usages))
        print(
            tr(
                "installed {name} {usage} certificate {serial:x} ({role}), "
                "valid until {not_after:%Y-%m-%d %H:%M} UTC",
                name=info.common_name,
                usage=usage,
                serial=info.serial,
                role=info.role,
                not_after=info.not_after,
            )
        )
    crl = home.ca_dir / "crl.pem"
    serves = any(u.value == "server" for info in infos for u in info.usages)
    if serves and not crl.exists():
        # a server (node or broker) refuses to start without the CA's revocation list
        print(
            tr(
                "before serving: copy the authority CA's revocation list (its crl.pem) to {path}, "
                "and again after every revocation",
                path=crl,
            )
        )
    return 0
