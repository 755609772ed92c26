"""The Gmail add-on's deployment resource (``deployment.json``) for one base URL.

``oro-connector manifest gmail --base-url URL`` prints :func:`render_gmail_deployment`; the
deployment is then created with ``gcloud workspace-add-ons deployments create NAME
--deployment-file=deployment.json``. ``manifest/gmail/deployment.json`` is the same document with
``$BASE_URL`` and ``$ORO_URL`` placeholders; a test keeps the two in step.

Google calls each endpoint with an ID token whose audience is the URL written here, so the paths below
are also what :class:`connector.security.google.GoogleRequestVerifier` expects (``PUBLIC_URL`` +
path). Universal actions carry no parameters and no signed state, so each gets its own path.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

HOMEPAGE_PATH = "/addons/gmail/homepage"
"""Homepage trigger: the add-on opened with no message (Gmail's inbox view)."""
MESSAGE_PATH = "/addons/gmail/message"
"""Contextual trigger: a message is open (unconditional: any message)."""
COMPOSE_PATH = "/addons/gmail/compose"
"""Compose trigger: the add-on opened from a draft."""
ACTION_PATH = "/addons/gmail/action"
"""Every card button (``Action.function``); the handler is named in the signed action state."""
REFRESH_PATH = "/addons/gmail/universal/refresh"
"""Universal action "Refresh" (the add-on's menu)."""
DISCONNECT_PATH = "/addons/gmail/universal/disconnect"
"""Universal action "Disconnect from Oro"."""
LOGO_PATH = "/addons/gmail/logo.png"
"""The default ``logoUrl``: served by the add-on, at least 48x48 px."""

# Each scope with the reason the add-on asks for it (reference A1, "Scopes"). Consent is granular: a
# user may grant only some, and the add-on checks what was granted before it relies on one.
GMAIL_SCOPES: dict[str, str] = {
    "https://www.googleapis.com/auth/gmail.addons.execute": "run as a Gmail add-on at all",
    "https://www.googleapis.com/auth/gmail.addons.current.message.readonly": (
        "read the open message: its headers (From, To, Cc, Message-ID...) to match Oro records, and "
        "its body when linking creates the email in Oro and the privacy policy keeps bodies"
    ),
    "https://www.googleapis.com/auth/gmail.addons.current.action.compose": (
        "required of every add-on with a compose trigger; inserts a templated reply into the open draft"
    ),
    "https://www.googleapis.com/auth/userinfo.email": (
        "puts the user's verified email in authorizationEventObject.userIdToken: who the user is"
    ),
    "https://www.googleapis.com/auth/gmail.send": (
        "send a templated reply from the server (users.messages.send in the thread), the narrowest "
        "scope that method accepts; Google classes it sensitive, so publishing needs OAuth verification"
    ),
}
SEND_SCOPE = "https://www.googleapis.com/auth/gmail.send"

HTTP_OPTIONS = {"authorizationHeader": "SYSTEM_ID_TOKEN", "granularOauthPermissionSupport": "OPT_IN"}


class ManifestInputError(ValueError):
    """An argument of a manifest renderer is unusable; the message says which and why."""


def _https_base(url: str, what: str) -> str:
    """``url`` without its trailing slash, if it is an absolute https:// URL fit for a base."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname:
        raise ManifestInputError(
            f"{what} must be an absolute https:// URL (Google calls add-ons and opens links over HTTPS "
            f"only), got {url!r}"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ManifestInputError(
            f"{what} must not carry a query, a fragment or credentials, got {url!r}"
        )
    return url.strip().rstrip("/")


def render_gmail_deployment(
    base_url: str,
    *,
    name: str = "Oro Connector",
    logo_url: str | None = None,
    oro_url: str | None = None,
    send_mail: bool = True,
    compose_label: str = "Insert an Oro reply",
) -> dict[str, Any]:
    """The deployment resource of the Gmail add-on served at ``base_url`` (the connector's
    ``PUBLIC_URL``).

    ``oro_url`` (Oro's base URL) is allow-listed for card links next to ``base_url``. ``send_mail``
    asks for ``gmail.send``, which server-side replies need. Raises :class:`ManifestInputError` for a
    base, logo or Oro URL that is not https://, or an empty name or label.
    """
    base = _https_base(base_url, "The base URL")
    if not name.strip():
        raise ManifestInputError("The add-on's name must not be empty (Google shows it in Gmail).")
    if not compose_label.strip():
        raise ManifestInputError("The compose action's label must not be empty.")
    logo = f"{base}{LOGO_PATH}" if logo_url is None else _https_base(logo_url, "The logo URL")
    prefixes = [f"{base}/"]
    if oro_url is not None:
        oro_prefix = f"{_https_base(oro_url, 'The Oro URL')}/"
        if oro_prefix not in prefixes:
            prefixes.append(oro_prefix)

    scopes = [scope for scope in GMAIL_SCOPES if send_mail or scope != SEND_SCOPE]
    return {
        "oauthScopes": scopes,
        "addOns": {
            "common": {
                "name": name.strip(),
                "logoUrl": logo,
                "homepageTrigger": {"runFunction": f"{base}{HOMEPAGE_PATH}"},
                "universalActions": [
                    {"label": "Refresh", "runFunction": f"{base}{REFRESH_PATH}"},
                    {"label": "Disconnect from Oro", "runFunction": f"{base}{DISCONNECT_PATH}"},
                ],
                "openLinkUrlPrefixes": prefixes,
            },
            "gmail": {
                "contextualTriggers": [
                    {"unconditional": {}, "onTriggerFunction": f"{base}{MESSAGE_PATH}"}
                ],
                "composeTrigger": {
                    "actions": [
                        {
                            "runFunction": f"{base}{COMPOSE_PATH}",
                            "label": compose_label.strip(),
                            "logoUrl": logo,
                        }
                    ],
                    # METADATA lets the compose card see the draft's To and Cc (to match Oro records).
                    "draftAccess": "METADATA",
                },
            },
            "httpOptions": dict(HTTP_OPTIONS),
        },
    }

