"""Grades come from the catalogue (PRIV-6), over real gRPC: the grant carries the published
entry's grades, signed; a node whose configuration is laxer refuses to serve the entry and names
the data item, and never sends the value in plaintext."""

from __future__ import annotations

import pytest

from tests.integration.stack import BASIS, PURPOSE, SCENARIO, start_stack
from tongdao.crypto.grant_token import read_grant_token_unverified
from tongdao.demo import ENTRIES
from tongdao.node.client import ClientError
from tongdao.policies.loader import load_policy
from tongdao.policies.masking import mask_value

CATALOGUE = {i["name"]: i["sensitivity"] for i in ENTRIES["gat.population"]["data_items"]}
# the population node grades the name "general" (served as stored), the catalogue "personal"
LAX = {**CATALOGUE, "name": "general"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(
        tmp_path_factory.mktemp("grades"),
        records=20,
        node_overrides={"gat.population": {"grades": LAX}},
    )
    yield s
    s.stop()


def grant(stack, entry: str, fields: list[str]):
    with stack.consumer() as client:
        req = client.file_share_request(entry, fields, ["fetch"], PURPOSE, SCENARIO, BASIS)
    if req.status == "pending_provider_review":
        with stack.consumer(ENTRIES[entry]["provider"]) as provider:
            req = provider.decide_share_request(req.id, approve=True, reason="核验所需")
    assert req.status == "approved"
    with stack.consumer() as client:
        return client.get_grant(req.grant_id)


def test_the_grant_carries_the_published_grades_signed(stack):
    g = grant(stack, "gat.population", ["name", "gender"])
    claims = read_grant_token_unverified(g.token)
    assert dict(claims.grades) == CATALOGUE
    assert claims.entry_version == 1


def test_a_node_laxer_than_the_catalogue_refuses_and_names_the_item(stack):
    assert CATALOGUE["name"] == "personal"
    g = grant(stack, "gat.population", ["name", "gender"])
    person = stack.people[0]
    with stack.consumer() as client:
        with pytest.raises(ClientError) as err:
            client.fetch(g.token, [person["id_number"]], ["name"], PURPOSE)
        assert err.value.code == "FAILED_PRECONDITION"
        assert "'name'" in err.value.message and "personal" in err.value.message
        # not even the general item is served while the configuration disagrees
        with pytest.raises(ClientError) as err:
            client.fetch(g.token, [person["id_number"]], ["gender"], PURPOSE)
        assert err.value.code == "FAILED_PRECONDITION" and "'name'" in err.value.message


def test_a_node_that_agrees_masks_by_the_catalogue(stack):
    g = grant(stack, "mzt.marriage", ["marital_status"])
    marriage = stack.marriages[0]
    with stack.consumer() as client:
        [record] = client.fetch(g.token, [marriage["id_number"]], ["marital_status"], PURPOSE)
    grades = {i["name"]: i["sensitivity"] for i in ENTRIES["mzt.marriage"]["data_items"]}
    expected = mask_value(
        load_policy("heilongjiang-2025"),
        grades["marital_status"],
        marriage["marital_status"],
        field_kind="marital_status",
    )
    assert record["found"] and record["fields"]["marital_status"] == expected
