"""Who may act: the token login, its session cookie, and the CSRF token every POST form carries.

Without a token the dashboard is read-only: every action endpoint answers 403 and pages show no
buttons. With a token, `POST /login` (token compared in constant time) opens a server-side session
whose id travels in an HttpOnly, SameSite=Strict cookie; each session has its own CSRF token
(an HMAC of the session id under a per-process secret), rendered into every POST form and checked
on the server. The login form itself is protected by a double-submit token (cookie == field).
Sessions live in memory: restarting the dashboard logs everyone out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SESSION_COOKIE = "ringq_dashboard_session"
LOGIN_COOKIE = "ringq_dashboard_login"
SESSION_SECONDS = 12 * 3600
MAX_SESSIONS = 1000


class Auth:
    def __init__(self, token: str | None) -> None:
        if token is not None and not token.strip():
            raise ValueError("the dashboard token must not be empty")
        self.token = token
        self._secret = secrets.token_bytes(32)
        self._sessions: dict[str, float] = {}  # session id -> expiry (monotonic)

    @property
    def actions_enabled(self) -> bool:
        return self.token is not None

    def token_matches(self, given: str) -> bool:
        if self.token is None:
            return False
        return hmac.compare_digest(given.encode(), self.token.encode())

    def open_session(self) -> str:
        now = time.monotonic()
        self._sessions = {s: exp for s, exp in self._sessions.items() if exp > now}
        if len(self._sessions) >= MAX_SESSIONS:  # drop the oldest
            oldest = min(self._sessions, key=self._sessions.__getitem__)
            del self._sessions[oldest]
        session = secrets.token_urlsafe(32)
        self._sessions[session] = now + SESSION_SECONDS
        return session

    def close_session(self, session: str | None) -> None:
        if session:
            self._sessions.pop(session, None)

    def valid_session(self, session: str | None) -> bool:
        if not self.actions_enabled or not session:
            return False
        expiry = self._sessions.get(session)
        return expiry is not None and expiry > time.monotonic()

    def csrf_for(self, session: str) -> str:
        return hmac.new(self._secret, b"csrf:" + session.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: str | None, given: str | None) -> bool:
        if not self.valid_session(session) or not given:
            return False
        assert session is not None
        return hmac.compare_digest(self.csrf_for(session), given)


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)


def nonce_ok(cookie: str | None, field: str | None) -> bool:
    return bool(cookie) and bool(field) and hmac.compare_digest(str(cookie), str(field))
