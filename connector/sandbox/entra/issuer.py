"""A Microsoft Entra stand-in: signing keys, discovery documents, tokens for sandbox users, on-behalf-of.

It speaks as the real authority (``https://login.microsoftonline.com`` unless told otherwise): the
issuer, the endpoints in its discovery documents and the ``iss`` of its tokens all use that URL, so the
connector's production code verifies and exchanges its tokens unchanged. Requests reach it in process
(see :mod:`connector.sandbox.entra.transport`) or, for the browser, under ``/sandbox/entra``.

Tests forge tokens with :meth:`EntraIssuer.mint_access_token`: another tenant, another audience, times
in the past or future, a key that is not published, ``alg: none``, HS256 keyed with the public key, a
missing scope, an unknown ``kid``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connector.sandbox.examples import ADMIN_EMAIL, ALICE_MAILBOX, BOB_MAILBOX

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
DEFAULT_GRAPH_RESOURCE = "https://graph.microsoft.com"

SANDBOX_TENANT_ID = "7d1b9c4e-2f6a-4c8e-9b3d-5a0e1f2c3d4e"
"""The sandbox company's Entra tenant (a made-up GUID; stable across runs)."""
OTHER_TENANT_ID = "0be7e4a1-5c3d-4f2e-8a9b-6c7d8e9f0a1b"
"""A tenant the sandbox knows but the connector is not configured for: its users must be refused."""
SANDBOX_CLIENT_ID = "2b8f6c1d-9e4a-4f7b-8c3d-1a2b3c4d5e6f"
"""The connector's app registration in the sandbox tenant (``ORO_CONNECTOR_MICROSOFT_CLIENT_ID``)."""
SANDBOX_CLIENT_SECRET = "sandbox-entra-client-secret"
SANDBOX_MAIL_DOMAIN = ALICE_MAILBOX.partition("@")[2]
API_SCOPE = "access_as_user"

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})
_COMMON_TENANTS = frozenset({"common", "organizations"})
_TOKEN_LIFETIME = 3600
_REFRESH_LIFETIME = 90 * 24 * 3600


@dataclass(frozen=True)
class SandboxEntraUser:
    username: str
    oid: str
    tid: str
    name: str
    email: str


SANDBOX_USERS: tuple[SandboxEntraUser, ...] = (
    # The sandbox Oro's users (connector/sandbox/examples.py), as Entra knows them: same addresses.
    SandboxEntraUser(
        "alice", "a11ce000-0000-4000-8000-000000000001", SANDBOX_TENANT_ID, "Alice Martin", ALICE_MAILBOX
    ),
    SandboxEntraUser(
        "bob", "b0b00000-0000-4000-8000-000000000002", SANDBOX_TENANT_ID, "Bob Okafor", BOB_MAILBOX
    ),
    SandboxEntraUser(
        "admin", "ad000000-0000-4000-8000-000000000003", SANDBOX_TENANT_ID, "Oro Admin", ADMIN_EMAIL
    ),
    # Someone of a tenant the connector does not serve.
    SandboxEntraUser(
        "mallory",
        "3a11041f-0000-4000-8000-000000000004",
        OTHER_TENANT_ID,
        "Mallory Other",
        "mallory@other-tenant.example",
    ),
)


class EntraOAuthError(Exception):
    """An OAuth error answer of the token endpoint, shaped like Entra's (``AADSTS<code>: ...``)."""

    def __init__(self, error: str, code: int, message: str, *, status: int = 400, suberror: str = "") -> None:
        self.error = error
        self.code = code
        self.description = f"AADSTS{code}: {message}"
        self.status = status
        self.suberror = suberror
        super().__init__(self.description)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "error": self.error,
            "error_description": self.description,
            "error_codes": [self.code],
        }
        if self.suberror:
            body["suberror"] = self.suberror
        return body


class SandboxTokenRejected(Exception):
    """A token presented to the sandbox (e.g. to its Graph) is not one this issuer signed and accepts."""


@dataclass(frozen=True)
class _SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls) -> _SigningKey:
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        der = private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(kid=_b64(hashlib.sha256(der).digest()[:20]), private_key=private_key)

    def jwk(self) -> dict[str, str]:
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "n": _b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": _b64(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
        }

    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


class EntraIssuer:
    """The sandbox's identity platform. Thread-safe; keys are generated when it is built, not at import."""

    def __init__(
        self,
        *,
        authority: str = DEFAULT_AUTHORITY,
        client_id: str = SANDBOX_CLIENT_ID,
        client_secret: str = SANDBOX_CLIENT_SECRET,
        api_uri: str | None = None,
        graph_resource: str = DEFAULT_GRAPH_RESOURCE,
        users: Iterable[SandboxEntraUser] = SANDBOX_USERS,
        tenants: Iterable[str] = (SANDBOX_TENANT_ID, OTHER_TENANT_ID),
        token_lifetime: int = _TOKEN_LIFETIME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.authority = authority.rstrip("/")
        self.client_id = client_id
        self.api_uri = api_uri
        self.graph_resource = graph_resource.rstrip("/")
        self._client_secret = client_secret
        self._users = {u.username: u for u in users}
        self._tenants = frozenset(t.lower() for t in tenants)
        self._token_lifetime = token_lifetime
        self._clock = clock
        self._lock = threading.Lock()
        self._published: list[_SigningKey] = [_SigningKey.generate()]
        self._foreign: _SigningKey | None = None
        self._refresh_tokens: dict[str, dict[str, Any]] = {}
        self._withheld_consent: set[str] = set()
        self.hits: Counter[str] = Counter()
        """Requests answered per endpoint (``openid_configuration``, ``jwks``, ``token``) and per grant
        (``grant:refresh_token``, ``grant:urn:ietf:params:oauth:grant-type:jwt-bearer``)."""

    def __repr__(self) -> str:
        return f"EntraIssuer(authority={self.authority!r}, client_id={self.client_id!r})"

    # -- users, tenants, keys --

    @property
    def users(self) -> tuple[SandboxEntraUser, ...]:
        return tuple(self._users.values())

    def user(self, username: str) -> SandboxEntraUser:
        try:
            return self._users[username]
        except KeyError:
            raise KeyError(f"no sandbox Entra user {username!r}") from None

    def issuer_for(self, tenant_id: str) -> str:
        return f"{self.authority}/{tenant_id}/v2.0"

    @property
    def active_kid(self) -> str:
        with self._lock:
            return self._published[-1].kid

    def rotate_signing_key(self) -> str:
        """Start signing with a new key, still publishing the old ones (as Entra does); its ``kid``."""
        key = _SigningKey.generate()
        with self._lock:
            self._published.append(key)
        return key.kid

    def withhold_consent(self, *scopes: str) -> None:
        """Make on-behalf-of requests for these Graph scopes fail as if nobody had consented."""
        with self._lock:
            self._withheld_consent.update(scopes)

    def _foreign_key(self) -> _SigningKey:
        with self._lock:
            if self._foreign is None:
                self._foreign = _SigningKey.generate()
            return self._foreign

    def _active_key(self) -> _SigningKey:
        with self._lock:
            return self._published[-1]

    def _published_key(self, kid: object) -> _SigningKey | None:
        with self._lock:
            return next((k for k in self._published if k.kid == kid), None)

    def _count(self, endpoint: str) -> None:
        with self._lock:
            self.hits[endpoint] += 1

    # -- documents --

    def known_tenant(self, tenant: str) -> bool:
        return tenant.lower() in self._tenants or tenant.lower() in _COMMON_TENANTS

    def openid_configuration(self, tenant: str) -> dict[str, Any]:
        """The discovery document; ``common``/``organizations`` carry the ``{tenantid}`` template issuer."""
        self._count("openid_configuration")
        if not self.known_tenant(tenant):
            raise EntraOAuthError("invalid_tenant", 90002, f"Tenant '{tenant}' not found.")
        base = f"{self.authority}/{tenant}"
        issuer_tenant = "{tenantid}" if tenant.lower() in _COMMON_TENANTS else tenant
        return {
            "issuer": self.issuer_for(issuer_tenant),
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "tenant_region_scope": "EU",
        }

    def jwks(self, tenant: str = "common") -> dict[str, Any]:
        self._count("jwks")
        if not self.known_tenant(tenant):
            raise EntraOAuthError("invalid_tenant", 90002, f"Tenant '{tenant}' not found.")
        with self._lock:
            return {"keys": [k.jwk() for k in self._published]}

    # -- minting --

    def mint_access_token(
        self,
        username: str = "alice",
        *,
        tenant_id: str | None = None,
        audience: str | None = None,
        scopes: Sequence[str] = (API_SCOPE,),
        lifetime: int = _TOKEN_LIFETIME,
        claims: Mapping[str, Any] | None = None,
        algorithm: str = "RS256",
        key: str = "published",
        kid: str | None = None,
    ) -> str:
        """An access token for our API as the pane would get it, or a forgery of one.

        ``claims`` override the defaults (a ``None`` value removes the claim). ``algorithm`` is
        ``RS256``, ``none`` or ``HS256`` (keyed with the published public key, the classic confusion
        attack). ``key="foreign"`` signs with an unpublished key; ``kid`` overrides the header's ``kid``.
        """
        user = self.user(username)
        tid = tenant_id or user.tid
        now = int(self._clock())
        payload: dict[str, Any] = {
            "aud": audience or self.client_id,
            "iss": self.issuer_for(tid),
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "azp": self.client_id,
            "azpacr": "0",
            "name": user.name,
            "oid": user.oid,
            "preferred_username": user.email,
            "scp": " ".join(scopes),
            "sub": self._pairwise_sub(user.oid),
            "tid": tid,
            "uti": secrets.token_urlsafe(16),
            "ver": "2.0",
        }
        for name, value in (claims or {}).items():
            if value is None:
                payload.pop(name, None)
            else:
                payload[name] = value
        signing_key = self._foreign_key() if key == "foreign" else self._active_key()
        header = {"typ": "JWT", "alg": algorithm, "kid": kid or signing_key.kid}
        return _encode(header, payload, signing_key, algorithm)

    def _pairwise_sub(self, oid: str) -> str:
        return _b64(hashlib.sha256(f"{oid}:{self.client_id}".encode()).digest())

    # -- the token endpoint --

    def token(self, tenant: str, form: Mapping[str, str]) -> dict[str, Any]:
        """Answer a token request (on-behalf-of or refresh) or raise :class:`EntraOAuthError`."""
        self._count("token")
        if not self.known_tenant(tenant):
            raise EntraOAuthError("invalid_request", 90002, f"Tenant '{tenant}' not found.")
        if form.get("client_id") != self.client_id or not hmac.compare_digest(
            form.get("client_secret", "").encode(), self._client_secret.encode()
        ):
            raise EntraOAuthError("invalid_client", 7000215, "Invalid client secret provided.", status=401)
        requested = form.get("scope", "").split()
        grant = form.get("grant_type")
        self._count(f"grant:{grant}")
        if grant == JWT_BEARER_GRANT:
            if form.get("requested_token_use") != "on_behalf_of":
                raise EntraOAuthError("invalid_request", 900144, "requested_token_use must be on_behalf_of.")
            identity = self._identity_from_assertion(form.get("assertion", ""), tenant)
        elif grant == "refresh_token":
            identity = self._identity_from_refresh_token(form.get("refresh_token", ""))
        else:
            raise EntraOAuthError("unsupported_grant_type", 70003, f"Unsupported grant type {grant!r}.")
        return self._issue(identity, requested, client_info=form.get("client_info") == "1")

    def _identity_from_assertion(self, assertion: str, tenant: str) -> dict[str, Any]:
        try:
            claims = self._decode(assertion, audience=[a for a in (self.client_id, self.api_uri) if a])
        except SandboxTokenRejected as exc:
            raise EntraOAuthError("invalid_grant", 50013, f"Assertion failed validation: {exc}.") from None
        if "scp" not in claims:
            raise EntraOAuthError("invalid_grant", 50013, "Assertion is not a delegated user token.")
        tid = str(claims.get("tid", ""))
        if tenant.lower() not in _COMMON_TENANTS and tid.lower() != tenant.lower():
            raise EntraOAuthError("invalid_grant", 50013, "Assertion was issued for another tenant.")
        return {k: claims.get(k) for k in ("oid", "tid", "name", "preferred_username", "sub")}

    def _identity_from_refresh_token(self, refresh_token: str) -> dict[str, Any]:
        with self._lock:
            entry = self._refresh_tokens.get(refresh_token)
        if entry is None or entry["expires"] < self._clock():
            raise EntraOAuthError("invalid_grant", 700082, "The refresh token has expired or is unknown.")
        identity: dict[str, Any] = entry["identity"]
        return identity

    def _issue(
        self, identity: Mapping[str, Any], requested: Sequence[str], *, client_info: bool
    ) -> dict[str, Any]:
        resource_scopes = [s for s in requested if s not in _RESERVED_SCOPES]
        short_names = []
        for scope in resource_scopes:
            resource, _, name = scope.rpartition("/")
            if resource and resource != self.graph_resource:
                raise EntraOAuthError("invalid_scope", 70011, f"The scope '{scope}' is not valid here.")
            short_names.append(name)
        if not short_names:
            raise EntraOAuthError("invalid_scope", 70011, "No resource scope was requested.")
        with self._lock:
            withheld = sorted(self._withheld_consent.intersection(short_names))
        if withheld:
            raise EntraOAuthError(
                "invalid_grant",
                65001,
                f"The user or administrator has not consented to use the application with ID "
                f"'{self.client_id}'. Send an interactive authorization request for this user and resource.",
                suberror="consent_required",
            )
        now = int(self._clock())
        key = self._active_key()
        access = {
            "aud": self.graph_resource,
            "iss": self.issuer_for(identity["tid"]),
            "iat": now,
            "nbf": now,
            "exp": now + self._token_lifetime,
            "appid": self.client_id,
            "name": identity.get("name"),
            "oid": identity["oid"],
            "preferred_username": identity.get("preferred_username"),
            "scp": " ".join(short_names),
            "sub": identity.get("sub"),
            "tid": identity["tid"],
            "uti": secrets.token_urlsafe(16),
            "ver": "2.0",
        }
        header = {"typ": "JWT", "alg": "RS256", "kid": key.kid}
        response: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(resource_scopes),
            "expires_in": self._token_lifetime,
            "ext_expires_in": self._token_lifetime,
            "access_token": _encode(header, access, key, "RS256"),
        }
        if "openid" in requested:
            id_claims = {
                "aud": self.client_id,
                "iss": self.issuer_for(identity["tid"]),
                "iat": now,
                "nbf": now,
                "exp": now + _TOKEN_LIFETIME,
                "name": identity.get("name"),
                "oid": identity["oid"],
                "preferred_username": identity.get("preferred_username"),
                "sub": identity.get("sub"),
                "tid": identity["tid"],
                "ver": "2.0",
            }
            response["id_token"] = _encode(header, id_claims, key, "RS256")
        if "offline_access" in requested:
            refresh_token = secrets.token_urlsafe(48)
            with self._lock:
                self._refresh_tokens[refresh_token] = {
                    "identity": dict(identity),
                    "expires": now + _REFRESH_LIFETIME,
                }
            response["refresh_token"] = refresh_token
        if client_info:
            info = {"uid": identity["oid"], "utid": identity["tid"]}
            response["client_info"] = _b64(json.dumps(info).encode())
        return response

    # -- verification, for the sandbox's own services --

    def verify_graph_token(self, token: str) -> dict[str, Any]:
        """The claims of a Graph token this issuer handed out; :class:`SandboxTokenRejected` otherwise."""
        return self._decode(token, audience=[self.graph_resource])

    def _decode(self, token: str, *, audience: list[str]) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise SandboxTokenRejected("malformed token") from None
        key = self._published_key(header.get("kid"))
        if key is None or header.get("alg") != "RS256":
            raise SandboxTokenRejected("unknown signing key or algorithm")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.private_key.public_key(),
                algorithms=["RS256"],
                audience=audience,
                options={"require": ["exp", "iss", "aud", "tid", "oid"]},
            )
        except jwt.ExpiredSignatureError:
            raise SandboxTokenRejected("token expired") from None
        except jwt.PyJWTError as exc:
            raise SandboxTokenRejected(type(exc).__name__) from None
        if claims["iss"] != self.issuer_for(str(claims["tid"])):
            raise SandboxTokenRejected("issuer does not match tenant")
        return claims


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _encode(header: Mapping[str, Any], payload: Mapping[str, Any], key: _SigningKey, algorithm: str) -> str:
    if algorithm == "RS256":
        return jwt.encode(dict(payload), key.private_key, algorithm="RS256", headers=dict(header))
    # Forgeries PyJWT rightly refuses to produce: assembled by hand.
    signing_input = (
        _b64(json.dumps(dict(header), separators=(",", ":")).encode())
        + "."
        + _b64(json.dumps(dict(payload), separators=(",", ":")).encode())
    )
    if algorithm == "none":
        signature = b""
    elif algorithm == "HS256":
        signature = hmac.new(key.public_pem(), signing_input.encode(), hashlib.sha256).digest()
    else:
        raise ValueError(f"cannot mint tokens with alg {algorithm!r}")
    return f"{signing_input}.{_b64(signature)}"
