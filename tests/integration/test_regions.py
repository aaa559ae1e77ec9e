"""Regions end to end over real gRPC (SHR-1): a share request names regions, the grant carries
them signed, and the provider's node — mapping a column to region codes — answers from the
records inside them only; a request outside the entry's share scope is refused and recorded."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text

from tests.integration.stack import BASIS, PURPOSE, SCENARIO, start_stack
from tongdao.commands.catalogue import entry_from_dict
from tongdao.crypto.grant_token import read_grant_token_unverified
from tongdao.demo import ENTRIES
from tongdao.home import AUTHORITY
from tongdao.node.client import ClientError
from tongdao.policies.engine import in_regions
from tongdao.v1 import catalogue_pb2

HARBIN = "230100"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    # the population node knows each record's region from its "region" column (codes)
    s = start_stack(
        tmp_path_factory.mktemp("regions"),
        records=40,
        node_overrides={"gat.population": {"region_field": "region"}},
    )
    yield s
    s.stop()


def grant(stack, entry: str, regions=(), methods=("fetch", "verify")):
    with stack.consumer() as client:
        req = client.file_share_request(
            entry,
            ["name", "gender"] if entry == "gat.population" else ["marital_status"],
            list(methods),
            PURPOSE,
            SCENARIO,
            BASIS,
            regions=list(regions),
        )
    if req.status == "pending_provider_review":
        with stack.consumer(ENTRIES[entry]["provider"]) as provider:
            req = provider.decide_share_request(req.id, approve=True, reason="核验所需")
    assert req.status == "approved", req.decision.reason
    with stack.consumer() as client:
        return client.get_grant(req.grant_id)


def people(stack):
    inside = [p for p in stack.people if in_regions(p["region"], (HARBIN,))]
    outside = [p for p in stack.people if not in_regions(p["region"], (HARBIN,))]
    assert inside and outside
    return inside, outside


def test_the_grant_carries_the_requested_regions_signed(stack):
    g = grant(stack, "gat.population", [HARBIN])
    assert list(g.regions) == [HARBIN]
    assert read_grant_token_unverified(g.token).regions == (HARBIN,)


def test_the_node_answers_from_the_records_inside_the_regions_only(stack):
    inside, outside = people(stack)
    scoped, whole = grant(stack, "gat.population", [HARBIN]), grant(stack, "gat.population")
    keys = [inside[0]["id_number"], outside[0]["id_number"]]
    with stack.consumer() as client:
        a, b = client.fetch(scoped.token, keys, ["gender"], PURPOSE)
        assert a["found"] and a["fields"]["gender"] == inside[0]["gender"]
        # a record outside the grant's regions does not exist for this grant
        assert not b["found"] and b["fields"] == {}
        assert all(r["found"] for r in client.fetch(whole.token, keys, ["gender"], PURPOSE))
        claim = {"gender": outside[0]["gender"]}
        assert not client.verify(scoped.token, keys[1], claim, PURPOSE)["found"]
        assert client.verify(whole.token, keys[1], claim, PURPOSE)["found"]


def test_a_node_without_a_region_column_refuses_a_grant_with_regions(stack):
    g = grant(stack, "mzt.marriage", [HARBIN], methods=("fetch",))
    with stack.consumer() as client, pytest.raises(ClientError) as err:
        client.fetch(g.token, [stack.marriages[0]["id_number"]], ["marital_status"], PURPOSE)
    assert err.value.code == "FAILED_PRECONDITION" and "region_field" in err.value.message


def test_a_request_outside_the_entrys_share_scope_is_refused_and_recorded(stack):
    entry = {
        **ENTRIES["gat.population"],
        "code": "gat.population-qqhr",
        "share_type": "conditional",
        "share_scope_regions": [HARBIN, "230200"],  # 哈尔滨, 齐齐哈尔
        "permitted_purposes": [PURPOSE],
    }
    provider, authority = stack.stub("hlj.gat"), stack.stub(AUTHORITY)
    provider.catalogue.CreateCatalogueEntry(
        catalogue_pb2.CreateCatalogueEntryRequest(entry=entry_from_dict(entry)), timeout=10
    )
    provider.catalogue.SubmitCatalogueEntry(
        catalogue_pb2.SubmitCatalogueEntryRequest(code=entry["code"]), timeout=10
    )
    authority.catalogue.PublishCatalogueEntry(
        catalogue_pb2.PublishCatalogueEntryRequest(code=entry["code"]), timeout=10
    )
    with stack.consumer() as client:
        with pytest.raises(ClientError) as err:
            client.file_share_request(
                entry["code"], ["gender"], ["fetch"], PURPOSE, SCENARIO, BASIS, regions=["230600"]
            )
        assert err.value.code == "PERMISSION_DENIED"  # 大庆 is outside the scope
        assert "request.regions" in err.value.message and "230200" in err.value.message
        inside = client.file_share_request(
            entry["code"], ["gender"], ["fetch"], PURPOSE, SCENARIO, BASIS, regions=["230202"]
        )
        assert inside.status in ("pending_provider_review", "approved")
    engine = create_engine(stack.database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("select payload_json from ledger_entries where kind like 'refusal%'")
        ).all()
    engine.dispose()
    assert any(json.loads(p).get("field") == "request.regions" for (p,) in rows)
