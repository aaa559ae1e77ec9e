"""The call interceptor over a real (insecure, loopback) gRPC server: status codes as the caller
sees them, latency, open streams, request ids, and the per-call JSON log line."""

from __future__ import annotations

import io
import json
import logging
import threading

import grpc
import pytest
from prometheus_client import CollectorRegistry

from tongdao.broker.ops.calls import REQUEST_ID_KEY, CallObservingInterceptor
from tongdao.broker.ops.logs import CALL_FIELDS, CallLog, JsonFormatter
from tongdao.broker.ops.metrics import RpcMetrics
from tongdao.proto.edge import ServerLimits
from tongdao.proto.errors import NotFound, PermissionDenied
from tongdao.proto.transport import new_server

SERVICE = "test.v1.Things"
stream_started = threading.Event()
stream_release = threading.Event()


def _get(request: bytes, context: grpc.ServicerContext) -> bytes:
    if request == b"missing":
        raise NotFound("no thing 'x'", field="code")
    if request == b"denied":
        raise PermissionDenied("not yours", articles=("Art.20",))
    if request == b"crash":
        raise RuntimeError("a bug")
    return b"thing:" + request


def _watch(request: bytes, context: grpc.ServicerContext):
    yield b"first"
    stream_started.set()
    stream_release.wait(10)
    yield b"second"


def _handlers() -> grpc.GenericRpcHandler:
    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "Get": grpc.unary_unary_rpc_method_handler(_get),
            "Watch": grpc.unary_stream_rpc_method_handler(_watch),
        },
    )


@pytest.fixture
def served():
    registry = CollectorRegistry()
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.calls")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    interceptor = CallObservingInterceptor([RpcMetrics(registry), CallLog(logger)])
    server = new_server(ServerLimits(threads=4, max_streams=2), interceptors=[interceptor])
    server.add_generic_rpc_handlers((_handlers(),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield channel, registry, out
    channel.close()
    server.stop(0)
    logger.removeHandler(handler)


def _unary(channel, name="Get"):
    return channel.unary_unary(f"/{SERVICE}/{name}")


def _count(registry, method, code):
    value = registry.get_sample_value(
        "tongdao_rpc_calls_total", {"service": SERVICE, "method": method, "code": code}
    )
    return value or 0.0


def test_each_call_is_counted_with_the_code_the_caller_got(served):
    channel, registry, _ = served
    assert _unary(channel)(b"a", timeout=5) == b"thing:a"
    for request, code in [
        (b"missing", "NOT_FOUND"),
        (b"denied", "PERMISSION_DENIED"),
        (b"crash", "INTERNAL"),
    ]:
        with pytest.raises(grpc.RpcError) as err:
            _unary(channel)(request, timeout=5)
        assert err.value.code().name == code
    assert _count(registry, "Get", "OK") == 1
    assert _count(registry, "Get", "NOT_FOUND") == 1
    assert _count(registry, "Get", "PERMISSION_DENIED") == 1
    assert _count(registry, "Get", "INTERNAL") == 1
    observed = registry.get_sample_value(
        "tongdao_rpc_duration_seconds_count", {"service": SERVICE, "method": "Get"}
    )
    assert observed == 4


def test_open_streams_rise_while_a_stream_runs_and_fall_after(served):
    channel, registry, _ = served
    stream_started.clear()
    stream_release.clear()
    labels = {"service": SERVICE, "method": "Watch"}
    call = channel.unary_stream(f"/{SERVICE}/Watch")(b"", timeout=10)
    assert next(call) == b"first"
    assert stream_started.wait(5)
    assert registry.get_sample_value("tongdao_rpc_open_streams", labels) == 1
    stream_release.set()
    assert list(call) == [b"second"]
    for _ in range(50):  # the server finishes the generator just after the last message
        if registry.get_sample_value("tongdao_rpc_open_streams", labels) == 0:
            break
        threading.Event().wait(0.02)
    assert registry.get_sample_value("tongdao_rpc_open_streams", labels) == 0
    assert _count(registry, "Watch", "OK") == 1


def test_one_json_line_per_call_with_only_the_call_fields(served):
    channel, _, out = served
    _unary(channel)(b"secret-value-123", timeout=5, metadata=((REQUEST_ID_KEY, "req-42"),))
    with pytest.raises(grpc.RpcError):
        _unary(channel)(b"missing", timeout=5, metadata=((REQUEST_ID_KEY, "not a valid {id}"),))
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 2
    for line in lines:
        assert set(line) == {"time", "level", "logger", "message", *CALL_FIELDS}
        assert line["message"] == "call" and line["service"] == SERVICE
        assert line["method"] == "Get" and line["caller"] == "-"
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert lines[0]["request_id"] == "req-42" and lines[0]["code"] == "OK"
    # a malformed request id is not logged: a fresh one replaces it
    assert lines[1]["request_id"] != "not a valid {id}" and len(lines[1]["request_id"]) == 32
    assert lines[1]["code"] == "NOT_FOUND"
    assert "secret-value-123" not in out.getvalue()


def test_the_request_id_comes_back_in_the_trailing_metadata(served):
    channel, _, _ = served
    _, call = _unary(channel).with_call(b"a", timeout=5, metadata=((REQUEST_ID_KEY, "abc.1"),))
    assert (REQUEST_ID_KEY, "abc.1") in tuple(call.trailing_metadata())
    with pytest.raises(grpc.RpcError) as err:
        _unary(channel)(b"missing", timeout=5)
    ids = [v for k, v in err.value.trailing_metadata() if k == REQUEST_ID_KEY]
    assert len(ids) == 1 and len(ids[0]) == 32
