"""Valid messages with hostile values, and bytes that are no message at all, over real gRPC.

Each answer is INVALID_ARGUMENT naming the field (never INTERNAL), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid

import grpc
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_URL, postgres_unavailable_reason
from tests.integration.stack import start_stack
from tongdao.commands.catalogue import entry_from_dict
from tongdao.demo import ENTRIES
from tongdao.home import AUTHORITY
from tongdao.v1 import catalogue_pb2, directory_pb2, ledger_pb2, sharing_pb2, supervision_pb2

GAT = "hlj.gat"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def stack(request, tmp_path_factory):
    """One stack per store for the whole module (the calls here change nothing they share)."""
    tmp = tmp_path_factory.mktemp(f"hostile-{request.param}")
    url, schema = None, None
    if request.param == "postgresql":
        reason = postgres_unavailable_reason()
        if reason:
            pytest.skip(reason)
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    s = start_stack(tmp, database_url=url, records=12)
    yield s
    s.stop()
    if schema is not None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def refused(call, request, field):
    with pytest.raises(grpc.RpcError) as err:
        call(request, timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
    # the edge names the field by its path in the request (``request.subject``)
    path = err.value.details().split(": ", 1)[0]
    assert path == field or path.endswith(f".{field}"), err.value.details()
    return err.value.details()


@pytest.mark.parametrize("bad", ["\x00", "\x01", "\x1b", "\x7f"])
def test_nul_and_control_characters_are_refused_naming_the_field(stack, bad):
    gat, authority = stack.stub(GAT), stack.stub(AUTHORITY)
    refused(
        gat.catalogue.SearchCatalogue,
        catalogue_pb2.SearchCatalogueRequest(query=f"户籍{bad}"),
        "query",
    )
    refused(
        gat.catalogue.MatchCatalogue, catalogue_pb2.MatchCatalogueRequest(need=f"核查{bad}"), "need"
    )
    need = sharing_pb2.ServiceRequest(
        kind="data_need",
        provider="hlj.mzt",
        subject=f"婚姻{bad}登记",
        data_items=["id_number"],
        scenario="就业补贴发放",
        legal_basis="《就业促进法》第十五条",
    )
    refused(
        stack.stub("hrb.rsj").sharing.FileServiceRequest,
        sharing_pb2.FileServiceRequestRequest(request=need),
        "subject",
    )
    department = directory_pb2.Department(
        code="hlj.new",
        name=f"新{bad}部门",
        region="230000",
        level="province",
        encryption_public_key=b"\x01" * 32,
        signing_public_key=b"\x02" * 32,
    )
    refused(
        authority.directory.RegisterDepartment,
        directory_pb2.RegisterDepartmentRequest(department=department),
        "department.name",
    )
    entry = entry_from_dict({**ENTRIES["gat.population"], "code": "gat.nul", "name": f"条目{bad}"})
    refused(
        gat.catalogue.CreateCatalogueEntry,
        catalogue_pb2.CreateCatalogueEntryRequest(entry=entry),
        "entry.name",
    )
    # the store is unharmed: the same calls with clean text answer
    gat.catalogue.SearchCatalogue(catalogue_pb2.SearchCatalogueRequest(query="户籍"), timeout=10)


@pytest.mark.parametrize("value", [2**31, 2**63 - 1, -1])
def test_identifiers_beyond_the_store_range_are_refused(stack, value):
    authority = stack.stub(AUTHORITY)
    if value >= 0:
        text = refused(
            authority.ledger.GetLedger,
            ledger_pb2.GetLedgerRequest(from_sequence=value),
            "from_sequence",
        )
        assert "2147483647" in text
    refused(
        authority.supervision.ExtendDeadline,
        supervision_pb2.ExtendDeadlineRequest(id=value, basis="x"),
        "id",
    )
    authority.ledger.GetLedger(ledger_pb2.GetLedgerRequest(from_sequence=2**31 - 1), timeout=10)


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
    unary = channel.unary_unary("/tongdao.v1.Catalogue/SearchCatalogue")
    streaming = channel.unary_stream("/tongdao.v1.Catalogue/ImportCatalogue")
    both = channel.stream_stream("/tongdao.v1.Query/QueryStream")
    query = channel.unary_unary("/tongdao.v1.Query/Query")  # decoded in its turn
    caplog.set_level(logging.WARNING, logger="tongdao.grpc")
    for _ in range(20):
        for call in (
            lambda: unary(garbage, timeout=10),
            lambda: query(garbage, timeout=10),
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


def _import(stub, content: bytes, fmt: str, timeout: float) -> list:
    request = catalogue_pb2.ImportCatalogueRequest(format=fmt, content=content)
    return list(stub.catalogue.ImportCatalogue(request, timeout=timeout))


def test_a_workbook_claiming_the_largest_sheet_is_answered_at_once(stack):
    from tests.unit.test_catalogue_files import _header_row, _inline, _xlsx

    body = (
        '<dimension ref="A1:XFD1048576"/><sheetData>'
        + _header_row()
        + '<row r="1048576">'
        + _inline("XFD1048576", "x")
        + "</row></sheetData>"
    )
    began = time.monotonic()
    updates = _import(stack.stub(GAT), _xlsx(body), "xlsx", timeout=30)
    assert time.monotonic() - began < 10
    assert updates[-1].done and updates[-1].imported == 0
    assert [(p.line, p.problem) for p in updates[-1].problems] == [
        (1_000_001, "more than 1000000 rows: reading stopped here")
    ]


@pytest.mark.parametrize(
    ("content", "fmt"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "json"),
        (b"PK\x03\x04truncated", "xlsx"),
        (b"code,item_name\n" + b"x" * 131_073 + b",k\n", "csv"),
        (b"code,item_name\ngat.a,k\x00\n", "csv"),
    ],
)
def test_hostile_files_are_problem_reports(stack, content, fmt):
    updates = _import(stack.stub(GAT), content, fmt, timeout=30)
    assert updates[-1].done and updates[-1].imported == 0 and updates[-1].problems


def test_a_large_import_holds_no_lock_and_stops_at_the_callers_deadline(stack):
    rows = "".join(
        f"gat.bulk{n},条目{n},说明,k,unconditional,k,string,general\n" for n in range(200_000)
    )
    content = (
        "code,name,description,key_field,share_type,item_name,item_type,item_sensitivity\n" + rows
    ).encode()
    outcome: dict[str, object] = {}

    def importing() -> None:
        try:
            _import(stack.stub(GAT), content, "csv", timeout=2.5)
        except grpc.RpcError as exc:
            outcome["code"] = exc.code()
        outcome["ended"] = time.monotonic()

    worker = threading.Thread(target=importing)
    worker.start()
    time.sleep(1.0)  # the file is being read now
    began = time.monotonic()
    entry = entry_from_dict({**ENTRIES["mzt.marriage"], "code": "mzt.during-import"})
    stack.stub("hlj.mzt").catalogue.CreateCatalogueEntry(
        catalogue_pb2.CreateCatalogueEntryRequest(entry=entry), timeout=10
    )
    written = time.monotonic()
    worker.join(30)
    assert outcome.get("code") == grpc.StatusCode.DEADLINE_EXCEEDED
    # another department's write did not wait for the file: it was done while the import still
    # ran (a write queued behind the import would end after it)
    assert written < outcome["ended"], (written - began, outcome["ended"] - began)
    # the broker stopped reading soon after the deadline: no import thread is left behind
    for _ in range(50):
        if not [t for t in threading.enumerate() if t.name == "catalogue-import"]:
            break
        time.sleep(0.1)
    assert not [t for t in threading.enumerate() if t.name == "catalogue-import"]
    with pytest.raises(grpc.RpcError) as err:
        stack.stub(GAT).catalogue.GetCatalogueEntry(
            catalogue_pb2.GetCatalogueEntryRequest(code="gat.bulk1"), timeout=10
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
