"""Size-only intersection holds only against a consumer that follows the protocol: the rule file
says what a deviating consumer obtains, and a grade that forbids that is refused the method."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tongdao.policies import (
    DepartmentFacts,
    EntryFacts,
    PolicyError,
    ShareRequestFacts,
    decide_share_request,
    load_policy,
)

SHIPPED = load_policy()
ENTRY = EntryFacts(
    code="gat.hj",
    provider="hlj.gat",
    share_type="unconditional",
    scope_departments=(),
    scope_levels=(),
    scope_regions=(),
    permitted_purposes=("低保审核",),
    legal_basis="",
    fields={"id_number": "sensitive_personal"},
    open_conditions="",
    classification="important",
)
REQUEST = ShareRequestFacts(
    DepartmentFacts("hrb.mzj", "230100", "city"),
    ENTRY,
    ("id_number",),
    ("intersection_size",),
    "低保审核",
    "低保资格核查",
    "《社会救助暂行办法》",
)


def _rule_file(tmp_path: Path, old: str, new: str) -> Path:
    text = Path(load_policy().source).read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "policy.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_the_shipped_policy_states_what_a_deviating_consumer_learns():
    learns = dict(SHIPPED.sharing.cheating_consumer_learns)
    assert learns == {"intersection_size": "intersection", "intersection_sum": "intersection"}
    # every grade that allows size-only intersection or the sum also allows the members
    for grade in SHIPPED.grades.values():
        if grade.allowed_methods & {"intersection_size", "intersection_sum"}:
            assert "intersection" in grade.allowed_methods
    assert decide_share_request(SHIPPED, REQUEST).outcome != "refused"


def test_a_grade_that_forbids_members_is_refused_size_only_intersection(tmp_path):
    path = _rule_file(
        tmp_path,
        'methods = ["verify", "intersection", "intersection_size", "intersection_sum"]',
        'methods = ["verify", "intersection_size", "intersection_sum"]',
    )
    policy = load_policy(path)
    for locale in ("en", "zh-CN"):
        d = decide_share_request(policy, REQUEST, locale=locale)
        assert d.outcome == "refused"
        assert d.rule == "sharing.cheating_consumer.intersection_size"
        assert d.articles == ("Art.14",) and "id_number" in d.reason
    allowed = decide_share_request(policy, dataclasses.replace(REQUEST, methods=("verify",)))
    assert allowed.outcome != "refused"


def test_the_rule_names_known_methods(tmp_path):
    path = _rule_file(
        tmp_path, 'intersection_size = "intersection"', 'intersection_size = "everything"'
    )
    with pytest.raises(PolicyError, match="cheating_consumer"):
        load_policy(path)
