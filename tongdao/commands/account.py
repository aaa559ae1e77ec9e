"""``tongdao login`` / ``logout`` / ``account …``: people's accounts and login sessions.

A session is kept in ``<home>/sessions/<party>.json`` (directory 0700, file 0600) and sent with
every later command run ``--as`` that party, so records name the person. Passwords are read
with a hidden prompt, from ``TONGDAO_PASSWORD``, from standard input (``--password-stdin``) or
from a file only the user can read (``--password-file``), never from a command-line value that
other users could see in the process list.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path

from tongdao.cli import CommandError
from tongdao.commands._common import (
    add_broker_arguments,
    broker_stub,
    cell,
    forget_session,
    open_home,
    print_message,
    save_session,
)
from tongdao.commands._summaries import in_words, moment, party_label
from tongdao.home import AUTHORITY
from tongdao.i18n import tr
from tongdao.policies.i18n import msg, os_reason
from tongdao.v1 import accounts_pb2

ENV_PASSWORD = "TONGDAO_PASSWORD"  # noqa: S105 (the name of an environment variable)
ENV_NEW_PASSWORD = "TONGDAO_NEW_PASSWORD"  # noqa: S105

EPILOG = """Roles: at the authority a person is an administrator (directory, certificates,
accounts), an operator (catalogue review, decisions, supervision) or an auditor (reads the
ledger and reports, changes nothing); at a department an operator or an auditor. Password,
lockout and session rules are in the rule file ([accounts]); see docs/architecture.md."""


def _password_options(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--password-stdin",
        action="store_true",
        help=f"read the password(s) from standard input, one a line (else env {ENV_PASSWORD}, "
        "else a hidden prompt)",
    )
    source.add_argument(
        "--password-file",
        metavar="FILE",
        default="",
        help="read the password(s) from FILE, one a line; FILE must be readable by you alone "
        "(chmod 600)",
    )


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    login = sub.add_parser(
        "login",
        help="log in as a person; later commands --as that party carry the session",
        description="Open a login session for a person acting for the party of --as "
        "(a department code or authority). The session lasts as the rule file says.",
        epilog=EPILOG,
    )
    add_broker_arguments(login, as_help="the party whose certificate you use (default authority)")
    login.add_argument("username", help="your account name")
    login.add_argument("--totp", default="", help="current code of your authenticator app")
    _password_options(login)
    login.set_defaults(handler=login_command)

    logout = sub.add_parser("logout", help="end the login session of --as")
    add_broker_arguments(logout, as_help="party (default authority)")
    logout.set_defaults(handler=logout_command)

    parser = sub.add_parser("account", help="people's accounts", epilog=EPILOG)
    asub = parser.add_subparsers(dest="account_command", metavar="COMMAND")
    asub.required = True

    create = asub.add_parser("create", help="create an account (administrator)", epilog=EPILOG)
    add_broker_arguments(create, as_help="identity (default authority)")
    create.add_argument("username")
    create.add_argument(
        "--for",
        dest="account_party",
        required=True,
        metavar="PARTY",
        help="the party the person acts for: a department code or authority",
    )
    create.add_argument("--role", required=True, choices=("administrator", "operator", "auditor"))
    create.add_argument("--name", required=True, help="the person's full name")
    _password_options(create)
    create.set_defaults(handler=create_command)

    disable = asub.add_parser("disable", help="disable an account, end its sessions")
    add_broker_arguments(disable, as_help="identity (default authority)")
    disable.add_argument("username")
    disable.set_defaults(handler=disable_command)

    listing = asub.add_parser("list", help="every account (administrator, auditor)")
    add_broker_arguments(listing, as_help="identity (default authority)")
    listing.set_defaults(handler=list_command)

    password = asub.add_parser(
        "password",
        help="change your password (also when it has expired or is the initial one)",
        description=f"Reads the current and the new password (prompts, or env {ENV_PASSWORD} "
        f"and {ENV_NEW_PASSWORD}, or two lines of standard input with --password-stdin).",
    )
    add_broker_arguments(password, as_help="the party of the account (default authority)")
    password.add_argument("username")
    _password_options(password)
    password.set_defaults(handler=password_command)

    totp = asub.add_parser(
        "totp", help="enrol a TOTP second factor for the logged-in person (shows the secret)"
    )
    add_broker_arguments(totp, as_help="party (default authority)")
    totp.add_argument("--confirm", default="", help="a current code, to turn the factor on")
    totp.set_defaults(handler=totp_command)

    whoami = asub.add_parser("whoami", help="who your commands act as: party, person, role")
    add_broker_arguments(whoami, as_help="party (default authority)")
    whoami.set_defaults(handler=whoami_command)


def _read_passwords(args: argparse.Namespace, prompts: tuple[str, ...]) -> list[str]:
    envs = (ENV_PASSWORD, ENV_NEW_PASSWORD)
    if args.password_stdin:
        lines = sys.stdin.read().splitlines()
        if len(lines) < len(prompts):
            raise CommandError(msg("--password-stdin: expected {v1} line(s)", v1=len(prompts)))
        return lines[: len(prompts)]
    if getattr(args, "password_file", ""):
        return _password_file(Path(args.password_file), len(prompts))
    values = [os.environ.get(env, "") for env in envs[: len(prompts)]]
    if all(values):
        return values
    if not sys.stdin.isatty():
        raise CommandError(
            msg(
                "no terminal for a password prompt: use --password-stdin or env {ENV_PASSWORD}",
                ENV_PASSWORD=ENV_PASSWORD,
            )
        )
    return [getpass.getpass(tr("{prompt}: ", prompt=p)) for p in prompts]


def _password_file(path: Path, count: int) -> list[str]:
    """The first ``count`` lines of ``path``, refused when others may read it (as ssh refuses
    a private key) or when it holds fewer lines."""
    try:
        mode = path.stat().st_mode
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CommandError(
            msg("--password-file: cannot read {path}: {reason}", path=path, reason=os_reason(exc))
        ) from None
    if os.name == "posix" and mode & 0o077:
        raise CommandError(
            msg(
                "--password-file: {path} may be read by others (mode {mode}): "
                "make it yours alone (chmod 600 {path})",
                path=path,
                mode=f"{mode & 0o777:o}",
            )
        )
    if len(lines) < count:
        raise CommandError(msg("--password-file: expected {v1} line(s)", v1=count))
    return lines[:count]


def _party(args: argparse.Namespace) -> str:
    return str(args.party or AUTHORITY)


def login_command(args: argparse.Namespace) -> int:
    party = _party(args)
    (password,) = _read_passwords(args, (tr("password"),))
    with broker_stub(args, party, use_session=False) as stub:
        reply = stub.accounts.Login(
            accounts_pb2.LoginRequest(
                username=args.username, password=password, totp_code=args.totp
            ),
            timeout=30,
        )
    home = open_home(args.home)
    path = save_session(home, party, reply.session_token, args.username, reply.expires_at)
    if args.json:
        print(json.dumps({"party": party, "person": args.username, "expires_at": reply.expires_at}))
    else:
        print(
            tr(
                "logged in as {username} ({role}) for {party} until {expires_at}; "
                "session in {path}",
                username=args.username,
                role=in_words(reply.account.role),
                party=party,
                expires_at=moment(reply.expires_at),
                path=path,
            )
        )
    return 0


def logout_command(args: argparse.Namespace) -> int:
    party = _party(args)
    with broker_stub(args, party) as stub:
        reply = stub.accounts.Logout(accounts_pb2.LogoutRequest(), timeout=30)
    forget_session(open_home(args.home), party)
    print(tr("logged out") if reply.ended else tr("no session was open"))
    return 0


def create_command(args: argparse.Namespace) -> int:
    (password,) = _read_passwords(args, (tr("initial password"),))
    with broker_stub(args, _party(args)) as stub:
        reply = stub.accounts.CreateAccount(
            accounts_pb2.CreateAccountRequest(
                username=args.username,
                party=args.account_party,
                role=args.role,
                display_name=args.name,
                initial_password=password,
            ),
            timeout=30,
        )
    if args.json:
        print_message(reply, as_json=True)
        return 0
    print(
        tr(
            "account {username} created: {name}, {role} of {party}",
            username=reply.username,
            name=reply.display_name,
            role=in_words(reply.role),
            party=party_label(reply.party),
        )
    )
    print("  " + _account_state(reply))
    if reply.must_change_password:
        print(
            "  "
            + tr(
                "give the person the initial password; the first "
                "`tongdao login {username}` asks for a new one",
                username=reply.username,
            )
        )
    return 0


def disable_command(args: argparse.Namespace) -> int:
    with broker_stub(args, _party(args)) as stub:
        reply = stub.accounts.DisableAccount(
            accounts_pb2.DisableAccountRequest(username=args.username), timeout=30
        )
    if args.json:
        print_message(reply, as_json=True)
    else:
        print(
            tr("account {username}: {state}", username=reply.username, state=_account_state(reply))
        )
    return 0


def list_command(args: argparse.Namespace) -> int:
    with broker_stub(args, _party(args)) as stub:
        reply = stub.accounts.ListAccounts(accounts_pb2.ListAccountsRequest(), timeout=30)
    if args.json:
        print_message(reply, as_json=True)
        return 0
    if not reply.accounts:
        print(tr("no accounts"))
        return 0
    print(
        f"{cell(tr('account'), 16)} {cell(tr('party'), 12)} {cell(tr('role'), 14)} "
        f"{cell(tr('name'), 10)} {tr('state')}"
    )
    for a in reply.accounts:
        print(
            f"{cell(a.username, 16)} {cell(a.party, 12)} {cell(in_words(a.role), 14)} "
            f"{cell(a.display_name, 10)} {_account_state(a)}"
        )
    return 0


def _account_state(a: accounts_pb2.Account) -> str:
    """What stands between the person and a login, else "active" (and whether TOTP is on)."""
    if a.disabled:
        return tr("disabled")
    blocks = []
    if a.locked_until:
        blocks.append(tr("locked until {until}", until=moment(a.locked_until)))
    if a.must_change_password:
        blocks.append(tr("must set a new password"))
    totp = tr("TOTP on") if a.totp_enabled else tr("no TOTP")
    return tr("; ").join([*(blocks or [tr("can log in")]), totp])


def password_command(args: argparse.Namespace) -> int:
    current, new = _read_passwords(args, (tr("current password"), tr("new password")))
    with broker_stub(args, _party(args), use_session=False) as stub:
        stub.accounts.SetPassword(
            accounts_pb2.SetPasswordRequest(
                username=args.username, current_password=current, new_password=new
            ),
            timeout=30,
        )
    print(
        tr(
            "password of {username} changed; log in with `tongdao login {username}`",
            username=args.username,
        )
    )
    return 0


def totp_command(args: argparse.Namespace) -> int:
    with broker_stub(args, _party(args)) as stub:
        if args.confirm:
            stub.accounts.ConfirmTotp(
                accounts_pb2.ConfirmTotpRequest(code=args.confirm), timeout=30
            )
            print(tr("second factor on: login now asks for --totp CODE"))
            return 0
        reply = stub.accounts.EnrolTotp(accounts_pb2.EnrolTotpRequest(), timeout=30)
    print(tr("secret: {secret}", secret=reply.secret))
    print(tr("uri: {uri}", uri=reply.provisioning_uri))
    print(tr("enter it in your authenticator app, then: tongdao account totp --confirm CODE"))
    return 0


def whoami_command(args: argparse.Namespace) -> int:
    with broker_stub(args, _party(args)) as stub:
        reply = stub.accounts.WhoAmI(accounts_pb2.WhoAmIRequest(), timeout=30)
    if args.json:
        print_message(reply, as_json=True)
    else:
        who = reply.person or tr("(no login: the party's service identity)")
        roles = ", ".join(in_words(r) for r in reply.roles) or tr("none")
        if reply.session_expires_at:
            line = tr(
                "{party}: {who}; roles {roles}, session until {until}",
                party=reply.party,
                who=who,
                roles=roles,
                until=moment(reply.session_expires_at),
            )
        else:
            line = tr("{party}: {who}; roles {roles}", party=reply.party, who=who, roles=roles)
        print(line)
    return 0
