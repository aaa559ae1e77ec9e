"""Every list and export in pages, over real gRPC with mutual TLS: more rows than one page, each
row seen exactly once in a stable order, tokens that are opaque and refused when changed or
taken to another list, the rule file's maximum enforced; the ledger export in pages is still one
verifiable export."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import grpc
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_URL, postgres_unavailable_reason
from tests.integration.stack import BASIS, PURPOSE, SCENARIO, start_stack
from tests.integration.test_edge import refusal, violated_field
from tongdao.broker.kernel.settings import BrokerSettings
from tongdao.broker.ledger.export import read_export
from tongdao.cli import main
from tongdao.commands.catalogue import entry_from_dict
from tongdao.demo import ENTRIES, GAT, RSJ
from tongdao.home import AUTHORITY
from tongdao.policies.loader import RULES_DIR
from tongdao.v1 import (
    catalogue_pb2,
    directory_pb2,
    ledger_pb2,
    sharing_pb2,
    supervision_pb2,
)

LIST_MAX = 3
LEDGER_MAX = 7
PAGE_LIMITS = {
    "list_page_size": 2,
    "list_page_max": LIST_MAX,
    "export_page_size": 2,
    "export_page_max": LIST_MAX,
    "ledger_page_size": 5,
    "ledger_page_max": LEDGER_MAX,
}


def small_pages(folder: Path) -> Path:
    """The bundled rule file with small pages (so a few rows fill several)."""
    text = (RULES_DIR / "heilongjiang-2025.toml").read_text(encoding="utf-8")
    for name, value in PAGE_LIMITS.items():
        text, found = re.subn(rf"(?m)^{name} = \d+$", f"{name} = {value}", text)
        assert found == 1, name
    path = folder / "small-pages.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def store(request):
    """SQLite (None: the stack's own file) or a private schema on PostgreSQL."""
    if request.param == "sqlite":
        yield None
        return
    reason = postgres_unavailable_reason()
    if reason:
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, store):
    folder = tmp_path_factory.mktemp("paging")
    s = start_stack(
        folder,
        store,
        settings=BrokerSettings(locale="en"),
        policy=str(small_pages(folder)),
        records=20,
    )
    # more share requests than one page: RSJ asks for each published entry
    with s.consumer(RSJ.code) as client:
        for code, data in ENTRIES.items():
            if data["provider"] in s.nodes or code == "gat.case-records":
                item = data["data_items"][-1]["name"]
                client.file_share_request(code, [item], ["verify"], PURPOSE, SCENARIO, BASIS)
    # more data needs than one page (each opens a review clock: more deadlines than one page)
    for n in range(4):
        s.stub(RSJ.code).sharing.FileServiceRequest(
            sharing_pb2.FileServiceRequestRequest(
                request=sharing_pb2.ServiceRequest(
                    kind="data_need",
                    provider=GAT.code,
                    subject=f"流动人口居住登记信息 {n}",
                    data_items=["id_number", "residence_address"],
                    scenario="就业补贴发放",
                    legal_basis="《就业促进法》第十五条",
                )
            ),
            timeout=10,
        )
    yield s
    s.stop()


def every_page(call, request, rows: str) -> list[list]:
    """Follow next_page_token from the first page to the last: the rows of each page."""
    pages: list[list] = []
    while True:
        reply = call(request, timeout=10)
        pages.append(list(getattr(reply, rows)))
        if not reply.next_page_token:
            return pages
        assert len(pages) < 100, "the pages never end"
        request.page_token = reply.next_page_token


LISTS = [
    ("directory", "ListDepartments", directory_pb2.ListDepartmentsRequest(), "departments", "code"),
    (
        "catalogue",
        "ListCatalogueEntries",
        catalogue_pb2.ListCatalogueEntriesRequest(),
        "entries",
        "code",
    ),
    (
        "sharing",
        "ListShareRequests",
        sharing_pb2.ListShareRequestsRequest(role="consumer"),
        "requests",
        "id",
    ),
    (
        "sharing",
        "ListServiceRequests",
        sharing_pb2.ListServiceRequestsRequest(role="requester"),
        "requests",
        "id",
    ),
    (
        "supervision",
        "ListDeadlines",
        supervision_pb2.ListDeadlinesRequest(include_closed=True),
        "deadlines",
        "id",
    ),
]


def party_for(service: str) -> str:
    return RSJ.code if service == "sharing" else AUTHORITY


@pytest.mark.parametrize(("service", "rpc", "request_", "rows", "key"), LISTS)
def test_a_list_in_pages_shows_every_row_once(stack, service, rpc, request_, rows, key):
    call = getattr(getattr(stack.stub(party_for(service)), service), rpc)
    pages = every_page(call, type(request_).FromString(request_.SerializeToString()), rows)
    seen = [getattr(row, key) for page in pages for row in page]
    assert len(pages) >= 2, "the stack holds more rows than one page"
    assert all(len(page) <= PAGE_LIMITS["list_page_size"] for page in pages)
    assert len(seen) == len(set(seen))
    # the same rows as one page of the maximum size at a time, in the same order
    request = type(request_).FromString(request_.SerializeToString())
    request.page_size = LIST_MAX
    again = [getattr(row, key) for page in every_page(call, request, rows) for row in page]
    assert again == seen


@pytest.mark.parametrize(("service", "rpc", "request_", "rows", "key"), LISTS)
def test_the_rule_files_maximum_is_enforced(stack, service, rpc, request_, rows, key):
    call = getattr(getattr(stack.stub(party_for(service)), service), rpc)
    request = type(request_).FromString(request_.SerializeToString())
    request.page_size = LIST_MAX + 1
    error = refusal(call, request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_field(error) == "page_size"
    assert f"{LIST_MAX}" in error.details() and "list_page_max" in error.details()


def test_a_changed_made_up_or_foreign_token_is_refused(stack):
    authority = stack.stub(AUTHORITY)
    first = authority.directory.ListDepartments(
        directory_pb2.ListDepartmentsRequest(page_size=1), timeout=10
    )
    token = first.next_page_token
    assert token and GAT.code not in token and "hlj" not in token  # opaque
    body, tag = token.split(".")
    changed = ("A" if body[0] != "A" else "B") + body[1:] + "." + tag
    for bad in (changed, token[:-2], "hlj.gat", "x" * 40):
        error = refusal(
            authority.directory.ListDepartments,
            directory_pb2.ListDepartmentsRequest(page_token=bad),
        )
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert violated_field(error) == "page_token"
    # a departments token is not a catalogue token
    error = refusal(
        authority.catalogue.ListCatalogueEntries,
        catalogue_pb2.ListCatalogueEntriesRequest(page_token=token),
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_field(error) == "page_token"
    # the genuine token still continues the list
    second = authority.directory.ListDepartments(
        directory_pb2.ListDepartmentsRequest(page_size=1, page_token=token), timeout=10
    )
    assert [d.code for d in second.departments] != [d.code for d in first.departments]


def test_rows_added_between_pages_are_not_lost_or_repeated(stack):
    provider = stack.stub(GAT.code).catalogue
    authority = stack.stub(AUTHORITY).catalogue
    first = authority.ListCatalogueEntries(
        catalogue_pb2.ListCatalogueEntriesRequest(page_size=1), timeout=10
    )
    before = first.entries[0].code
    added = dict(ENTRIES["gat.population"], code="zzz.paging-added", name="分页期间新增")
    provider.CreateCatalogueEntry(
        catalogue_pb2.CreateCatalogueEntryRequest(entry=entry_from_dict(added)), timeout=10
    )
    request = catalogue_pb2.ListCatalogueEntriesRequest(page_token=first.next_page_token)
    rest = [
        code
        for page in every_page(authority.ListCatalogueEntries, request, "entries")
        for code in (e.code for e in page)
    ]
    assert before not in rest and rest.count("zzz.paging-added") == 1


def test_catalogue_export_files_cover_every_entry_once(stack):
    authority = stack.stub(AUTHORITY).catalogue
    listed = [
        e.code
        for page in every_page(
            authority.ListCatalogueEntries, catalogue_pb2.ListCatalogueEntriesRequest(), "entries"
        )
        for e in page
    ]
    files = 0
    exported: list[str] = []
    request = catalogue_pb2.ExportCatalogueRequest(format="json")
    while True:
        reply = authority.ExportCatalogue(request, timeout=10)
        files += 1
        exported.extend(re.findall(rb'"code": "([^"]+)"', reply.content))
        if not reply.next_page_token:
            break
        request.page_token = reply.next_page_token
    assert files >= 2
    assert sorted(code.decode() for code in exported) == sorted(listed)


def ledger_pages(stub, page_size: int = 0) -> list[list[int]]:
    pages: list[list[int]] = []
    request = ledger_pb2.GetLedgerRequest(page_size=page_size)
    while True:
        reply = stub.GetLedger(request, timeout=10)
        pages.append([e.sequence for e in reply.entries])
        if not reply.next_page_token:
            return pages
        request.page_token = reply.next_page_token


def test_the_ledger_in_pages(stack):
    ledger = stack.stub(AUTHORITY).ledger
    pages = ledger_pages(ledger)
    seen = [s for page in pages for s in page]
    length = ledger.GetLedger(ledger_pb2.GetLedgerRequest(page_size=1), timeout=10).length
    assert len(pages) >= 3 and all(len(p) <= PAGE_LIMITS["ledger_page_size"] for p in pages)
    assert seen[:length] == list(range(1, length + 1))  # stable order, none twice
    error = refusal(ledger.GetLedger, ledger_pb2.GetLedgerRequest(page_size=LEDGER_MAX + 1))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_field(error) == "page_size"
    export_token = next(
        line.next_page_token
        for line in ledger.ExportLedger(ledger_pb2.ExportLedgerRequest(page_size=1), timeout=10)
        if line.next_page_token
    )
    error = refusal(ledger.GetLedger, ledger_pb2.GetLedgerRequest(page_token=export_token))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_field(error) == "page_token"


def test_the_ledger_export_in_pages_is_one_verifiable_export(stack):
    ledger = stack.stub(AUTHORITY).ledger
    lines: list[str] = []
    calls = 0
    request = ledger_pb2.ExportLedgerRequest()
    while True:
        token = ""
        for item in ledger.ExportLedger(request, timeout=30):
            lines.append(item.line)
            token = item.next_page_token or token
        calls += 1
        if not token:
            break
        request.page_token = token
    export = read_export(lines)
    sequences = [e.sequence for e in export.entries]
    assert calls >= 3
    assert sequences == list(range(1, export.header["last_sequence"] + 1))
    error = refusal(
        lambda r, timeout: list(ledger.ExportLedger(r, timeout=timeout)),
        ledger_pb2.ExportLedgerRequest(page_size=LEDGER_MAX + 1),
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_field(error) == "page_size"


def run(stack, capsys, *argv):
    capsys.readouterr()
    code = main([*argv, "--home", str(stack.home.root), "--broker", stack.broker.target])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_ledger_cli_follows_the_pages(stack, capsys, tmp_path):
    late, reports = stack.broker.ledger_rounds.run_once()  # checkpoints, cosigned
    assert late == 0 and reports
    length = stack.stub(AUTHORITY).ledger.GetLedger(ledger_pb2.GetLedgerRequest(), timeout=10)
    assert length.length > 3 * LEDGER_MAX  # the export takes several calls
    archive = tmp_path / "ledger.jsonl"
    code, out, _ = run(stack, capsys, "ledger", "export", str(archive))
    assert code == 0
    exported = int(re.search(r"exported (\d+) entries", out).group(1))
    assert exported >= length.length
    key = stack.home.broker_verify_key().public_key.hex()
    code, out, _ = run(
        stack, capsys, "ledger", "verify", "--export", str(archive), "--broker-key", key, "--json"
    )
    assert code == 0 and json.loads(out)["ok"]
    code, out, _ = run(stack, capsys, "ledger", "verify", "--remote", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["ok"] and summary["entries"] >= length.length
    code, out, _ = run(stack, capsys, "ledger", "show", "--limit", str(2 * LEDGER_MAX + 1))
    shown = [int(line.split()[0]) for line in out.splitlines() if line.strip()]
    assert code == 0 and shown == list(range(1, 2 * LEDGER_MAX + 2))


def test_the_cli_lists_show_every_page(stack, capsys):
    authority = stack.stub(AUTHORITY)
    deadlines = every_page(
        authority.supervision.ListDeadlines,
        supervision_pb2.ListDeadlinesRequest(include_closed=True),
        "deadlines",
    )
    code, out, _ = run(stack, capsys, "supervise", "deadlines", "--include-closed", "--json")
    shown = json.loads(out)["deadlines"]
    assert code == 0 and len(deadlines) >= 2
    assert [int(d["id"]) for d in shown] == [d.id for page in deadlines for d in page]
    entries = every_page(
        authority.catalogue.ListCatalogueEntries,
        catalogue_pb2.ListCatalogueEntriesRequest(),
        "entries",
    )
    code, out, err = run(stack, capsys, "catalogue", "list", "--as", AUTHORITY, "--json")
    assert code == 0 and len(entries) >= 2, err
    assert [e["code"] for e in json.loads(out)["entries"]] == [e.code for p in entries for e in p]
