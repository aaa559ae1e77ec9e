"""A broker on a real database over real gRPC with a controllable clock, and people's accounts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import grpc

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

    def stub(self, party: str, token: str = "") -> BrokerStubs:
        return BrokerStubs.over(self.channel(party), token)

    def channel(self, party: str, token: str = "") -> grpc.Channel:
        from tongdao.proto.transport import with_session

        channel = secure_channel(
            self.running.target, self.home.tls(party), server_name=BROKER_SERVER_NAME
        )
        return with_session(channel, token) if token else channel

    def create_person(self, username: str, party: str, role: str) -> None:
        """An account with the initial password changed to :data:`PASSWORD`."""
        admin = self.stub(AUTHORITY)
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


def start(home: Home, database_url: str) -> Broker:
    clock = Clock()
    running = start_broker(
        BrokerConfig(
            tls=home.tls(BROKER),
            server_tls=home.tls_source(BROKER, server=True),
            signing_key=home.signing_key(BROKER),
            database_url=database_url,
            clock=clock,
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
    return broker
