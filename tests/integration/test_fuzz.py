"""Fuzzing every RPC of every service over real gRPC with mutual TLS, on SQLite and PostgreSQL.

Messages are generated from the descriptors by a seeded generator: random strings (NUL, control
characters, other scripts, huge), integers at and beyond the store's range (2**31, 2**63-1),
undefined enum values, long repeated fields, random bytes, and raw bytes that are not protobuf
at all. No call may answer INTERNAL or UNKNOWN, none may hang past its deadline, and both the
broker and the node answer health checks afterwards.

About 40 seconds per database by default; ``TONGDAO_FUZZ_SECONDS`` runs longer,
``TONGDAO_FUZZ_SEED`` replays a failure (the seed is printed in every failure message).
"""

from __future__ import annotations

import collections
import os
import random
import time
import uuid
from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message_factory import GetMessageClass
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.integration.stack import start_stack
from tongdao.demo import GAT, RSJ
from tongdao.home import AUTHORITY
from tongdao.proto.stubs import BROKER_SERVICES
from tongdao.proto.transport import public_channel, secure_channel
from tongdao.v1 import (
    catalogue_pb2,
    catalogue_pb2_grpc,
    node_pb2,
)

SECONDS = float(os.environ.get("TONGDAO_FUZZ_SECONDS", "40"))
SEED = int(os.environ.get("TONGDAO_FUZZ_SEED", str(random.SystemRandom().randrange(2**32))))
DEADLINE = 15.0
FORBIDDEN = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DEADLINE_EXCEEDED}
SAMPLES = (
    "hlj.gat",
    "hrb.rsj",
    "authority",
    "gat.population",
    "230000",
    "id_number",
    "csv",
    "json",
    "xlsx",
    "draft",
    "provider",
    "consumer",
    "2026-01-05",
)
INT32 = (0, 1, -1, 2**31 - 1, -(2**31), 7)
INT64 = (*INT32, 2**31, 2**32, 2**63 - 1, -(2**63), 2**53 + 1)
UINT = (0, 1, 2**32 - 1)
REALS = (0.0, -0.0, 1.0, -1.0, 1e308, float("nan"), float("inf"), float("-inf"), 2.5)


class Fuzzer:
    """Random messages of any type, from its descriptor."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def text(self) -> str:
        r, pick = self.rng, self.rng.random()
        if pick < 0.25:
            return r.choice(SAMPLES)
        if pick < 0.35:
            return str(uuid.UUID(int=r.getrandbits(128)))
        if pick < 0.5:
            return "".join(chr(r.choice((0, 1, 7, 8, 10, 13, 27, 127, 0x85))) for _ in range(5))
        if pick < 0.6:
            return r.choice(SAMPLES) + "\0"
        if pick < 0.68:
            return "x" * r.choice((65, 201, 501, 2001, 40_000, 200_000))
        if pick < 0.8:
            return "".join(chr(r.randrange(0x4E00, 0x9FFF)) for _ in range(r.randrange(1, 30)))
        return "".join(chr(r.randrange(32, 0xD7FF)) for _ in range(r.randrange(0, 40)))

    def blob(self) -> bytes:
        size = self.rng.choice((0, 1, 31, 32, 33, 64, 100, 5000, 100_000))
        return self.rng.randbytes(size)

    def scalar(self, fd: FieldDescriptor) -> object:
        r, t = self.rng, fd.type
        if t == FieldDescriptor.TYPE_STRING:
            return self.text()
        if t == FieldDescriptor.TYPE_BYTES:
            return self.blob()
        if t == FieldDescriptor.TYPE_BOOL:
            return r.random() < 0.5
        if t == FieldDescriptor.TYPE_ENUM:
            return r.choice([*fd.enum_type.values_by_number, -1, 99, 2**31 - 1])
        if t in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64):
            return r.choice(INT64)
        if t in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32):
            return r.choice(INT32)
        if t in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_UINT64):
            return r.choice(UINT)
        if t in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
            return r.choice(REALS)
        raise AssertionError(f"no generator for field type {t}")

    def message(self, descriptor: Descriptor, depth: int = 0):  # type: ignore[no-untyped-def]
        message = GetMessageClass(descriptor)()
        for fd in descriptor.fields:
            if self.rng.random() < 0.35:
                continue
            if fd.is_repeated:
                count = self.rng.choice((1, 2, 3, 17, 250))
                target = getattr(message, fd.name)
                for _ in range(count):
                    if fd.type == FieldDescriptor.TYPE_MESSAGE:
                        if depth < 3:
                            target.add().CopyFrom(self.message(fd.message_type, depth + 1))
                    else:
                        target.append(self.scalar(fd))
            elif fd.type == FieldDescriptor.TYPE_MESSAGE:
                if depth < 3:
                    getattr(message, fd.name).CopyFrom(self.message(fd.message_type, depth + 1))
            else:
                setattr(message, fd.name, self.scalar(fd))
        return message

    def request_bytes(self, method: MethodDescriptor) -> bytes:
        if self.rng.random() < 0.1:  # not protobuf at all (or a truncated message)
            raw = self.message(method.input_type).SerializeToString()
            return self.rng.choice((self.rng.randbytes(40), b"\xff\xff\xff\xff\x0f", raw[:-1]))
        return self.message(method.input_type).SerializeToString()


def methods(modules, public: bool = False) -> list[MethodDescriptor]:  # type: ignore[no-untyped-def]
    """Every method of the services in ``modules``: the open catalogue's alone (public) or all
    the others."""
    return [
        method
        for module in modules
        for service in module.DESCRIPTOR.services_by_name.values()
        if (service.name == "PublicCatalogue") == public
        for method in service.methods
    ]


def served_methods() -> list[MethodDescriptor]:
    """Every method of every service the broker serves on its mutual-TLS listener (a service
    added to the broker is fuzzed without touching this file)."""
    pool = descriptor_pool.Default()
    return [m for name in BROKER_SERVICES for m in pool.FindServiceByName(name).methods]


def call(channel: grpc.Channel, method: MethodDescriptor, fuzz: Fuzzer) -> grpc.StatusCode:
    path = f"/{method.containing_service.full_name}/{method.name}"
    try:
        if method.client_streaming:
            parts = [fuzz.request_bytes(method) for _ in range(fuzz.rng.choice((0, 1, 2, 5)))]
            list(channel.stream_stream(path)(iter(parts), timeout=DEADLINE))
        elif method.server_streaming:
            list(channel.unary_stream(path)(fuzz.request_bytes(method), timeout=DEADLINE))
        else:
            channel.unary_unary(path)(fuzz.request_bytes(method), timeout=DEADLINE)
    except grpc.RpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


def alive(channel: grpc.Channel) -> bool:
    answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    return answer.status == health_pb2.HealthCheckResponse.SERVING


def rounds(targets: list[tuple[grpc.Channel, list[MethodDescriptor]]]) -> Iterator[tuple]:
    while True:
        for channel, rpcs in targets:
            for method in rpcs:
                yield channel, method


@pytest.fixture
def stack(database_url, tmp_path):
    s = start_stack(tmp_path, database_url=database_url, public=True)
    yield s
    s.stop()


def test_no_input_answers_internal_unknown_or_hangs(stack, database_url):
    fuzz = Fuzzer(SEED)
    broker_methods = served_methods()
    assert {m.containing_service.name for m in broker_methods} >= {"Accounts", "Disputes"}
    channels = [
        secure_channel(stack.broker.target, stack.home.tls(p))
        for p in (RSJ.code, GAT.code, AUTHORITY)
    ]
    node = secure_channel(stack.nodes[GAT.code].target, stack.home.tls("broker"))
    public = public_channel(
        f"127.0.0.1:{stack.broker.public_port}", stack.home.tls(RSJ.code).ca_pem
    )
    targets = [
        *((c, broker_methods) for c in channels),
        (node, methods((node_pb2,))),
        (public, methods((catalogue_pb2,), public=True)),
    ]
    seen: collections.Counter[str] = collections.Counter()
    bad: list[str] = []
    stop_at = time.monotonic() + SECONDS
    calls = 0
    try:
        for channel, method in rounds(targets):
            if time.monotonic() > stop_at:
                break
            started = time.monotonic()
            code = call(channel, method, fuzz)
            calls += 1
            seen[code.name] += 1
            if code in FORBIDDEN or time.monotonic() - started > DEADLINE:
                bad.append(f"{method.full_name}: {code.name}")
        assert alive(channels[0]) and alive(node), f"a server died (seed {SEED})"
        # the public listener has no health service: it must still answer the open catalogue
        catalogue_pb2_grpc.PublicCatalogueStub(public).GetOpenCatalogue(
            catalogue_pb2.GetOpenCatalogueRequest(), timeout=5
        )
    finally:
        for c in (*channels, node, public):
            c.close()
    print(f"fuzz seed {SEED}: {calls} calls on {database_url.split(':')[0]}, statuses {dict(seen)}")
    assert bad == [], f"seed {SEED} (TONGDAO_FUZZ_SEED={SEED} replays): {bad[:20]}"
    assert calls >= 2 * len(broker_methods)
