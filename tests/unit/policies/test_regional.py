"""The rule file's [regional] table (Art.23 regional delegation, Art.26 return flow) and the
level order delegation and return flow go down."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongdao.policies.loader import load_policy
from tongdao.policies.model import PolicyError
from tongdao.policies.regional import LEVELS, is_lower

BUNDLED = Path(load_policy().source)
levels = st.sampled_from([*LEVELS, "bureau", ""])


def test_the_rule_file_names_the_articles_and_the_withdrawal_ground():
    policy = load_policy()
    rules = policy.regional
    assert rules is not None
    assert (rules.delegation_article, rules.return_flow_article) == ("Art.23", "Art.26")
    assert policy.grant_status.grounds[rules.withdrawal_ground].article == "Art.26"
    assert rules.on_withdrawal == "terminate" and "fetch" in rules.return_flow_methods


@given(levels, levels)
def test_lower_is_a_strict_order(a, b):
    assert not (is_lower(a, b) and is_lower(b, a))
    assert not is_lower(a, a)
    if is_lower(a, b):
        assert a in LEVELS and b in LEVELS and LEVELS.index(a) > LEVELS.index(b)


def test_a_county_is_below_a_city_below_the_province():
    assert is_lower("county", "city") and is_lower("city", "province")
    assert not is_lower("province", "city")


@pytest.mark.parametrize(
    "old,new,key",
    [
        ('on_withdrawal = "terminate"', 'on_withdrawal = "forget"', "on_withdrawal"),
        (
            'withdrawal_ground = "return_flow_withdrawn"',
            'withdrawal_ground = "nothing"',
            "withdrawal_ground",
        ),
        ("return_flow_quota = 100000", "return_flow_quota = 0", "return_flow_quota"),
    ],
)
def test_a_bad_regional_table_is_refused_naming_its_key(tmp_path, old, new, key):
    text = BUNDLED.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "rules.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert key in str(err.value)
