"""Wider use, another purpose and onward transfer (SHR-11, Art.30) over real gRPC: the consumer
asks, the provider consents or refuses with reasons, and the grant changes only that way."""

from __future__ import annotations

import grpc
import pytest

from tests.integration.stack import BASIS, PURPOSE, SCENARIO, start_stack
from tongdao.node.client import ClientError
from tongdao.v1 import sharing_pb2

GAT, RSJ, MZT = "hlj.gat", "hrb.rsj", "hlj.mzt"
OTHER_PURPOSE = "就业困难人员认定"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(tmp_path_factory.mktemp("changes"), records=10)
    yield s
    s.stop()


@pytest.fixture
def grant(stack):
    with stack.consumer() as client:
        req = client.file_share_request(
            "gat.population", ["name"], ["fetch"], PURPOSE, SCENARIO, BASIS
        )
        assert req.status == "approved"
        return client.get_grant(req.grant_id)


def ask(stack, grant_id, **kw):
    return stack.stub(RSJ).sharing.RequestGrantChange(
        sharing_pb2.RequestGrantChangeRequest(grant_id=grant_id, reason="核验需要", **kw),
        timeout=10,
    )


def decide(stack, who, change_id, consent, reason=""):
    return stack.stub(who).sharing.DecideGrantChange(
        sharing_pb2.DecideGrantChangeRequest(id=change_id, consent=consent, reason=reason),
        timeout=10,
    )


def status_of(call):
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value.code().name, err.value.details()


def fetch(stack, token, fields, purpose=PURPOSE):
    with stack.consumer() as client:
        return client.fetch(token, [stack.people[0]["id_number"]], fields, purpose)


def test_wider_fields_take_effect_only_on_the_providers_consent(stack, grant):
    with pytest.raises(ClientError) as err:
        fetch(stack, grant.token, ["gender"])
    assert err.value.code == "PERMISSION_DENIED"
    change = ask(stack, grant.id, kind="widen_fields", fields=["gender"])
    assert change.status == "pending" and change.articles == ["Art.30"]
    with pytest.raises(ClientError):
        fetch(stack, grant.token, ["gender"])  # asking changes nothing
    for who in (RSJ, MZT):  # neither the consumer nor another department decides
        code, _ = status_of(lambda w=who: decide(stack, w, change.id, True))
        assert code == "PERMISSION_DENIED"
    done = decide(stack, GAT, change.id, True, "核验所需")
    assert done.status == "consented" and done.result_grant_id == grant.id
    with stack.consumer() as client:
        changed = client.get_grant(grant.id)
    assert list(changed.fields) == ["name", "gender"] and changed.token != grant.token
    [record] = fetch(stack, changed.token, ["gender"])
    assert record["found"] and record["fields"]["gender"] == stack.people[0]["gender"]
    with pytest.raises(ClientError) as err:
        fetch(stack, grant.token, ["name"])  # the previous token is no longer relayed
    assert err.value.code == "PERMISSION_DENIED" and "newer" in err.value.message
    code, _ = status_of(lambda: decide(stack, GAT, change.id, True))
    assert code == "FAILED_PRECONDITION"  # decided once


def test_a_further_purpose_is_refused_with_reasons_or_becomes_a_new_grant(stack, grant):
    change = ask(stack, grant.id, kind="add_purpose", purpose=OTHER_PURPOSE)
    code, details = status_of(lambda: decide(stack, GAT, change.id, False))
    assert code == "INVALID_ARGUMENT" and "reason" in details  # a refusal gives reasons
    refused = decide(stack, GAT, change.id, False, "超出共享目的")
    assert refused.status == "refused" and refused.decision_reason == "超出共享目的"
    with pytest.raises(ClientError):
        fetch(stack, grant.token, ["name"], OTHER_PURPOSE)
    again = ask(stack, grant.id, kind="add_purpose", purpose=OTHER_PURPOSE)
    done = decide(stack, GAT, again.id, True)
    assert done.result_grant_id and done.result_grant_id != grant.id
    with stack.consumer() as client:
        new = client.get_grant(done.result_grant_id)
        old = client.get_grant(grant.id)
    assert new.purpose == OTHER_PURPOSE and old.purpose == PURPOSE
    assert fetch(stack, new.token, ["name"], OTHER_PURPOSE)[0]["found"]
    assert fetch(stack, old.token, ["name"])[0]["found"]  # the original keeps its purpose


def test_onward_transfer_is_recorded_with_the_consent_for_both_parties(stack, grant):
    code, _ = status_of(lambda: ask(stack, grant.id, kind="onward_transfer", third_party=GAT))
    assert code == "INVALID_ARGUMENT"  # the provider itself is no third party
    change = ask(stack, grant.id, kind="onward_transfer", third_party=MZT)
    decide(stack, GAT, change.id, True, "同意转交民政厅复核")
    for who, role in ((RSJ, "consumer"), (GAT, "provider")):
        listed = stack.stub(who).sharing.ListGrantChanges(
            sharing_pb2.ListGrantChangesRequest(role=role, grant_id=grant.id), timeout=10
        )
        [c] = [c for c in listed.changes if c.id == change.id]
        assert c.status == "consented" and c.third_party == MZT
    outsider = stack.stub(MZT).sharing.ListGrantChanges(
        sharing_pb2.ListGrantChangesRequest(role="consumer", grant_id=grant.id), timeout=10
    )
    assert list(outsider.changes) == []
