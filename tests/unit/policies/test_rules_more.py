"""Rule files: typos are refused, quotes agree with the numbers, messages exist in both locales."""

import datetime as dt
import importlib.util
from pathlib import Path

import pytest

from tongdao.policies import PolicyError, decide_open_data_request, load_policy
from tongdao.policies.engine import EntryFacts

ROOT = Path(__file__).parents[3]
HLJ = ROOT / "policies" / "rules" / "heilongjiang-2025.toml"
TESTLAND = Path(__file__).parent / "data" / "testland-2026.toml"


def _variant(tmp_path, old, new):
    text = HLJ.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "variant.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "key", "problem"),
    [
        (
            "max_extensions = 1\n",
            "max_extensions = 1\nextension_workingdays = 9\n",
            "deadlines.catalogue_update.extension_workingdays",
            "unknown key",
        ),
        ("[sharing]\n", "[sharings]\nx = 1\n\n[sharing]\n", "sharings", "unknown key"),
        (
            'mask_char = "*"\n',
            'mask_char = "*"\nmask_chr = "#"\n',
            "masking.mask_chr",
            "unknown key",
        ),
        ("max_extensions = 1\n", "", "deadlines.catalogue_update.max_extensions", "missing"),
        (
            "[deadlines.correction]\n",
            "[deadlines.correction]\nmax_extensions = 1\n",
            "deadlines.correction.max_extensions",
            "needs extension_working_days",
        ),
        ("personal = true\n", 'personal = "yes"\n', "grades.personal.personal", "true or false"),
        ("issued = 2025-01-06", 'issued = "January"', "policy.issued", "date"),
        (
            "[periods.grant_idle]",
            '[periods.validity]\nyears = 9\narticle = "Art.1"\n'
            'description = "x"\n\n[periods.grant_idle]',
            "periods.validity",
            "[policy]",
        ),
        (
            'values = ["general", "important", "core"]\narticle = "Art.14"',
            'values = ["general", "important", "core"]',
            "classifications.article",
            "missing",
        ),
        ("period_hours = 24\n", "period_hours = 7\n", "reconciliation.period_hours", "divide"),
        (
            "ticket_renew_seconds = 30\n",
            "ticket_renew_seconds = 60\n",
            "grant_status.ticket_renew_seconds",
            "below ticket_seconds",
        ),
        (
            "settle_minutes = 10\n",
            "settle_minutes = 10\nsettle_minute = 5\n",
            "reconciliation.settle_minute",
            "unknown key",
        ),
    ],
)
def test_typos_and_contradictions_are_refused(tmp_path, old, new, key, problem):
    path = _variant(tmp_path, old, new)
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert (err.value.file, err.value.key) == (str(path), key)
    assert problem in err.value.problem
    assert str(path) in str(err.value) and key in str(err.value)


def test_the_quotes_agree_with_the_numbers():
    p = load_policy()
    for rule in p.deadlines.values():
        if not rule.quote:  # the authority's own setting where the measures give no number
            assert "set no number" in rule.description, rule.kind
            continue
        assert f"{rule.working_days}个工作日" in rule.quote, rule.kind
        if rule.extension_working_days:
            assert f"延长{rule.extension_working_days}个工作日" in rule.quote
    for period in p.periods.values():
        unit = f"{period.months}个月" if period.months else f"{period.years}年"
        assert unit in period.quote, period.kind


def test_validity_is_a_period_and_grades_say_whether_they_are_personal():
    p = load_policy()
    validity = p.period("validity")
    assert (validity.years, validity.article) == (2, "Art.47")
    assert p.issued == dt.date(2025, 1, 6)
    assert validity.add_to(p.valid_from) - dt.timedelta(days=1) == p.valid_until
    assert {g.name: g.personal for g in p.grades.values()} == {
        "general": False,
        "personal": True,
        "sensitive_personal": True,
    }
    assert p.classifications == ("general", "important", "core")


def test_second_jurisdiction_changes_open_data_clock_without_code():
    entry = EntryFacts(
        "e",
        "p",
        "unconditional",
        (),
        (),
        (),
        (),
        "",
        {"f": "general"},
        open_type="conditional_open",
        open_conditions="科研",
    )
    hlj = decide_open_data_request(load_policy(), entry, locale="en")
    testland_policy = load_policy(TESTLAND)
    testland = decide_open_data_request(testland_policy, entry, locale="en")
    assert (hlj.due_working_days, hlj.articles) == (5, ("Art.34",))
    assert (testland.due_working_days, testland.articles) == (10, ("Art.30",))
    # testland states no `personal` flags: they follow from fetch (plain → not personal)
    assert testland_policy.grades["general"].personal is False
    assert testland_policy.period("validity").years == 3


def test_every_message_id_is_translated_in_both_locales():
    spec = importlib.util.spec_from_file_location(
        "policy_messages", ROOT / "scripts" / "policy_messages.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ids = module.extract_ids()
    assert "Entry {entry} is not shared; legal basis: {basis}" in ids
    assert module.missing("zh-CN", ids) == []
    assert module.missing("en", ids) == []
