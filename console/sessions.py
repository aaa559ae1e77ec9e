"""Browser sessions: a random id in a Secure, HttpOnly, SameSite=Strict cookie; the broker's
login token, the person and their role stay in this process's memory, never in the browser.

Every session (also the anonymous one that shows the login form) has its own CSRF token, which
every form carries and every POST must return (:meth:`BrowserSession.csrf_ok`). Logging in
replaces the session id, so an id seen before login is worthless after it.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

COOKIE = "tongdao_console"
ANONYMOUS_MINUTES = 30
"""How long a login form stays usable (its CSRF token with it)."""
MAX_SESSIONS = 2000
"""Open sessions kept at once; the oldest anonymous ones go first when full."""


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class BrowserSession:
    """One browser's session with the console.

    Attributes:
        id: the cookie's value (32 random bytes, URL-safe base64).
        csrf: the token every form of this session carries.
        expires_at: when the console forgets it (the broker's session end once logged in).
        token: the broker's login session token ("" before login); never sent to the browser.
        person: the account name; role: its one role; display_name: the person's name.
        locale: "zh-CN" or "en".
        notice: a one-off message for the next page (what the last form did).
    """

    id: str
    csrf: str
    expires_at: dt.datetime
    token: str = ""
    person: str = ""
    role: str = ""
    display_name: str = ""
    locale: str = "zh-CN"
    notice: str = ""
    notice_ok: bool = True

    @property
    def logged_in(self) -> bool:
        return bool(self.token)

    def csrf_ok(self, value: str) -> bool:
        """Whether a form returned this session's CSRF token (constant-time comparison)."""
        return bool(value) and hmac.compare_digest(value.encode(), self.csrf.encode())

    def tell(self, message: str, *, ok: bool = True) -> None:
        self.notice, self.notice_ok = message, ok

    def take_notice(self) -> tuple[str, bool]:
        message, ok = self.notice, self.notice_ok
        self.notice, self.notice_ok = "", True
        return message, ok


class SessionStore:
    """The open sessions, in memory (a restart logs everyone out, as it should)."""

    def __init__(
        self, clock: Callable[[], dt.datetime] = _utcnow, max_sessions: int = MAX_SESSIONS
    ) -> None:
        self._clock = clock
        self._max = max_sessions
        self._sessions: dict[str, BrowserSession] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._sessions)

    def get(self, session_id: str) -> BrowserSession | None:
        """The live session with this id, or None (an expired one is dropped)."""
        if not session_id:
            return None
        with self._lock:
            found = self._sessions.get(session_id)
            if found is None:
                return None
            if found.expires_at <= self._clock():
                del self._sessions[session_id]
                return None
            return found

    def anonymous(self, locale: str) -> BrowserSession:
        """A new session for the login form."""
        expires = self._clock() + dt.timedelta(minutes=ANONYMOUS_MINUTES)
        return self._add(BrowserSession(_token(), _token(), expires, locale=locale))

    def log_in(
        self,
        old: BrowserSession,
        *,
        token: str,
        person: str,
        role: str,
        display_name: str,
        expires_at: dt.datetime,
    ) -> BrowserSession:
        """Replace ``old`` by a logged-in session with a fresh id and CSRF token."""
        self.end(old.id)
        fresh = BrowserSession(
            _token(),
            _token(),
            expires_at,
            token=token,
            person=person,
            role=role,
            display_name=display_name,
            locale=old.locale,
        )
        return self._add(fresh)

    def end(self, session_id: str) -> BrowserSession | None:
        with self._lock:
            return self._sessions.pop(session_id, None)

    def _add(self, session: BrowserSession) -> BrowserSession:
        with self._lock:
            now = self._clock()
            for key in [k for k, s in self._sessions.items() if s.expires_at <= now]:
                del self._sessions[key]
            if len(self._sessions) >= self._max:
                victims = sorted(self._sessions.values(), key=lambda s: (s.logged_in, s.expires_at))
                for victim in victims[: len(self._sessions) - self._max + 1]:
                    del self._sessions[victim.id]
            self._sessions[session.id] = session
            return session


def _token() -> str:
    return secrets.token_urlsafe(32)
