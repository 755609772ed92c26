"""OAuth 2 against Oro's ``/oauth2-token``: client credentials, authorization code + PKCE, refresh.

Oro's OAuth server is OroOAuth2ServerBundle on league/oauth2-server (reference §2.1). The connector is
a *confidential* client: its secret is sent from the server, never from a browser, and PKCE (S256)
is used on top. Token requests are form-encoded, as Oro's own tests and connector send them.

Refresh tokens rotate: a refresh answers with a new refresh token and revokes the old one. So a
refresh must run once per identity at a time and its result must be stored before anyone else
refreshes; :class:`TokenStore` gives the lock (``locked(key)``) and the storage.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlencode

from connector.oro.config import OroConfig
from connector.oro.errors import OroAuthExpired, OroAuthRejected, OroError, OroUnexpectedResponse
from connector.oro.transport import HttpTransport

logger = logging.getLogger(__name__)

EXPIRY_LEEWAY_SECONDS = 30.0
"""A token this close to its expiry is refreshed first, so it does not expire on the way to Oro."""


@dataclass(frozen=True)
class OroTokens:
    """What Oro's token endpoint gave one identity. ``repr`` never shows a token."""

    access_token: str = field(repr=False)
    expires_at: datetime
    refresh_token: str | None = field(default=None, repr=False)
    token_type: str = "Bearer"  # noqa: S105 - the scheme's name, not a secret

    @classmethod
    def from_token_response(cls, body: Any, *, now: float) -> OroTokens:
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise ValueError("a token response needs an access_token")
        try:
            lifetime = float(body.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600.0
        refresh = body.get("refresh_token")
        return cls(
            access_token=body["access_token"],
            expires_at=datetime.fromtimestamp(now + lifetime, tz=UTC),
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
            token_type=str(body.get("token_type") or "Bearer"),
        )

    def expired(self, *, now: float, leeway: float = EXPIRY_LEEWAY_SECONDS) -> bool:
        return self.expires_at.timestamp() - leeway <= now

    @property
    def refreshable(self) -> bool:
        return self.refresh_token is not None

    def to_json(self) -> str:
        """A string for a store to encrypt and keep (the DB-backed store uses this)."""
        return json.dumps({
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at.isoformat(),
            "token_type": self.token_type,
        })

    @classmethod
    def from_json(cls, text: str) -> OroTokens:
        raw = json.loads(text)
        return cls(
            access_token=raw["access_token"],
            refresh_token=raw.get("refresh_token"),
            expires_at=datetime.fromisoformat(raw["expires_at"]),
            token_type=raw.get("token_type", "Bearer"),
        )


class TokenStore(Protocol):
    """Keeps each identity's tokens. ``locked(key)`` serialises refreshes of one key (across threads,
    and for a shared store across processes), since a rotated refresh token works only once."""

    def load(self, key: str) -> OroTokens | None: ...

    def save(self, key: str, tokens: OroTokens) -> None: ...

    def locked(self, key: str) -> AbstractContextManager[None]: ...


class InMemoryTokenStore:
    """A :class:`TokenStore` in this process's memory (the integration client, tests, the demo)."""

    def __init__(self) -> None:
        self._tokens: dict[str, OroTokens] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def load(self, key: str) -> OroTokens | None:
        with self._guard:
            return self._tokens.get(key)

    def save(self, key: str, tokens: OroTokens) -> None:
        with self._guard:
            self._tokens[key] = tokens

    @contextmanager
    def locked(self, key: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            yield


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the user's browser, and what to keep (server side) until the redirect comes back."""

    url: str
    state: str
    redirect_uri: str
    code_verifier: str = field(repr=False)


def pkce_challenge(verifier: str) -> str:
    """``BASE64URL(SHA256(verifier))`` without padding (RFC 7636 §4.2, method S256)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OroOAuth:
    """The token and authorize endpoints of one Oro, for the configured OAuth applications."""

    def __init__(
        self, config: OroConfig, transport: HttpTransport, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.config = config
        self._transport = transport
        self._clock = clock

    def now(self) -> float:
        return self._clock()

    def client_credentials(self) -> OroTokens:
        """A token for the integration client (background work)."""
        if not self.config.integration_client_id or not self.config.integration_client_secret:
            raise OroAuthRejected(
                "The Oro integration client is not configured: set ORO_CONNECTOR_ORO_INTEGRATION_CLIENT_ID "
                "and ORO_CONNECTOR_ORO_INTEGRATION_CLIENT_SECRET",
                error="invalid_client", description="not configured", status=None,
            )
        return self._token({
            "grant_type": "client_credentials",
            "client_id": self.config.integration_client_id,
            "client_secret": self.config.integration_client_secret,
        })

    def start_authorization(self, *, redirect_uri: str, state: str | None = None) -> AuthorizationRequest:
        """The authorize URL (with state and an S256 code challenge) and the verifier to keep."""
        self._require_user_client()
        verifier = secrets.token_urlsafe(64)  # 86 characters of the RFC 7636 alphabet
        state = state or secrets.token_urlsafe(24)
        query = urlencode({
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256",
        })
        return AuthorizationRequest(
            url=f"{self.config.authorize_url}?{query}", state=state, redirect_uri=redirect_uri,
            code_verifier=verifier,
        )

    def exchange_code(self, *, code: str, code_verifier: str, redirect_uri: str) -> OroTokens:
        """Trade the code from the redirect for tokens (confidential client: secret and verifier)."""
        self._require_user_client()
        return self._token({
            "grant_type": "authorization_code",
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret,
            "redirect_uri": redirect_uri,
            "code": code,
            "code_verifier": code_verifier,
        })

    def refresh(self, *, refresh_token: str, key: str | None = None) -> OroTokens:
        """New tokens for a refresh token; :class:`OroAuthExpired` when Oro refuses it."""
        self._require_user_client()
        try:
            return self._token({
                "grant_type": "refresh_token",
                "client_id": self.config.client_id,
                "client_secret": self.config.client_secret,
                "refresh_token": refresh_token,
            })
        except OroAuthRejected as exc:
            raise OroAuthExpired(
                f"Oro refused to refresh the connection ({exc.error}): connect to Oro again", key=key
            ) from exc

    def _require_user_client(self) -> None:
        if not self.config.client_id or not self.config.client_secret:
            raise OroAuthRejected(
                "The Oro OAuth application is not configured: set ORO_CONNECTOR_ORO_CLIENT_ID and "
                "ORO_CONNECTOR_ORO_CLIENT_SECRET",
                error="invalid_client", description="not configured", status=None,
            )

    def _token(self, form: dict[str, str]) -> OroTokens:
        url = self.config.token_url
        grant = form["grant_type"]
        answer = self._transport.send("POST", url, headers={"Accept": "application/json"}, data=form)
        body = answer.body
        if answer.status == 200:
            try:
                tokens = OroTokens.from_token_response(body, now=self._clock())
            except ValueError:
                raise OroUnexpectedResponse(
                    f"Oro's token endpoint {url} answered without an access token", url=url, status=200
                ) from None
            logger.info("Oro issued tokens (%s grant)", grant)
            return tokens
        if answer.status in (400, 401) and isinstance(body, dict) and "error" in body:
            error = str(body.get("error"))
            description = str(body.get("error_description") or body.get("message") or "")
            logger.warning("Oro's token endpoint refused the %s grant: %s", grant, error)
            raise OroAuthRejected(
                f"Oro refused the {grant} grant: {error} ({description})",
                error=error, description=description, status=answer.status,
            )
        raise OroUnexpectedResponse(
            f"Oro's token endpoint {url} answered {answer.status} to the {grant} grant: is OAuth enabled "
            "and ORO_CONNECTOR_ORO_URL right?",
            url=url, status=answer.status,
        )


# --- who a call runs as --------------------------------------------------------------------------


class UserTokenAuth:
    """Bearer tokens of one connected mailbox user, refreshed silently while Oro allows it."""

    def __init__(self, oauth: OroOAuth, *, store: TokenStore, key: str) -> None:
        self._oauth = oauth
        self._store = store
        self.key = key

    def access_token(self) -> str:
        tokens = self._store.load(self.key)
        if tokens is None:
            raise OroAuthExpired("Not connected to Oro yet: connect to Oro first", key=self.key)
        if not tokens.expired(now=self._oauth.now()):
            return tokens.access_token
        return self._refresh(stale=tokens.access_token)

    def renew(self, *, rejected: str) -> str:
        return self._refresh(stale=rejected)

    def refused(self) -> OroError:
        return OroAuthExpired("Oro refused a freshly refreshed token: connect to Oro again", key=self.key)

    def _refresh(self, *, stale: str) -> str:
        with self._store.locked(self.key):
            tokens = self._store.load(self.key)
            if tokens is None:
                raise OroAuthExpired("Not connected to Oro: connect to Oro first", key=self.key)
            if tokens.access_token != stale and not tokens.expired(now=self._oauth.now()):
                return tokens.access_token  # another worker refreshed while we waited for the lock
            if tokens.refresh_token is None:
                raise OroAuthExpired("The Oro connection has expired: connect to Oro again", key=self.key)
            fresh = self._oauth.refresh(refresh_token=tokens.refresh_token, key=self.key)
            if fresh.refresh_token is None:  # Oro did not rotate it: the old one stays valid
                fresh = replace(fresh, refresh_token=tokens.refresh_token)
            self._store.save(self.key, fresh)
            logger.info("Refreshed the Oro tokens of %s", self.key)
            return fresh.access_token


class ClientCredentialsAuth:
    """Bearer tokens of the integration client; a new one is simply requested when needed."""

    def __init__(self, oauth: OroOAuth, *, store: TokenStore, key: str = "integration") -> None:
        self._oauth = oauth
        self._store = store
        self.key = key

    def access_token(self) -> str:
        tokens = self._store.load(self.key)
        if tokens is not None and not tokens.expired(now=self._oauth.now()):
            return tokens.access_token
        return self._fetch(stale=tokens.access_token if tokens else None)

    def renew(self, *, rejected: str) -> str:
        return self._fetch(stale=rejected)

    def refused(self) -> OroError:
        return OroAuthRejected(
            "Oro refused a token it had just issued to the integration client: check that its user is "
            "enabled and allowed to use the API",
            error="invalid_token", description="refused", status=401,
        )

    def _fetch(self, *, stale: str | None) -> str:
        with self._store.locked(self.key):
            tokens = self._store.load(self.key)
            now = self._oauth.now()
            if tokens is not None and tokens.access_token != stale and not tokens.expired(now=now):
                return tokens.access_token
            fresh = self._oauth.client_credentials()
            self._store.save(self.key, fresh)
            return fresh.access_token


class StaticTokenAuth:
    """A bearer token obtained elsewhere (a test, a one-off script); it cannot be renewed."""

    def __init__(self, access_token: str) -> None:
        self._token = access_token

    def __repr__(self) -> str:
        return "StaticTokenAuth(***)"

    def access_token(self) -> str:
        return self._token

    def renew(self, *, rejected: str) -> str:
        raise self.refused()

    def refused(self) -> OroError:
        return OroAuthExpired("Oro refused the access token and it cannot be renewed")
