"""Decisions: every path returns its article; reasons are localised."""

import dataclasses
import datetime as dt

import pytest

from tongdao.policies.engine import (
    DepartmentFacts,
    EntryFacts,
    ShareRequestFacts,
    decide_provider_review,
    decide_share_request,
    effective_share_type,
    validate_catalogue_entry,
)
from tongdao.policies.loader import load_policy
from tongdao.policies.masking import mask_value
from tongdao.policies.model import PolicyError

P = load_policy()
FIELDS = {"id_number": "sensitive_personal", "name": "personal", "gender": "general"}
COND = EntryFacts(
    "mzt.m",
    "hlj.mzt",
    "conditional",
    (),
    ("province", "city"),
    ("230000",),
    ("低保审核",),
    "",
    FIELDS,
    open_type="not_open",
)
CITY = DepartmentFacts("hrb.rsj", "230100", "city")


def req(entry=COND, consumer=CITY, fields=("name",), methods=("fetch",), purpose="低保审核", **kw):
    return ShareRequestFacts(consumer, entry, fields, methods, purpose, "场景", "依据", **kw)


def test_conditional_in_scope_goes_to_provider_with_clock():
    d = decide_share_request(P, req(), locale="en")
    assert (d.outcome, d.articles, d.due_working_days) == (
        "pending_provider_review",
        ("Art.22(2)",),
        1,
    )


def test_unconditional_is_approved():
    d = decide_share_request(P, req(dataclasses.replace(COND, share_type="unconditional")))
    assert (d.outcome, d.articles) == ("approved", ("Art.22(1)",))
    assert "无条件" in d.reason  # zh-CN by default


def test_not_shared_cites_the_legal_basis():
    entry = dataclasses.replace(COND, share_type="not_shared", legal_basis="《某法》第一条")
    d = decide_share_request(P, req(entry), locale="en")
    assert d.outcome == "refused" and "Art.21(3)" in d.articles and "《某法》第一条" in d.reason


@pytest.mark.parametrize(
    ("kwargs", "rule"),
    [
        ({"consumer": DepartmentFacts("x.y", "230102", "county")}, "sharing.conditional_scope"),
        ({"consumer": DepartmentFacts("x.y", "110000", "province")}, "sharing.conditional_scope"),
        ({"purpose": "营销"}, "sharing.conditional_purpose"),
        ({"fields": ("salary",)}, "sharing.unknown_field"),
        ({"fields": ("id_number",)}, "grades.sensitive_personal.methods"),
        ({"purpose": " "}, "sharing.request_contents"),
        ({"methods": ("teleport",)}, "sharing.unknown_method"),
    ],
)
def test_refusals_name_rule_and_article(kwargs, rule):
    d = decide_share_request(P, req(**kwargs), locale="en")
    assert d.outcome == "refused" and d.rule == rule and d.articles


def test_sensitive_field_may_be_verified_but_not_fetched():
    assert (
        decide_share_request(P, req(fields=("id_number",), methods=("verify",))).outcome
        != "refused"
    )


def test_outside_validity_period_is_refused():
    d = decide_share_request(P, req(today=dt.date(2027, 1, 6)), locale="en")
    assert d.outcome == "refused" and d.articles == ("Art.47",)


def test_conditional_without_conditions_is_unconditional():
    bare = dataclasses.replace(COND, scope_levels=(), scope_regions=(), permitted_purposes=())
    kind, why = effective_share_type(P, bare, locale="en")
    assert kind == "unconditional" and why is not None and why.articles == ("Art.21(2)",)
    assert decide_share_request(P, req(bare)).outcome == "approved"


def test_catalogue_validation():
    assert validate_catalogue_entry(P, COND).outcome == "valid"
    no_basis = dataclasses.replace(COND, share_type="not_shared")
    assert validate_catalogue_entry(P, no_basis).articles == ("Art.21(3)",)
    open_personal = dataclasses.replace(COND, open_type="unconditional_open")
    assert validate_catalogue_entry(P, open_personal).outcome == "invalid"
    consented = dataclasses.replace(open_personal, subject_consent=True)
    assert validate_catalogue_entry(P, consented).outcome == "valid"
    cond_open = dataclasses.replace(COND, open_type="conditional_open")
    assert validate_catalogue_entry(P, cond_open).outcome == "invalid"


def test_provider_review():
    assert decide_provider_review(P, approve=True, reason="").outcome == "approved"
    assert decide_provider_review(P, approve=False, reason=" ").outcome == "invalid"
    refused = decide_provider_review(P, approve=False, reason="核验中", locale="zh-CN")
    assert refused.outcome == "refused" and "核验中" in refused.reason and refused.articles


def test_masking_examples():
    assert (
        mask_value(P, "personal", "230102199001011234", field_kind="id_number")
        == "2301**********1234"
    )
    assert mask_value(P, "personal", "张三丰", field_kind="name") == "张**"
    assert mask_value(P, "personal", "1990-01-01", field_kind="birth_date") == "1990******"
    assert mask_value(P, "personal", "13812345678", field_kind="phone") == "138****5678"
    assert mask_value(P, "general", "男") == "男"
    assert mask_value(P, "personal", "张") == "*"
    with pytest.raises(PolicyError):
        mask_value(P, "sensitive_personal", "230102199001011234")


def test_unknown_locale_is_refused():
    with pytest.raises(ValueError):
        decide_share_request(P, req(), locale="fr")
