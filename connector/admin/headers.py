"""Security headers of the admin pages: a strict content security policy and the usual companions.

Pages load only their own stylesheet and script (no inline code), frames show only previews written
into ``srcdoc``, forms post only to the connector (and, for the sign-in redirect, to Oro: Chromium
applies ``form-action`` to the redirect after a form post), and no other site may frame the pages.
Admin pages are never cached: they show settings and people.
"""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import urlsplit

from werkzeug.wrappers import Response

R = TypeVar("R", bound=Response)


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def content_security_policy(*, oro_url: str) -> str:
    form_targets = ["'self'"]
    oro = origin_of(oro_url)
    if oro:
        form_targets.append(oro)
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "frame-src 'self'",
            "form-action " + " ".join(form_targets),
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )


def apply_security_headers(response: R, *, oro_url: str, https: bool) -> R:
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(oro_url=oro_url)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    headers["Cache-Control"] = "no-store"
    if https:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return response
