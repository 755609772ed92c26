"""Gmail add-on event objects as Google POSTs them to an HTTP endpoint (reference A2), signed by the
sandbox issuer: for the demo's preview (which plays Google) and for tests.

The request token goes twice, as Google sends it: in ``authorizationEventObject.systemIdToken`` and,
via :func:`authorization_header`, in the ``Authorization`` header.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from connector.manifests.gmail import GMAIL_SCOPES
from connector.sandbox.google.issuer import (
    SANDBOX_CLIENT_ID,
    SANDBOX_SERVICE_ACCOUNT,
    GoogleTokenIssuer,
    numeric_id,
)


def build_event(
    issuer: GoogleTokenIssuer,
    *,
    endpoint_url: str,
    user_email: str,
    user_sub: str | None = None,
    user_name: str | None = None,
    message_id: str | None = None,
    thread_id: str | None = None,
    to_recipients: Sequence[str] | None = None,
    cc_recipients: Sequence[str] | None = None,
    bcc_recipients: Sequence[str] | None = None,
    parameters: Mapping[str, str] | None = None,
    form_inputs: Mapping[str, Sequence[str]] | None = None,
    authorized_scopes: Sequence[str] | None = None,
    service_account: str = SANDBOX_SERVICE_ACCOUNT,
    client_id: str = SANDBOX_CLIENT_ID,
    platform: str = "WEB",
    user_locale: str = "en",
    time_zone: str = "Europe/Paris",
) -> dict[str, Any]:
    """The event Google would POST to ``endpoint_url`` for ``user_email`` in Gmail.

    With ``message_id`` it is a message (contextual trigger or button) event and ``gmail`` carries the
    ids and a per-message ``accessToken``; with recipients it is a compose event. ``parameters`` are a
    button's action parameters, ``form_inputs`` the values of the card's inputs by widget name.
    ``user_sub`` defaults to a stable id derived from the email. ``authorizedScopes`` is sent only when
    ``authorized_scopes`` is given (Google's documentation does not promise it). The opaque tokens
    grant all the deployment's scopes unless ``authorized_scopes`` narrows them.
    """
    scopes = tuple(GMAIL_SCOPES) if authorized_scopes is None else tuple(authorized_scopes)
    sub = user_sub or numeric_id(user_email)
    authorization: dict[str, Any] = {
        "userOAuthToken": issuer.mint_user_oauth_token(user_email, scopes=scopes),
        "userIdToken": issuer.mint_user_id_token(client_id, user_email, sub, name=user_name),
        "systemIdToken": issuer.mint_system_id_token(endpoint_url, service_account),
    }
    if authorized_scopes is not None:
        authorization["authorizedScopes"] = list(authorized_scopes)

    offset = datetime.now(UTC).astimezone(ZoneInfo(time_zone)).utcoffset()
    common: dict[str, Any] = {
        "hostApp": "GMAIL",
        "platform": platform,
        "userLocale": user_locale,
        "timeZone": {"id": time_zone, "offset": int(offset.total_seconds() * 1000) if offset else 0},
    }
    if form_inputs:
        common["formInputs"] = {
            name: {"stringInputs": {"value": list(values)}} for name, values in form_inputs.items()
        }
    if parameters:
        common["parameters"] = dict(parameters)

    event: dict[str, Any] = {"commonEventObject": common, "authorizationEventObject": authorization}
    gmail: dict[str, Any] = {}
    if message_id is not None:
        gmail["messageId"] = message_id
        gmail["threadId"] = thread_id or message_id
        gmail["accessToken"] = issuer.mint_gmail_access_token(user_email, message_id)
    elif thread_id is not None:
        gmail["threadId"] = thread_id
    for field, recipients in (
        ("toRecipients", to_recipients),
        ("ccRecipients", cc_recipients),
        ("bccRecipients", bcc_recipients),
    ):
        if recipients is not None:
            gmail[field] = list(recipients)
    if gmail:
        event["gmail"] = gmail
    return event


def authorization_header(event: Mapping[str, Any]) -> str:
    """The ``Authorization`` header Google sends with ``event``."""
    return f"Bearer {event['authorizationEventObject']['systemIdToken']}"
