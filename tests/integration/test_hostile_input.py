"""Valid messages with hostile values, and bytes that are no message at all, over real gRPC.

Each answer is INVALID_ARGUMENT naming the field (never INTERNAL), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging

import grpc
import pytest

from tests.integration.stack import start_stack
from tongdao.commands.catalogue import entry_from_dict
from tongdao.demo import ENTRIES
from tongdao.home import AUTHORITY
from tongdao.v1 import broker_pb2

GAT = "hlj.gat"


@pytest.fixture
def stack(tmp_path, database_url):
    s = start_stack(tmp_path, database_url=database_url, records=12)
    yield s
    s.stop()


def refused(call, request, field):
    with pytest.raises(grpc.RpcError) as err:
        call(request, timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
    assert err.value.details().startswith(f"{field}:"), err.value.details()
    return err.value.details()


@pytest.mark.parametrize("bad", ["\x00", "\x01", "\x1b", "\x7f"])
def test_nul_and_control_characters_are_refused_naming_the_field(stack, bad):
    gat, authority = stack.stub(GAT), stack.stub(AUTHORITY)
    refused(gat.SearchCatalogue, broker_pb2.SearchCatalogueRequest(query=f"户籍{bad}"), "query")
    refused(gat.MatchCatalogue, broker_pb2.MatchCatalogueRequest(need=f"核查{bad}"), "need")
    need = broker_pb2.ServiceRequest(
        kind="data_need",
        provider="hlj.mzt",
        subject=f"婚姻{bad}登记",
        data_items=["id_number"],
        scenario="就业补贴发放",
        legal_basis="《就业促进法》第十五条",
    )
    refused(
        stack.stub("hrb.rsj").FileServiceRequest,
        broker_pb2.FileServiceRequestRequest(request=need),
        "subject",
    )
    department = broker_pb2.Department(
        code="hlj.new",
        name=f"新{bad}部门",
        region="230000",
        level="province",
        encryption_public_key=b"\x01" * 32,
        signing_public_key=b"\x02" * 32,
    )
    refused(
        authority.RegisterDepartment,
        broker_pb2.RegisterDepartmentRequest(department=department),
        "department.name",
    )
    entry = entry_from_dict({**ENTRIES["gat.population"], "code": "gat.nul", "name": f"条目{bad}"})
    refused(
        gat.CreateCatalogueEntry, broker_pb2.CreateCatalogueEntryRequest(entry=entry), "entry.name"
    )
    # the store is unharmed: the same calls with clean text answer
    gat.SearchCatalogue(broker_pb2.SearchCatalogueRequest(query="户籍"), timeout=10)


@pytest.mark.parametrize("value", [2**31, 2**63 - 1, -1])
def test_identifiers_beyond_the_store_range_are_refused(stack, value):
    authority = stack.stub(AUTHORITY)
    if value >= 0:
        text = refused(
            authority.GetLedger, broker_pb2.GetLedgerRequest(from_sequence=value), "from_sequence"
        )
        assert "2147483647" in text
    refused(authority.ExtendDeadline, broker_pb2.ExtendDeadlineRequest(id=value, basis="x"), "id")
    authority.GetLedger(broker_pb2.GetLedgerRequest(from_sequence=2**31 - 1), timeout=10)


def test_undecodable_messages_are_invalid_argument_with_one_log_line(stack, caplog):
    channel = grpc.secure_channel(
        stack.broker.target,
        grpc.ssl_channel_credentials(
            stack.home.tls(GAT).ca_pem,
            stack.home.tls(GAT).private_key_pem,
            stack.home.tls(GAT).certificate_pem,
        ),
    )
    garbage = b"\xff\xff\xff\xff\x0f"  # a field with an over-long varint: no valid message
    unary = channel.unary_unary("/tongdao.v1.Broker/SearchCatalogue")
    streaming = channel.unary_stream("/tongdao.v1.Broker/ImportCatalogue")
    both = channel.stream_stream("/tongdao.v1.Broker/QueryStream")
    caplog.set_level(logging.WARNING, logger="tongdao.grpc")
    for _ in range(20):
        for call in (
            lambda: unary(garbage, timeout=10),
            lambda: list(streaming(garbage, timeout=10)),
            lambda: list(both(iter([garbage]), timeout=10)),
        ):
            with pytest.raises(grpc.RpcError) as err:
                call()
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
            assert "not a valid protobuf message" in err.value.details()
    channel.close()
    notes = [r for r in caplog.records if r.name.startswith("tongdao.grpc")]
    assert len(notes) == 1, [r.getMessage() for r in notes]
    assert "undecodable request" in notes[0].getMessage()
    assert all(r.exc_info is None for r in caplog.records)
    assert not [r for r in caplog.records if "Traceback" in r.getMessage()]
