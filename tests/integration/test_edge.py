"""The edge over real gRPC with mutual TLS: field limits with structured details, streams that
cannot freeze the broker, callers vetted before a stream waits, drafts kept to their department
and its reviewing authority."""

from __future__ import annotations

import threading
import time

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.integration.stack import start_stack
from tongdao.broker.kernel.settings import BrokerSettings
from tongdao.commands.catalogue import entry_from_dict
from tongdao.demo import ENTRIES, GAT, MZT, RSJ, SW
from tongdao.home import AUTHORITY, DepartmentProfile
from tongdao.proto.edge import ServerLimits
from tongdao.v1 import catalogue_pb2, directory_pb2, ledger_pb2, query_pb2, supervision_pb2

FIRST_MESSAGE_SECONDS = 3.0
LIMITS = ServerLimits(
    threads=24,
    max_streams=16,
    max_streams_per_caller=4,
    first_message_seconds=FIRST_MESSAGE_SECONDS,
)
ROGUE = DepartmentProfile("hlj.rogue", "未登记的部门", "230000", "province")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(
        tmp_path_factory.mktemp("edge"),
        settings=BrokerSettings(locale="en", server=LIMITS),
    )
    # a certificate from the authority CA, never registered in the directory
    s.ca.enrol_locally(s.home, ROGUE.code, role="department", profile=ROGUE)
    yield s
    s.stop()


def refusal(call, *args, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call(*args, timeout=10, **kwargs)
    return caught.value


def violated_field(error: grpc.RpcError) -> str:
    status = rpc_status.from_call(error)
    assert status is not None
    detail = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(detail)
    return detail.field_violations[0].field


@pytest.mark.parametrize(
    ("service", "rpc", "request_", "field"),
    [
        (
            "catalogue",
            "SearchCatalogue",
            catalogue_pb2.SearchCatalogueRequest(query="户籍\0"),
            "query",
        ),
        (
            "catalogue",
            "SearchCatalogue",
            catalogue_pb2.SearchCatalogueRequest(query="x" * 501),
            "query",
        ),
        ("ledger", "GetLedger", ledger_pb2.GetLedgerRequest(from_sequence=2**31), "from_sequence"),
        (
            "supervision",
            "ExtendDeadline",
            supervision_pb2.ExtendDeadlineRequest(id=2**63 - 1, basis="x"),
            "id",
        ),
        (
            "catalogue",
            "CreateCatalogueEntry",
            catalogue_pb2.CreateCatalogueEntryRequest(
                entry=catalogue_pb2.CatalogueEntry(code="gat.x", data_format="x" * 5_000_000)
            ),
            "entry.data_format",
        ),
        (
            "directory",
            "GetDepartment",
            directory_pb2.GetDepartmentRequest(code="hlj.gat\x07"),
            "code",
        ),
    ],
)
def test_a_value_beyond_its_limit_is_invalid_argument_naming_the_field(
    stack, service, rpc, request_, field
):
    error = refusal(getattr(getattr(stack.stub(RSJ.code), service), rpc), request_)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(f"{field}: ")
    assert violated_field(error) == field


def idle_requests(release: threading.Event):
    release.wait(60)
    return
    yield  # never reached: a stream that sends nothing


def hold_streams(stack, party: str, count: int, release: threading.Event):
    """Open ``count`` streams that send nothing; returns the threads and their final codes."""
    codes: list[grpc.StatusCode] = []
    lock = threading.Lock()

    def run():
        stub = stack.stub(party)
        try:
            for _ in stub.query.QueryStream(idle_requests(release), timeout=30):
                pass
            code = grpc.StatusCode.OK
        except grpc.RpcError as exc:
            code = exc.code()
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=run, daemon=True) for _ in range(count)]
    for t in threads:
        t.start()
    return threads, codes


def test_idle_streams_do_not_block_other_callers(stack):
    release = threading.Event()
    held = [
        hold_streams(stack, party, 6, release) for party in (RSJ.code, GAT.code, MZT.code, SW.code)
    ]
    time.sleep(1.0)
    try:
        # 24 idle streams open against a cap of 16: another caller is answered at once
        started = time.monotonic()
        stub = stack.stub(AUTHORITY)
        for _ in range(20):
            stub.directory.ListDepartments(directory_pb2.ListDepartmentsRequest(), timeout=5)
        elapsed = time.monotonic() - started
        assert elapsed < 5
        # beyond a department's cap of 4, streams are refused at once, not queued
        refused = sum(codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) for _, codes in held)
        assert refused == 24 - 16
        print(
            f"streams: {24 - refused} held open, {refused} refused; "
            f"20 ListDepartments answered meanwhile in {elapsed:.2f} s"
        )
    finally:
        for threads, _ in held:
            for t in threads:
                t.join(FIRST_MESSAGE_SECONDS + 10)
        release.set()
    # the streams that never sent their first message were cancelled at its deadline
    final = [code for _, codes in held for code in codes]
    assert len(final) == 24
    assert final.count(grpc.StatusCode.CANCELLED) == 16
    # and the slots were given back: a department can stream again
    assert stack.broker.server is not None
    stub = stack.stub(RSJ.code)
    answers = stub.query.QueryStream(iter([query_pb2.QueryStreamRequest(chunk=b"x")]), timeout=10)
    with pytest.raises(grpc.RpcError) as caught:
        list(answers)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # reached the relay


def test_an_unregistered_certificate_is_refused_before_the_stream_waits(stack):
    release = threading.Event()
    started = time.monotonic()
    try:
        calls = stack.stub(ROGUE.code).query.QueryStream(idle_requests(release), timeout=30)
        with pytest.raises(grpc.RpcError) as caught:
            list(calls)
    finally:
        release.set()
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "no registered department" in caught.value.details()
    assert time.monotonic() - started < FIRST_MESSAGE_SECONDS


def draft_of(stack, code: str) -> None:
    """hlj.gat drafts ``code`` (a copy of its published population entry), never submitted."""
    data = {**ENTRIES["gat.population"], "code": code, "name": "草稿：未公开的目录"}
    stack.stub(GAT.code).catalogue.CreateCatalogueEntry(
        catalogue_pb2.CreateCatalogueEntryRequest(entry=entry_from_dict(data)), timeout=10
    )


def listed(stack, party: str) -> set[str]:
    answer = stack.stub(party).catalogue.ListCatalogueEntries(
        catalogue_pb2.ListCatalogueEntriesRequest(), timeout=10
    )
    return {e.code for e in answer.entries}


def exported(stack, party: str) -> bytes:
    return (
        stack.stub(party)
        .catalogue.ExportCatalogue(catalogue_pb2.ExportCatalogueRequest(format="json"), timeout=10)
        .content
    )


def test_drafts_are_visible_only_to_their_department_and_its_reviewing_authority(stack):
    draft_of(stack, "gat.draft-only")
    # its department and the reviewing authority see the draft in List, Get and Export
    for party in (GAT.code, AUTHORITY):
        assert "gat.draft-only" in listed(stack, party)
        assert "草稿".encode() in exported(stack, party)
        entry = stack.stub(party).catalogue.GetCatalogueEntry(
            catalogue_pb2.GetCatalogueEntryRequest(code="gat.draft-only"), timeout=10
        )
        assert entry.status == "draft"
    # any other registered department sees neither the draft nor its contents
    for party in (RSJ.code, MZT.code):
        assert "gat.draft-only" not in listed(stack, party)
        assert "gat.population" in listed(stack, party)  # published entries stay visible
        assert "草稿".encode() not in exported(stack, party)
        error = refusal(
            stack.stub(party).catalogue.GetCatalogueEntry,
            catalogue_pb2.GetCatalogueEntryRequest(code="gat.draft-only"),
        )
        assert error.code() == grpc.StatusCode.NOT_FOUND


def test_a_revised_entry_shows_others_the_version_in_force(stack):
    revised = {**ENTRIES["gat.population"], "description": "修订中的说明：尚未公开"}
    stack.stub(GAT.code).catalogue.ReviseCatalogueEntry(
        catalogue_pb2.ReviseCatalogueEntryRequest(entry=entry_from_dict(revised)), timeout=10
    )
    mine = stack.stub(GAT.code).catalogue.GetCatalogueEntry(
        catalogue_pb2.GetCatalogueEntryRequest(code="gat.population"), timeout=10
    )
    theirs = stack.stub(RSJ.code).catalogue.GetCatalogueEntry(
        catalogue_pb2.GetCatalogueEntryRequest(code="gat.population"), timeout=10
    )
    assert "修订中" in mine.description
    assert "修订中" not in theirs.description and theirs.version >= 1
    assert "修订中".encode() not in exported(stack, RSJ.code)


def test_lists_and_exports_come_in_pages(stack):
    stub = stack.stub(AUTHORITY).catalogue
    everything = listed(stack, AUTHORITY)
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = stub.ListCatalogueEntries(
            catalogue_pb2.ListCatalogueEntriesRequest(page_size=1, page_token=token), timeout=10
        )
        seen.extend(e.code for e in page.entries)
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert seen == sorted(everything) and pages >= len(everything)
    first = stub.ExportCatalogue(
        catalogue_pb2.ExportCatalogueRequest(format="json", page_size=1), timeout=10
    )
    assert first.next_page_token and sorted(everything)[0] not in first.next_page_token
    error = refusal(
        stub.ListCatalogueEntries, catalogue_pb2.ListCatalogueEntriesRequest(page_size=501)
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and violated_field(error) == "page_size"


def english_of(error: grpc.RpcError) -> str:
    status = rpc_status.from_call(error)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert any(d.Unpack(info) for d in status.details)
    return info.metadata["message"]


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ((("tongdao-locale", "zh-CN"),), "query: 最多 500 个字符，且不含控制字符"),
        (
            (("accept-language", "zh-CN,zh;q=0.9,en;q=0.5"),),
            "query: 最多 500 个字符，且不含控制字符",
        ),
        ((("tongdao-locale", "en"),), "query: at most 500 characters without control characters"),
        ((), "query: at most 500 characters without control characters"),  # the broker's
    ],
)
def test_refusals_come_in_the_callers_language_with_the_english_kept(stack, metadata, expected):
    request = catalogue_pb2.SearchCatalogueRequest(query="x" * 501)
    stub = stack.stub(RSJ.code).catalogue
    error = refusal(stub.SearchCatalogue, request, metadata=metadata)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == expected
    assert english_of(error) == "query: at most 500 characters without control characters"
    assert violated_field(error) == "query"


def test_the_role_check_refuses_in_the_callers_language(stack):
    stub = stack.stub(ROGUE.code).catalogue
    request = catalogue_pb2.SearchCatalogueRequest(query="x")
    error = refusal(stub.SearchCatalogue, request, metadata=(("tongdao-locale", "zh-CN"),))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "对应的部门未登记" in error.details() and ROGUE.code in error.details()
    assert "names no registered department" in english_of(error)
