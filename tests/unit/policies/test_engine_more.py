"""More decision paths: validity on every decide_*, classifications, open data, extensions."""

import dataclasses
import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tongdao.policies import (
    DepartmentFacts,
    EntryFacts,
    PolicyError,
    ShareRequestFacts,
    decide_deadline_extension,
    decide_open_data_request,
    decide_provider_review,
    decide_share_request,
    load_policy,
    mask_value,
    validate_catalogue_entry,
)

P = load_policy()
ARTICLE = re.compile(r"^Art\.\d+(\(\d+\))?$")
ENTRY = EntryFacts(
    code="gat.hj",
    provider="hlj.gat",
    share_type="conditional",
    scope_departments=(),
    scope_levels=("province", "city"),
    scope_regions=("230000",),
    permitted_purposes=("低保审核",),
    legal_basis="",
    fields={"id_number": "sensitive_personal", "name": "personal", "gender": "general"},
    open_conditions="涉及个人隐私",
    classification="important",
)
CITY = DepartmentFacts("hrb.mzj", "230100", "city")
OUTSIDE = dt.date(2027, 1, 6)  # first day after the 2 years of Art.47
LAST_DAY = dt.date(2027, 1, 5)


def _request(**changes):
    base = ShareRequestFacts(
        CITY, ENTRY, ("name",), ("fetch",), "低保审核", "低保资格核查", "《社会救助暂行办法》"
    )
    return dataclasses.replace(base, **changes)


def test_every_decide_function_refuses_outside_the_validity_period():
    assert decide_share_request(P, _request(today=LAST_DAY)).outcome == "pending_provider_review"
    decisions = [
        decide_share_request(P, _request(today=OUTSIDE), locale="en"),
        validate_catalogue_entry(P, ENTRY, locale="en", today=OUTSIDE),
        decide_provider_review(P, approve=True, reason="", locale="en", today=OUTSIDE),
        decide_open_data_request(P, ENTRY, locale="en", today=OUTSIDE),
        decide_deadline_extension(P, "catalogue_update", basis="x", today=OUTSIDE),
        decide_share_request(P, _request(today=dt.date(2025, 1, 5)), locale="en"),
    ]
    for d in decisions:
        assert d.outcome in ("refused", "invalid") and d.articles == ("Art.47",)
        assert d.rule == "policy.validity"
    assert "2027-01-05" in decisions[0].reason


def test_not_shared_refusal_quotes_the_basis_in_both_locales():
    entry = dataclasses.replace(
        ENTRY, share_type="not_shared", legal_basis="《居民身份证法》第十九条"
    )
    for locale in ("zh-CN", "en"):
        d = decide_share_request(P, _request(entry=entry), locale=locale)
        assert d.outcome == "refused" and d.rule == "sharing.not_shared"
        assert d.articles == ("Art.21(3)", "Art.22") and "《居民身份证法》第十九条" in d.reason


def test_refusals_name_the_field_and_the_grade_rule():
    unknown = decide_share_request(P, _request(fields=("salary",)), locale="en")
    assert "salary" in unknown.reason
    sensitive = decide_share_request(
        P, _request(fields=("id_number",), methods=("aggregate",)), locale="en"
    )
    assert sensitive.rule == "grades.sensitive_personal.methods"
    assert sensitive.articles == ("Art.14",) and "id_number" in sensitive.reason
    no_basis = decide_share_request(P, _request(legal_basis=""), locale="en")
    assert (no_basis.outcome, no_basis.articles) == ("refused", ("Art.22",))


def test_conditional_scope_by_department_list():
    entry = dataclasses.replace(ENTRY, scope_departments=("hrb.mzj",))
    assert decide_share_request(P, _request(entry=entry)).outcome == "pending_provider_review"
    other = DepartmentFacts("hrb.other", "230100", "city")
    d = decide_share_request(P, _request(entry=entry, consumer=other))
    assert (d.outcome, d.articles) == ("refused", ("Art.22(2)",))


def test_catalogue_classification_and_grades():
    bad = dataclasses.replace(ENTRY, classification="secret")
    d = validate_catalogue_entry(P, bad, locale="en")
    assert (d.outcome, d.rule, d.articles) == ("invalid", "classifications", ("Art.14",))
    bad_grade = dataclasses.replace(ENTRY, fields={"x": "top"})
    assert validate_catalogue_entry(P, bad_grade).articles == ("Art.14",)
    assert validate_catalogue_entry(P, ENTRY).outcome == "valid"


def test_general_data_may_be_unconditionally_open_personal_data_needs_consent():
    general = dataclasses.replace(
        ENTRY, fields={"gender": "general"}, open_type="unconditional_open", open_conditions=""
    )
    assert validate_catalogue_entry(P, general).outcome == "valid"
    secret = dataclasses.replace(general, contains_personal_or_secret=True)
    assert validate_catalogue_entry(P, secret).rule == "opening.personal_requires_consent"


def test_open_data_requests():
    free = dataclasses.replace(ENTRY, open_type="unconditional_open")
    d = decide_open_data_request(P, free, locale="en")
    assert (d.outcome, d.articles) == ("approved", ("Art.34",))
    cond = dataclasses.replace(ENTRY, open_type="conditional_open", open_conditions="仅限科研")
    d = decide_open_data_request(P, cond)
    assert (d.outcome, d.due_working_days, d.articles) == (
        "pending_provider_review",
        5,
        ("Art.34",),
    )
    assert "仅限科研" in d.reason
    d = decide_open_data_request(P, ENTRY, locale="en")
    assert (d.outcome, d.articles) == ("refused", ("Art.33",)) and "涉及个人隐私" in d.reason


def test_deadline_extension_once_with_a_basis():
    ok = decide_deadline_extension(P, "catalogue_update", basis="《某规定》第三条", locale="en")
    assert (ok.outcome, ok.due_working_days, ok.articles) == ("approved", 5, ("Art.15",))
    again = decide_deadline_extension(P, "catalogue_update", basis="x", extensions_granted=1)
    assert (again.outcome, again.rule) == ("refused", "deadlines.catalogue_update.max_extensions")
    no_basis = decide_deadline_extension(P, "catalogue_update", basis=" ")
    assert no_basis.outcome == "refused"
    fixed = decide_deadline_extension(P, "conditional_share_review", basis="x")
    assert (fixed.outcome, fixed.articles) == ("refused", ("Art.22(2)",))
    with pytest.raises(PolicyError) as err:
        decide_deadline_extension(P, "nonexistent", basis="x")
    assert err.value.key == "deadlines.nonexistent"


def test_masking_by_grade_and_field_kind():
    assert mask_value(P, "personal", "230102199001011234", field_kind="id_number") == (
        "2301**********1234"
    )
    assert mask_value(P, "personal", "欧阳娜娜", field_kind="name") == "欧***"
    assert mask_value(P, "personal", "哈尔滨市南岗区") == "哈*****区"  # grade default: middle
    assert mask_value(P, "personal", "ab") == "a*"
    assert mask_value(P, "personal", "") == ""
    assert mask_value(P, "general", "230102199001011234", field_kind="id_number") == (
        "230102199001011234"
    )


NAMES = st.sampled_from(["id_number", "name", "gender", "salary"])
TEXT = st.sampled_from(["", " ", "低保审核", "营销", "x"])


@settings(max_examples=200, deadline=None)
@given(
    share_type=st.sampled_from(["unconditional", "conditional", "not_shared"]),
    fields=st.lists(NAMES, max_size=3).map(tuple),
    methods=st.lists(
        st.sampled_from(["fetch", "verify", "intersection", "intersection_sum", "aggregate"]),
        min_size=1,
        max_size=3,
    ).map(tuple),
    purpose=TEXT,
    basis=TEXT,
    level=st.sampled_from(["province", "city", "county"]),
    region=st.sampled_from(["230000", "230100", "230102", "110000"]),
    locale=st.sampled_from(["zh-CN", "en"]),
)
def test_every_share_decision_cites_well_formed_articles(
    share_type, fields, methods, purpose, basis, level, region, locale
):
    entry = dataclasses.replace(ENTRY, share_type=share_type, legal_basis=basis)
    facts = _request(
        entry=entry,
        consumer=DepartmentFacts("d", region, level),
        fields=fields,
        methods=methods,
        purpose=purpose,
        legal_basis=basis,
    )
    d = decide_share_request(P, facts, locale=locale)
    assert d.outcome in ("approved", "pending_provider_review", "refused")
    assert d.articles and all(ARTICLE.match(a) for a in d.articles)
    assert d.reason and d.rule
    assert (d.due_working_days is not None) == (d.outcome == "pending_provider_review")
    if d.outcome != "refused":
        for name in fields:
            for method in methods:
                assert method in P.grade(entry.fields[name]).allowed_methods
