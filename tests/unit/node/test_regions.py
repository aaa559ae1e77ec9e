"""The region scope at the node (SHR-1): every way an engine reads a source sees the same
records, those inside the grant's regions; a node that cannot tell regions refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.node.world import World
from tongdao.node.adapters import CsvSource
from tongdao.node.config import ConfigError, load_node_config
from tongdao.node.regions import RegionScopedSource, within_regions
from tongdao.policies.engine import in_regions
from tongdao.proto.errors import FailedPrecondition

CODES = ["230102", "230103", "230202", "230602", "", "999999"]


def source(tmp: Path, regions: list[str]) -> CsvSource:
    path = tmp / "people.csv"
    lines = ["id,district,value"] + [f"k{n},{r},{n}" for n, r in enumerate(regions)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return CsvSource(path, "id")


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from(CODES), min_size=1, max_size=12),
    st.lists(st.sampled_from(["230100", "230200", "230000", "230103"]), min_size=1, max_size=2),
)
def test_every_read_sees_exactly_the_records_inside(tmp_path_factory, regions, scope):
    raw = source(tmp_path_factory.mktemp("r"), regions)
    scoped = RegionScopedSource(raw, "district", {}, scope)
    inside = {f"k{n}" for n, r in enumerate(regions) if r and in_regions(r, tuple(scope))}
    assert {r["id"] for r in scoped.rows()} == inside
    assert {row[0] for row in scoped.project(["id"])} == inside
    assert {f"k{n}" for n in range(len(regions)) if scoped.lookup(f"k{n}")} == inside
    assert scoped.count() == len(inside)


def test_values_map_to_codes_and_an_unmapped_value_is_outside(tmp_path):
    raw = source(tmp_path, ["南岗区", "龙沙区", "某区"])
    codes = {"南岗区": "230103", "龙沙区": "230202"}
    scoped = RegionScopedSource(raw, "district", codes, ["230100"])
    assert [r["id"] for r in scoped.rows()] == ["k0"]


def test_a_grant_with_regions_needs_a_region_column(tmp_path):
    world = World(tmp_path)
    entry = world.engine.entries["gat.population"]
    claims = world.claims(regions=("230100",))
    with pytest.raises(FailedPrecondition) as err:
        within_regions(entry, claims, "Art.22")
    assert "region_field" in str(err.value)
    assert within_regions(entry, world.claims(), "Art.22") is entry
    world.engine.state.close()


def test_the_configuration_names_the_region_column_and_codes(tmp_path):
    base = """department = "hlj.gat"
home = "h"
[[entries]]
code = "gat.population"
source = "csv:p.csv"
key_field = "id_number"
{extra}
[entries.grades]
name = "personal"
"""
    path = tmp_path / "node.toml"
    path.write_text(
        base.format(extra='region_field = "district"\nregion_codes = { "南岗区" = "230103" }'),
        encoding="utf-8",
    )
    entry = load_node_config(path).entries[0]
    assert entry.region_field == "district" and entry.region_codes == {"南岗区": "230103"}
    path.write_text(base.format(extra='region_codes = { "南岗区" = "2301" }'), encoding="utf-8")
    with pytest.raises(ConfigError, match="region_codes"):
        load_node_config(path)
