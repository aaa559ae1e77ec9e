"""The web console in a real headless browser (Debian's chromium through Playwright): log in,
the lockout after five failures, a catalogue review, a share-request decision, a log entry's
inclusion proof; the cookie, CSRF and content-security rules; zh-CN by default, English on
request; pages at a laptop's width. Processes as a user starts them: broker and two consoles.

With TONGDAO_CONSOLE_SCREENSHOTS=DIR the main pages are also saved there as PNG (docs/console/).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from tests.e2e.console_stack import (
    INITIAL,
    PASSWORD,
    browser_path,
    log_in,
    start_console_stack,
)
from tongdao.v1 import catalogue_pb2

pytestmark = pytest.mark.slow
LAPTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    chromium = browser_path()
    running = start_console_stack(tmp_path_factory.mktemp("console"), chromium)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser(stack):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=stack.chromium, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()


def shoot(page, name: str) -> None:
    folder = os.environ.get("TONGDAO_CONSOLE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def fits_laptop(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]


def ensure_published(stack) -> None:
    authority = stack.person("wang.fang")  # an operator of the authority
    entry = authority.catalogue.GetCatalogueEntry(
        catalogue_pb2.GetCatalogueEntryRequest(code="mzt.marriage"), timeout=15
    )
    if entry.status == "submitted":
        authority.catalogue.PublishCatalogueEntry(
            catalogue_pb2.PublishCatalogueEntryRequest(code="mzt.marriage"), timeout=15
        )


def test_login_opens_the_dashboard_with_the_roles_pages(stack, page):
    response = page.goto(f"{stack.authority_url}/login")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp  # no script may run at all
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("h1").inner_text() == "登录"
    assert page.locator("script").count() == 0
    log_in(page, stack.authority_url, "wang.fang")
    page.wait_for_url(f"{stack.authority_url}/")
    assert page.locator("h1").inner_text() == "工作台"
    nav = page.locator("nav").inner_text()
    assert "目录审核" in nav and "资源目录" in nav
    assert "存证日志" not in page.locator("nav").inner_text()  # an operator does not read the log
    text = page.locator("main").inner_text()
    for section in ("办理时限", "待办事项", "存证日志", "节点及其状态", "证书有效期"):
        assert section in text
    assert "待审核目录：1 条" in text or "待审核目录：0 条" in text
    assert page.locator(".notice.bad").count() == 0
    for _ in range(15):  # the broker probes the nodes every second
        if "不可达" in page.locator("#nodes").inner_text():
            break
        page.wait_for_timeout(1000)
        page.reload()
    assert "不可达" in page.locator("#nodes").inner_text()  # hlj.mzt's node is not running
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "tongdao_console"]
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert fits_laptop(page)


def test_five_failed_logins_lock_the_account(stack, page):
    for attempt in range(5):
        log_in(page, stack.authority_url, "sun.lei", "Wrong#Password-1")
        notice = page.locator(".notice.bad").inner_text()
        if attempt < 4:
            assert notice == "用户名或密码错误"
    assert "账户已锁定至" in notice
    log_in(page, stack.authority_url, "sun.lei", PASSWORD)  # even the right password now
    assert "账户已锁定至" in page.locator(".notice.bad").inner_text()
    assert page.url.endswith("/login")
    shoot(page, "lockout")


def test_a_first_login_asks_for_a_new_password_under_the_policy(stack, page):
    log_in(page, stack.mzt_url, "zhou.jie", INITIAL)
    page.wait_for_url(re.compile(r"/password\?username=zhou\.jie$"))
    assert page.locator(".notice.bad").inner_text() == "首次登录前请先设置新密码"
    assert page.locator("input[name=username]").input_value() == "zhou.jie"

    def change(new: str) -> None:
        page.fill("input[name=current_password]", INITIAL)
        page.fill("input[name=new_password]", new)
        page.fill("input[name=repeat_password]", new)
        page.click("form[action='/password'] button[type=submit]")

    change("short1A!")  # the rule file's policy, applied by the broker
    assert page.locator(".notice.bad").inner_text().startswith("平台拒绝：")
    change("Zhou#Jie-Heilongjiang-2026")
    assert page.locator(".notice.ok").inner_text() == "密码已修改，请用新密码登录"
    log_in(page, stack.mzt_url, "zhou.jie", "Zhou#Jie-Heilongjiang-2026")
    page.wait_for_url(f"{stack.mzt_url}/")
    nav = page.locator("nav").inner_text()
    assert "使用情况" in nav and "共享申请" not in nav  # a department's auditor decides nothing


def test_a_person_sets_up_a_second_factor_and_then_login_needs_the_code(stack, page):
    import pyotp

    log_in(page, stack.authority_url, "qian.yu")
    page.wait_for_url(f"{stack.authority_url}/")
    page.goto(f"{stack.authority_url}/account")
    assert "qian.yu" in page.locator("main").inner_text()
    page.click("#totp button[type=submit]")
    secret = page.locator("code.secret").inner_text()
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("#totp button[type=submit]")
    assert page.locator(".notice.ok").inner_text() == "动态验证码已启用，今后登录须输入验证码"
    page.click("header button[type=submit]")  # log out
    log_in(page, stack.authority_url, "qian.yu")
    assert page.locator(".notice.bad").inner_text() == "该账户已启用动态验证码，请输入当前验证码"
    page.fill("input[name=username]", "qian.yu")
    page.fill("input[name=password]", PASSWORD)
    # each code works once: the one that switched the factor on is spent, so use the next one
    page.fill("input[name=totp]", pyotp.TOTP(secret).at(time.time() + 30))
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{stack.authority_url}/")
    assert "钱宇" in page.locator("header").inner_text()


def test_review_publishes_a_submitted_entry(stack, page):
    log_in(page, stack.authority_url, "wang.fang")
    page.goto(f"{stack.authority_url}/review")
    card = page.locator("#entry-mzt\\.marriage")
    if card.count() == 0:
        pytest.fail("mzt.marriage is not in the review inbox")
    assert "婚姻登记信息" in card.inner_text()
    shoot(page, "review")
    card.locator("textarea[name=comments]").fill("数据项齐全，同意发布")
    card.locator("button[value=publish]").click()
    assert page.locator(".notice.ok").inner_text() == "目录 mzt.marriage 已发布"
    assert page.locator("#entry-mzt\\.marriage").count() == 0
    page.goto(f"{stack.authority_url}/catalogue")
    page.fill("input[name=q]", "婚姻 登记")
    page.click("form.search button")
    hits = page.locator("#hits").inner_text()
    assert "mzt.marriage" in hits and "有条件共享" in hits
    assert fits_laptop(page)
    shoot(page, "catalogue")
    page.goto(f"{stack.authority_url}/charts")  # an operator reads no log: deadlines only
    assert page.locator("svg.chart").count() == 1
    assert page.locator(".notice.bad").count() == 0


def test_returning_an_entry_needs_comments(stack, page):
    log_in(page, stack.authority_url, "wang.fang")
    page.goto(f"{stack.authority_url}/review")
    # a form posted without the page's CSRF token is refused, whatever it asks
    reply = page.request.post(
        f"{stack.authority_url}/review/mzt.marriage", form={"action": "return", "comments": "x"}
    )
    assert reply.status == 403


def test_the_provider_decides_a_share_request(stack, page):
    ensure_published(stack)
    ident = stack.file_request()
    log_in(page, stack.mzt_url, "li.na")
    page.wait_for_url(f"{stack.mzt_url}/")
    assert "待办理共享申请：" in page.locator("#inboxes").inner_text()
    assert page.locator(".notice.bad").count() == 0  # every section the role may read answers
    page.goto(f"{stack.mzt_url}/requests")
    card = page.locator(f"#request-{ident}")
    assert "hrb.rsj" in card.inner_text() and "marital_status" in card.inner_text()
    shoot(page, "requests")
    card.locator("button[value=refuse]").click()  # refusing needs a reason
    assert page.locator(".notice.bad").inner_text() == "不同意时须说明理由"
    page.locator(f"#request-{ident} button[value=approve]").click()
    assert re.fullmatch(r"申请已同意，已签发授权 \S+", page.locator(".notice.ok").inner_text())
    assert page.locator(f"#request-{ident}").count() == 0
    assert "li.na" in page.locator("main").inner_text()  # the decision names the person
    page.goto(f"{stack.mzt_url}/usage")
    assert "hlj.mzt 的使用情况" in page.locator("h1").inner_text()
    assert page.locator(".notice.bad").count() == 0
    page.goto(f"{stack.mzt_url}/charts")
    assert page.locator("svg.chart").count() == 3  # requests, queries, deadline compliance
    assert page.locator(".notice.bad").count() == 0
    shoot(page, "charts")


def test_an_auditor_opens_an_entrys_inclusion_proof(stack, page):
    ensure_published(stack)
    stack.file_request()  # hrb.rsj's act, for its usage view
    log_in(page, stack.authority_url, "zhao.min")
    page.wait_for_url(f"{stack.authority_url}/")
    page.goto(f"{stack.authority_url}/review")
    assert page.locator("h1").inner_text() == "无权访问"  # an auditor reviews nothing
    page.goto(f"{stack.authority_url}/ledger")
    assert "共 " in page.locator("main p.muted").first.inner_text()
    shoot(page, "ledger")
    page.locator("#log a", has_text=re.compile(r"^3$")).click()
    page.wait_for_url(re.compile(r"/ledger/3$"))
    for _ in range(20):  # the 2-second checkpoint round covers it soon
        result = page.locator("#proof-result")
        if result.count() and "ok" in (result.get_attribute("class") or ""):
            break
        page.wait_for_timeout(1000)
        page.reload()
    assert "已收录" in page.locator("#proof-result").inner_text()
    assert page.locator("ol.hashes li").count() >= 1
    shoot(page, "proof")
    page.goto(f"{stack.authority_url}/departments")
    page.select_option("select[name=code]", "hrb.rsj")
    page.click("form.search button")
    assert "share_request.filed" in page.locator("#activity").inner_text()
    assert page.locator("svg.chart").count() == 1
    assert fits_laptop(page)
    shoot(page, "departments")
    page.goto(f"{stack.authority_url}/charts")  # the whole broker's, from the log
    assert page.locator("svg.chart").count() == 3
    assert page.locator(".notice.bad").count() == 0


def test_english_on_request(stack, page):
    log_in(page, stack.authority_url, "chen.gang")
    page.wait_for_url(f"{stack.authority_url}/")
    page.click("text=English")
    assert page.locator("h1").inner_text() == "Dashboard"
    assert page.locator("html").get_attribute("lang") == "en"
    nav = page.locator("nav").inner_text()
    assert "Catalogue review" not in nav and "Log" not in nav  # an administrator reviews nothing
    assert "The log" in page.locator("main").inner_text()
    shoot(page, "dashboard-en")
    page.click("header button[type=submit]")  # log out
    assert page.locator(".notice.ok").inner_text() == "Logged out"
    page.goto(f"{stack.authority_url}/")
    assert page.url.endswith("/login")


def test_an_open_request_shows_on_the_authoritys_dashboard_with_its_clock(stack, page):
    ensure_published(stack)
    ident = stack.file_request()
    log_in(page, stack.authority_url, "wang.fang")
    page.wait_for_url(f"{stack.authority_url}/")
    deadlines = page.locator("#deadlines").inner_text()
    assert ident in deadlines and "conditional_share_review" in deadlines
    assert re.search(r"Art\.22", deadlines)
    assert fits_laptop(page)
    shoot(page, "dashboard")
