"""Who is calling the JSON API: the Entra access token verified, and the connector's user behind it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import g, request
from sqlalchemy import select

from connector.accounts.operations import connect_ticket, user_for_identity
from connector.api.errors import ApiError
from connector.app_services import services
from connector.db import db
from connector.db.models import Identity, User
from connector.security.microsoft import EntraUser

logger = logging.getLogger(__name__)

PROVIDER = "microsoft"


@dataclass(frozen=True)
class Caller:
    """The verified Entra identity and our user. ``mailbox`` is the address the token names."""

    entra: EntraUser
    user: User

    @property
    def mailbox(self) -> str:
        return (self.entra.preferred_username or self.user.email).strip().lower()


def current_caller() -> Caller:
    """Verify this request's bearer token (once per request) and find or create its user."""
    found: Caller | None = g.get("api_caller")
    if found is not None:
        return found
    settings = services().effective_settings()
    if not settings.microsoft_client_id:
        raise ApiError("not_configured", "The connector has no Microsoft Entra app configured.")
    entra = services().entra_verifier.verify_authorization(request.headers.get("Authorization"))
    session = db.session
    known = session.scalar(
        select(Identity.id).where(Identity.provider == PROVIDER, Identity.subject == entra.key)
    )
    user = user_for_identity(
        session,
        provider=PROVIDER,
        subject=entra.key,
        email=entra.preferred_username or f"{entra.oid}@{entra.tid}.invalid",
        display_name=entra.name,
    )
    if known is None:
        # A first-time user must outlive this request whatever it answers: a Connect-to-Oro link
        # names them, and a refusal (403 "connect first") rolls the request's session back.
        session.commit()
    caller = Caller(entra=entra, user=user)
    g.api_caller = caller
    return caller


def connect_url() -> str | None:
    """The Connect-to-Oro link for the caller of this request, if one was identified."""
    caller: Caller | None = g.get("api_caller")
    if caller is None:
        return None
    settings = services().effective_settings()
    ticket = connect_ticket(settings.secret_key, caller.user)
    return f"{settings.public_url.rstrip('/')}/oauth/oro/start?ticket={ticket}"
