"""Typical use cases (SHR-12, Art.31): an authority records the cases of its own area, linked to
the grants they used; anyone registered reads them; reports roll an area up by region."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.integration.broker_fixtures import (
    COUNTY,
    GAT,
    MZT,
    POPULATION,
    RSJ,
    Party,
    World,
    request_for,
)
from tongdao.broker.cases.service import CaseData
from tongdao.broker.ledger.models import LedgerEntry
from tongdao.cli import main
from tongdao.proto.errors import InvalidArgument, NotFound, PermissionDenied

from .stack import BASIS, PURPOSE, SCENARIO, start_stack

CITY_AUTHORITY = Party("hrb.sjj", "230100", "city")
OTHER_CITY = Party("qqhr.rsj", "230200", "city")


@pytest.fixture
def world(database_url):
    w = World(database_url).setup()
    for party, is_authority in ((CITY_AUTHORITY, True), (OTHER_CITY, False)):
        w.register(party, is_authority=is_authority)
    yield w
    w.engine.dispose()


def record(world, caller, data):
    with world.sessions.begin() as s:
        c = world.services.cases.record(s, caller, data)
        return c.id, c.region, c.data_sources, c.grants


def case(department, grants=(), sources=()):
    return CaseData(department, "低保审核科", "城乡低保资格复核", "核验时间由5天缩短到1天",
                    tuple(grants), tuple(sources))  # fmt: skip


def test_an_authority_records_the_cases_of_its_own_area(world):
    rsj_grant = world.file(RSJ, request_for(POPULATION, ("name",))).grant_id
    county_grant = world.file(COUNTY, request_for(POPULATION, ("name",))).grant_id
    cid, region, sources, grants = record(world, CITY_AUTHORITY.code, case(RSJ.code, [rsj_grant]))
    assert (region, sources, grants) == ("230100", [POPULATION.code], [rsj_grant])
    # a county of Harbin is in the city authority's area; another city is not
    record(world, CITY_AUTHORITY.code, case(COUNTY.code, [county_grant], ["区人社局业务库"]))
    with pytest.raises(PermissionDenied) as outside:
        record(world, CITY_AUTHORITY.code, case(OTHER_CITY.code, sources=["x"]))
    assert outside.value.field == "department"
    record(world, "authority", case(OTHER_CITY.code, sources=["齐齐哈尔人社业务库"]))
    with pytest.raises(PermissionDenied):  # a department that is not an authority
        record(world, MZT.code, case(RSJ.code, [rsj_grant]))
    with pytest.raises(InvalidArgument) as foreign:  # the grant must be the department's own
        record(world, CITY_AUTHORITY.code, case(COUNTY.code, [rsj_grant]))
    assert foreign.value.field == "grants"
    with pytest.raises(InvalidArgument) as no_source:  # Art.31: data sources are required
        record(world, CITY_AUTHORITY.code, case(RSJ.code))
    assert no_source.value.field == "grants"
    with pytest.raises(InvalidArgument) as no_outcome:
        record(world, "authority", CaseData(RSJ.code, "科", "场景", " ", (rsj_grant,)))
    assert no_outcome.value.field == "outcome"
    with pytest.raises(NotFound):
        record(world, "authority", case(RSJ.code, ["00000000-0000-0000-0000-000000000000"]))
    with world.sessions() as s:
        entry = (
            s.execute(select(LedgerEntry).where(LedgerEntry.kind == "typical_case.recorded"))
            .scalars()
            .first()
        )
        body = json.loads(entry.payload_json)
    assert body["case"] == cid and body["articles"] == ["Art.31"]

    with world.sessions() as s:
        province = world.services.cases.report(s, "authority", "230000")
        city = world.services.cases.report(s, GAT.code, "230100")
        harbin, _ = world.services.cases.list_page(s, MZT.code, region="230100")
        everything = world.services.cases.report(s, "authority")
    assert (province.total, province.level) == (3, "province")
    assert province.by_region == [("230100", 2), ("230200", 1)]
    assert city.by_region == [("230100", 1), ("230102", 1)]
    assert dict(city.by_source)[POPULATION.code] == 2
    assert {c.department for c in harbin} == {RSJ.code, COUNTY.code}
    assert everything.total == 3 and everything.by_region == [("230000", 3)]


def test_paging_and_bad_tokens(world):
    for source in ("a", "b", "c"):
        record(world, "authority", case(RSJ.code, sources=[source]))
    seen, token = [], ""
    while True:
        with world.sessions() as s:
            page, token = world.services.cases.list_page(s, MZT.code, page_size=2, page_token=token)
        seen += [c.id for c in page]
        if not token:
            break
    assert len(seen) == 3 == len(set(seen))
    with world.sessions() as s, pytest.raises(InvalidArgument) as bad:
        world.services.cases.list_page(s, MZT.code, page_token="x1")
    assert bad.value.field == "page_token"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(tmp_path_factory.mktemp("cases"))
    yield s
    s.stop()


def run(stack, capsys, *argv: str, party: str) -> tuple[int, str, str]:
    capsys.readouterr()
    common = ["--home", str(stack.home.root), "--broker", stack.broker.target, "--as", party]
    code = main([*argv, *common])
    out, err = capsys.readouterr()
    return code, out, err


def test_typical_cases_from_the_shell(stack, capsys):
    with stack.consumer() as client:
        req = client.file_share_request(
            "gat.population", ["gender"], ["fetch"], PURPOSE, SCENARIO, BASIS, quota=5
        )
    code, out, _ = run(
        stack, capsys, "cases", "record", "hrb.rsj", "--subject", "低保审核科",
        "--scenario", "城乡低保资格复核", "--outcome", "核验时间由5天缩短到1天",
        "--grant", req.grant_id, "--json", party="authority",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["data_sources"] == ["gat.population"]
    code, out, _ = run(stack, capsys, "cases", "report", "--region", "230000", party="hlj.mzt")
    assert code == 0 and "typical cases of 230000 (province): 1 [Art.31]" in out
    code, out, _ = run(stack, capsys, "cases", "list", "--region", "230200", party="hlj.mzt")
    assert code == 0 and out.strip() == "no typical cases"
    code, _, err = run(
        stack, capsys, "cases", "record", "hrb.rsj", "--subject", "s", "--scenario", "s",
        "--outcome", "o", "--source", "x", party="hlj.mzt",
    )  # fmt: skip
    assert code != 0 and "PERMISSION_DENIED" in err and "authority" in err
