"""The sandbox's OAuth 2 server, behaving like OroOAuth2ServerBundle (league/oauth2-server underneath).

Grants: ``client_credentials``, ``authorization_code`` (PKCE ``S256`` and ``plain``), ``password`` and
``refresh_token``. Refresh tokens rotate: using one revokes it (a second use answers ``invalid_grant``
"The refresh token is invalid." with hint "Token has been revoked"). Authorization codes are single use.

Access tokens are RS256 JWTs like Oro's (``aud`` = client id, ``jti``, ``iat``/``nbf``/``exp``,
``sub`` = user id, ``scopes``), signed with a key made when the first token is issued. The server
also remembers every token it issued, so a token is valid only while this sandbox world lives.

Error bodies are league's plus Oro's ``message`` copy: ``{"error", "error_description", ["hint"],
"message"}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ACCESS_TOKEN_LIFETIME = 3600
REFRESH_TOKEN_LIFETIME = 2_592_000
AUTH_CODE_LIFETIME = 600

_INVALID_REQUEST = (
    "The request is missing a required parameter, includes an invalid parameter value, "
    "includes a parameter more than once, or is otherwise malformed."
)
_INVALID_GRANT = (
    "The provided authorization grant (e.g., authorization code, resource owner credentials) or "
    "refresh token is invalid, expired, revoked, does not match the redirection URI used in the "
    "authorization request, or was issued to another client."
)
_CODE_CHALLENGE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


class OAuthError(Exception):
    """An OAuth error as league words it; ``redirect_uri`` set means "answer with a redirect"."""

    def __init__(
        self,
        error: str,
        description: str,
        status: int,
        hint: str | None = None,
        *,
        redirect_uri: str | None = None,
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.hint = hint
        self.redirect_uri = redirect_uri

    def payload(self) -> dict[str, str]:
        body = {"error": self.error, "error_description": self.description}
        if self.hint is not None:
            body["hint"] = self.hint
        body["message"] = self.description
        return body

    @classmethod
    def invalid_request(cls, parameter: str, hint: str | None = None) -> OAuthError:
        return cls("invalid_request", _INVALID_REQUEST, 400, hint or f"Check the `{parameter}` parameter")

    @classmethod
    def invalid_client(cls) -> OAuthError:
        return cls("invalid_client", "Client authentication failed", 401)

    @classmethod
    def invalid_grant(cls, hint: str) -> OAuthError:
        return cls("invalid_grant", _INVALID_GRANT, 400, hint)

    @classmethod
    def invalid_credentials(cls) -> OAuthError:
        return cls("invalid_grant", "The user credentials were incorrect.", 400)

    @classmethod
    def invalid_refresh_token(cls, hint: str) -> OAuthError:
        return cls("invalid_grant", "The refresh token is invalid.", 400, hint)

    @classmethod
    def unsupported_grant_type(cls) -> OAuthError:
        return cls(
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
            400,
            "Check that all required parameters have been provided",
        )

    @classmethod
    def access_denied(cls, redirect_uri: str) -> OAuthError:
        return cls(
            "access_denied",
            "The resource owner or authorization server denied the request.",
            401,
            "The user denied the request",
            redirect_uri=redirect_uri,
        )


@dataclass(frozen=True)
class OAuthClient:
    """An OAuth application as configured in Oro's back-office (one grant type, plus refresh)."""

    client_id: str
    secret: str | None  # None: a public client (PKCE required)
    grants: frozenset[str]
    redirect_uris: tuple[str, ...] = ()
    allow_loopback_redirects: bool = False
    acts_as: str | None = None  # client_credentials: the username the client acts as

    @property
    def confidential(self) -> bool:
        return self.secret is not None

    def accepts_redirect(self, uri: str) -> bool:
        if uri in self.redirect_uris:
            return True
        if not self.allow_loopback_redirects:
            return False
        parts = urlsplit(uri)
        return parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK_HOSTS | {"::1"}


@dataclass
class AuthorizationRequest:
    """A validated ``/oauth2-token/authorize`` request, kept across the login form."""

    client_id: str
    redirect_uri: str
    state: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    redirect_uri_given: bool


@dataclass
class _AuthCode:
    client_id: str
    user_id: str
    redirect_uri: str
    redirect_uri_given: bool
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: float
    used: bool = False


@dataclass
class _AccessToken:
    user_id: str
    client_id: str
    expires_at: float


@dataclass
class _RefreshToken:
    user_id: str
    client_id: str
    expires_at: float
    revoked: bool = False


@dataclass
class TokenOwner:
    """Who an access token speaks for."""

    user_id: str
    client_id: str


@dataclass
class OAuthServer:
    """Issues and checks tokens. Thread-safe; ``clock`` returns seconds since the epoch."""

    clients: dict[str, OAuthClient]
    authenticate: Callable[[str, str], str | None]  # (username, password) -> user id
    user_id_for: Callable[[str], str | None]  # username -> user id
    clock: Callable[[], float]
    access_token_lifetime: int = ACCESS_TOKEN_LIFETIME
    refresh_token_lifetime: int = REFRESH_TOKEN_LIFETIME
    auth_code_lifetime: int = AUTH_CODE_LIFETIME
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _codes: dict[str, _AuthCode] = field(default_factory=dict, repr=False)
    _access: dict[str, _AccessToken] = field(default_factory=dict, repr=False)
    _refresh: dict[str, _RefreshToken] = field(default_factory=dict, repr=False)
    _key: rsa.RSAPrivateKey | None = field(default=None, repr=False)

    # --- the resource server side --------------------------------------------------------------

    def owner_of(self, access_token: str) -> TokenOwner | None:
        """The user an unexpired access token speaks for, or None (Oro then answers an empty 401)."""
        with self._lock:
            token = self._access.get(access_token)
            if token is None or token.expires_at <= self.clock():
                return None
            return TokenOwner(token.user_id, token.client_id)

    def issue_for_user(self, user_id: str, client_id: str = "sandbox-test") -> str:
        """An access token for ``user_id`` without the OAuth dance (tests and the demo use it)."""
        with self._lock:
            return self._new_access_token(user_id, client_id)

    # --- /oauth2-token/authorize -----------------------------------------------------------------

    def validate_authorization(self, params: dict[str, str]) -> AuthorizationRequest:
        # league answers "unsupported grant type" unless response_type=code and a client_id are both given
        client_id = params.get("client_id", "")
        if params.get("response_type") != "code" or not client_id:
            raise OAuthError.unsupported_grant_type()
        client = self.clients.get(client_id)
        if client is None or "authorization_code" not in client.grants:
            raise OAuthError.invalid_client()
        given = params.get("redirect_uri") or ""
        if given:
            if not client.accepts_redirect(given):
                raise OAuthError.invalid_client()
            redirect_uri = given
        elif client.redirect_uris:
            redirect_uri = client.redirect_uris[0]
        else:
            raise OAuthError.invalid_client()
        challenge = params.get("code_challenge") or None
        method = params.get("code_challenge_method") or None
        if challenge is not None:
            method = method or "plain"
            if method not in ("plain", "S256"):
                raise OAuthError.invalid_request(
                    "code_challenge_method", "Code challenge method must be one of `plain` or `S256`"
                )
            if not _CODE_CHALLENGE.match(challenge):
                raise OAuthError.invalid_request(
                    "code_challenge", "Code challenge must follow the specifications of RFC-7636."
                )
        elif not client.confidential:
            raise OAuthError.invalid_request(
                "code_challenge", "Code challenge must be provided for public clients"
            )
        return AuthorizationRequest(
            client_id=client_id,
            redirect_uri=redirect_uri,
            state=params.get("state") or None,
            code_challenge=challenge,
            code_challenge_method=method if challenge else None,
            redirect_uri_given=bool(given),
        )

    def issue_code(self, request: AuthorizationRequest, user_id: str) -> str:
        code = secrets.token_urlsafe(48)
        with self._lock:
            self._codes[code] = _AuthCode(
                client_id=request.client_id,
                user_id=user_id,
                redirect_uri=request.redirect_uri,
                redirect_uri_given=request.redirect_uri_given,
                code_challenge=request.code_challenge,
                code_challenge_method=request.code_challenge_method,
                expires_at=self.clock() + self.auth_code_lifetime,
            )
        return code

    # --- POST /oauth2-token ----------------------------------------------------------------------

    def token(self, params: dict[str, str], basic_auth: tuple[str, str] | None = None) -> dict[str, Any]:
        grant = params.get("grant_type") or ""
        if grant not in ("client_credentials", "authorization_code", "password", "refresh_token"):
            raise OAuthError.unsupported_grant_type()
        client = self._client(params, basic_auth, grant)
        if grant == "client_credentials":
            return self._client_credentials(client)
        if grant == "password":
            return self._password(client, params)
        if grant == "authorization_code":
            return self._authorization_code(client, params)
        return self._refresh_token(client, params)

    def _client(self, params: dict[str, str], basic_auth: tuple[str, str] | None, grant: str) -> OAuthClient:
        client_id, secret = (
            basic_auth if basic_auth else (params.get("client_id", ""), params.get("client_secret"))
        )
        if not client_id:
            raise OAuthError.invalid_request("client_id")
        client = self.clients.get(client_id)
        if client is None:
            raise OAuthError.invalid_client()
        if client.confidential and not (secret and hmac.compare_digest(secret, client.secret or "")):
            raise OAuthError.invalid_client()
        allowed = client.grants | (
            {"refresh_token"} if client.grants & {"authorization_code", "password"} else set()
        )
        if grant not in allowed:
            raise OAuthError.invalid_client()
        return client

    def _client_credentials(self, client: OAuthClient) -> dict[str, Any]:
        user_id = self.user_id_for(client.acts_as or "")
        if user_id is None:
            raise OAuthError.invalid_client()
        with self._lock:
            return self._response(self._new_access_token(user_id, client.client_id), None)

    def _password(self, client: OAuthClient, params: dict[str, str]) -> dict[str, Any]:
        for name in ("username", "password"):
            if not params.get(name):
                raise OAuthError.invalid_request(name)
        user_id = self.authenticate(params["username"], params["password"])
        if user_id is None:
            raise OAuthError.invalid_credentials()
        with self._lock:
            return self._pair(user_id, client.client_id)

    def _authorization_code(self, client: OAuthClient, params: dict[str, str]) -> dict[str, Any]:
        code = params.get("code") or ""
        if not code:
            raise OAuthError.invalid_request("code")
        with self._lock:
            stored = self._codes.get(code)
            if stored is None:
                raise OAuthError.invalid_request("code", "Cannot decrypt the authorization code")
            if stored.used:
                raise OAuthError.invalid_grant("Authorization code has been revoked")
            if stored.expires_at <= self.clock():
                raise OAuthError.invalid_grant("Authorization code has expired")
            if stored.client_id != client.client_id:
                raise OAuthError.invalid_request("code", "Authorization code was not issued to this client")
            redirect_uri = params.get("redirect_uri") or ""
            if (stored.redirect_uri_given or redirect_uri) and redirect_uri != stored.redirect_uri:
                raise OAuthError.invalid_client()
            if stored.code_challenge is not None:
                verifier = params.get("code_verifier") or ""
                if not verifier:
                    raise OAuthError.invalid_request("code_verifier")
                if not _CODE_CHALLENGE.match(verifier):
                    raise OAuthError.invalid_request(
                        "code_verifier", "Code Verifier must follow the specifications of RFC-7636."
                    )
                if not _pkce_matches(
                    verifier, stored.code_challenge, stored.code_challenge_method or "plain"
                ):
                    raise OAuthError.invalid_grant("Failed to verify `code_verifier`.")
            stored.used = True
            return self._pair(stored.user_id, client.client_id)

    def _refresh_token(self, client: OAuthClient, params: dict[str, str]) -> dict[str, Any]:
        value = params.get("refresh_token") or ""
        if not value:
            raise OAuthError.invalid_request("refresh_token")
        with self._lock:
            stored = self._refresh.get(value)
            if stored is None:
                raise OAuthError.invalid_refresh_token("Cannot decrypt the refresh token")
            if stored.client_id != client.client_id:
                raise OAuthError.invalid_refresh_token("Token is not linked to client")
            if stored.expires_at <= self.clock():
                raise OAuthError.invalid_refresh_token("Token has expired")
            if stored.revoked:
                raise OAuthError.invalid_refresh_token("Token has been revoked")
            stored.revoked = True
            return self._pair(stored.user_id, client.client_id)

    # --- issuing (callers hold the lock) ----------------------------------------------------------

    def _pair(self, user_id: str, client_id: str) -> dict[str, Any]:
        access = self._new_access_token(user_id, client_id)
        refresh = secrets.token_urlsafe(64)
        self._refresh[refresh] = _RefreshToken(user_id, client_id, self.clock() + self.refresh_token_lifetime)
        return self._response(access, refresh)

    def _response(self, access: str, refresh: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "expires_in": self.access_token_lifetime,
            "access_token": access,
        }
        if refresh is not None:
            body["refresh_token"] = refresh
        return body

    def _new_access_token(self, user_id: str, client_id: str) -> str:
        now = int(self.clock())
        claims = {
            "aud": client_id,
            "jti": secrets.token_hex(40),
            "iat": now,
            "nbf": now,
            "exp": now + self.access_token_lifetime,
            "sub": user_id,
            "scopes": [],
        }
        token = self._sign(claims)
        self._access[token] = _AccessToken(user_id, client_id, now + self.access_token_lifetime)
        return token

    def _sign(self, claims: dict[str, Any]) -> str:
        if self._key is None:
            self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        header = _b64(json.dumps({"typ": "JWT", "alg": "RS256"}, separators=(",", ":")).encode())
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = f"{header}.{body}".encode()
        signature = self._key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{header}.{body}.{_b64(signature)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _pkce_matches(verifier: str, challenge: str, method: str) -> bool:
    if method == "S256":
        expected = _b64(hashlib.sha256(verifier.encode()).digest())
        return hmac.compare_digest(expected, challenge)
    return hmac.compare_digest(verifier, challenge)
