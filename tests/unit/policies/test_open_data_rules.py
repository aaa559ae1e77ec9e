"""``[open_data]`` (Art.34, 35): who a public requester must say it is, and which items are open."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongdao.policies.loader import RULES_DIR, load_policy
from tongdao.policies.model import PolicyError
from tongdao.policies.open_data import IDENTITY_FIELDS, missing_identity, open_fields

HLJ = RULES_DIR / "heilongjiang-2025.toml"
RULES = load_policy().open_data
assert RULES is not None


def test_the_bundled_file_asks_for_name_contact_and_id_number():
    assert RULES.requester_identity == ("name", "contact", "id_number")
    assert (RULES.article, RULES.withdrawal_article) == ("Art.34", "Art.35")
    assert missing_identity(RULES, {"name": "张三", "contact": "1"}) == "id_number"
    assert (
        missing_identity(RULES, {"name": "张三", "contact": "1", "id_number": " "}) == "id_number"
    )
    assert missing_identity(RULES, dict.fromkeys(IDENTITY_FIELDS, "x")) is None


def test_a_rule_file_may_ask_for_the_name_alone(tmp_path):
    text = HLJ.read_text(encoding="utf-8")
    old = 'requester_identity = ["name", "contact", "id_number"]'
    variant = tmp_path / "variant.toml"
    variant.write_text(text.replace(old, 'requester_identity = ["name"]'), encoding="utf-8")
    rules = load_policy(variant).open_data
    assert rules is not None and missing_identity(rules, {"name": "张三"}) is None
    variant.write_text(text.replace(old, 'requester_identity = ["contact"]'), encoding="utf-8")
    with pytest.raises(PolicyError, match="requester_identity"):
        load_policy(variant)


grades = st.dictionaries(
    st.text("abcdefgh", min_size=1, max_size=4),
    st.sampled_from(("general", "personal", "sensitive_personal")),
    max_size=8,
)


@given(grades)
def test_open_fields_are_the_items_of_open_grades_in_catalogue_order(items):
    got = open_fields(RULES, items)
    assert list(got) == [n for n, g in items.items() if g in RULES.open_grades]
    narrow = dataclasses.replace(RULES, open_grades=("general",))
    assert set(open_fields(narrow, items)) <= set(got)
