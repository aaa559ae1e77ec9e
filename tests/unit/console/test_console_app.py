"""The console's application in process, over a stand-in for the broker: the checks made before
any handler runs (session, role, CSRF token, origin, body size), the headers on every response,
and what happens when the broker ends a person's session."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest

from tongdao.console.app import CSP, ConsoleConfig, create_app
from tongdao.console.gateway import Refusal
from tongdao.console.sessions import COOKIE
from tongdao.crypto.signing import SigningKey
from tongdao.policies.loader import load_policy
from tongdao.v1 import accounts_pb2, catalogue_pb2

POLICY = load_policy("heilongjiang-2025")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class FakeBroker:
    """Answers the few calls these tests make; ``ended`` makes every call of a person refused."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.ended = False

    def call(self, token: str, service: str, method: str, request: object) -> object:
        self.calls.append((token, method))
        if token and self.ended:
            raise Refusal("UNAUTHENTICATED", "unknown or ended login session")
        if method == "Login":
            assert isinstance(request, accounts_pb2.LoginRequest)
            if request.password != "right":
                raise Refusal("UNAUTHENTICATED", "password: wrong username or password")
            role = {"op": "operator", "aud": "auditor"}[request.username]
            expires = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)
            return accounts_pb2.LoginResponse(
                session_token=f"token-{request.username}",
                expires_at=expires.isoformat(),
                account=accounts_pb2.Account(username=request.username, role=role),
            )
        if method == "ListCatalogueEntries":
            return catalogue_pb2.ListCatalogueEntriesResponse()
        if method == "SearchCatalogue":
            return catalogue_pb2.SearchCatalogueResponse()
        raise Refusal("UNIMPLEMENTED", method)


class Browser:
    """A minimal HTTP client speaking ASGI to the app, keeping cookies like a browser."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None, **headers: str):  # type: ignore[no-untyped-def]
        body = urlencode(form or {}).encode()
        raw = [(b"host", b"console.test")]
        if self.cookies:
            raw.append((b"cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()).encode()))
        if method == "POST":
            raw += [
                (b"content-type", b"application/x-www-form-urlencoded"),
                (b"content-length", str(len(body)).encode()),
            ]
        raw += [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
        path_only, _, query = path.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path_only,
            "raw_path": path_only.encode(),
            "query_string": query.encode(),
            "headers": raw,
            "client": ("127.0.0.1", 1),
            "server": ("console.test", 80),
            "root_path": "",
        }
        sent: list[dict] = []
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive():  # type: ignore[no-untyped-def]
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message):  # type: ignore[no-untyped-def]
            sent.append(message)

        asyncio.run(self.app(scope, receive, send))
        start = next(m for m in sent if m["type"] == "http.response.start")
        headers_out = [(k.decode().lower(), v.decode()) for k, v in start["headers"]]
        for name, value in headers_out:
            if name == "set-cookie":
                cookie = SimpleCookie()
                cookie.load(value)
                for key, morsel in cookie.items():
                    self.cookies[key] = morsel.value
        text = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return start["status"], dict(headers_out), headers_out, text.decode()

    def csrf(self, path: str = "/login") -> str:
        _, _, _, html = self.request("GET", path)
        return CSRF.search(html).group(1)

    def log_in(self, username: str) -> int:
        token = self.csrf()
        status, _, _, _ = self.request(
            "POST",
            "/login",
            {"csrf": token, "username": username, "password": "right"},
            origin="http://console.test",
        )
        return status


@pytest.fixture
def broker() -> FakeBroker:
    return FakeBroker()


@pytest.fixture
def browser(broker) -> Browser:
    config = ConsoleConfig(
        gateway=broker,  # type: ignore[arg-type]
        party="authority",
        access=POLICY.access_rules,
        broker_key=SigningKey.generate().verify_key,
        origin="tongdao.heilongjiang/ledger",
    )
    return Browser(create_app(config))


def test_every_response_carries_the_security_headers_and_no_script(browser):
    for path in ("/login", "/static/console.css", "/nowhere"):
        _, headers, _, body = browser.request("GET", path)
        assert headers["content-security-policy"] == CSP, path
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert "<script" not in body
    _, _, raw, _ = browser.request("GET", "/login")
    (cookie,) = [v for k, v in raw if k == "set-cookie" and v.startswith(COOKIE)]
    assert (
        "HttpOnly" in cookie
        and "Secure" in cookie
        and "SameSite=strict" in cookie.replace("Strict", "strict")
    )


def test_pages_need_a_login(browser):
    status, headers, _, _ = browser.request("GET", "/review")
    assert status == 303 and headers["location"] == "/login"


def test_a_post_without_the_csrf_token_or_from_another_origin_is_refused(browser, broker):
    token = browser.csrf()
    form = {"username": "op", "password": "right"}
    assert browser.request("POST", "/login", form)[0] == 403  # no token
    assert browser.request("POST", "/login", {**form, "csrf": "forged"})[0] == 403
    status = browser.request(
        "POST", "/login", {**form, "csrf": token}, origin="https://evil.example"
    )[0]
    assert status == 403
    assert not broker.calls  # nothing reached the broker
    assert (
        browser.request("POST", "/login", {**form, "csrf": token}, origin="http://console.test")[0]
        == 303
    )


def test_a_large_form_is_refused_before_it_is_parsed(browser, broker):
    token = browser.csrf()
    status = browser.request("POST", "/login", {"csrf": token, "username": "x" * 70_000})[0]
    assert status == 413 and not broker.calls


def test_login_replaces_the_session_and_the_role_decides_the_pages(browser, broker):
    browser.request("GET", "/login")
    before = browser.cookies[COOKIE]
    assert browser.log_in("aud") == 303
    assert browser.cookies[COOKIE] != before
    status, _, _, body = browser.request("GET", "/review")
    assert status == 403 and "无权访问" in body  # an auditor reviews nothing
    assert ("token-aud", "ListCatalogueEntries") not in broker.calls
    assert browser.request("GET", "/catalogue?q=婚姻")[0] == 200
    assert ("token-aud", "SearchCatalogue") in broker.calls  # with the person's session


def test_a_wrong_password_says_so_without_saying_which_part(browser):
    token = browser.csrf()
    status, _, _, body = browser.request(
        "POST", "/login", {"csrf": token, "username": "op", "password": "wrong"}
    )
    assert status == 401 and "用户名或密码错误" in body


def test_when_the_broker_ends_the_session_the_person_is_sent_to_log_in(browser, broker):
    assert browser.log_in("op") == 303
    assert browser.request("GET", "/review")[0] == 200
    broker.ended = True
    status, headers, _, _ = browser.request("GET", "/review")
    assert status == 303 and headers["location"] == "/login"
    _, _, _, body = browser.request("GET", "/login")
    assert "会话已结束，请重新登录" in body
    broker.ended = False
    assert browser.request("GET", "/review")[0] == 303  # the old session is gone for good


def test_the_language_link_switches_and_stays(browser):
    status, headers, _, _ = browser.request("GET", "/lang/en?next=//evil.example/")
    assert status == 303 and headers["location"] == "/"  # never off the console
    _, _, _, body = browser.request("GET", "/login")
    assert '<html lang="en">' in body and "Log in" in body


def test_a_refused_page_says_the_brokers_words_with_a_matching_status(browser, broker):
    assert browser.log_in("aud") == 303
    status, _, _, body = browser.request("GET", "/ledger")  # the fake broker has no log
    assert status == 502 and "平台拒绝：" in body and "Traceback" not in body


def test_the_login_page_names_the_authority_in_words(browser):
    body = browser.request("GET", "/login")[3]
    assert "使用您在 数据主管部门 的账户登录" in body
    assert '<span class="party">数据主管部门</span>' in body
