"""Identities checked both ways, at the handshake and before every handler.

A server set up as a department's node (its node certificate, only the broker accepted, the CA's
revocation list re-read on the rule file's interval) and callers holding good and bad
certificates: from another CA, expired, for the wrong usage, revoked, or for another party.
"""

import datetime as dt
import socket
import ssl
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tongdao.ca_home import CaHome
from tongdao.crypto import pki
from tongdao.home import DepartmentProfile, Home
from tongdao.policies.trust import load_trust_rules
from tongdao.proto.edge import ServerLimits
from tongdao.proto.identity import (
    IdentityInterceptor,
    RevocationWatcher,
    caller_of,
    file_source,
    only_broker,
)
from tongdao.proto.transport import (
    TlsMaterial,
    add_health_and_reflection,
    new_server,
    secure_channel,
    server_credentials,
)

GAT = DepartmentProfile("hlj.gat", "公安厅", "230000", "province")
MZT = DepartmentProfile("hlj.mzt", "民政厅", "230000", "province")
LOOPBACK = ("127.0.0.1",)
ECHO = "/tongdao.test.Echo/Echo"


class World:
    def __init__(self, tmp):
        self.ca = CaHome(tmp / "ca")
        self.ca.init()
        self.authority = Home(tmp / "authority")
        self.ca.enrol_locally(self.authority, "broker", role="broker", server_names=LOOPBACK)
        self.gat = Home(tmp / "gat")
        self.ca.enrol_locally(
            self.gat, GAT.code, role="department", profile=GAT, server_names=LOOPBACK
        )
        self.mzt = Home(tmp / "mzt")
        self.ca.enrol_locally(
            self.mzt, MZT.code, role="department", profile=MZT, server_names=LOOPBACK
        )
        self.crl = self.ca.publish_to(self.gat)
        rogue_ca = CaHome(tmp / "rogue-ca")
        rogue_ca.init()
        self.rogue = Home(tmp / "rogue")
        rogue_ca.enrol_locally(self.rogue, "broker", role="broker", server_names=LOOPBACK)
        self.interval = load_trust_rules().refresh_seconds
        self.watcher = RevocationWatcher(
            self.gat.tls(GAT.code).ca_pem, file_source(str(self.crl)), interval=self.interval
        ).start()
        identity = IdentityInterceptor(
            self.watcher, accept=only_broker, describe="only the broker may call a node"
        )
        self.server = new_server(ServerLimits(threads=4, max_streams=2), identity=identity)
        self.server.add_generic_rpc_handlers(
            [
                grpc.method_handlers_generic_handler(
                    "tongdao.test.Echo",
                    {
                        "Echo": grpc.unary_unary_rpc_method_handler(lambda request, ctx: request),
                        "Role": grpc.unary_unary_rpc_method_handler(
                            lambda request, ctx: caller_of(ctx).role.encode()
                        ),
                    },
                )
            ]
        )
        add_health_and_reflection(self.server, ["tongdao.test.Echo"])
        self.tls_source = self.gat.tls_source(GAT.code, server=True)
        port = self.server.add_secure_port("127.0.0.1:0", server_credentials(self.tls_source))
        self.server.start()
        self.target = f"127.0.0.1:{port}"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = World(tmp_path_factory.mktemp("mtls"))
    yield w
    w.watcher.stop()
    w.server.stop(0)


GAT_NODE = pki.node_server_name(GAT.code)


def echo(target, tls, server_name=GAT_NODE):
    with secure_channel(target, tls, server_name=server_name) as channel:
        return channel.unary_unary(ECHO)(b"ping", timeout=5)


def refusal(call):
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value.code(), err.value.details() or ""


def health(target, tls):
    with secure_channel(target, tls, server_name=pki.node_server_name(GAT.code)) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        return stub.Check(health_pb2.HealthCheckRequest(service="tongdao.test.Echo"), timeout=5)


def forged(world, *, usage=pki.Usage.CLIENT, days=90, start=None, party="broker", role="broker"):
    """A certificate from the real CA, with chosen usage and validity, for a fresh key."""
    authority = world.ca.authority()
    key = pki.generate_tls_key()
    cert = pki.issue_certificate(
        authority,
        key.public_key(),
        party,
        role=role,
        usage=usage,
        names=(pki.client_name(party), "127.0.0.1"),
        valid_days=days,
        now=start,
    )
    return TlsMaterial(authority.certificate_pem, cert, pki.private_key_pem(key))


def test_the_broker_reaches_the_node(world):
    assert echo(world.target, world.authority.tls("broker")) == b"ping"
    with secure_channel(world.target, world.authority.tls("broker"), server_name=GAT_NODE) as ch:
        # the role a handler sees is the one the CA signed into the certificate
        assert ch.unary_unary("/tongdao.test.Echo/Role")(b"", timeout=5) == b"broker"
    assert health(world.target, world.authority.tls("broker")).status == 1


def test_a_department_is_refused_by_a_node_but_sees_health(world):
    code, message = refusal(lambda: echo(world.target, world.mzt.tls(MZT.code)))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert "only the broker" in message and "hlj.mzt" in message
    assert health(world.target, world.mzt.tls(MZT.code)).status == 1


def test_client_from_another_ca_is_refused_at_handshake(world):
    rogue = world.rogue.tls("broker")
    # trusts our CA (so the server verifies) but presents a certificate from another CA
    tls = TlsMaterial(world.gat.tls(GAT.code).ca_pem, rogue.certificate_pem, rogue.private_key_pem)
    code, _ = refusal(lambda: echo(world.target, tls))
    assert code == grpc.StatusCode.UNAVAILABLE


def test_server_from_another_ca_is_not_trusted(world):
    code, _ = refusal(lambda: echo(world.target, world.rogue.tls("broker")))
    assert code == grpc.StatusCode.UNAVAILABLE


def test_client_without_certificate_is_refused_at_handshake(world):
    creds = grpc.ssl_channel_credentials(root_certificates=world.gat.tls(GAT.code).ca_pem)
    options = [("grpc.ssl_target_name_override", pki.node_server_name(GAT.code))]
    with grpc.secure_channel(world.target, creds, options=options) as channel:
        code, _ = refusal(lambda: channel.unary_unary(ECHO)(b"x", timeout=5))
    assert code == grpc.StatusCode.UNAVAILABLE


def test_expired_client_certificate_is_refused_at_handshake(world):
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    code, _ = refusal(lambda: echo(world.target, forged(world, days=1, start=long_ago)))
    assert code == grpc.StatusCode.UNAVAILABLE
    # the same, unexpired, passes: it is the expiry that is refused
    assert echo(world.target, forged(world)) == b"ping"


def test_server_certificate_used_as_client_is_refused(world):
    code, _ = refusal(lambda: echo(world.target, forged(world, usage=pki.Usage.SERVER)))
    assert code == grpc.StatusCode.UNAVAILABLE
    # the broker's own server certificate and key, presented as a client: refused too
    server = world.authority.server_tls("broker")
    code, _ = refusal(lambda: echo(world.target, server))
    assert code == grpc.StatusCode.UNAVAILABLE


def test_client_certificate_served_as_server_is_refused(world, tmp_path):
    srv = new_server(ServerLimits(threads=2, max_streams=1))
    add_health_and_reflection(srv, ["x"])
    client_as_server = world.mzt.tls(MZT.code)  # a clientAuth certificate
    port = srv.add_secure_port("127.0.0.1:0", server_credentials(client_as_server))
    srv.start()
    try:
        code, _ = refusal(lambda: health(f"127.0.0.1:{port}", world.authority.tls("broker")))
        assert code == grpc.StatusCode.UNAVAILABLE
    finally:
        srv.stop(0)


def test_the_broker_checks_which_department_a_node_is(world):
    broker = world.authority.tls("broker")
    code, _ = refusal(lambda: echo(world.target, broker, pki.node_server_name(MZT.code)))
    assert code == grpc.StatusCode.UNAVAILABLE  # the node at that address is hlj.gat, not hlj.mzt
    code, _ = refusal(lambda: echo(world.target, broker, pki.BROKER_SERVER_NAME))
    assert code == grpc.StatusCode.UNAVAILABLE  # and a node cannot pose as the broker


def test_server_certificates_name_only_their_role_and_registered_host(world):
    node = pki.certificate_info(world.gat.server_tls(GAT.code).certificate_pem)
    assert node.usages == {pki.Usage.SERVER}
    assert node.names == (pki.node_server_name(GAT.code), "127.0.0.1")
    client = pki.certificate_info(world.gat.tls(GAT.code).certificate_pem)
    assert client.usages == {pki.Usage.CLIENT}
    assert client.names == (pki.client_name(GAT.code),)
    assert client.role == "department" and node.role == "department"


def test_revoked_certificate_is_refused_within_the_refresh_interval(world, tmp_path):
    lost = Home(tmp_path / "lost-laptop")  # a second broker key, about to be reported lost
    csr = lost.request("broker", role="broker", server_names=LOOPBACK)
    lost.install(world.ca.sign(csr, rekey=True).bundle)
    victim = lost.tls("broker")
    assert echo(world.target, victim) == b"ping"
    serial = pki.certificate_info(victim.certificate_pem).serial
    world.ca.revoke(serial=f"{serial:x}", reason="key_compromise")
    world.ca.publish_to(world.gat)
    published = time.monotonic()
    while True:
        try:
            echo(world.target, victim)
        except grpc.RpcError as exc:
            code, message = exc.code(), exc.details()
            break
        assert time.monotonic() - published < world.interval + 2, "revocation not applied"
        time.sleep(0.1)
    took = time.monotonic() - published
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert f"{serial:x}" in message and "revoked" in message
    assert took <= world.interval + 1
    assert echo(world.target, world.authority.tls("broker")) == b"ping"  # others unaffected


def _served_serial(target: str, tls: TlsMaterial, tmp_path) -> int:
    (tmp_path / "ca.pem").write_bytes(tls.ca_pem)
    (tmp_path / "c.pem").write_bytes(tls.certificate_pem)
    (tmp_path / "k.pem").write_bytes(tls.private_key_pem)
    context = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    context.load_cert_chain(str(tmp_path / "c.pem"), str(tmp_path / "k.pem"))
    context.set_alpn_protocols(["h2"])
    host, port = target.rsplit(":", 1)
    with (
        socket.create_connection((host, int(port)), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=pki.node_server_name(GAT.code)) as tls_socket,
    ):
        der = tls_socket.getpeercert(binary_form=True)
    from cryptography import x509

    return x509.load_der_x509_certificate(der).serial_number


def test_renewal_is_served_without_a_restart(world, tmp_path):
    broker = world.authority.tls("broker")
    before = _served_serial(world.target, broker, tmp_path)
    with secure_channel(world.target, broker, server_name=pki.node_server_name(GAT.code)) as open_:
        assert open_.unary_unary(ECHO)(b"a", timeout=5) == b"a"
        csr = world.gat.request(GAT.code, role="department", server_names=LOOPBACK, renew=True)
        world.gat.install(world.ca.sign(csr, expect_party=GAT.code).bundle)
        after = _served_serial(world.target, broker, tmp_path)
        assert after != before  # new handshakes get the renewed certificate
        assert open_.unary_unary(ECHO)(b"b", timeout=5) == b"b"  # the open channel carries on
    assert echo(world.target, broker) == b"ping"
