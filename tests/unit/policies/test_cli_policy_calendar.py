"""`tongdao calendar` and `tongdao policy`, run through the real entry point."""

from pathlib import Path

import pytest

from tongdao.cli import main

DATA = Path(__file__).parent / "data"
HLJ = Path(__file__).parents[3] / "policies" / "rules" / "heilongjiang-2025.toml"


@pytest.mark.parametrize(
    "argv",
    [
        ["calendar", "--help"],
        ["calendar", "due", "--help"],
        ["policy", "--help"],
        ["policy", "show", "--help"],
        ["policy", "check", "--help"],
    ],
)
def test_help_on_every_level(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    assert "usage: tongdao" in capsys.readouterr().out


def test_calendar_due_prints_only_the_iso_date(capsys):
    assert main(["calendar", "due", "2026-02-27", "1"]) == 0
    assert capsys.readouterr().out == "2026-02-28\n"  # a make-up Saturday


def test_calendar_explain_names_weekend_holiday_and_make_up_day(capsys):
    assert main(["calendar", "due", "2026-09-18", "2", "--explain", "--locale", "zh-CN"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "2026-09-21"
    assert "2026-09-19 周六  不计：周末" in out
    assert "2026-09-20 周日  第 1/2 个工作日 (调休上班日：国庆节)" in out
    assert "截止于 2026-09-21 当日结束" in out
    assert main(["calendar", "due", "2026-04-30", "1", "--explain", "--locale", "en"]) == 0
    out = capsys.readouterr().out
    assert "2026-05-01 Fri  skipped: holiday: Labour Day" in out
    assert "2026-05-06 Wed  working day 1/1" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["calendar", "due", "2099-12-28", "10"], "2100"),
        (["calendar", "due", "2026-03-02", "-3"], "working_days"),
    ],
)
def test_calendar_user_errors_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("tongdao: error:") and message in err


def test_calendar_rejects_a_bad_date(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["calendar", "due", "2026-02-30", "1"])
    assert exit_.value.code == 2
    assert "not a date" in capsys.readouterr().err


def test_policy_show_in_both_locales(capsys):
    assert main(["policy", "show", "--locale", "zh-CN", "--on", "2025-06-01"]) == 0
    zh = capsys.readouterr().out
    assert zh.startswith("黑龙江省政务数据管理暂行办法")
    assert "有条件共享的政务数据，由数据提供部门自收到数据使用申请的1个工作日内完成审核" in zh
    assert "[Art.22(2)]" in zh and "[Art.47]" in zh and "[Art.16]" in zh
    assert main(["policy", "show", "--locale", "en", "--on", "2025-06-01"]) == 0
    en = capsys.readouterr().out
    assert en.startswith("Heilongjiang Province Interim Measures")
    for text in ("catalogue_update", "(+5 extension, at most 1)", "[Art.15]", "min_group_size"):
        assert text in en
    assert "2301" not in en  # shows rules, not data


def test_policy_show_another_file_and_a_bad_name(capsys):
    assert main(["policy", "show", "--policy", str(DATA / "testland-2026.toml")]) == 0
    assert "[Art.20(2)]" in capsys.readouterr().out
    assert main(["policy", "show", "--policy", "atlantis-2099"]) == 2
    assert "no such rule file" in capsys.readouterr().err


def test_policy_check_names_file_key_and_problem(tmp_path, capsys):
    assert main(["policy", "check", str(HLJ)]) == 0
    assert capsys.readouterr().out.startswith("OK ")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        HLJ.read_text(encoding="utf-8").replace("working_days = 10", "working_days = -10"),
        encoding="utf-8",
    )
    assert main(["policy", "check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"INVALID {bad}" in out
    assert "key: deadlines.demand_cataloguing.working_days" in out
    assert "problem: must be at least 1" in out
