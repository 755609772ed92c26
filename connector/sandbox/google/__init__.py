"""The sandbox's Google: an ID token issuer with published certificates, and Gmail add-on events.

``GoogleTokenIssuer`` signs system and user ID tokens as Google does (keys generated at start);
``create_google_blueprint(issuer)`` serves its certificates in Google's formats under any mount
(``/oauth2/v1/certs``, ``/oauth2/v3/certs``); ``build_event`` makes the event object Google POSTs to an
add-on endpoint, with ``authorization_header`` for its ``Authorization`` header.
"""

from connector.sandbox.google.events import authorization_header, build_event
from connector.sandbox.google.issuer import (
    GOOGLE_ISSUER,
    SANDBOX_CLIENT_ID,
    SANDBOX_SERVICE_ACCOUNT,
    GoogleTokenIssuer,
    OAuthGrant,
    SigningKey,
)
from connector.sandbox.google.routes import create_google_blueprint

__all__ = [
    "GOOGLE_ISSUER",
    "SANDBOX_CLIENT_ID",
    "SANDBOX_SERVICE_ACCOUNT",
    "GoogleTokenIssuer",
    "OAuthGrant",
    "SigningKey",
    "authorization_header",
    "build_event",
    "create_google_blueprint",
]
