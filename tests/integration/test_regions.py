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
from tongdao.demo import CITY_MZJ, ENTRIES, city_entry
from tongdao.home import AUTHORITY
from tongdao.node.client import ClientError
from tongdao.policies.engine import in_regions
from tongdao.v1 import catalogue_pb2, supervision_pb2

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


@pytest.fixture(scope="module")
def cities(tmp_path_factory):
    entry = city_entry(CITY_MZJ[0])["code"]
    s = start_stack(
        tmp_path_factory.mktemp("city-regions"),
        records=5,
        cities=True,
        node_overrides={entry: {"region_field": "district"}},
    )
    yield s, CITY_MZJ[0].code, entry
    s.stop()


def test_an_aggregate_counts_the_households_inside_and_may_not_filter_outside(cities):
    stack, city, entry = cities
    rows = stack.households[city]
    by_district: dict[str, int] = {}
    for r in rows:
        by_district[r["district"]] = by_district.get(r["district"], 0) + 1
    chosen, count = [], 0
    for district, n in sorted(by_district.items(), key=lambda kv: -kv[1]):
        chosen.append(district)
        count += n
        if count >= 15:  # above the minimum group size, below the city's total
            break
    outside = next(d for d in by_district if d not in chosen)
    with stack.consumer() as client:
        req = client.file_share_request(
            entry,
            ["monthly_allowance", "district"],
            ["aggregate"],
            PURPOSE,
            SCENARIO,
            BASIS,
            regions=chosen,
        )
        token = client.get_grant(req.grant_id).token
        answer = client.aggregate([token], "monthly_allowance", PURPOSE, bounds=(0, 3000))
        assert answer["count"] == count < len(rows)
        with pytest.raises(ClientError) as err:
            client.aggregate(
                [token],
                "monthly_allowance",
                PURPOSE,
                bounds=(0, 3000),
                filter_field="district",
                filter_value=outside,
            )
    assert err.value.code == "PERMISSION_DENIED" and outside in err.value.message
    found = stack.stub(AUTHORITY).supervision.ListFindings(
        supervision_pb2.ListFindingsRequest(
            detect=True, kind="out_of_scope", grant_id=req.grant_id
        ),
        timeout=30,
    )
    assert [f.grant_id for f in found.findings] == [req.grant_id]
