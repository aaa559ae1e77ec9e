"""The console's web application (Starlette, Jinja2 templates, no script at all).

Security on every response: a strict Content-Security-Policy (``default-src 'none'``; styles
and images from the console itself; forms post only to it; no framing), ``nosniff``, no
referrer to other sites, ``no-store``. The session cookie is ``Secure``, ``HttpOnly`` and
``SameSite=Strict``; every POST must carry the session's CSRF token and, when the browser sends
one, an ``Origin`` of the console itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from tongdao.console.gateway import Gateway, Refusal
from tongdao.console.i18n import DEFAULT_LOCALE, pick_locale, translate
from tongdao.console.pages import Permissions
from tongdao.console.reading import Certificate, Reader, Recent
from tongdao.console.sessions import COOKIE, BrowserSession, SessionStore
from tongdao.crypto.signing import VerifyKey
from tongdao.policies.access import AccessRules

HERE = Path(__file__).resolve().parent
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cache-control": "no-store",
}
HTTP_STATUS = {
    "INVALID_ARGUMENT": 400,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "FAILED_PRECONDITION": 409,
    "RESOURCE_EXHAUSTED": 429,
    "DEADLINE_EXCEEDED": 504,
}
"""The HTTP status of a page the broker refused (else 502: the broker failed or is away)."""
MAX_FORM_BYTES = 64 * 1024
"""The largest form body accepted (a review comment, a reason); larger is refused."""


@dataclass
class ConsoleConfig:
    """What the console runs with.

    Attributes:
        gateway: the broker's services over the party's certificate.
        party: the party the console acts for (``authority`` or a department code).
        access: the rule file's role table.
        broker_key: the broker's Ed25519 key (checks checkpoints and proofs).
        origin: the log's origin (rule file ``[ledger] origin``).
        certificates: the certificates of the console's home, with days left.
        metrics_url: the broker's ``/metrics`` (node reachability), or "".
        secure_cookies: mark the cookie ``Secure`` (always, except in tests of the flag).
    """

    gateway: Gateway
    party: str
    access: AccessRules
    broker_key: VerifyKey
    origin: str
    certificates: Callable[[], list[Certificate]] = list
    metrics_url: str = ""
    secure_cookies: bool = True
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class Console:
    """Templates, sessions and the helpers every handler uses."""

    def __init__(self, config: ConsoleConfig) -> None:
        self.config = config
        self.sessions = SessionStore(clock=config.clock)
        self.permissions = Permissions(config.access, authority=config.party == "authority")
        self.verification = Recent()
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(("html",)),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    # -- sessions ---------------------------------------------------------------------------
    def session_of(self, request: Request) -> BrowserSession | None:
        return self.sessions.get(request.cookies.get(COOKIE, ""))

    def with_cookie(self, response: Response, session: BrowserSession) -> Response:
        response.set_cookie(
            COOKIE,
            session.id,
            httponly=True,
            secure=self.config.secure_cookies,
            samesite="strict",
            path="/",
        )
        return response

    def reader(self, session: BrowserSession) -> Reader:
        return Reader(self.config.gateway, session.token, session.role, self.permissions)

    # -- rendering --------------------------------------------------------------------------
    def render(
        self,
        name: str,
        session: BrowserSession,
        status_code: int = 200,
        **context: Any,
    ) -> Response:
        locale = session.locale

        def _(message_id: str, **params: Any) -> str:
            return translate(message_id, locale, **params)

        notice, notice_ok = session.take_notice()
        pages = self.permissions.pages(session.role) if session.logged_in else []
        html = self.templates.get_template(name).render(
            _=_,
            session=session,
            locale=locale,
            pages=pages,
            party=self.config.party,
            # the authority in words, a department by its code
            party_name=(
                translate("the data authority", locale)
                if self.config.party == "authority"
                else self.config.party
            ),
            notice=notice,
            notice_ok=notice_ok,
            refused=lambda value: isinstance(value, Refusal),
            **context,
        )
        return self.with_cookie(HTMLResponse(html, status_code=status_code), session)

    def redirect(self, path: str, session: BrowserSession | None = None) -> Response:
        response = RedirectResponse(path, status_code=303)
        return self.with_cookie(response, session) if session else response


Handler = Callable[["Console", Request, BrowserSession, dict[str, str]], Response]


def same_origin(request: Request) -> bool:
    """A POST's ``Origin`` (when the browser sends one) names this console."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc == host


async def read_form(request: Request) -> dict[str, str] | None:
    """The posted form as strings, or None when it is too large or not a form."""
    length = request.headers.get("content-length")
    if length is None or not length.isdigit() or int(length) > MAX_FORM_BYTES:
        return None
    form = await request.form(max_files=0, max_fields=50)
    return {k: v for k, v in form.items() if isinstance(v, str)}


def guarded(
    console: Console, page: str | None, handler: Handler, *, anonymous: bool = False
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a blocking handler: session (else the login page), the page's role check, the
    CSRF token and origin of a POST; the handler runs in a worker thread."""

    async def endpoint(request: Request) -> Response:
        session = console.session_of(request)
        if session is None or (not session.logged_in and not anonymous):
            if not anonymous:
                return console.redirect("/login")
            session = console.sessions.anonymous(
                pick_locale(request.cookies.get("tongdao_locale")) or DEFAULT_LOCALE
            )
        if page is not None and not console.permissions.page(session.role, page):
            return console.render("forbidden.html", session, status_code=403)
        form: dict[str, str] = {}
        if request.method == "POST":
            posted = await read_form(request)
            if posted is None:
                return console.render("forbidden.html", session, status_code=413)
            if not same_origin(request) or not session.csrf_ok(posted.get("csrf", "")):
                return console.render("forbidden.html", session, status_code=403, csrf_failed=True)
            form = posted
        try:
            return await run_in_threadpool(handler, console, request, session, form)
        except Refusal as refusal:
            if refusal.code == "UNAUTHENTICATED" and session.logged_in:
                console.sessions.end(session.id)
                fresh = console.sessions.anonymous(session.locale)
                fresh.tell(translate("Your session has ended: log in again", session.locale))
                return console.redirect("/login", fresh)
            status = HTTP_STATUS.get(refusal.code, 502)
            return console.render("refused.html", session, status_code=status, refusal=refusal)

    return endpoint


def create_app(config: ConsoleConfig) -> Starlette:
    """The console as an ASGI application."""
    from tongdao.console import views

    console = Console(config)
    routes: list[Route | Mount] = [
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    for path, methods, page, handler, anonymous in views.ROUTES:
        endpoint = guarded(console, page, handler, anonymous=anonymous)
        routes.append(Route(path, endpoint, methods=methods))
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)])
    app.state.console = console
    return app
