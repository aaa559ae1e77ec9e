"""A suspended or terminated grant is refused by the broker at once and by the node itself
within the rule file's ticket lifetime, even when replayed straight to the node (real gRPC)."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import grpc
import pytest
from sqlalchemy import create_engine, select

from tongdao.broker.ledger.models import LedgerEntry
from tongdao.crypto.envelope import seal_authenticated
from tongdao.crypto.grant_token import read_grant_token_unverified
from tongdao.crypto.query_binding import query_associated_data
from tongdao.node.results import ClientError
from tongdao.policies.loader import load_policy
from tongdao.proto.methods import METHOD_VALUES
from tongdao.proto.query import RelayedQuery
from tongdao.proto.transport import secure_channel
from tongdao.v1 import node_pb2_grpc, query_pb2, sharing_pb2

from .stack import BASIS, PURPOSE, SCENARIO, start_stack

GAT, RSJ = "hlj.gat", "hrb.rsj"
TICKET_SECONDS = load_policy().grant_status.ticket_seconds


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(tmp_path_factory.mktemp("status"))
    yield s
    s.stop()


def new_grant(stack):
    with stack.consumer() as client:
        req = client.file_share_request(
            "gat.population", ["gender"], ["fetch"], PURPOSE, SCENARIO, BASIS, quota=20
        )
        assert req.status == "approved"
        return client.get_grant(req.grant_id).token, req.grant_id


def fetch(stack, token):
    with stack.consumer() as client:
        return client.fetch(token, [stack.people[0]["id_number"]], ["gender"], PURPOSE)


def change(stack, party, grant_id, what, ground="security_risk", reason="bulk reads at night"):
    return stack.stub(party).sharing.ChangeGrantStatus(
        sharing_pb2.ChangeGrantStatusRequest(
            grant_id=grant_id, change=what, ground=ground, reason=reason
        ),
        timeout=10,
    )


def consumer_request(stack, token, ticket):
    """A fetch of one record as the consumer seals it, with ``ticket`` in the status field."""
    claims = read_grant_token_unverified(token)
    request_id = str(uuid.uuid4())
    sealed = seal_authenticated(
        stack.home.encryption_keys(RSJ).private_key,
        stack.home.encryption_keys(GAT).public_key,
        json.dumps({"keys": [stack.people[1]["id_number"]]}).encode(),
        query_associated_data(claims.grant_id, request_id, "fetch", "query"),
    )
    request = query_pb2.QueryRequest(
        grant_token=token,
        request_id=request_id,
        method=METHOD_VALUES["fetch"],
        purpose=PURPOSE,
        fields=["gender"],
        sealed_query=sealed,
        status_ticket=ticket,
    )
    return request


def straight_to_node(stack, token, ticket):
    """Replay: the broker's own certificate, the consumer's token and sealed query, and a ticket
    the broker once attached, sent to the node directly."""
    request = consumer_request(stack, token, ticket)
    with secure_channel(stack.nodes[GAT].target, stack.home.tls("broker")) as channel:
        try:
            node_pb2_grpc.NodeStub(channel).Query(request, timeout=10)
            return "OK", ""
        except grpc.RpcError as exc:
            return exc.code().name, exc.details()


def captured_tickets(stack):
    """Record the status tickets of the queries the node is asked, as the relay sent them."""
    engine = stack.nodes[GAT].engine
    seen: list[RelayedQuery] = []
    answer = engine.answer

    def recording(caller, query):
        seen.append(query)
        return answer(caller, query)

    engine.answer = recording  # type: ignore[method-assign]
    return seen, lambda: setattr(engine, "answer", answer)


def test_suspension_reaches_the_node_within_the_ticket_lifetime(stack):
    token, grant_id = new_grant(stack)
    seen, restore = captured_tickets(stack)
    try:
        assert fetch(stack, token)
    finally:
        restore()
    ticket = seen[-1].status_ticket
    assert ticket.startswith("tds1.")

    reply = change(stack, GAT, grant_id, "suspend")  # the provider, on its own grant
    assert reply.status == "suspended" and reply.status_article == "Art.27"
    assert reply.status_changed_by == GAT

    with pytest.raises(ClientError) as err:  # the broker refuses at once
        fetch(stack, token)
    assert err.value.code == "PERMISSION_DENIED" and "suspended" in err.value.message

    engine = stack.nodes[GAT].engine
    real_clock = engine.clock
    try:
        # replayed with the last ticket the broker signed: refused once it is stale
        later = real_clock() + dt.timedelta(seconds=TICKET_SECONDS + 1)
        engine.clock = lambda: later
        code, msg = straight_to_node(stack, token, ticket)
        assert code == "PERMISSION_DENIED" and "status_ticket" in msg and "stale" in msg
        assert "Art.27" in msg
    finally:
        engine.clock = real_clock
    # without a ticket, or with one for another token, the node refuses at any time
    code, msg = straight_to_node(stack, token, "")
    assert code == "PERMISSION_DENIED" and "no grant status ticket" in msg
    other_token, _ = new_grant(stack)
    code, msg = straight_to_node(stack, other_token, ticket)
    assert code == "PERMISSION_DENIED" and "another grant" in msg


def test_status_changes_are_ruled_recorded_and_final(stack):
    token, grant_id = new_grant(stack)
    with pytest.raises(grpc.RpcError) as err:  # the consumer cannot change its own grant
        change(stack, RSJ, grant_id, "suspend")
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as err:
        change(stack, GAT, grant_id, "suspend", ground="no_such_ground")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "ground" in err.value.details()
    with pytest.raises(grpc.RpcError) as err:
        change(stack, GAT, grant_id, "suspend", reason=" ")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    change(stack, "authority", grant_id, "suspend", ground="department_violation")
    assert change(stack, "authority", grant_id, "reinstate", ground="security_risk").status == (
        "active"
    )
    assert fetch(stack, token)  # reinstated: served again
    ended = change(stack, "authority", grant_id, "terminate", ground="not_rectified")
    assert ended.status == "terminated" and ended.status_article == "Art.27"
    with pytest.raises(grpc.RpcError) as err:
        change(stack, "authority", grant_id, "reinstate")
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    with create_engine(stack.database_url).connect() as conn:
        rows = conn.execute(
            select(LedgerEntry.kind, LedgerEntry.actor, LedgerEntry.payload_json)
            .where(LedgerEntry.subject == grant_id, LedgerEntry.kind.like("grant.%"))
            .order_by(LedgerEntry.sequence)
        ).all()
    kinds = [r.kind for r in rows]
    assert kinds == ["grant.issued", "grant.suspended", "grant.reinstated", "grant.terminated"]
    suspended = json.loads(rows[1].payload_json)
    assert suspended["articles"] == ["Art.41"] and suspended["ground"] == "department_violation"
    assert rows[1].actor == "authority"


def test_relayed_queries_carry_a_fresh_ticket_the_consumer_cannot_set(stack):
    token, _ = new_grant(stack)
    request = consumer_request(stack, token, ticket="tds1.x.y")
    seen, restore = captured_tickets(stack)
    try:
        stack.stub(RSJ).query.Query(request, timeout=10)
    finally:
        restore()
    assert seen[-1].status_ticket.startswith("tds1.")
    assert seen[-1].status_ticket != "tds1.x.y"  # the broker replaced it with its own


def test_findings_and_suspension_from_the_cli(stack, capsys):
    from tongdao.cli import main

    token, grant_id = new_grant(stack)
    with stack.consumer() as client, pytest.raises(ClientError):  # a field it was not granted
        client.fetch(token, [stack.people[0]["id_number"]], ["name"], PURPOSE)
    common = ["--home", str(stack.home.root), "--broker", stack.broker.target]
    assert main(["supervise", "findings", "--detect", "--grant", grant_id, *common]) == 0
    out = capsys.readouterr().out
    assert "out_of_scope" in out and grant_id in out and "Art.27" in out
    assert "evidence: ledger" in out
    # the consumer sees the finding on its own grant but cannot run detection
    assert main(["supervise", "findings", "--as", RSJ, "--grant", grant_id, *common]) == 0
    assert "out_of_scope" in capsys.readouterr().out
    assert main(["supervise", "findings", "--detect", "--as", RSJ, *common]) != 0
    assert "PERMISSION_DENIED" in capsys.readouterr().err
    args = ["--ground", "out_of_scope", "--reason", "asked for names it was not granted"]
    assert main(["supervise", "suspend", grant_id, "--as", GAT, *args, *common]) == 0
    assert f"grant {grant_id}: suspended (out_of_scope, Art.27) by {GAT}" in capsys.readouterr().out


def test_rectification_order_over_grpc_and_the_cli(stack, capsys):
    from tongdao.cli import main

    _, grant_id = new_grant(stack)
    common = ["--home", str(stack.home.root), "--broker", stack.broker.target]
    issue = ["--ground", "idle", "--requirement", "use the grant or release it"]
    assert main(["supervise", "order", "issue", grant_id, "--as", GAT, *issue, *common]) == 0
    out = capsys.readouterr().out
    assert "open (due " in out and "Art.27" in out
    order_id = out.split()[1]
    answer = ["--changes", "released: the review ended"]
    assert main(["supervise", "order", "answer", order_id, "--as", RSJ, *answer, *common]) == 0
    assert ": answered" in capsys.readouterr().out
    decide = ["--accept", "--reason", "confirmed"]
    assert main(["supervise", "order", "decide", order_id, "--as", GAT, *decide, *common]) == 0
    assert ": accepted" in capsys.readouterr().out
    assert main(["supervise", "orders", "--enforce", "--grant", grant_id, *common]) == 0
    assert f"order {order_id} on grant {grant_id}: accepted" in capsys.readouterr().out
    assert main(["supervise", "deadlines", "--include-closed", *common]) == 0
    assert "rectification" in capsys.readouterr().out


def test_usage_records_and_the_providers_view_from_the_cli(stack, capsys):
    from tongdao.cli import main

    token, grant_id = new_grant(stack)
    assert fetch(stack, token)
    common = ["--home", str(stack.home.root), "--broker", stack.broker.target]
    parts = ["--scenario", "低保复核", "--outcome", "12 户", "--process", "经办人比对"]
    parts += ["--storage", "加密业务库", "--destruction", "30 日内删除"]
    assert main(["consumer", "record-usage", grant_id, "--as", RSJ, *parts, *common]) == 0
    assert "kept until" in capsys.readouterr().out
    assert main(["provider", "usage", "--grant", grant_id, "--as", GAT, *common]) == 0
    out = capsys.readouterr().out
    assert "1 usage record(s), 1 relayed call(s)" in out and "低保复核" in out
    assert "query.relayed" in out
    # another provider sees nothing of it
    assert main(["provider", "usage", "--grant", grant_id, "--as", "hlj.mzt", *common]) == 0
    assert "0 usage record(s), 0 relayed call(s)" in capsys.readouterr().out
