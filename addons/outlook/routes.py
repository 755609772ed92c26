"""The Outlook add-in's task pane, served under ``/addons/outlook/``.

``taskpane.html`` is the page the manifests open. It is rendered once per request with the few
settings the pane needs (our Entra app, the API scope) in a JSON block, and sent with a Content
Security Policy that refuses inline scripts, so that record data can never run as code. Everything
else is static: CSS, plain JavaScript modules (no build step), the icons, and MSAL.js (vendored from
the ``@azure/msal-browser`` npm package; production must not depend on a CDN Microsoft stopped
publishing it to).

Office.js comes from Microsoft's CDN in production. With the sandbox mounted (the demo and the tests)
the page loads the Office.js host shim instead, which takes the open item, the access token and the
reply form from the preview page that frames the pane; the pane's own code is the same in both.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template

from connector.app_services import services
from connector.security.microsoft import API_SCOPE, application_id_uri

OFFICE_JS_URL = "https://appsforoffice.microsoft.com/lib/1/hosted/office.js"
"""Microsoft's hosted Office.js (the URL every Office add-in sample uses); never self-hosted."""

bp = Blueprint(
    "outlook",
    __name__,
    url_prefix="/addons/outlook",
    static_folder="static",
    static_url_path="",
    template_folder="templates",
)

# Office.js and MSAL need Microsoft's hosts for scripts, sign-in frames and token requests; no inline
# script anywhere, so an HTML injection in record data could not run even if rendering ever let one in.
_CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' https://appsforoffice.microsoft.com https://*.office.net https://*.office.com",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: https:",
        "connect-src 'self' https:",
        "frame-src 'self' https:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    )
)


def pane_config() -> dict[str, Any]:
    """What the pane's JavaScript needs to know about this deployment (nothing secret)."""
    settings = services().settings
    client_id = settings.microsoft_client_id
    api_scope = ""
    if client_id and settings.public_url:
        api_scope = f"{application_id_uri(settings.public_url, client_id)}/{API_SCOPE}"
    return {
        "clientId": client_id,
        "authority": f"{settings.microsoft_authority.rstrip('/')}/common",
        "apiScope": api_scope,
        "apiBase": "/api/v1",
        "sandbox": settings.sandbox,
    }


def _page(template: str) -> Response:
    settings = services().settings
    html = render_template(
        template,
        config=pane_config(),
        office_js=None if settings.sandbox else OFFICE_JS_URL,
        sandbox=settings.sandbox,
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/taskpane.html")
def taskpane() -> Response:
    return _page("outlook/taskpane.html")


@bp.get("/auth-dialog.html")
def auth_dialog() -> Response:
    """The sign-in fallback, opened with ``Office.context.ui.displayDialogAsync`` where the Outlook client
    has no nested app authentication: MSAL.js signs in by redirect inside the dialog and hands the
    token to the pane with ``messageParent``."""
    return _page("outlook/auth-dialog.html")
