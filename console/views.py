"""The console's pages and forms. Each handler runs in a worker thread with the person's
session (see :func:`tongdao.console.app.guarded` for the checks made before it runs)."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from tongdao.console import charts, reading
from tongdao.console.gateway import Refusal
from tongdao.console.i18n import pick_locale, translate
from tongdao.console.sessions import BrowserSession
from tongdao.v1 import accounts_pb2, catalogue_pb2, common_pb2, directory_pb2, sharing_pb2

if TYPE_CHECKING:
    from tongdao.console.app import Console

LOCKED = re.compile(r"locked until (\S+)")
USERNAME = re.compile(r"^[a-z0-9._-]{1,64}$")
BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
MAX_TEXT = 2000
"""Longest comment or reason a form may send (the broker's own limits apply as well)."""


def _text(form: dict[str, str], name: str) -> str:
    return form.get(name, "").strip()[:MAX_TEXT]


def _(session: BrowserSession, message_id: str, **params: Any) -> str:
    return translate(message_id, session.locale, **params)


# -- logging in ---------------------------------------------------------------------------------
def login_form(
    console: Console, request: Request, session: BrowserSession, form: dict[str, str]
) -> Response:
    if session.logged_in:
        return console.redirect("/")
    return console.render("login.html", session, username="")


def local_time(iso: str) -> str:
    """An ISO 8601 instant as Beijing time (UTC+8), the time the departments work in."""
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is None:
        return iso
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S (UTC+8)")


def login_refusal(session: BrowserSession, refusal: Refusal) -> str:
    """What to tell a person whose login the broker refused (never which part was wrong)."""
    locked = LOCKED.search(refusal.details)
    if locked:
        return _(
            session,
            "This account is locked until {until} after too many failed logins",
            until=local_time(locked.group(1)),
        )
    if "second factor" in refusal.details:
        return _(session, "This account has a second factor: enter the current code")
    if "disabled" in refusal.details:
        return _(session, "This account is disabled")
    if refusal.code == "UNAUTHENTICATED":
        return _(session, "Wrong username or password")
    return _(session, "The broker refused: {details}", details=refusal.details)


def login(
    console: Console, request: Request, session: BrowserSession, form: dict[str, str]
) -> Response:
    username = _text(form, "username")
    if not USERNAME.match(username):
        session.tell(_(session, "Wrong username or password"), ok=False)
        return console.render("login.html", session, status_code=400, username="")
    request_ = accounts_pb2.LoginRequest(
        username=username, password=form.get("password", ""), totp_code=_text(form, "totp")
    )
    try:
        reply = console.config.gateway.call("", "accounts", "Login", request_)
    except Refusal as refusal:
        if refusal.code == "FAILED_PRECONDITION" and "password" in refusal.details:
            session.tell(_(session, "Set a new password before your first login"), ok=False)
            return console.redirect(f"/password?username={username}", session)
        session.tell(login_refusal(session, refusal), ok=False)
        return console.render("login.html", session, status_code=401, username=username)
    expires = dt.datetime.fromisoformat(reply.expires_at)
    fresh = console.sessions.log_in(
        session,
        token=reply.session_token,
        person=reply.account.username,
        role=reply.account.role,
        display_name=reply.account.display_name,
        expires_at=expires,
    )
    return console.redirect("/", fresh)


def logout(
    console: Console, request: Request, session: BrowserSession, form: dict[str, str]
) -> Response:
    with contextlib.suppress(Refusal):  # an already ended session is logged out as well
        console.config.gateway.call(
            session.token, "accounts", "Logout", accounts_pb2.LogoutRequest()
        )
    console.sessions.end(session.id)
    fresh = console.sessions.anonymous(session.locale)
    fresh.tell(_(fresh, "Logged out"))
    return console.redirect("/login", fresh)


def password_form(
    console: Console, request: Request, session: BrowserSession, form: dict[str, str]
) -> Response:
    username = request.query_params.get("username", session.person)
    username = username if USERNAME.match(username or "") else ""
    return console.render("password.html", session, username=username)


def password(
    console: Console, request: Request, session: BrowserSession, form: dict[str, str]
) -> Response:
    username = _text(form, "username")
    new = form.get("new_password", "")
    if new != form.get("repeat_password", ""):
        session.tell(_(session, "The two new passwords differ"), ok=False)
        return console.render("password.html", session, status_code=400, username=username)
    try:
        console.config.gateway.call(
            "",
            "accounts",
            "SetPassword",
            accounts_pb2.SetPasswordRequest(
                username=username,
                current_password=form.get("current_password", ""),
                new_password=new,
            ),
        )
    except Refusal as refusal:
        session.tell(_(session, "The broker refused: {details}", details=refusal.details), ok=False)
        return console.render("password.html", session, status_code=400, username=username)
    session.tell(_(session, "Password changed: log in with the new one"))
    return console.redirect("/login", session)


def language(
    console: Console, request: Request, session: BrowserSession, form: dict[str, str]
) -> Response:
    session.locale = pick_locale(request.path_params.get("locale"))
    back = request.query_params.get("next", "/")
    if not back.startswith("/") or back.startswith("//"):
        back = "/"
    response = console.redirect(back, session)
    response.set_cookie(
        "tongdao_locale",
        session.locale,
        httponly=True,
        samesite="strict",
        secure=console.config.secure_cookies,
        max_age=365 * 86400,
    )
    return response


# -- pages ---------------------------------------------------------------------------------------
def dashboard(
    console: Console, request: Request, session: BrowserSession, form: dict[str, str]
) -> Response:
    data = reading.dashboard(
        console.reader(session),
        authority=console.permissions.authority,
        certificates=console.config.certificates(),
        metrics_url=console.config.metrics_url,
        verification=console.verification,
    )
    return console.render("dashboard.html", session, page="dashboard", d=data)


def share_type(value: int) -> str:
    names: dict[int, str] = {
        common_pb2.SHARE_TYPE_UNCONDITIONAL: "Unconditional sharing",
        common_pb2.SHARE_TYPE_CONDITIONAL: "Conditional sharing",
        common_pb2.SHARE_TYPE_NOT_SHARED: "Not shared",
    }
    return names.get(value, "Unspecified")


def method_name(value: int) -> str:
    return common_pb2.QueryMethod.Name(value).removeprefix("QUERY_METHOD_").lower()


def review(
    console: Console, request: Request, session: BrowserSession, form: dict[str, str]
) -> Response:
    reader = console.reader(session)
    listing = reader.call(
        "Catalogue/ListCatalogueEntries",
        catalogue_pb2.ListCatalogueEntriesRequest(status="submitted", page_size=100),
    )
    return console.render(
        "review.html", session, page="review", entries=list(listing.entries), share_type=share_type
    )


def review_decide(
    console: Console, request: Request, session: BrowserSession, form: dict[str, str]
) -> Response:
    code = request.path_params["code"]
    comments = _text(form, "comments")
    reader = console.reader(session)
    try:
        if form.get("action") == "publish":
            reader.call(
                "Catalogue/PublishCatalogueEntry",
                catalogue_pb2.PublishCatalogueEntryRequest(code=code, comment=comments),
            )
            session.tell(_(session, "Entry {code} published", code=code))
        elif form.get("action") == "return":
            if not comments:
                session.tell(_(session, "Say what to revise when returning an entry"), ok=False)
                return console.redirect("/review", session)
            reader.call(
                "Catalogue/ReturnCatalogueEntry",
                catalogue_pb2.ReturnCatalogueEntryRequest(code=code, comments=comments),
            )
            session.tell(_(session, "Entry {code} returned to its provider", code=code))
    except Refusal as refusal:
        if refusal.code == "UNAUTHENTICATED":
            raise
        session.tell(_(session, "The broker refused: {details}", details=refusal.details), ok=False)
    return console.redirect("/review", session)


def requests(
    console: Console, request: Request, session: BrowserSession, form: dict[str, str]
) -> Response:
    reader = console.reader(session)
    listing = reader.call(
        "Sharing/ListShareRequests", sharing_pb2.ListShareRequestsRequest(role="provider")
    )
    pending = [r for r in listing.requests if r.status == "pending_provider_review"]
    decided = [r for r in listing.requests if r.status != "pending_provider_review"][-20:][::-1]
    return console.render(
        "requests.html",
        session,
        page="requests",
        pending=pending,
        decided=decided,
        method_name=method_name,
    )


def request_decide(
    console: Console, request: Request, session: BrowserSession, form: dict[str, str]
) -> Response:
    ident = request.path_params["ident"]
    approve = form.get("action") == "approve"
    reason = _text(form, "reason")
    if not approve and not reason:
        session.tell(_(session, "Give the reason for refusing"), ok=False)
        return console.redirect("/requests", session)
    try:
        reply = console.reader(session).call(
            "Sharing/DecideShareRequest",
            sharing_pb2.DecideShareRequestRequest(id=ident, approve=approve, reason=reason),
        )
        if approve:
            session.tell(_(session, "Request approved; grant {grant} issued", grant=reply.grant_id))
        else:
            session.tell(_(session, "Request refused"))
    except Refusal as refusal:
        if refusal.code == "UNAUTHENTICATED":
            raise
        session.tell(_(session, "The broker refused: {details}", details=refusal.details), ok=False)
    return console.redirect("/requests", session)


def catalogue(
    console: Console, request: Request, session: BrowserSession, form: dict[str, str]
) -> Response:
    query = request.query_params.get("q", "").strip()[:200]
    try:
        offset = max(0, min(int(request.query_params.get("offset", "0")), 10_000))
    except ValueError:
        offset = 0
    reply = console.reader(session).call(
        "Catalogue/SearchCatalogue",
        catalogue_pb2.SearchCatalogueRequest(query=query, limit=20, offset=offset),
    )
    return console.render(
        "catalogue.html",
        session,
        page="catalogue",
        query=query,
        hits=list(reply.hits),
        has_more=reply.has_more,
        offset=offset,
        share_type=share_type,
    )


def _int_param(request: Request, name: str, source: str = "query") -> int:
    raw = request.path_params.get(name) if source == "path" else request.query_params.get(name)
    try:
        return max(0, min(int(raw or 0), 2**62))
    except ValueError:
        return 0


def ledger(
    console: Console, request: Request, session: BrowserSession, form: dict[str, str]
) -> Response:
    length, entries = reading.ledger_page(console.reader(session), _int_param(request, "before"))
    older = entries[-1].sequence - 1 if entries and entries[-1].sequence > 1 else 0
    return console.render(
        "ledger.html", session, page="ledger", length=length, entries=entries, older=older
    )


def ledger_entry(
    console: Console, request: Request, session: BrowserSession, form: dict[str, str]
) -> Response:
    sequence = _int_param(request, "sequence", "path")
    try:
        proof = reading.inclusion(
            console.reader(session), sequence, console.config.broker_key, console.config.origin
        )
    except Refusal as refusal:
        if refusal.code == "UNAUTHENTICATED":
            raise
        return console.render(
            "entry.html", session, page="ledger", sequence=sequence, proof=None, refusal=refusal
        )
    return console.render(
        "entry.html", session, page="ledger", sequence=sequence, proof=proof, refusal=None
    )


def usage(
    console: Console, request: Request, session: BrowserSession, form: dict[str, str]
) -> Response:
    reader = console.reader(session)
    provided = reader.call("Sharing/ListUsage", sharing_pb2.ListUsageRequest(role="provider"))
    used = reader.call("Sharing/ListUsage", sharing_pb2.ListUsageRequest(role="consumer"))
    today = console.config.clock().date()
    chart = charts.daily_chart(
        _(session, "Calls on our entries per day"),
        _(session, "Calls"),
        (c.recorded_at for c in provided.calls),
        today,
        30,
        _(session, "Nothing in this period"),
    )
    return console.render(
        "usage.html",
        session,
        page="usage",
        calls=list(provided.calls)[-100:][::-1],
        records=list(provided.records),
        own=list(used.records),
        chart=chart,
    )


def departments(
    console: Console, request: Request, session: BrowserSession, form: dict[str, str]
) -> Response:
    reader = console.reader(session)
    listing = reader.call("Directory/ListDepartments", directory_pb2.ListDepartmentsRequest())
    known = {d.code: d for d in listing.departments}
    code = request.query_params.get("code", "")
    activity = chart = None
    if code in known:
        activity = reading.department_activity(reader, code)
        chart = charts.daily_chart(
            _(session, "Queries by {code} per day", code=code),
            _(session, "Queries"),
            (e.recorded_at for e in activity.entries if e.kind == "query.relayed"),
            console.config.clock().date(),
            30,
            _(session, "Nothing in this period"),
        )
    return console.render(
        "departments.html",
        session,
        page="activity",
        departments=list(listing.departments),
        chosen=known.get(code),
        activity=activity,
        chart=chart,
    )


def chart_page(
    console: Console, request: Request, session: BrowserSession, form: dict[str, str]
) -> Response:
    data = reading.chart_data(console.reader(session), authority=console.permissions.authority)
    today = console.config.clock().date()
    empty = _(session, "Nothing in this period")
    out = {}
    if data.requests is not None:
        out["requests"] = charts.daily_chart(
            _(session, "Share requests filed per day"),
            _(session, "Requests"),
            data.requests,
            today,
            30,
            empty,
        )
    if data.queries is not None:
        out["queries"] = charts.daily_chart(
            _(session, "Queries relayed per day"),
            _(session, "Queries"),
            data.queries,
            today,
            30,
            empty,
        )
    if data.deadlines is not None:
        names = {
            "on_time": _(session, "Closed on time"),
            "late": _(session, "Closed late"),
            "overdue": _(session, "Overdue"),
            "open": _(session, "Open"),
        }
        out["compliance"] = charts.compliance_chart(
            _(session, "Deadline compliance per month"), data.deadlines, names, empty
        )
    return console.render("charts.html", session, page="charts", charts=out, data=data)


def account(
    console: Console, request: Request, session: BrowserSession, form: dict[str, str]
) -> Response:
    me = reading.who_am_i(console.config.gateway, session.token)
    return console.render("account.html", session, page="account", me=me, enrolment=None)


def totp_enrol(
    console: Console, request: Request, session: BrowserSession, form: dict[str, str]
) -> Response:
    gateway = console.config.gateway
    enrolment = gateway.call(
        session.token, "accounts", "EnrolTotp", accounts_pb2.EnrolTotpRequest()
    )
    me = reading.who_am_i(gateway, session.token)
    return console.render("account.html", session, page="account", me=me, enrolment=enrolment)


def totp_confirm(
    console: Console, request: Request, session: BrowserSession, form: dict[str, str]
) -> Response:
    try:
        console.config.gateway.call(
            session.token,
            "accounts",
            "ConfirmTotp",
            accounts_pb2.ConfirmTotpRequest(code=_text(form, "code")[:10]),
        )
        session.tell(_(session, "Second factor on: logging in now asks for a code"))
    except Refusal as refusal:
        if refusal.code == "UNAUTHENTICATED":
            raise
        session.tell(_(session, "The broker refused: {details}", details=refusal.details), ok=False)
    return console.redirect("/account", session)


ROUTES: tuple[tuple[str, list[str], str | None, Any, bool], ...] = (
    ("/login", ["GET"], None, login_form, True),
    ("/login", ["POST"], None, login, True),
    ("/password", ["GET"], None, password_form, True),
    ("/password", ["POST"], None, password, True),
    ("/lang/{locale}", ["GET"], None, language, True),
    ("/logout", ["POST"], None, logout, False),
    ("/", ["GET"], "dashboard", dashboard, False),
    ("/review", ["GET"], "review", review, False),
    ("/review/{code}", ["POST"], "review", review_decide, False),
    ("/requests", ["GET"], "requests", requests, False),
    ("/requests/{ident}", ["POST"], "requests", request_decide, False),
    ("/catalogue", ["GET"], "catalogue", catalogue, False),
    ("/ledger", ["GET"], "ledger", ledger, False),
    ("/ledger/{sequence:int}", ["GET"], "ledger", ledger_entry, False),
    ("/usage", ["GET"], "usage", usage, False),
    ("/departments", ["GET"], "activity", departments, False),
    ("/charts", ["GET"], "charts", chart_page, False),
    ("/account", ["GET"], "account", account, False),
    ("/account/totp", ["POST"], "account", totp_enrol, False),
    ("/account/totp/confirm", ["POST"], "account", totp_confirm, False),
)
