"""The gRPC edge every Tongdao server shares: what reaches the log when a handler fails."""

from __future__ import annotations

import logging

import grpc
import pytest

from tongdao.proto.edge import ServerLimits
from tongdao.proto.transport import bind, new_server

SECRET = "110101199003078888"


def test_an_internal_error_logs_its_type_and_place_never_its_message(caplog):
    def fails(request: bytes, context: grpc.ServicerContext) -> bytes:
        raise ValueError(f"invalid literal for int() with base 10: {SECRET!r}")

    server = new_server(ServerLimits(threads=2, max_streams=1))
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "t.Edge", {"Fail": grpc.unary_unary_rpc_method_handler(fails)}
            ),
        )
    )
    port = bind(server, "127.0.0.1:0", grpc.local_server_credentials())
    server.start()
    caplog.set_level(logging.INFO)
    try:
        channel = grpc.secure_channel(f"127.0.0.1:{port}", grpc.local_channel_credentials())
        with pytest.raises(grpc.RpcError) as err:
            channel.unary_unary("/t.Edge/Fail")(b"", timeout=10)
        channel.close()
    finally:
        server.stop(None)
    assert err.value.code() == grpc.StatusCode.INTERNAL and SECRET not in err.value.details()
    lines = [r for r in caplog.records if r.name == "tongdao.grpc"]
    assert len(lines) == 1 and "ValueError" in lines[0].getMessage()
    assert "test_transport_edges.py" in lines[0].getMessage()  # where it was raised
    assert all(SECRET not in r.getMessage() and r.exc_info is None for r in caplog.records)
