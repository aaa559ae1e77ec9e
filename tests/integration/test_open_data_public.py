"""Open data for the public (OPN-2, Art.34) over real gRPC, on the broker's public listener
without a client certificate, with 民政厅's real node serving the records."""

from __future__ import annotations

import json

import grpc
import pytest
from sqlalchemy import create_engine, text

from tests.integration.stack import start_stack
from tongdao.home import AUTHORITY
from tongdao.public_client import Identity, PublicClient
from tongdao.v1 import sharing_pb2

WHO = Identity("张三", "13800000000", "230102199001011234")
OTHER = Identity("某数据公司", "data@example.cn", "91230100MA1234567X")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(tmp_path_factory.mktemp("open-data"), records=5, public=True, open_data=True)
    yield s
    s.stop()


@pytest.fixture
def public(stack):
    ca = (stack.home.ca_dir / "ca.crt").read_bytes()
    with PublicClient(f"127.0.0.1:{stack.broker.public_port}", ca, timeout=20) as client:
        yield client


def ledger(stack, kind: str) -> list[dict]:
    engine = create_engine(stack.database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "select actor, payload_json from ledger_entries where kind = :k order by sequence"
            ),
            {"k": kind},
        ).all()
    engine.dispose()
    return [{"actor": a, **json.loads(p)} for a, p in rows]


def refused(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value


def test_unconditional_open_data_is_downloaded_masked_and_recorded(stack, public):
    codes = {e.code: e.open_type for e in public.catalogue().entries}
    assert {"mzt.care-homes", "mzt.care-subsidies"} <= set(codes)

    page = public.download(WHO, "mzt.care-homes", limit=10)
    assert len(page.records) == 10 and page.more
    fields = list(page.reply.fields)
    # open grades only: the sensitive-personal item never leaves the node
    assert "legal_rep_id" not in fields and {"home_id", "beds", "contact_person"} <= set(fields)
    assert all(set(r) == set(fields) for r in page.records)
    assert all("*" in r["contact_person"] for r in page.records)  # personal: masked
    assert page.records[0]["home_id"] == "YL00001"  # general: as stored
    last = public.download(WHO, "mzt.care-homes", offset=25, limit=10)
    assert len(last.records) == 5 and not last.more

    recorded = [e for e in ledger(stack, "query.relayed") if e.get("method") == "open_download"]
    assert recorded[-1]["requester"] == "张三" and recorded[-1]["actor"] == "public"
    assert recorded[-1]["receipt_verified"] and recorded[-1]["record_count"] == 5
    assert "230102199001011234" not in json.dumps(recorded)  # the ID number only as a digest
    assert last.reply.ledger_sequence > page.reply.ledger_sequence


def test_the_requester_must_identify_itself_and_not_open_data_is_refused(public):
    err = refused(lambda: public.download(Identity("张三"), "mzt.care-homes"))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "requester.contact" in err.details()
    err = refused(lambda: public.download(WHO, "mzt.marriage"))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED and "not open" in err.details()
    err = refused(lambda: public.download(WHO, "mzt.care-subsidies"))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED and "open-data request" in err.details()


def test_a_conditional_request_is_reviewed_then_downloaded_under_its_token(stack, public):
    ticket = public.file_request(
        OTHER, "mzt.care-subsidies", "养老服务补贴监督研究", ["home_id", "subsidy_yuan"]
    )
    assert ticket.status == "pending" and ticket.due_on and len(ticket.retrieval_token) >= 40
    assert public.status(ticket.id, ticket.retrieval_token).status == "pending"
    err = refused(lambda: public.status(ticket.id, "x" * 43))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    err = refused(
        lambda: public.download(
            OTHER,
            "mzt.care-subsidies",
            request_id=ticket.id,
            retrieval_token=ticket.retrieval_token,
        )
    )
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED and "pending" in err.details()

    provider = stack.stub("hlj.mzt").sharing
    inbox = provider.ListServiceRequests(
        sharing_pb2.ListServiceRequestsRequest(role="provider", kind="open_data"), timeout=10
    )
    assert ticket.id in [r.id for r in inbox.requests]
    provider.DecideServiceRequest(
        sharing_pb2.DecideServiceRequestRequest(id=ticket.id, approve=True, reason="用途合理"),
        timeout=10,
    )
    status = public.status(ticket.id, ticket.retrieval_token)
    assert status.status == "approved" and status.valid_until
    assert list(status.data_items) == ["home_id", "subsidy_yuan"]

    page = public.download(
        OTHER, "mzt.care-subsidies", request_id=ticket.id, retrieval_token=ticket.retrieval_token
    )
    assert list(page.reply.fields) == ["home_id", "subsidy_yuan"]  # the decision's scope
    assert len(page.records) == 30 and all("year" not in r for r in page.records)
    # the token is the requester's: another name holding it is refused
    err = refused(
        lambda: public.download(
            WHO, "mzt.care-subsidies", request_id=ticket.id, retrieval_token=ticket.retrieval_token
        )
    )
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_suspended_requester_downloads_nothing(stack, public):
    who = Identity("滥用者", "x@example.cn", "230102198001011111")
    assert public.download(who, "mzt.care-homes", limit=1).records
    stack.stub(AUTHORITY).sharing.ChangePublicAccess(
        sharing_pb2.ChangePublicAccessRequest(requester="滥用者", change="suspend", reason="转售"),
        timeout=10,
    )
    err = refused(lambda: public.download(who, "mzt.care-homes", limit=1))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED and "suspended" in err.details()


def test_the_cli_reads_downloads_requests_and_fetches_as_the_public(stack, capsys, tmp_path):
    from tongdao.cli import main

    public = ["--public-broker", f"127.0.0.1:{stack.broker.public_port}"]
    public += ["--ca", str(stack.home.ca_dir / "ca.crt")]
    who = ["--name", "李四", "--contact", "lisi@example.cn", "--id-number", "230102198505051234"]

    def run(*argv):
        capsys.readouterr()
        code = main(["open", *argv, *public])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, _ = run("catalogue", "--json")
    assert code == 0 and "mzt.care-homes" in [e["code"] for e in json.loads(out)["entries"]]
    target = tmp_path / "homes.csv"
    code, out, _ = run(
        "download",
        "mzt.care-homes",
        *who,
        "--limit",
        "7",
        "--all",
        "--output",
        str(target),
        "--json",
    )
    result = json.loads(out)
    assert code == 0 and result["count"] == 30 and len(result["downloads"]) == 5
    assert len(target.read_text(encoding="utf-8").splitlines()) == 31
    code, _, err = run("download", "mzt.care-homes", "--name", "李四")
    assert code == 2 and "requester.contact" in err  # the rule file's identity fields

    code, out, _ = run("request", "mzt.care-subsidies", *who, "--purpose", "补贴监督")
    assert code == 0 and "tongdao open status " in out and " --token=rt_" in out
    code, out, _ = run("request", "mzt.care-subsidies", *who, "--purpose", "补贴监督", "--json")
    ticket = json.loads(out)
    assert code == 0 and ticket["status"] == "pending"
    assert ticket["retrieval_token"].startswith("rt_")  # never read as an option
    code, _, err = run("fetch", ticket["id"], *who, "--token", ticket["retrieval_token"])
    assert code == 3 and "pending" in err
    stack.stub("hlj.mzt").sharing.DecideServiceRequest(
        sharing_pb2.DecideServiceRequestRequest(id=ticket["id"], approve=True), timeout=10
    )
    code, out, _ = run("status", ticket["id"], f"--token={ticket['retrieval_token']}")
    assert code == 0 and "approved" in out and "usable until" in out
    code, out, err = run("fetch", ticket["id"], *who, f"--token={ticket['retrieval_token']}")
    assert code == 0 and out.splitlines()[0] == "home_id,year,subsidy_yuan" and "30 records" in err
    code, _, err = run("status", ticket["id"], "--token", "wrong")
    assert code == 4


def test_withdrawal_is_approved_filed_announced_and_then_refuses_downloads(stack, public):
    from tongdao.v1 import opendata_pb2

    provider, other = stack.stub("hlj.mzt").opendata, stack.stub("hlj.gat").opendata
    err = refused(
        lambda: other.RequestOpenDataWithdrawal(
            opendata_pb2.RequestOpenDataWithdrawalRequest(entry_code="mzt.care-homes", reason="x"),
            timeout=10,
        )
    )
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED  # only the provider asks
    asked = provider.RequestOpenDataWithdrawal(
        opendata_pb2.RequestOpenDataWithdrawalRequest(
            entry_code="mzt.care-homes", reason="机构信息核查中，暂停开放"
        ),
        timeout=10,
    )
    assert asked.status == "pending" and asked.reviewer == AUTHORITY and asked.article == "Art.35"
    assert public.download(WHO, "mzt.care-homes", limit=1).records  # still open until approved
    assert not public.data.ListWithdrawalAnnouncements(
        opendata_pb2.ListWithdrawalAnnouncementsRequest(), timeout=10
    ).announcements
    err = refused(
        lambda: provider.DecideOpenDataWithdrawal(
            opendata_pb2.DecideOpenDataWithdrawalRequest(id=asked.id, approve=True), timeout=10
        )
    )
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED  # the same-level authority decides
    authority = stack.stub(AUTHORITY).opendata
    pending = authority.ListOpenDataWithdrawals(
        opendata_pb2.ListOpenDataWithdrawalsRequest(status="pending"), timeout=10
    )
    assert [w.id for w in pending.withdrawals] == [asked.id]
    done = authority.DecideOpenDataWithdrawal(
        opendata_pb2.DecideOpenDataWithdrawalRequest(id=asked.id, approve=True, comment="同意"),
        timeout=10,
    )
    assert done.status == "withdrawn" and done.filed_with == AUTHORITY and done.filed_at
    assert done.announced_on

    listed = public.data.ListWithdrawalAnnouncements(
        opendata_pb2.ListWithdrawalAnnouncementsRequest(page_size=10), timeout=10
    )
    (announced,) = listed.announcements
    assert announced.entry_code == "mzt.care-homes" and announced.announced_on == done.announced_on
    assert announced.approved_by == AUTHORITY and announced.reason.startswith("机构信息")
    assert "mzt.care-homes" not in [e.code for e in public.catalogue().entries]
    err = refused(lambda: public.download(WHO, "mzt.care-homes", limit=1))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    assert f"announced on {done.announced_on}" in err.details() and asked.id in err.details()
    err = refused(lambda: public.file_request(WHO, "mzt.care-homes", "研究"))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED and "withdrawn" in err.details()
    kinds = [e["status"] for e in ledger(stack, "open_data.withdrawal_decided")]
    assert kinds == ["withdrawn"]


def test_the_cli_withdraws_open_data_and_the_public_sees_the_announcement(stack, capsys):
    from tongdao.cli import main

    mtls = ["--home", str(stack.home.root), "--broker", stack.broker.target]
    public = ["--public-broker", f"127.0.0.1:{stack.broker.public_port}"]
    public += ["--ca", str(stack.home.ca_dir / "ca.crt")]

    def run(*argv):
        capsys.readouterr()
        code = main(["open", *argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, _ = run(
        "withdraw",
        "mzt.care-subsidies",
        "--reason",
        "补贴数据重新核定",
        "--json",
        *mtls,
        "--as",
        "hlj.mzt",
    )
    asked = json.loads(out)
    assert code == 0 and asked["status"] == "pending"
    code, out, _ = run("withdrawal-list", "--status", "pending", *mtls)
    assert code == 0 and asked["id"] in out
    code, _, err = run("decide-withdrawal", asked["id"], "--refuse", *mtls)
    assert code == 2 and "comment" in err  # a refusal says why
    code, out, _ = run("decide-withdrawal", asked["id"], "--approve", *mtls)
    assert code == 0 and "withdrawn" in out and "announced" in out
    code, out, _ = run("withdrawals", "--json", *public)
    codes = [a["entry_code"] for a in json.loads(out)["announcements"]]
    assert code == 0 and "mzt.care-subsidies" in codes
    code, _, err = run(
        "download",
        "mzt.care-subsidies",
        "--name",
        "王五",
        "--contact",
        "1",
        "--id-number",
        "2",
        *public,
    )
    assert code == 3 and "announced on" in err


def test_download_request_and_withdrawal_on_each_store(database_url, tmp_path):
    from tongdao.v1 import opendata_pb2

    s = start_stack(tmp_path, database_url, records=5, public=True, open_data=True)
    try:
        ca = (s.home.ca_dir / "ca.crt").read_bytes()
        with PublicClient(f"127.0.0.1:{s.broker.public_port}", ca, timeout=20) as client:
            assert len(client.download(WHO, "mzt.care-homes", limit=3).records) == 3
            ticket = client.file_request(OTHER, "mzt.care-subsidies", "研究")
            assert client.status(ticket.id, ticket.retrieval_token).status == "pending"
            asked = s.stub("hlj.mzt").opendata.RequestOpenDataWithdrawal(
                opendata_pb2.RequestOpenDataWithdrawalRequest(
                    entry_code="mzt.care-homes", reason="核查"
                ),
                timeout=10,
            )
            s.stub(AUTHORITY).opendata.DecideOpenDataWithdrawal(
                opendata_pb2.DecideOpenDataWithdrawalRequest(id=asked.id, approve=True),
                timeout=10,
            )
            first = client.data.ListWithdrawalAnnouncements(
                opendata_pb2.ListWithdrawalAnnouncementsRequest(page_size=1), timeout=10
            )
            assert [a.id for a in first.announcements] == [asked.id]
            err = refused(lambda: client.download(WHO, "mzt.care-homes", limit=1))
            assert "announced on" in err.details()
    finally:
        s.stop()
