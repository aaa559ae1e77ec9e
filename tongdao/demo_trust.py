"""The demo's trust set-up: a CA in its own home, every party enrolled by request, and the checks.

Directory layout (all under the demo directory)::

    ca/                      the authority CA's home (ca.key, issued.json, crl.pem); offline
    authority/               the broker's and the authority administrator's home
    departments/<code>/      each department's own home: its keys never leave it
    requests/<code>.csr      what each department sends the CA
    bundles/<code>.pem       what the CA sends back
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tongdao.ca_home import CaError, CaHome
from tongdao.crypto.pki import BROKER_SERVER_NAME
from tongdao.home import (
    AUTHORITY,
    BROKER,
    DepartmentProfile,
    Home,
    HomeSet,
    private_key_texts,
    scan_for,
    write_private,
)
from tongdao.i18n import current, tr
from tongdao.policies.trust import load_trust_rules
from tongdao.proto.stubs import BrokerStubs
from tongdao.proto.transport import english_details, secure_channel, with_locale
from tongdao.v1 import accounts_pb2, directory_pb2

LOOPBACK = ("127.0.0.1",)


@dataclass
class DemoTrust:
    """Where the demo's keys live."""

    ca: CaHome
    authority: Home
    departments: dict[str, Home]
    homes: HomeSet

    @property
    def crl_path(self) -> Path:
        return self.ca.crl_path


def enrol_all(
    directory: Path,
    departments: tuple[DepartmentProfile, ...],
    check: Callable[[str, bool], None],
    line: Callable[[str], None],
) -> DemoTrust:
    """Create the CA, enrol the broker, the administrator and every department by request."""
    ca = CaHome(directory / "ca")
    ca.init()
    authority = Home(directory / "authority")
    ca.enrol_locally(authority, BROKER, role="broker", server_names=LOOPBACK)
    ca.enrol_locally(authority, AUTHORITY, role="administrator")
    homes: dict[str, Home] = {}
    requests, bundles = directory / "requests", directory / "bundles"
    for profile in departments:
        home = Home(directory / "departments" / profile.code)
        csr = home.request(profile.code, role="department", profile=profile, server_names=LOOPBACK)
        write_private(requests / f"{profile.code}.csr", csr)
        signed = ca.sign((requests / f"{profile.code}.csr").read_bytes(), expect_party=profile.code)
        write_private(bundles / f"{profile.code}.pem", signed.bundle)
        home.install((bundles / f"{profile.code}.pem").read_bytes())
        # the node verifies grant tokens with the broker's key, CA-signed in its certificate
        home.install_broker_certificate(authority.tls(BROKER).certificate_pem)
        homes[profile.code] = home
    rules = load_trust_rules()
    line(
        tr(
            "{n_departments} departments made their own keys and sent a PKCS#10 request; the CA "
            "(own home, {name}/) signed each: client + node certificates, {department_days} days",
            n_departments=len(departments),
            name=ca.root.name,
            department_days=rules.department_days,
        )
    )
    needles = [t for code, home in homes.items() for t in private_key_texts(home, code)]
    leaks = scan_for(authority.root, needles) + scan_for(ca.root, needles)
    check(tr("the authority's and the CA's homes hold no department private key"), not leaks)
    _bad_requests(ca, requests, departments, check)
    return DemoTrust(
        ca, authority, homes, HomeSet({BROKER: authority, AUTHORITY: authority, **homes})
    )


def _refused(call: Callable[[], object], needle: str) -> bool:
    try:
        call()
    except CaError as exc:
        return needle in str(exc)
    return False


def _bad_requests(
    ca: CaHome,
    requests: Path,
    departments: tuple[DepartmentProfile, ...],
    check: Callable[[str, bool], None],
) -> None:
    first, second = departments[0].code, departments[1].code
    replay = (requests / f"{first}.csr").read_bytes()
    check(
        tr(
            "a replayed request, a request naming another department and a malformed one are "
            "refused"
        ),
        _refused(lambda: ca.sign(replay), "already signed")
        and _refused(lambda: ca.sign(replay, expect_party=second), f"not {second!r}")
        and _refused(lambda: ca.sign(b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA"), "PKCS#10"),
    )


STAFF = (
    ("admin.wang", "administrator", "王管理"),
    ("op.li", "operator", "李业务"),
    ("audit.zhao", "auditor", "赵审计"),
)
"""The authority's people in the demo: one role each (等保 三权分立)."""
AUDITOR, AUDITOR_NAME = STAFF[2][0], STAFF[2][2]
PASSWORDS = "demo-passwords"
"""Under the authority's home of a kept demo: each person's password, in a file of its own
(0600), so the tour can log in with ``tongdao login NAME --password-file …``."""


def password_file(authority_home: Path, username: str) -> Path:
    """Where a kept demo leaves ``username``'s password."""
    return authority_home / PASSWORDS / username


def _password() -> str:
    """A fresh password that the rule file's policy accepts (never printed or logged)."""
    return "Td#9" + secrets.token_urlsafe(18)


def staff_logins(
    channel: Callable[[], grpc.Channel], keep_passwords_in: Path | None = None
) -> dict[str, tuple[str, BrokerStubs]]:
    """The authority's people, each logged in: role → (account, stubs carrying the session).

    The first administrator is created with the authority's bare certificate — its bootstrap,
    after which the certificate alone holds no role — and creates the operator and the auditor.
    With ``keep_passwords_in`` (an authority home) each password is left in
    :func:`password_file` for the person trying the kept stack; else it is forgotten.
    """
    bare = BrokerStubs.over(channel())
    creator, out = bare, {}
    for username, role, name in STAFF:
        initial, final = _password(), _password()
        creator.accounts.CreateAccount(
            accounts_pb2.CreateAccountRequest(
                username=username,
                party=AUTHORITY,
                role=role,
                display_name=name,
                initial_password=initial,
            ),
            timeout=30,
        )
        bare.accounts.SetPassword(
            accounts_pb2.SetPasswordRequest(
                username=username, current_password=initial, new_password=final
            ),
            timeout=30,
        )
        if keep_passwords_in is not None:
            write_private(password_file(keep_passwords_in, username), f"{final}\n".encode())
        login = bare.accounts.Login(
            accounts_pb2.LoginRequest(username=username, password=final), timeout=30
        )
        out[role] = (username, BrokerStubs.over(channel(), login.session_token))
        if role == "administrator":
            creator = out[role][1]
    return out


def bare_certificate_refused(bare: BrokerStubs, homes: HomeSet, code: str) -> str:
    """The refusal of a registration made with the authority's certificate alone ("" if it
    was not refused for want of a role)."""
    try:
        bare.directory.RegisterDepartment(
            directory_pb2.RegisterDepartmentRequest(
                department=directory_pb2.Department(code=code),
                certificate_pem=homes.tls(code).certificate_pem,
            ),
            timeout=10,
        )
    except grpc.RpcError as exc:
        denied = exc.code() == grpc.StatusCode.PERMISSION_DENIED
        needed = "needs the role administrator" in english_details(exc)
        return (exc.details() or "") if denied and needed else ""
    return ""


def refuses_misnamed_registration(
    authority: BrokerStubs, homes: HomeSet, code: str, other: str
) -> bool:
    """Registering ``code`` with ``other``'s certificate is refused (and recorded)."""
    try:
        authority.directory.RegisterDepartment(
            directory_pb2.RegisterDepartmentRequest(
                department=directory_pb2.Department(code=code),
                certificate_pem=homes.tls(other).certificate_pem,
            ),
            timeout=10,
        )
    except grpc.RpcError as exc:
        return exc.code() == grpc.StatusCode.INVALID_ARGUMENT and other in english_details(exc)
    return False


def _health(channel: grpc.Channel) -> object:
    stub = health_pb2_grpc.HealthStub(with_locale(channel, current()))
    return stub.Check(health_pb2.HealthCheckRequest(), timeout=5)


def revocation_scenario(
    trust: DemoTrust,
    broker: str,
    code: str,
    check: Callable[[str, bool], None],
    line: Callable[[str], None],
) -> None:
    """Revoke ``code``'s certificates (a lost key) and check the broker refuses it in time."""
    interval = load_trust_rules().refresh_seconds
    with secure_channel(broker, trust.homes.tls(code), server_name=BROKER_SERVER_NAME) as ch:
        _health(ch)
    serials = trust.ca.revoke(party=code, reason="key_compromise")
    published = time.monotonic()
    line(
        tr(
            "the CA revoked {code}'s {n_serials} certificates (key compromise) and published "
            "revocation list #{crl_number}",
            code=code,
            n_serials=len(serials),
            crl_number=trust.ca.crl_number(),
        )
    )
    refused, message, english = False, "", ""
    while not refused and time.monotonic() - published < 2 * interval + 2:
        with secure_channel(broker, trust.homes.tls(code), server_name=BROKER_SERVER_NAME) as ch:
            try:
                _health(ch)
                time.sleep(0.2)
            except grpc.RpcError as exc:
                refused = exc.code() == grpc.StatusCode.UNAUTHENTICATED
                message = exc.details() or ""  # in the reader's language
                english = english_details(exc)  # what the check reads
                if not refused:
                    raise
    took = time.monotonic() - published
    check(
        tr(
            "the broker refuses {code} after {took:.1f} s (bound: {interval} s refresh): "
            "UNAUTHENTICATED {message}…",
            code=code,
            took=took,
            interval=interval,
            message=message[:60],
        ),
        refused and "revoked" in english and took <= interval + 1,
    )
