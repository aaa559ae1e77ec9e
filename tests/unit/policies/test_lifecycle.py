"""Rule files hand over to their successors: switch-over, gaps refused, expiry warned in time."""

import datetime as dt
from pathlib import Path

import pytest

from tongdao.cli import main
from tongdao.policies.lifecycle import PolicySchedule, install_successor, load_schedule
from tongdao.policies.loader import load_policy
from tongdao.policies.model import PolicyError

HLJ = Path(__file__).parents[3] / "policies" / "rules" / "heilongjiang-2025.toml"


def successor(tmp_path: Path, valid_from: str = "2027-01-06", name: str = "next.toml", **kw):
    """A test successor (not real measures): the 2025 file with a new period and clock."""
    text = HLJ.read_text(encoding="utf-8")
    text = text.replace("valid_from = 2025-01-06", f"valid_from = {valid_from}")
    text = text.replace("issued = 2025-01-06", f"issued = {valid_from}")
    text = text.replace(
        "[deadlines.correction]\nworking_days = 5",
        f"[deadlines.correction]\nworking_days = {kw.get('correction', 7)}",
    )
    if "jurisdiction" in kw:
        text = text.replace(
            'jurisdiction = "heilongjiang"', f'jurisdiction = "{kw["jurisdiction"]}"'
        )
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_each_day_uses_the_file_in_force_on_it(tmp_path):
    first = load_policy(HLJ)
    schedule = PolicySchedule.single(first).with_successor(load_policy(successor(tmp_path)))
    assert schedule.in_force_on(dt.date(2027, 1, 5)) is first
    second = schedule.in_force_on(dt.date(2027, 1, 6))
    assert second.deadline("correction").working_days == 7
    assert second.valid_until == dt.date(2029, 1, 5)
    assert schedule.in_force_on(dt.date(2024, 1, 1)) is first  # the engine refuses by validity


def test_a_gap_between_validity_periods_is_refused_naming_the_dates(tmp_path):
    schedule = PolicySchedule.single(load_policy(HLJ))
    with pytest.raises(PolicyError) as err:
        schedule.with_successor(load_policy(successor(tmp_path, "2027-02-01")))
    assert err.value.key == "policy.valid_from"
    assert "gap from 2027-01-06 to 2027-01-31" in err.value.problem
    assert "2027-01-05" in err.value.problem


def test_a_successor_must_start_later_and_be_for_the_same_jurisdiction(tmp_path):
    schedule = PolicySchedule.single(load_policy(HLJ))
    with pytest.raises(PolicyError, match="not after 2025-01-06"):
        schedule.with_successor(load_policy(successor(tmp_path, "2025-01-06")))
    with pytest.raises(PolicyError, match="jurisdiction"):
        schedule.with_successor(load_policy(successor(tmp_path, jurisdiction="jilin")))
    # an overlap is allowed: new measures replace the old ones from the day they take effect
    early = schedule.with_successor(load_policy(successor(tmp_path, "2026-07-01")))
    assert early.in_force_on(dt.date(2026, 7, 1)).valid_from == dt.date(2026, 7, 1)


@pytest.mark.parametrize(
    ("today", "warned", "days_left"),
    [
        (dt.date(2026, 11, 5), False, None),
        (dt.date(2026, 11, 6), True, 60),
        (dt.date(2026, 12, 1), True, 35),
        (dt.date(2027, 1, 5), True, 0),
        (dt.date(2027, 1, 6), True, -1),
    ],
)
def test_expiry_is_warned_within_60_days_with_how_to_install_a_successor(today, warned, days_left):
    warning = PolicySchedule.single(load_policy(HLJ)).expiry_warning(today)
    assert (warning is not None) == warned
    if warning is not None:
        assert warning.days_left == days_left
        assert "2027-01-05" in warning.message() and "tongdao policy install" in warning.message()


def test_no_warning_once_a_successor_is_installed_until_it_nears_its_own_end(tmp_path):
    schedule = PolicySchedule.single(load_policy(HLJ)).with_successor(
        load_policy(successor(tmp_path))
    )
    assert schedule.expiry_warning(dt.date(2026, 12, 1)) is None
    assert schedule.expiry_warning(dt.date(2028, 6, 1)) is None
    assert schedule.expiry_warning(dt.date(2028, 12, 1)).days_left == 35


def test_install_copies_only_an_accepted_successor(tmp_path):
    store = tmp_path / "installed"
    with pytest.raises(PolicyError, match="gap"):
        install_successor(successor(tmp_path, "2027-03-01", "late.toml"), HLJ, store)
    assert not store.exists()
    schedule, path = install_successor(successor(tmp_path), HLJ, store)
    assert path.parent == store and len(schedule.policies) == 2
    assert len(load_schedule(HLJ, store).policies) == 2
    with pytest.raises(PolicyError, match="already installed"):
        install_successor(successor(tmp_path), HLJ, store)


def test_policy_install_and_show_cli(tmp_path, capsys):
    home = str(tmp_path / "home")
    assert main(["policy", "show", "--home", home, "--on", "2026-12-01", "--locale", "en"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("WARNING: ") and "expires on 2027-01-05" in out
    gap = successor(tmp_path, "2027-01-20", "gap.toml")
    assert main(["policy", "install", str(gap), "--home", home]) == 2
    err = capsys.readouterr().err
    assert "refused, nothing installed" in err and "2027-01-06 to 2027-01-19" in err
    assert main(["policy", "install", str(successor(tmp_path)), "--home", home]) == 0
    assert "valid 2027-01-06 – 2029-01-05" in capsys.readouterr().out
    assert main(["policy", "show", "--home", home, "--on", "2026-12-01", "--locale", "en"]) == 0
    out = capsys.readouterr().out
    assert "WARNING" not in out and "Rule files in order" in out
    assert main(["policy", "show", "--home", home, "--on", "2027-02-01", "--locale", "en"]) == 0
    out = capsys.readouterr().out
    assert "correction                 7 working days" in out
