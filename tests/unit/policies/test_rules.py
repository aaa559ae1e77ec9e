"""Rule files load whole or not at all; another jurisdiction loads without code changes."""

import datetime as dt
from pathlib import Path

import pytest

from tongdao.cli import main
from tongdao.policies.engine import (
    DepartmentFacts,
    EntryFacts,
    ShareRequestFacts,
    decide_share_request,
)
from tongdao.policies.loader import load_policy
from tongdao.policies.model import PolicyError

DATA = Path(__file__).parent / "data"
HLJ = Path(__file__).parents[3] / "policies" / "rules" / "heilongjiang-2025.toml"


def test_heilongjiang_has_every_clock_with_its_article():
    p = load_policy()
    expected = {
        "catalogue_revision": (5, "Art.12"),
        "catalogue_update": (3, "Art.15"),
        "conditional_share_review": (1, "Art.22(2)"),
        "correction": (5, "Art.24"),
        "demand_review": (3, "Art.29"),
        "demand_cataloguing": (10, "Art.29"),
        "open_data_review": (5, "Art.34"),
    }
    for kind, (days, article) in expected.items():
        assert (p.deadline(kind).working_days, p.deadline(kind).article) == (days, article)
    assert p.deadline("catalogue_update").extension_working_days == 5
    assert (p.period("revocation_grace").months, p.period("revocation_grace").article) == (
        6,
        "Art.16",
    )
    assert (p.period("grant_idle").months, p.period("grant_idle").article) == (3, "Art.27")
    assert p.period("usage_record_retention").years == 3
    assert (p.valid_from, p.valid_until) == (dt.date(2025, 1, 6), dt.date(2027, 1, 5))
    assert p.validity_article == "Art.47"


def _facts(entry_share_type="conditional"):
    return ShareRequestFacts(
        consumer=DepartmentFacts("a.b", "230100", "city"),
        entry=EntryFacts(
            "e", "p", entry_share_type, (), ("city",), (), ("x",), "", {"f": "general"}
        ),
        fields=("f",),
        methods=("fetch",),
        purpose="x",
        scenario="s",
        legal_basis="b",
    )


def test_a_second_jurisdiction_loads_and_changes_behaviour():
    testland = load_policy(DATA / "testland-2026.toml")
    hlj = load_policy()
    assert testland.jurisdiction == "testland"
    a = decide_share_request(hlj, _facts(), locale="en")
    b = decide_share_request(testland, _facts(), locale="en")
    assert (a.due_working_days, a.articles) == (1, ("Art.22(2)",))
    assert (b.due_working_days, b.articles) == (3, ("Art.20(2)",))
    assert testland.min_group_size.value == 25


def _write_variant(tmp_path, old, new):
    text = HLJ.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "variant.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_changing_a_number_in_the_file_changes_the_decision(tmp_path):
    path = _write_variant(
        tmp_path,
        "[deadlines.conditional_share_review]\nworking_days = 1",
        "[deadlines.conditional_share_review]\nworking_days = 2",
    )
    assert decide_share_request(load_policy(path), _facts(), locale="en").due_working_days == 2


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        (
            "[deadlines.correction]\nworking_days = 5",
            "[deadlines.correction]\nworking_days = 0",
            "deadlines.correction.working_days",
        ),
        (
            "[deadlines.correction]\nworking_days = 5",
            '[deadlines.correction]\nworking_days = "5"',
            "deadlines.correction.working_days",
        ),
        ('article = "Art.24"', 'article = "24"', "deadlines.correction.article"),
        (
            "[deadlines.open_data_review]",
            "[deadlines.open_data_review_typo]",
            "deadlines.open_data_review",
        ),
        ("valid_from = 2025-01-06", 'valid_from = "soon"', "policy.valid_from"),
        ('fetch = "masked"', 'fetch = "sometimes"', "grades.personal.fetch"),
        ('mask_rule = "middle"', 'mask_rule = "nope"', "grades.personal.mask_rule"),
        ("[thresholds.min_group_size]", "[thresholds.max_group_size]", "thresholds.min_group_size"),
        (
            'roles = ["key", "filter"]',
            'roles = ["key", "returned"]',
            "grades.sensitive_personal.roles",
        ),
        (
            'roles = ["key", "filter"]',
            'roles = ["key", "hashed"]',
            "grades.sensitive_personal.roles",
        ),
    ],
)
def test_malformed_files_are_refused_naming_file_key_and_problem(tmp_path, old, new, key):
    path = _write_variant(tmp_path, old, new)
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert err.value.key == key
    assert err.value.file == str(path)
    assert err.value.problem


def test_not_toml_and_missing_files_are_refused(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("this is = = not toml")
    with pytest.raises(PolicyError, match="not valid TOML"):
        load_policy(bad)
    with pytest.raises(PolicyError, match="no such rule file"):
        load_policy("atlantis-2099")


def test_policy_cli_show_and_check(tmp_path, capsys):
    assert main(["policy", "show"]) == 0
    out = capsys.readouterr().out
    assert "Art.22(2)" in out and "conditional_share_review" in out and "Art.47" in out
    assert main(["policy", "check", str(DATA / "testland-2026.toml")]) == 0
    bad = _write_variant(tmp_path, 'article = "Art.24"', 'article = "24"')
    assert main(["policy", "check", str(bad)]) == 1
    assert "deadlines.correction.article" in capsys.readouterr().out


def test_calendar_cli(capsys):
    assert main(["calendar", "due", "2026-09-30", "1"]) == 0
    assert capsys.readouterr().out.strip() == "2026-10-08"
    assert main(["calendar", "due", "2026-02-13", "1", "--explain", "--locale", "en"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2026-02-14") and "make-up working day" in out
    assert (
        main(["--locale", "zh-CN", "calendar", "due", "2026-12-30", "5"]) == 0
    )  # 2027: provisional, says so
    out, err = capsys.readouterr()
    assert out == "2027-01-07\n" and "暂定：2027年" in err
    assert main(["calendar", "due", "2099-12-30", "5"]) == 2
    assert "2100" in capsys.readouterr().err
    assert main(["calendar", "due", "2026-03-02", "0"]) == 2
