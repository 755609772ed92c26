"""Users from host identities, and connecting a user to Oro (authorization code + PKCE).

Operations flush and never commit; the request's commit point does. The connect link given to a
browser is a signed, expiring ticket naming our user, so the flow is bound to the person whose add-on
asked for it; the OAuth ``state`` is single-use and stored hashed, with the PKCE verifier encrypted.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connector.accounts.errors import ConnectLinkInvalid, ConnectStateInvalid
from connector.db.models import Identity, OAuthState, User, utcnow
from connector.oro.auth import OroOAuth, OroTokens
from connector.security.secrets import SecretBox

logger = logging.getLogger(__name__)

TICKET_LIFETIME = timedelta(minutes=10)
STATE_LIFETIME = timedelta(minutes=15)


def user_for_identity(
    session: Session, *, provider: str, subject: str, email: str, display_name: str = ""
) -> User:
    """The user behind a verified host identity, created on first sight; joined by email across hosts.

    Two first requests from one person can arrive together (the Gmail card and a preview pane do):
    the loser of the race to insert finds the winner's user on its second look instead of failing.
    """
    email = email.strip().lower()
    for last_try in (False, True):
        identity = session.scalar(
            select(Identity).where(Identity.provider == provider, Identity.subject == subject)
        )
        if identity is not None:
            user = identity.user
            break
        user = session.scalar(select(User).where(User.email == email)) or User(email=email)
        if display_name and not user.display_name:
            user.display_name = display_name
        try:
            # Only the writes in the savepoint: on SQLite a read inside it would pin a snapshot that the
            # other request's commit makes stale, and the insert would fail as "locked", not as a duplicate.
            with session.begin_nested():
                session.add(Identity(user=user, provider=provider, subject=subject))
                session.add(user)
                session.flush()
        except IntegrityError:
            if last_try:
                raise
            logger.info("%s identity for %s was created by a concurrent request", provider, email)
            continue
        logger.info("new %s identity for %s", provider, user)
        break
    user.last_seen_at = utcnow()
    session.flush()
    return user


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="oro-connect-ticket")


def connect_ticket(secret_key: str, user: User) -> str:
    """A signed ticket for ``/oauth/oro/start`` that names ``user`` and expires after ten minutes."""
    return _serializer(secret_key).dumps({"u": user.id})


def user_from_ticket(session: Session, secret_key: str, ticket: str) -> User:
    try:
        data = _serializer(secret_key).loads(ticket, max_age=int(TICKET_LIFETIME.total_seconds()))
    except SignatureExpired:
        raise ConnectLinkInvalid("This connect link has expired: open the sidebar and try again.") from None
    except BadSignature:
        raise ConnectLinkInvalid("This connect link is not valid: open the sidebar and try again.") from None
    user = session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None:
        raise ConnectLinkInvalid("This connect link names no known user: open the sidebar and try again.")
    return user


def _hash_state(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def start_connect(session: Session, oauth: OroOAuth, box: SecretBox, *, user: User, redirect_uri: str) -> str:
    """Record a pending connection for ``user``; return the Oro authorize URL to send the browser to."""
    request = oauth.start_authorization(redirect_uri=redirect_uri)
    session.add(
        OAuthState(
            state_hash=_hash_state(request.state),
            user=user,
            code_verifier=box.encrypt(request.code_verifier),
            redirect_uri=redirect_uri,
        )
    )
    session.flush()
    return request.url


def claim_state(session: Session, box: SecretBox, *, state: str) -> tuple[User, str, str]:
    """Mark the state used; return its user, PKCE verifier and redirect URI. Single use, expiring."""
    pending = session.get(OAuthState, _hash_state(state), with_for_update=True)
    if pending is None:
        raise ConnectStateInvalid("This sign-in to Oro was not started here: start again from the sidebar.")
    if pending.used_at is not None:
        raise ConnectStateInvalid("This sign-in to Oro was already used: start again from the sidebar.")
    created = pending.created_at if pending.created_at.tzinfo else pending.created_at.replace(tzinfo=UTC)
    if datetime.now(UTC) - created > STATE_LIFETIME:
        raise ConnectStateInvalid("This sign-in to Oro took too long: start again from the sidebar.")
    pending.used_at = utcnow()
    session.flush()
    return pending.user, box.decrypt(pending.code_verifier), pending.redirect_uri


def finish_connect(oauth: OroOAuth, *, code: str, code_verifier: str, redirect_uri: str) -> OroTokens:
    """Exchange the authorization code for the user's tokens."""
    return oauth.exchange_code(code=code, code_verifier=code_verifier, redirect_uri=redirect_uri)
