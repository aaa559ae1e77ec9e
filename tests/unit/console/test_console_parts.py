"""The console's parts without a browser: sessions and CSRF tokens, who sees which page (from
the rule file's role table), the SVG charts, the form checks at the edge."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from tongdao.console import charts
from tongdao.console.app import CSP, same_origin
from tongdao.console.pages import PAGES, Permissions
from tongdao.console.sessions import SessionStore
from tongdao.policies.loader import load_policy

ACCESS = load_policy("heilongjiang-2025").access_rules
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


def test_login_replaces_the_session_id_and_its_csrf_token():
    clock = Clock()
    store = SessionStore(clock=clock)
    before = store.anonymous("zh-CN")
    after = store.log_in(
        before,
        token="t",
        person="wang.fang",
        role="operator",
        display_name="王芳",
        expires_at=NOW + dt.timedelta(minutes=30),
    )
    assert store.get(before.id) is None and store.get(after.id) is after
    assert after.id != before.id and after.csrf != before.csrf
    assert after.csrf_ok(after.csrf) and not after.csrf_ok(before.csrf) and not after.csrf_ok("")
    clock.now += dt.timedelta(minutes=31)  # the broker's session has ended: so has this one
    assert store.get(after.id) is None


def test_the_store_is_bounded_and_drops_anonymous_sessions_first():
    store = SessionStore(clock=Clock(), max_sessions=3)
    person = store.log_in(
        store.anonymous("en"),
        token="t",
        person="p",
        role="auditor",
        display_name="",
        expires_at=NOW + dt.timedelta(minutes=30),
    )
    for _ in range(5):
        store.anonymous("en")
    assert len(store) == 3 and store.get(person.id) is person


def test_each_role_sees_only_its_pages():
    authority = Permissions(ACCESS, authority=True)
    department = Permissions(ACCESS, authority=False)

    def names(perms: Permissions, role: str) -> set[str]:
        out = {p.name for p in perms.pages(role)}
        assert {"dashboard", "account"} <= out  # everyone logged in has these two
        return out - {"dashboard", "account"}

    assert names(authority, "operator") == {"review", "catalogue", "charts"}
    assert names(authority, "auditor") == {"catalogue", "ledger", "activity", "charts"}
    assert names(authority, "administrator") == set()
    assert names(department, "operator") == {"requests", "catalogue", "usage", "charts"}
    assert "review" not in names(department, "operator")  # only the authority reviews
    # the broker serves the log's entries and proofs to the authority only
    assert names(department, "auditor") == {"catalogue", "usage", "charts"}
    assert not authority.may("", "Catalogue/PublishCatalogueEntry")  # no role, nothing
    for page in PAGES:  # every RPC a page calls is in the role table
        assert all(ACCESS.required(method) for method in page.needs), page.name


def test_a_post_from_another_origin_is_refused():
    def request(origin):
        headers = {"host": "127.0.0.1:8080"}
        if origin is not None:
            headers["origin"] = origin
        return SimpleNamespace(headers=headers)

    assert same_origin(request(None))
    assert same_origin(request("http://127.0.0.1:8080"))
    assert not same_origin(request("https://evil.example"))
    assert not same_origin(request("null"))
    assert "default-src 'none'" in CSP and "frame-ancestors 'none'" in CSP
    assert "unsafe-inline" not in CSP and "script-src" not in CSP


def test_per_day_counts_each_day_of_the_window():
    times = ["2026-11-30T10:00:00+00:00", "2026-11-30T23:00:00+00:00", "2026-12-01T01:00:00", "x"]
    counts = charts.per_day(times, dt.date(2026, 12, 1), 3)
    assert counts == [
        (dt.date(2026, 11, 29), 0),
        (dt.date(2026, 11, 30), 2),
        (dt.date(2026, 12, 1), 1),
    ]


def test_compliance_sorts_deadlines_by_month_and_outcome():
    d = lambda due, closed="", late=False, overdue=False: SimpleNamespace(  # noqa: E731
        due_on=due, closed_on=closed, closed_late=late, overdue=overdue
    )
    out = charts.compliance(
        [
            d("2026-11-03", "2026-11-02"),
            d("2026-11-10", "2026-11-12", late=True),
            d("2026-11-20", overdue=True),
            d("2026-12-04"),
        ]
    )
    assert out == {
        "2026-11": {"on_time": 1, "late": 1, "overdue": 1},
        "2026-12": {"open": 1},
    }


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=40))
def test_a_bar_chart_is_well_formed_svg_with_one_bar_per_nonzero_value(values):
    labels = [f"<d{i}&>" for i in range(len(values))]  # labels are escaped
    svg = charts.bar_chart(
        "标题 <script>", labels, [charts.Series("件", tuple(values), "#2f6f9f")], "无"
    )
    root = ET.fromstring(str(svg))
    assert root.tag.endswith("svg") and "script" not in {e.tag.split("}")[-1] for e in root.iter()}
    bars = [e for e in root.iter() if e.tag.endswith("rect") and e.find("{*}title") is not None]
    assert len(bars) == sum(1 for v in values if v)
    top = max(float(b.get("y")) for b in bars) if bars else 0
    assert all(float(b.get("height")) >= 0 for b in bars) and top >= 0


def test_the_logs_verification_is_asked_again_only_after_its_minute():
    from tongdao.console.gateway import Refusal
    from tongdao.console.reading import Recent

    now = [0.0]
    recent = Recent(60.0, clock=lambda: now[0])
    answers = iter([Refusal("UNAVAILABLE", "down"), "first", "second"])
    calls = []

    def fetch():
        calls.append(1)
        return next(answers)

    assert isinstance(recent.get(fetch), Refusal)  # a refusal is never kept
    assert recent.get(fetch) == "first" and recent.checked_at
    now[0] = 59.0
    assert recent.get(fetch) == "first" and len(calls) == 2
    now[0] = 121.0
    assert recent.get(fetch) == "second" and len(calls) == 3


def test_the_lockout_time_is_shown_in_beijing_time():
    from tongdao.console.views import local_time

    assert local_time("2026-12-01T12:34:58+00:00") == "2026-12-01 20:34:58 (UTC+8)"
    assert local_time("not a time") == "not a time"
