"""The edge's table of limits covers every field of every RPC's request, and its checks,
token buckets and stream caps behave as documented."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

import tongdao.v1
from tongdao.proto.edge import RateLimit, StreamSlots, TokenBuckets, check_message
from tongdao.proto.errors import InvalidArgument, ResourceExhausted
from tongdao.proto.limits import LIMITS, PACKAGE_PREFIX, Many
from tongdao.v1 import (
    catalogue_pb2,
    directory_pb2,
    ledger_pb2,
    query_pb2,
    sharing_pb2,
    supervision_pb2,
)

# every generated module of the contract, so a new service cannot be missed
MODULES = tuple(
    importlib.import_module(f"tongdao.v1.{info.name}")
    for info in pkgutil.iter_modules(tongdao.v1.__path__)
    if info.name.endswith("_pb2")
)
NEEDS_A_ROW = {
    FieldDescriptor.TYPE_STRING,
    FieldDescriptor.TYPE_BYTES,
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_DOUBLE,
    FieldDescriptor.TYPE_FLOAT,
}


def request_types() -> list[Descriptor]:
    out = [
        health_pb2.HealthCheckRequest.DESCRIPTOR,
        reflection_pb2.ServerReflectionRequest.DESCRIPTOR,
    ]
    for module in MODULES:
        for service in module.DESCRIPTOR.services_by_name.values():
            out.extend(method.input_type for method in service.methods)
    return out


def reachable(descriptors: list[Descriptor]) -> dict[str, Descriptor]:
    seen: dict[str, Descriptor] = {}
    todo = list(descriptors)
    while todo:
        d = todo.pop()
        if d.full_name in seen:
            continue
        seen[d.full_name] = d
        todo.extend(f.message_type for f in d.fields if f.message_type is not None)
    return seen


def row_name(descriptor: Descriptor) -> str:
    return descriptor.full_name.removeprefix(PACKAGE_PREFIX)


def test_every_rpc_request_has_a_limit_for_every_string_bytes_number_and_repeated_field():
    missing = []
    for descriptor in reachable(request_types()).values():
        rows = LIMITS.get(row_name(descriptor), {})
        for f in descriptor.fields:
            row = rows.get(f.name)
            if f.is_repeated and not isinstance(row, Many):
                missing.append(f"{descriptor.full_name}.{f.name} (repeated: needs Many)")
            elif f.is_repeated and f.type in NEEDS_A_ROW and row.each is None:
                missing.append(f"{descriptor.full_name}.{f.name} (each item needs a limit)")
            elif not f.is_repeated and f.type in NEEDS_A_ROW and row is None:
                missing.append(f"{descriptor.full_name}.{f.name}")
    assert missing == []


def test_the_table_names_only_fields_that_exist():
    known = {row_name(d): {f.name for f in d.fields} for d in reachable(request_types()).values()}
    stale = [
        f"{message}.{name}"
        for message, rows in LIMITS.items()
        for name in rows
        if name not in known.get(message, set())
    ]
    assert stale == []


@pytest.mark.parametrize(
    ("message", "field", "words"),
    [
        (catalogue_pb2.SearchCatalogueRequest(query="a\0b"), "query", "control characters"),
        (catalogue_pb2.SearchCatalogueRequest(query="a\x1bb"), "query", "control characters"),
        (catalogue_pb2.SearchCatalogueRequest(limit=201), "limit", "between 0 and 200"),
        (ledger_pb2.GetLedgerRequest(from_sequence=2**31), "from_sequence", "between 0 and"),
        (ledger_pb2.GetLedgerRequest(from_sequence=-1), "from_sequence", "between 0 and"),
        (supervision_pb2.ExtendDeadlineRequest(id=2**63 - 1), "id", "between 0 and"),
        (
            catalogue_pb2.CreateCatalogueEntryRequest(
                entry=catalogue_pb2.CatalogueEntry(
                    data_items=[
                        catalogue_pb2.DataItem(name="ok"),
                        catalogue_pb2.DataItem(name="x\0"),
                    ]
                )
            ),
            "entry.data_items[1].name",
            "control characters",
        ),
        (
            catalogue_pb2.CreateCatalogueEntryRequest(
                entry=catalogue_pb2.CatalogueEntry(tags=["t"] * 51)
            ),
            "entry.tags",
            "at most 50 items",
        ),
        (
            sharing_pb2.FileShareRequestRequest(
                request=sharing_pb2.ShareRequest(dp_epsilon=float("nan"))
            ),
            "request.dp_epsilon",
            "finite",
        ),
        (query_pb2.QueryRequest(method=99), "method", "is not a"),
        (directory_pb2.GetDepartmentRequest(code="x" * 65), "code", "at most 64 characters"),
    ],
)
def test_a_value_beyond_its_limit_names_the_field_and_the_limit(message, field, words):
    with pytest.raises(InvalidArgument) as caught:
        check_message(message)
    assert caught.value.field == field
    assert words in caught.value.message


def test_values_within_their_limits_pass():
    check_message(
        catalogue_pb2.CreateCatalogueEntryRequest(
            entry=catalogue_pb2.CatalogueEntry(
                code="gat.population",
                description="第一行\n第二行\t（制表）",
                data_items=[catalogue_pb2.DataItem(name="id_number")],
                share_scope_regions=["230000"],
            )
        )
    )
    check_message(ledger_pb2.GetLedgerRequest(from_sequence=2**31 - 1, limit=10))


def test_a_token_bucket_refills_at_its_rate():
    now = [0.0]
    buckets = TokenBuckets(RateLimit(per_second=2.0, burst=3), clock=lambda: now[0])
    assert [buckets.take("hlj.gat") for _ in range(4)] == [True, True, True, False]
    assert buckets.take("hrb.rsj")  # another department has its own bucket
    now[0] = 0.5  # one token back
    assert buckets.take("hlj.gat") and not buckets.take("hlj.gat")
    now[0] = 100.0  # never more than the burst
    assert sum(buckets.take("hlj.gat") for _ in range(10)) == 3


def test_stream_slots_cap_each_caller_and_the_total():
    slots = StreamSlots(total=3, per_caller=2)
    slots.acquire("a")
    slots.acquire("a")
    with pytest.raises(ResourceExhausted, match="one caller"):
        slots.acquire("a")
    slots.acquire("b")
    with pytest.raises(ResourceExhausted, match="this server holds"):
        slots.acquire("c")
    slots.release("a")
    slots.acquire("c")
    assert slots.open_streams() == 3
