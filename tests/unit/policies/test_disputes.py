"""Dispute routing (Art.25): same region and level → that region's authority; otherwise the
provincial authority; what coordination cannot settle → the coordination mechanism."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongdao.policies import disputes
from tongdao.policies.loader import load_policy

RULES = load_policy().dispute_rules
regions = st.sampled_from(["230000", "230100", "230102", "230200", "220000"])
levels = st.sampled_from(["province", "city", "county"])
parties = st.builds(disputes.Party, st.sampled_from(["a", "b", "c"]), regions, levels)


def test_the_rule_file_names_the_article_and_both_clocks():
    assert RULES.article == "Art.25"
    policy = load_policy()
    assert policy.deadline(RULES.handling_clock).article == "Art.25"
    assert policy.deadline(RULES.coordination_clock).article == "Art.25"
    assert set(RULES.subjects) == set(disputes.SUBJECT_KINDS)


def test_two_city_departments_of_one_city_go_to_that_citys_authority():
    r = disputes.route(
        RULES, disputes.Party("x", "230100", "city"), disputes.Party("y", "230100", "city")
    )
    assert (r.stage, r.region, r.article) == ("same_level", "230100", "Art.25")


def test_a_city_and_a_province_department_go_to_the_provincial_authority():
    r = disputes.route(
        RULES, disputes.Party("x", "230100", "city"), disputes.Party("y", "230000", "province")
    )
    assert (r.stage, r.region) == ("provincial", "230000")
    assert "regions" in r.reason
    r = disputes.route(
        RULES, disputes.Party("x", "230100", "city"), disputes.Party("y", "230100", "county")
    )
    assert (r.stage, r.region) == ("provincial", "230000")
    assert "levels" in r.reason


@given(parties, parties)
def test_routing_does_not_depend_on_who_opens_it(a, b):
    ab, ba = disputes.route(RULES, a, b), disputes.route(RULES, b, a)
    assert ab.stage == ba.stage
    if a.region[:2] == b.region[:2]:
        assert ab.region == ba.region


@given(parties, parties)
def test_same_level_exactly_when_region_and_level_agree(a, b):
    r = disputes.route(RULES, a, b)
    same = a.region == b.region and a.level == b.level
    assert (r.stage == "same_level") is same
    assert r.region == (a.region if same else disputes.province_of(a.region))


def test_coordination_is_the_last_stage():
    assert disputes.next_stage(RULES, "same_level") == "coordination"
    assert disputes.next_stage(RULES, "provincial") == "coordination"
    assert disputes.next_stage(RULES, "coordination") is None
    assert disputes.clock_for(RULES, "coordination") == RULES.coordination_clock
    assert disputes.clock_for(RULES, "provincial") == RULES.handling_clock
    with pytest.raises(ValueError):
        disputes.next_stage(RULES, "court")
