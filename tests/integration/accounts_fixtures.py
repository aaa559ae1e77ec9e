"""A broker on a real database over real gRPC with a controllable clock, and people's accounts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import grpc

from tongdao.broker.kernel.settings import BrokerSettings
from tongdao.broker.server import BrokerConfig, RunningBroker, start_broker
from tongdao.ca_home import CaHome
from tongdao.crypto.pki import BROKER_SERVER_NAME
from tongdao.home import AUTHORITY, BROKER, DepartmentProfile, Home
from tongdao.proto.stubs import BrokerStubs
from tongdao.proto.transport import secure_channel
from tongdao.v1 import accounts_pb2, directory_pb2

RSJ = DepartmentProfile("hrb.rsj", "哈尔滨市人力资源和社会保障局", "230100", "city")
GAT = DepartmentProfile("hlj.gat", "黑龙江省公安厅", "230000", "province")
ROGUE = DepartmentProfile("rogue.dept", "未登记部门", "230100", "city")  # certified, not registered

INITIAL = "Initial#Pass2026"
PASSWORD = "Str0ng!Harbin-Snow"
CHIEF = "chief.admin"  # the authority's first administrator, created with the bare certificate
CHIEF_AUDITOR = "chief.auditor"


class Clock:
    """A clock the test moves (lockout periods, session and password lifetimes)."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += dt.timedelta(**kwargs)


@dataclass
class Broker:
    home: Home
    running: RunningBroker
    clock: Clock
    _founded: bool = False

    def found(self) -> None:
        """End the bootstrap: the first administrator (with the authority's bare certificate,
        which from then on holds no role) and an auditor (created by that administrator)."""
        self.create_person(CHIEF, AUTHORITY, "administrator")
        self.create_person(CHIEF_AUDITOR, AUTHORITY, "auditor")

    def admin(self) -> BrokerStubs:
        """The authority's administrator, logged in now (the test's clock may have moved)."""
        return self.stub(AUTHORITY, self.login(CHIEF, AUTHORITY))

    def auditor(self) -> BrokerStubs:
        """The authority's auditor, logged in now."""
        return self.stub(AUTHORITY, self.login(CHIEF_AUDITOR, AUTHORITY))

    def stub(self, party: str, token: str = "") -> BrokerStubs:
        return BrokerStubs.over(self.channel(party), token)

    def channel(self, party: str, token: str = "") -> grpc.Channel:
        from tongdao.proto.transport import with_session

        channel = secure_channel(
            self.running.target, self.home.tls(party), server_name=BROKER_SERVER_NAME
        )
        return with_session(channel, token) if token else channel

    def create_person(self, username: str, party: str, role: str) -> None:
        """An account with the initial password changed to :data:`PASSWORD` (created by the
        first administrator once there is one, else with the bare bootstrap certificate)."""
        founded = username != CHIEF and self.running is not None and self._founded
        admin = self.admin() if founded else self.stub(AUTHORITY)
        admin.accounts.CreateAccount(
            accounts_pb2.CreateAccountRequest(
                username=username,
                party=party,
                role=role,
                display_name=f"{username} 同志",
                initial_password=INITIAL,
            ),
            timeout=10,
        )
        if username == CHIEF:
            self._founded = True
        self.stub(party).accounts.SetPassword(
            accounts_pb2.SetPasswordRequest(
                username=username, current_password=INITIAL, new_password=PASSWORD
            ),
            timeout=10,
        )

    def login(self, username: str, party: str, password: str = PASSWORD, totp: str = "") -> str:
        reply = self.stub(party).accounts.Login(
            accounts_pb2.LoginRequest(username=username, password=password, totp_code=totp),
            timeout=10,
        )
        return reply.session_token


def make_home(root) -> Home:  # type: ignore[no-untyped-def]
    """Every party enrolled by request with a CA kept in its own home."""
    home = Home(root / "home")
    ca = CaHome(root / "ca")
    ca.init()
    loopback = ("127.0.0.1",)
    ca.enrol_locally(home, BROKER, role="broker", server_names=loopback)
    ca.enrol_locally(home, AUTHORITY, role="administrator")
    for profile in (RSJ, GAT, ROGUE):
        ca.enrol_locally(home, profile.code, role="department", profile=profile)
    return home


def start(home: Home, database_url: str, *, founded: bool = True) -> Broker:
    """A broker with RSJ and GAT registered and, when ``founded``, the authority's first
    administrator and an auditor (so the bare authority certificate holds no role)."""
    clock = Clock()
    running = start_broker(
        BrokerConfig(
            tls=home.tls(BROKER),
            server_tls=home.tls_source(BROKER, server=True),
            signing_key=home.signing_key(BROKER),
            database_url=database_url,
            clock=clock,
            settings=BrokerSettings(locale="en"),
        )
    )
    broker = Broker(home, running, clock)
    for profile in (RSJ, GAT):
        broker.stub(AUTHORITY).directory.RegisterDepartment(
            directory_pb2.RegisterDepartmentRequest(
                # the broker takes the profile and keys from the CA-signed certificate
                department=directory_pb2.Department(code=profile.code),
                certificate_pem=home.tls(profile.code).certificate_pem,
            ),
            timeout=10,
        )
    if founded:
        broker.found()
    return broker
