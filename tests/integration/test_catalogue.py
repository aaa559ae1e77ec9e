"""The catalogue's lifecycle, search, matching, open catalogue and bulk files, on both stores.

Every test runs on SQLite and on PostgreSQL (``database_url``); the search tests assert literal
expected results, so passing on both means both stores return the same entries in the same order.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
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
from tongdao.broker.catalogue.base import DataItemData, EntryData
from tongdao.broker.catalogue.file_formats import export, parse
from tongdao.broker.catalogue.search_ranking import SearchFilters
from tongdao.broker.ledger.models import LedgerEntry
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, PermissionDenied

LAND = EntryData(
    code="zrzy.land",
    name="不动产登记信息",
    description="自然资源厅不动产权利登记，含 GIS 坐标",
    provider="hlj.gat",
    data_items=(
        DataItemData("unit_number", "string", "不动产单元号", "general"),
        DataItemData("holder", "string", "权利人", "personal"),
        DataItemData("area", "decimal", "面积", "general"),
    ),
    key_field="unit_number",
    share_type="unconditional",
    open_type="conditional_open",
    open_conditions="依申请向科研机构开放",
    tags=("natural_resources_geography",),
    aggregation_mode="physical",
    data_format="structured",
    update_frequency="monthly",
    classification="自然资源和空间地理库",
    grade="general",
)
MARRIAGE_HISTORY = EntryData(
    code="mzt.marriage-history",
    name="历史婚姻登记档案",
    description="民政厅1990年以来婚姻登记档案",
    provider="hlj.mzt",
    data_items=(
        DataItemData("id_number", "string", "公民身份号码", "sensitive_personal"),
        DataItemData("register_date", "date", "登记日期", "general"),
    ),
    key_field="id_number",
    share_type="unconditional",
    tags=("thematic",),
    data_format="file",
    update_frequency="yearly",
    classification="主题库",
    grade="important",
)


def _publish(world: World, entry: EntryData) -> None:
    with world.sessions.begin() as s:
        world.services.catalogue.create_entry(s, entry.provider, entry)
        world.services.catalogue.submit_entry(s, entry.provider, entry.code)
        world.services.catalogue.publish_entry(s, "authority", entry.code, "ok")


@pytest.fixture
def world(database_url):
    w = World(database_url).setup()
    for entry in (LAND, MARRIAGE_HISTORY):
        _publish(w, entry)
    yield w
    w.engine.dispose()


def search(world: World, query: str, **filters):
    with world.sessions.begin() as s:
        hits, _more = world.services.catalogue.search_catalogue(
            s, "hlj.gat", query, SearchFilters(**filters), limit=50
        )
    return [h.code for h in hits]


# ---------------------------------------------------------------- search (CAT-8)


def test_chinese_search_same_results_and_order_on_both_stores(world):
    # name matches (婚姻登记信息, 历史婚姻登记档案) outrank a description-only match
    assert search(world, "婚姻登记") == ["mzt.marriage", "mzt.marriage-history"]
    assert search(world, "公民身份号码") == [
        "gat.population",
        "mzt.marriage",
        "mzt.marriage-history",
    ]
    assert search(world, "不动产单元号") == ["zrzy.land"]
    assert search(world, "gis 坐标") == [
        "zrzy.land"
    ]  # case-folded ASCII (register_date has "gis" too)
    assert search(world, "ＧＩＳ 坐标") == ["zrzy.land"]  # full-width folded (NFKC)
    assert search(world, "婚姻登记 档案") == ["mzt.marriage-history"]  # all terms must occur
    assert search(world, "不存在的词") == []
    assert search(world, "100%") == []  # LIKE wildcards are escaped


def test_two_character_and_one_character_terms_are_found(world):
    # 婚姻 / 面积 have no trigram: answered by the LIKE path, same results on both stores
    assert search(world, "婚姻") == ["mzt.marriage", "mzt.marriage-history"]
    assert search(world, "面积") == ["zrzy.land"]
    assert search(world, "档") == ["mzt.marriage-history"]
    assert search(world, "婚姻 登记日期") == ["mzt.marriage-history"]  # short + long term


def test_filters(world):
    assert search(world, "", tag="natural_resources_geography") == ["zrzy.land"]
    assert search(world, "", open_type="conditional_open") == ["zrzy.land"]
    assert search(world, "婚姻", provider="hlj.mzt", share_type="conditional") == ["mzt.marriage"]
    assert search(world, "", region="230000", grade="sensitive_personal") == [
        "gat.population",
        "mzt.marriage",
        "mzt.marriage-history",
    ]
    assert search(world, "", region="230100") == []
    with pytest.raises(InvalidArgument) as err:
        search(world, "", tag="nonsense")
    assert err.value.field == "filters.tag"


def test_match_need_and_items(world):
    with world.sessions.begin() as s:
        hits = world.services.catalogue.match_catalogue(
            s, "hlj.gat", "核查低保申请人的婚姻状况", ["婚姻状况"], SearchFilters()
        )
    assert hits[0].code == "mzt.marriage"
    assert hits[0].matched_items == ("婚姻状况",)
    with world.sessions.begin() as s, pytest.raises(InvalidArgument):
        world.services.catalogue.match_catalogue(s, "hlj.gat", "", [], SearchFilters())


def test_draft_flagged_obtainable_by_sharing(world):
    draft = dataclasses.replace(
        MARRIAGE_HISTORY,
        code="rsj.marriage-copy",
        provider="hrb.rsj",
        name="婚姻信息采集",
        data_items=(
            DataItemData("id_number", "string", "公民身份号码", "sensitive_personal"),
            DataItemData("ms", "string", "婚姻状况", "personal"),
            DataItemData("x", "string", "家庭人口数", "general"),
        ),
    )
    with world.sessions.begin() as s:
        entry = world.services.catalogue.create_entry(s, "hrb.rsj", draft)
        hints = entry.content["obtainable_by_sharing"]
    # the key field (公民身份号码) is an identifier, not collected data: only 婚姻状况 counts
    assert hints == [
        {"entry_code": "mzt.marriage", "provider": "hlj.mzt", "name": "婚姻登记信息",
         "items": ["婚姻状况"]}
    ]  # fmt: skip


def test_open_catalogue_is_derived_and_current(world):
    with world.sessions.begin() as s:
        rows, _ = world.services.catalogue.open_catalogue(s, "hlj.gat")
        assert [r.entry_code for r, _c in rows] == ["zrzy.land"]
    # a new version that closes the entry leaves the open catalogue at once
    closed = dataclasses.replace(LAND, open_type="not_open", open_conditions="涉及个人信息")
    with world.sessions.begin() as s:
        world.services.catalogue.revise_entry(s, "hlj.gat", closed)
        world.services.catalogue.submit_entry(s, "hlj.gat", LAND.code)
        world.services.catalogue.publish_entry(s, "authority", LAND.code, "")
    with world.sessions.begin() as s:
        assert world.services.catalogue.open_catalogue(s, "hlj.gat")[0] == []


# ---------------------------------------------------------------- entries (CAT-1..4)


def test_art13_fields_and_edge_validation(world):
    with world.sessions.begin() as s:
        _entry, content, _ = world.services.catalogue.get_entry(s, LAND.code)
    assert content["aggregation_mode"] == "physical"
    assert content["tags"] == ["natural_resources_geography"]
    bad_tag = dataclasses.replace(LAND, code="x.bad", tags=("national",))
    bad_mode = dataclasses.replace(LAND, code="x.mode", aggregation_mode="cloud")
    personal_open = dataclasses.replace(
        MARRIAGE_HISTORY, code="x.open", open_type="unconditional_open", open_conditions=""
    )
    for data, field in ((bad_tag, "entry.tags"), (bad_mode, "entry.aggregation_mode")):
        with world.sessions.begin() as s, pytest.raises(InvalidArgument) as err:
            world.services.catalogue.create_entry(s, data.provider, data)
        assert err.value.field == field
    with world.sessions.begin() as s, pytest.raises(InvalidArgument) as err:
        world.services.catalogue.create_entry(s, "hlj.mzt", personal_open)
    assert "Art.33" in err.value.articles  # CAT-3: personal data, no consent
    with world.sessions.begin() as s:
        ok = world.services.catalogue.create_entry(
            s, "hlj.mzt", dataclasses.replace(personal_open, subject_consent=True)
        )
        assert ok.content["subject_consent"] is True


# ---------------------------------------------------------------- review and revocation


def test_entries_are_reviewed_at_their_level_then_one_level_up(world):
    city_authority = Party("hrb.sjj", "230100", "city")
    world.register(city_authority, name="哈尔滨市数据局", is_authority=True)
    county_entry = dataclasses.replace(MARRIAGE_HISTORY, code="dl.records", provider=COUNTY.code)
    with world.sessions.begin() as s:
        world.services.catalogue.create_entry(s, COUNTY.code, county_entry)
        entry = world.services.catalogue.submit_entry(s, COUNTY.code, county_entry.code)
        # county 230102 has no authority registered: that step is skipped, the city's reviews
        assert entry.reviewer == "hrb.sjj"
    with world.sessions.begin() as s, pytest.raises(PermissionDenied):
        world.services.catalogue.publish_entry(
            s, MZT.code, county_entry.code, ""
        )  # not an authority
    with world.sessions.begin() as s:
        assert world.services.catalogue.publish_entry(
            s, "hrb.sjj", county_entry.code, ""
        ).status == ("published")
    city_entry = dataclasses.replace(MARRIAGE_HISTORY, code="rsj.records", provider=RSJ.code)
    with world.sessions.begin() as s:
        world.services.catalogue.create_entry(s, RSJ.code, city_entry)
        # Art.12: a city department's entry is reviewed by the city's authority first ...
        assert world.services.catalogue.submit_entry(s, RSJ.code, city_entry.code).reviewer == (
            "hrb.sjj"
        )
    with world.sessions.begin() as s:
        reviewed = world.services.catalogue.publish_entry(s, "hrb.sjj", city_entry.code, "同意")
        # ... then by the province's (none registered: the broker's operator) before publication
        assert (reviewed.status, reviewed.reviewer) == ("submitted", "authority")
    with world.sessions.begin() as s, pytest.raises(PermissionDenied):
        world.services.catalogue.publish_entry(s, "hrb.sjj", city_entry.code, "")
    with world.sessions.begin() as s:
        published = world.services.catalogue.publish_entry(s, "authority", city_entry.code, "")
        assert published.status == "published" and published.current_version == 1
    with world.sessions() as s:
        kinds = [
            e.kind
            for e in s.execute(
                select(LedgerEntry).where(LedgerEntry.subject == city_entry.code)
            ).scalars()
        ]
    assert kinds[-3:] == [
        "catalogue_entry.submitted", "catalogue_entry.reviewed", "catalogue_entry.published",
    ]  # fmt: skip


def test_an_incomplete_entry_cannot_be_submitted(world):
    bare = dataclasses.replace(
        MARRIAGE_HISTORY, code="mzt.bare", data_format="", update_frequency="", grade=""
    )
    with world.sessions.begin() as s:
        world.services.catalogue.create_entry(s, "hlj.mzt", bare)  # a draft may be incomplete
    with world.sessions.begin() as s, pytest.raises(FailedPrecondition) as err:
        world.services.catalogue.submit_entry(s, "hlj.mzt", bare.code)
    assert err.value.field == "entry.data_format"
    assert "update_frequency" in str(err.value) and "grade" in str(err.value)
    assert set(err.value.articles) == {"Art.13", "Art.14"}
    with world.sessions.begin() as s, pytest.raises(InvalidArgument) as bad:
        world.services.catalogue.create_entry(
            s, "hlj.mzt", dataclasses.replace(MARRIAGE_HISTORY, code="mzt.g", grade="secret")
        )
    assert bad.value.field == "entry.grade"


def test_revocation_in_use_sunsets_after_six_months_then_is_withdrawn(world):
    request = world.file(RSJ, request_for(POPULATION, ["name"]))
    token = world.grant(request.grant_id).token
    with world.sessions.begin() as s:
        world.services.catalogue.request_revocation(s, GAT.code, POPULATION.code, "职责调整")
    assert search(world, "人口基本信息") == ["gat.population"]  # still in force while reviewed
    with world.sessions.begin() as s:
        entry = world.services.catalogue.decide_revocation(
            s, "authority", POPULATION.code, True, "同意"
        )
        assert entry.status == "sunset"
        assert entry.sunset_on == dt.date(2027, 3, 28)  # 2026-09-28 + 6 months (Art.16)
    with world.sessions.begin() as s:
        hits, _ = world.services.catalogue.search_catalogue(s, "hlj.gat", "人口", SearchFilters())
        assert hits[0].status == "sunset" and hits[0].sunset_on == dt.date(2027, 3, 28)
    # still served during the grace period
    world.relay(RSJ, GAT, token, ["name"], {"keys": ["230102199001011234"]})
    with pytest.raises(FailedPrecondition):  # but no new requests
        world.file(RSJ, request_for(POPULATION, ["name"]))
    world.clock.now = dt.datetime(2027, 3, 29, 2, 0, tzinfo=dt.UTC)
    with pytest.raises(PermissionDenied) as err:
        world.relay(RSJ, GAT, token, ["name"], {"keys": ["230102199001011234"]})
    assert "Art.16" in err.value.articles
    assert search(world, "人口基本信息") == []
    with world.sessions.begin() as s:
        assert world.services.catalogue.withdraw_due_entries(s, "authority") == [POPULATION.code]


def test_revocation_unused_is_immediate_and_refusal_restores(world):
    with world.sessions.begin() as s:
        world.services.catalogue.request_revocation(s, "hlj.gat", LAND.code, "不再采集")
        with pytest.raises(PermissionDenied):
            world.services.catalogue.decide_revocation(s, "hlj.mzt", LAND.code, True, "")
        assert world.services.catalogue.decide_revocation(
            s, "authority", LAND.code, False, ""
        ).status == ("published")
    with world.sessions.begin() as s:
        world.services.catalogue.request_revocation(s, "hlj.gat", LAND.code, "不再采集")
        entry = world.services.catalogue.decide_revocation(s, "authority", LAND.code, True, "")
        assert entry.status == "withdrawn"
    assert search(world, "不动产") == []


# ---------------------------------------------------------------- bulk files


CSV_HEADER = (
    "信息资源代码,信息资源名称,信息资源摘要,关键字段,共享类型,允许用途,共享范围层级,开放类型,"
    "开放条件,标签,信息项名称,数据类型,信息项描述,敏感级别\n"
)


def _csv(*rows: str) -> bytes:
    return (CSV_HEADER + "".join(r + "\n" for r in rows)).encode("utf-8")


GOOD_ROWS = (
    "gat.hukou,户籍登记信息,户籍,id_number,有条件共享,户籍核验,province,不予开放,涉及个人信息,"
    "population,id_number,string,公民身份号码,sensitive_personal",
    "gat.hukou,,,,,,,,,,household,string,户号,personal",
    "gat.cars,机动车登记,,plate,无条件共享,,,不予开放,涉及个人信息,,plate,string,号牌号码,general",
)


def test_csv_import_reports_every_problem_and_imports_nothing(world):
    content = _csv(
        *GOOD_ROWS,
        "gat.hukou,不同的名称,,,,,,,,,addr,string,住址,personal",  # conflicts with line 2
        "gat.bad,坏条目,,k,无条件共享,,,不予开放,原因,,k,string,键,secret",  # unknown grade
        "gat.nob,不予共享条目,,k,不予共享,,,不予开放,原因,,k,string,键,general",  # no basis
    )
    with world.sessions.begin() as s:
        result = world.services.catalogue.import_entries(s, "hlj.gat", content, "csv")
    problems = {(p.line, p.column) for p in result.problems}
    assert result.imported == 0
    assert (5, "name") in problems
    assert (6, "item_sensitivity") in problems
    assert any(p.line == 7 and "Art.21" in p.problem for p in result.problems)
    with world.sessions.begin() as s:
        assert world.services.catalogue.list_entries(s, provider="hlj.gat", status="draft") == []


def test_csv_xlsx_json_round_trip(world):
    with world.sessions.begin() as s:
        result = world.services.catalogue.import_entries(s, "hlj.gat", _csv(*GOOD_ROWS), "csv")
    assert result.imported == 2, result.problems
    with world.sessions.begin() as s:
        hukou = world.services.catalogue.get_entry(s, "gat.hukou")[1]
    assert hukou["share_type"] == "conditional" and hukou["tags"] == ["population"]
    assert [i["description"] for i in hukou["data_items"]] == ["公民身份号码", "户号"]
    for fmt in ("csv", "xlsx", "json"):
        with world.sessions.begin() as s:
            blob, _ = world.services.catalogue.export_entries(s, "hlj.gat", fmt, status="draft")
        parsed, problems = parse(blob, fmt)
        assert problems == []
        assert {p.entry["code"] for p in parsed} == {"gat.hukou", "gat.cars"}
        back = next(p.entry for p in parsed if p.entry["code"] == "gat.hukou")
        assert back["data_items"] == hukou["data_items"]
        assert back["permitted_purposes"] == ["户籍核验"]


def test_json_import_problems_name_entry_and_key(world):
    blob = json.dumps([{"code": "gat.j", "name": "x", "bogus": 1, "tags": "population"}]).encode()
    with world.sessions.begin() as s:
        result = world.services.catalogue.import_entries(s, "hlj.gat", blob, "json")
    assert {(p.line, p.column) for p in result.problems} >= {(1, "bogus"), (1, "tags")}


def test_export_writes_one_row_per_item():
    content = [{"code": "a", "name": "甲", "data_items": [{"name": "x"}, {"name": "y"}]}]
    rows = list(csv.reader(io.StringIO(export(content, "csv").decode("utf-8-sig"))))
    assert rows[0][0] == "code" and [r[0] for r in rows[1:]] == ["a", "a"]
