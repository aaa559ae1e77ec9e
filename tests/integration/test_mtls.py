"""Mutual TLS at the handshake: health and reflection answer only to certified clients."""

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tongdao.home import DepartmentProfile, Home
from tongdao.proto.edge import ServerLimits
from tongdao.proto.transport import (
    TlsMaterial,
    add_health_and_reflection,
    new_server,
    secure_channel,
    server_credentials,
)


@pytest.fixture(scope="module")
def homes(tmp_path_factory):
    home = Home(tmp_path_factory.mktemp("home"))
    home.create_authority()
    home.add_department(DepartmentProfile("hlj.gat", "公安厅", "230000", "province"))
    rogue = Home(tmp_path_factory.mktemp("rogue"))
    rogue.create_authority()
    rogue.add_department(DepartmentProfile("hlj.gat", "假公安厅", "230000", "province"))
    return home, rogue


@pytest.fixture(scope="module")
def server(homes):
    home, _ = homes
    srv = new_server(ServerLimits(threads=2, max_streams=1))
    add_health_and_reflection(srv, ["tongdao.v1.Node"])
    port = srv.add_secure_port("127.0.0.1:0", server_credentials(home.tls("hlj.gat")))
    srv.start()
    yield f"127.0.0.1:{port}"
    srv.stop(0)


def check(target, tls):
    with secure_channel(target, tls) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        return stub.Check(health_pb2.HealthCheckRequest(service="tongdao.v1.Node"), timeout=5)


def test_certified_client_sees_serving(homes, server):
    home, _ = homes
    assert check(server, home.tls("broker")).status == health_pb2.HealthCheckResponse.SERVING


def test_client_from_another_ca_is_refused_at_handshake(homes, server):
    home, rogue = homes
    rogue_tls = rogue.tls("broker")
    # trusts our CA (so the server cert verifies) but presents a certificate from another CA
    tls = TlsMaterial(
        home.tls("broker").ca_pem, rogue_tls.certificate_pem, rogue_tls.private_key_pem
    )
    with pytest.raises(grpc.RpcError) as err:
        check(server, tls)
    assert err.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAUTHENTICATED)


def test_client_without_certificate_is_refused_at_handshake(homes, server):
    home, _ = homes
    creds = grpc.ssl_channel_credentials(root_certificates=home.tls("broker").ca_pem)
    with grpc.secure_channel(server, creds) as channel, pytest.raises(grpc.RpcError) as err:
        health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert err.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAUTHENTICATED)


def test_server_from_another_ca_is_not_trusted(homes, server):
    _, rogue = homes
    with pytest.raises(grpc.RpcError) as err:
        check(server, rogue.tls("broker"))
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
