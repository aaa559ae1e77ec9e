"""Chinese catalogue search: the same results on SQLite and PostgreSQL (CAT-8)."""

from __future__ import annotations

import dataclasses

import pytest

from broker.catalogue_search import search
from broker.services import DataItemData, EntryData
from tests.integration.broker_fixtures import POPULATION, World

ENTRIES = [
    (
        "gat.household",
        "户籍人口信息",
        "常住人口户籍登记",
        ["id_number", "household_address"],
        "hlj.gat",
    ),
    (
        "mzt.marriage2",
        "婚姻登记信息",
        "结婚、离婚登记记录",
        ["id_number", "marital_status"],
        "hlj.mzt",
    ),
    (
        "mzt.dibao",
        "城乡低保对象信息",
        "最低生活保障家庭及成员",
        ["household_id", "allowance"],
        "hlj.mzt",
    ),
    (
        "gat.vehicle",
        "机动车登记信息",
        "机动车注册、转移、抵押登记",
        ["plate_number", "owner_id"],
        "hlj.gat",
    ),
]


@pytest.fixture
def catalogue(database_url):
    w = World(database_url).setup()
    for code, name, description, items, provider in ENTRIES:
        data = dataclasses.replace(
            POPULATION,
            code=code,
            name=name,
            description=description,
            provider=provider,
            data_items=tuple(DataItemData(i, "string", f"{name}{i}", "personal") for i in items),
            key_field=items[0],
        )
        with w.sessions.begin() as s:
            w.services.create_entry(s, provider, EntryData(**data.__dict__))
            w.services.submit_entry(s, provider, code)
            w.services.publish_entry(s, "authority", code, "ok")
    yield w
    w.engine.dispose()


def codes(w, query, **filters):
    with w.sessions.begin() as s:
        return [h.entry.code for h in search(s, query, **filters)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("户籍人口", ["gat.household"]),  # 4 characters: trigram index
        ("婚姻", ["mzt.marriage", "mzt.marriage2"]),  # 2 characters: no trigram, still found
        ("登记 机动车", ["gat.vehicle"]),  # every term must match
        ("ＭＡＲＩＴＡＬ_status", ["mzt.marriage", "mzt.marriage2"]),  # full-width, case-folded
        ("最低生活保障", ["mzt.dibao"]),
        ("不存在的数据", []),
    ],
)
def test_search_results_are_the_same_on_both_stores(catalogue, query, expected):
    assert sorted(codes(catalogue, query)) == sorted(expected)


def test_ranking_prefers_the_name_and_filters_apply(catalogue):
    # "登记" is in the names of three entries (score 3, then by code) and only in the
    # description of gat.household (score 1)
    assert codes(catalogue, "登记") == [
        "gat.vehicle",
        "mzt.marriage",
        "mzt.marriage2",
        "gat.household",
    ]
    assert codes(catalogue, "登记", provider="hlj.gat") == ["gat.vehicle", "gat.household"]
    assert codes(catalogue, "信息", share_type="conditional") == ["mzt.marriage"]


def test_drafts_are_not_found_until_published(catalogue):
    draft = dataclasses.replace(POPULATION, code="gat.draft", name="草稿户籍信息")
    with catalogue.sessions.begin() as s:
        catalogue.services.create_entry(s, "hlj.gat", EntryData(**draft.__dict__))
    assert codes(catalogue, "草稿户籍") == []
