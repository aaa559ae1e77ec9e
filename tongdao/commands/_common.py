"""Options and helpers shared by the CLI's sub-commands."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.json_format import MessageToDict

from tongdao.cli import CommandError
from tongdao.crypto.pki import BROKER_SERVER_NAME
from tongdao.home import Home, HomeError
from tongdao.i18n import current, said, say, tr
from tongdao.policies.i18n import msg
from tongdao.proto.stubs import BrokerStubs
from tongdao.proto.transport import secure_channel, with_locale

DEFAULT_HOME = "tongdao-home"
DEFAULT_BROKER = "127.0.0.1:7443"


def add_home_argument(parser: argparse.ArgumentParser) -> None:
    """``--home DIR`` (env TONGDAO_HOME, default ./tongdao-home)."""
    parser.add_argument(
        "--home",
        default=os.environ.get("TONGDAO_HOME", DEFAULT_HOME),
        help="Tongdao home directory with certificates and keys (env TONGDAO_HOME; "
        f"default ./{DEFAULT_HOME})",
    )


def add_broker_arguments(parser: argparse.ArgumentParser, *, as_help: str) -> None:
    """``--home``, ``--broker HOST:PORT`` and ``--as PARTY`` for commands that call the broker."""
    add_home_argument(parser)
    parser.add_argument(
        "--broker",
        default=os.environ.get("TONGDAO_BROKER", DEFAULT_BROKER),
        help=f"broker address (env TONGDAO_BROKER; default {DEFAULT_BROKER})",
    )
    parser.add_argument(
        "--as",
        dest="party",
        default=os.environ.get("TONGDAO_PARTY", ""),
        help=as_help + " (env TONGDAO_PARTY)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def bound_address(listen: str, port: int) -> str:
    """``HOST:PORT`` a server bound for ``--listen HOST:PORT`` (port 0: the one it was given).
    An empty host means every interface."""
    host = listen.rpartition(":")[0] or "0.0.0.0"  # noqa: S104 (describes, does not bind)
    return f"{host}:{port}"


def open_home(path: str, *, must_exist: bool = True) -> Home:
    home = Home(path)
    if must_exist and not home.exists():
        raise CommandError(
            msg("{path} is not a Tongdao home (run `tongdao init --home {path}`)", path=path)
        )
    return home


def check_own_certificate(party: str, certificate_pem: bytes) -> None:
    """Refuse to call with an expired certificate (say so, rather than a failed handshake) and
    warn on stderr when it is within the trust rule file's warn_days of expiry."""
    from tongdao.crypto.pki import certificate_info, expiry_warning
    from tongdao.policies.trust import load_trust_rules

    info = certificate_info(certificate_pem)
    now = dt.datetime.now(dt.UTC)
    if info.not_after < now:
        raise CommandError(
            msg(
                "the certificate of {party} expired on {not_after:%Y-%m-%d}: "
                "make a renewal request (`keygen --renew`) and install the new "
                "certificates",
                party=party,
                not_after=info.not_after,
            )
        )
    warning = expiry_warning(info, load_trust_rules().warn_days_for(info.role), now)
    if warning:
        print(tr("tongdao: warning: {message}", message=say(warning)), file=sys.stderr)


def session_path(home: Home, party: str) -> Path:
    """Where ``tongdao login`` keeps the session of ``party``: ``<home>/sessions/<party>.json``."""
    return Path(home.root) / "sessions" / f"{party}.json"


def save_session(home: Home, party: str, token: str, person: str, expires_at: str) -> Path:
    """Store a login session (directory 0700, file 0600: the token is a secret)."""
    path = session_path(home, party)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"token": token, "person": person, "expires_at": expires_at}, fh)
    os.chmod(path, 0o600)
    return path


def forget_session(home: Home, party: str) -> None:
    """Remove the stored session of ``party``, if any."""
    session_path(home, party).unlink(missing_ok=True)


def load_session(home: Home, party: str, now: dt.datetime | None = None) -> str:
    """The stored, unexpired session token of ``party``, or "" (an expired one is removed)."""
    path = session_path(home, party)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        expires = dt.datetime.fromisoformat(data["expires_at"])
        token = str(data["token"])
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    if expires.tzinfo is None or expires <= (now or dt.datetime.now(dt.UTC)):
        path.unlink(missing_ok=True)
        return ""
    return token


@contextmanager
def broker_stub(
    args: argparse.Namespace, party: str | None = None, *, use_session: bool = True
) -> Iterator[BrokerStubs]:
    """The broker's service stubs over mutual TLS as ``party`` (default ``--as``), carrying the
    person's login session when ``tongdao login`` stored one for that party."""
    name = party or args.party
    if not name:
        raise CommandError(msg("say which party you act as: --as CODE (or TONGDAO_PARTY)"))
    home = open_home(args.home)
    try:
        tls = home.tls(name)
    except HomeError as exc:
        raise CommandError(said(exc)) from None
    check_own_certificate(name, tls.certificate_pem)
    token = load_session(home, name) if use_session else ""
    channel = secure_channel(args.broker, tls, server_name=BROKER_SERVER_NAME)
    try:
        yield BrokerStubs.over(with_locale(channel, current()), token)
    except grpc.RpcError as exc:
        raise CommandError(msg("{name}: {v2}", name=exc.code().name, v2=exc.details())) from None
    finally:
        channel.close()


def cell(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded to ``width`` terminal columns (a Chinese character takes two)."""
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    fill = " " * max(0, width - used)
    return fill + text if right else text + fill


def request_details(r: Any) -> str:
    """The fields, purpose and scenario of a share request, on one line."""
    return tr(
        "fields: {fields}; purpose: {purpose}; scenario: {scenario}",
        fields=", ".join(r.fields),
        purpose=r.purpose,
        scenario=r.scenario,
    )


def print_message(message: Any, *, as_json: bool) -> None:
    """Print a protobuf message as JSON or as indented text."""
    data = MessageToDict(message, preserving_proto_field_name=True)
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    _print_tree(data, 0)


def _print_tree(data: Any, indent: int) -> None:
    pad = "  " * indent
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, dict | list) and value:
                print(f"{pad}{key}:")
                _print_tree(value, indent + 1)
            else:
                print(f"{pad}{key}: {value}")
    elif isinstance(data, list):
        for item in data:
            if isinstance(item, dict):
                print(f"{pad}-")
                _print_tree(item, indent + 1)
            else:
                print(f"{pad}- {item}")
    else:
        print(f"{pad}{data}")
    sys.stdout.flush()
