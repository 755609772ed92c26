"""Who is on the admin page: the signed-in admin in the session, CSRF tokens, sign-in rate limits.

The session is Flask's signed cookie (``HttpOnly``, ``SameSite=Lax``, ``Secure`` when ``PUBLIC_URL`` is
https, set in ``create_app``). It holds the admin's user id and when they signed in, the CSRF token,
and, between the two legs of a sign-in, the OAuth ``state`` and the PKCE verifier, the verifier
encrypted (the cookie is signed, not secret).

CSRF: a random token per session, sent back in a hidden ``csrf_token`` field or an ``X-CSRF-Token``
header and compared in constant time; a request whose ``Origin`` names another host is refused too.
Written here rather than taken from Flask-WTF: the connector has no WTForms forms, and the whole
mechanism is the twenty lines below, which the URL-map test walks.

Lax rather than Strict: Oro's redirect back to the sign-in callback is a top-level navigation from
another site, which must carry the cookie that holds the pending sign-in.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import request, session

from connector.admin.errors import TooManyAttempts
from connector.cache import Cache
from connector.db.models import User

SESSION_KEY = "admin"
PENDING_KEY = "admin_signin"
CSRF_KEY = "admin_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ATTEMPT_WINDOW_SECONDS = 300


@dataclass(frozen=True)
class AdminSession:
    user_id: int
    email: str
    since: float


def csrf_token() -> str:
    """This session's CSRF token, made on first use."""
    token = session.get(CSRF_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_KEY] = token
    return token


def csrf_valid(*, public_url: str) -> bool:
    """Whether an unsafe request carries this session's CSRF token and comes from our own pages."""
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        host = urlsplit(origin).netloc.lower()
        if host not in {request.host.lower(), urlsplit(public_url).netloc.lower()}:
            return False
    expected = session.get(CSRF_KEY)
    given = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    return isinstance(expected, str) and bool(expected) and hmac.compare_digest(expected, given)


def current_admin(*, max_age_minutes: int) -> AdminSession | None:
    """The admin of this session, unless the sign-in is older than ``max_age_minutes``."""
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None
    try:
        found = AdminSession(int(data["uid"]), str(data["email"]), float(data["since"]))
    except (KeyError, TypeError, ValueError):
        return None
    if time.time() - found.since > max_age_minutes * 60:
        session.pop(SESSION_KEY, None)
        return None
    return found


def start_admin_session(user: User) -> None:
    """A fresh session for ``user``: nothing carried over from before the sign-in, a new CSRF token."""
    session.clear()
    session[SESSION_KEY] = {"uid": user.id, "email": user.email, "since": time.time()}
    session[CSRF_KEY] = secrets.token_urlsafe(32)


def end_admin_session() -> None:
    session.clear()


def remember_pending(*, state: str, verifier: str, next_path: str) -> None:
    """Between the sign-in's two legs: ``verifier`` must already be encrypted."""
    session[PENDING_KEY] = {"state": state, "verifier": verifier, "next": next_path, "at": time.time()}


def take_pending(state: str, *, max_age_seconds: float = 900) -> tuple[str, str] | None:
    """The encrypted verifier and the page to return to, when ``state`` is the one this session
    started (single use: the pending sign-in is gone afterwards)."""
    pending = session.pop(PENDING_KEY, None)
    if not isinstance(pending, dict) or not state:
        return None
    expected = pending.get("state")
    if not isinstance(expected, str) or not hmac.compare_digest(expected, state):
        return None
    if time.time() - float(pending.get("at", 0)) > max_age_seconds:
        return None
    return str(pending.get("verifier", "")), str(pending.get("next", ""))


def safe_next(path: str | None) -> str:
    """A page of the admin area to go to after signing in; anything else becomes the status page."""
    if path and path.startswith("/admin/") and not path.startswith("//") and "\\" not in path:
        return path
    return "/admin/"


def count_attempt(cache: Cache, *, address: str, limit: int) -> None:
    """Count a sign-in attempt from ``address``; :class:`TooManyAttempts` past ``limit`` per window.

    A fixed window in the shared cache (Redis when configured, so every process counts together).
    Read-then-write is not atomic: parallel attempts can slip a few past the limit, which is fine
    for slowing down guessing, the purpose here.
    """
    now = time.time()
    window = int(now // ATTEMPT_WINDOW_SECONDS)
    key = f"admin-signin:{address}:{window}"
    count = int(cache.get(key) or 0) + 1
    cache.set(key, count, ttl=ATTEMPT_WINDOW_SECONDS)
    if count > limit:
        wait = int((window + 1) * ATTEMPT_WINDOW_SECONDS - now) + 1
        raise TooManyAttempts(
            f"Too many sign-in attempts from your address: try again in {wait} seconds.", retry_after=wait
        )
