"""The calendar and rule-file lifecycle over real gRPC: the authority loads a year's official
schedule (others are refused), health details and warnings reach the CLI."""

from __future__ import annotations

import datetime as dt
import json

import grpc
import pytest

from tests.integration.stack import start_stack
from tongdao.cli import main
from tongdao.policies.calendar import SHANGHAI
from tongdao.proto.transport import LOCALE_METADATA
from tongdao.v1 import supervision_pb2

# A made-up 2027 schedule (the State Council's is not out yet), in the CSV form.
CSV = """\
# source: test schedule (made up)
kind,from,to,name
holiday,2027-01-01,2027-01-03,New Year's Day
holiday,2027-02-05,2027-02-12,Spring Festival
holiday,2027-04-05,,Tomb-sweeping Day
holiday,2027-05-01,2027-05-05,Labour Day
holiday,2027-06-09,,Dragon Boat Festival
holiday,2027-09-15,,Mid-autumn Festival
holiday,2027-10-01,2027-10-07,National Day
workday,2027-02-20,,Spring Festival
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(tmp_path_factory.mktemp("calendar-stack"))
    yield s
    s.stop()


def _code(call) -> tuple[str, str]:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value.code().name, err.value.details()


def test_only_the_authority_loads_a_schedule_and_a_bad_one_names_its_line(stack):
    request = supervision_pb2.LoadHolidayScheduleRequest(
        schedule_toml='year = 2027\n[[holidays]]\nname = "x"\ndate = 2027-01-01\n',
        file_name="2027.toml",
    )
    code, _ = _code(lambda: stack.stub("hrb.rsj").supervision.LoadHolidaySchedule(request))
    assert code == "PERMISSION_DENIED"
    code, message = _code(lambda: stack.stub("authority").supervision.LoadHolidaySchedule(request))
    assert code == "INVALID_ARGUMENT"
    assert message.startswith("schedule: refused, nothing installed: 2027.toml: ")
    assert "2027-02-05 (Spring Festival) is a statutory holiday" in message
    code, _ = _code(
        lambda: stack.stub("hrb.rsj").supervision.GetStatus(supervision_pb2.GetStatusRequest())
    )
    assert code == "PERMISSION_DENIED"


def test_health_details_and_the_expiry_warning(stack, capsys):
    common = ["--home", str(stack.home.root), "--broker", stack.broker.target]

    def status_in(locale: str):  # type: ignore[no-untyped-def]
        return stack.stub("authority").supervision.GetStatus(
            supervision_pb2.GetStatusRequest(), metadata=((LOCALE_METADATA, locale),)
        )

    status = status_in("en")
    assert status.policy_source.endswith("heilongjiang-2025.toml")
    assert status.policy_valid_until == "2027-01-05"
    today = dt.datetime.now(dt.UTC).astimezone(SHANGHAI).date()
    warned = any("expires on 2027-01-05" in w for w in status.warnings)
    assert warned == (dt.date(2026, 11, 6) <= today <= dt.date(2027, 1, 5))
    # the same warning in the caller's language, the install hint too
    chinese = status_in("zh-CN").warnings
    assert any("将于 2027-01-05 失效" in w and "新办法发布后" in w for w in chinese) == warned
    assert 2026 in status.official_years
    assert main(["supervise", "status", *common]) == 0
    out = capsys.readouterr().out
    assert "rule file in force: " in out and ("WARNING: " in out) == warned
    assert main(["supervise", "deadlines", *common, "--json"]) == 0
    reply = json.loads(capsys.readouterr().out)
    assert (
        "warnings" in reply and any("tongdao policy install" in w for w in reply["warnings"])
    ) == warned


def test_calendar_load_to_the_broker_from_the_cli(stack, tmp_path, capsys):
    common = ["--home", str(stack.home.root), "--broker", stack.broker.target]
    path = tmp_path / "2027.csv"
    path.write_text(CSV, encoding="utf-8")
    assert main(["calendar", "load", str(path), "--to-broker", *common, "--as", "hrb.rsj"]) == 3
    assert "PERMISSION_DENIED" in capsys.readouterr().err
    assert main(["calendar", "load", str(path), "--to-broker", *common]) == 0  # as the authority
    assert "installed at the broker: 2027: 26 days off, 1 make-up" in capsys.readouterr().out
    status = stack.stub("authority").supervision.GetStatus(supervision_pb2.GetStatusRequest())
    assert 2027 in status.official_years
