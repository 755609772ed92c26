"""Microsoft identity for the Outlook add-in: verify the pane's Entra access token, exchange it for Graph.

Every call of the JSON API carries ``Authorization: Bearer <Entra access token>`` that the pane obtained
for our API (scope ``access_as_user``) through nested app authentication. :class:`EntraTokenVerifier`
checks it: RS256 signature with a key from the authority's JWKS, issuer ``{authority}/{tid}/v2.0`` of an
allowed tenant, audience our client id or our Application ID URI, expiry and not-before, and the scope.

When the connector must act on the mailbox it exchanges that token on behalf of the user for a Graph
token (:class:`GraphTokenBroker`, MSAL Python). Each user's MSAL token cache is a blob kept through a
:class:`TokenCacheStore`; the foundation stores it encrypted in the database.

Errors::

    MicrosoftIdentityError
     +-- EntraTokenInvalid   the bearer token is refused (answer 401); ``reason`` is a stable code
     +-- EntraUnavailable    the identity platform could not be reached or answered garbage (503)
     +-- GraphTokenRefused   the identity platform refused the on-behalf-of exchange (consent, policy)

No message, log line or ``repr`` of these classes contains a token.

Both classes take a ``requests.Session``: all their HTTP goes through it, with explicit timeouts. The
demo and the tests keep the production authority URL and mount a transport adapter on that session that
hands those requests to the sandbox issuer in process (``connector.sandbox.entra.route_to_sandbox``);
nothing here knows about it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import jwt
import msal
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

logger = logging.getLogger(__name__)

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
DEFAULT_GRAPH_RESOURCE = "https://graph.microsoft.com"
"""What Graph scopes are named after (``https://graph.microsoft.com/Mail.Read``); national clouds have their
own. Not derived from the URL Graph is called at: a proxy or the sandbox answers there for this resource."""
API_SCOPE = "access_as_user"
"""The delegated scope our API exposes; the pane asks for ``api://<host>/<client id>/access_as_user``."""

DEFAULT_GRAPH_SCOPES = ("Mail.ReadWrite", "Mail.Send")
"""Delegated Graph permissions the connector asks for on behalf of the user: read the item, and reply
(a reply is a draft first, `createReply`, which needs Mail.ReadWrite, then `send`, Mail.Send)."""

Timeout = float | tuple[float, float]
DEFAULT_TIMEOUT: Timeout = (5.0, 15.0)

# A bearer token longer than this is not an Entra access token; refuse it before any parsing.
_MAX_TOKEN_LENGTH = 16 * 1024
_DISCOVERY_SUFFIX = "/.well-known/openid-configuration"


# --- errors --------------------------------------------------------------------------------------------


class MicrosoftIdentityError(Exception):
    """Base of every failure of Microsoft identity handling."""


class EntraTokenInvalid(MicrosoftIdentityError):
    """The bearer token is not acceptable. ``reason`` is a stable code for the API's error document:

    ``missing`` ``malformed`` ``algorithm_not_allowed`` ``missing_key_id`` ``unknown_key``
    ``bad_signature`` ``expired`` ``not_yet_valid`` ``wrong_audience`` ``missing_claim``
    ``tenant_not_allowed`` ``wrong_issuer`` ``missing_scope``.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"access token refused ({reason})" + (f": {detail}" if detail else ""))


class EntraUnavailable(MicrosoftIdentityError):
    """The identity platform (discovery, keys, token endpoint) could not be reached or answered garbage."""


class GraphTokenRefused(MicrosoftIdentityError):
    """The token endpoint refused the on-behalf-of exchange.

    ``error`` is the OAuth error code, ``description`` Entra's text (AADSTS code first), ``claims`` a
    claims challenge the pane must pass when it asks for a new token (conditional access), if any.
    """

    _CONSENT_CODES = ("AADSTS65001", "AADSTS65004")

    def __init__(
        self, *, error: str, description: str = "", codes: Sequence[int] = (), claims: str | None = None
    ) -> None:
        self.error = error
        self.description = description
        self.codes = tuple(codes)
        self.claims = claims
        super().__init__(f"Graph token refused: {error}" + (f" ({description})" if description else ""))

    @property
    def needs_user_interaction(self) -> bool:
        """True when the user (or an admin) must consent or sign in again; retrying will not help."""
        return (
            self.error in {"interaction_required", "consent_required", "login_required"}
            or self.claims is not None
            or any(code in self.description for code in self._CONSENT_CODES)
        )


# --- the verified user ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntraUser:
    """Who called the API, as the verified token says."""

    oid: str
    tid: str
    name: str
    preferred_username: str
    scopes: tuple[str, ...]

    @property
    def key(self) -> str:
        """``<oid>.<tid>``: stable per user and tenant (MSAL's home account id has the same shape)."""
        return f"{self.oid}.{self.tid}"


def application_id_uri(public_url: str, client_id: str) -> str:
    """Our API's Application ID URI, ``api://<host>/<client id>``, as the manifest and Entra name it."""
    host = urlsplit(public_url).netloc
    if not host:
        raise ValueError(f"not an absolute URL: {public_url!r}")
    return f"api://{host}/{client_id}"


def create_identity_session() -> requests.Session:
    """A session for the identity platform: GETs retried twice on 429/5xx with a short backoff.

    ``Retry-After`` is not slept on here: a verification waiting minutes is worse than a quick 503 the
    pane retries; MSAL honours ``Retry-After`` for its own token requests by refusing to send early.
    """
    session = requests.Session()
    retry = Retry(
        total=2,
        backoff_factor=0.3,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=False,
        raise_on_status=False,
    )
    session.mount("https://", HTTPAdapter(max_retries=retry))
    return session


# --- token verification --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _KeySet:
    keys: Mapping[str, Any]  # kid -> RSA public key
    fetched_at: float


class EntraTokenVerifier:
    """Verifies Entra v2.0 access tokens issued for our API.

    Signing keys come from the JWKS that the ``common`` discovery document names. They are cached for
    ``keys_max_age`` seconds. A token with an unknown ``kid`` (Microsoft rolled its keys) triggers one
    refresh, but at most one fetch happens per ``min_refresh_interval`` seconds (``failure_backoff``
    after a failed fetch), so a flood of forged ``kid`` values cannot hammer the endpoint.

    An empty ``tenants`` refuses every token: the deployment must name the tenants it serves.
    """

    def __init__(
        self,
        *,
        client_id: str,
        tenants: Iterable[str],
        authority: str = DEFAULT_AUTHORITY,
        api_uri: str | None = None,
        session: requests.Session | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        required_scope: str = API_SCOPE,
        leeway: float = 60.0,
        keys_max_age: float = 24 * 3600.0,
        min_refresh_interval: float = 60.0,
        failure_backoff: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not client_id:
            raise ValueError("client_id is required")
        self._client_id = client_id
        self._audiences = [client_id] + ([api_uri] if api_uri else [])
        self._tenants = frozenset(t.strip().lower() for t in tenants if t.strip())
        self._authority = authority.rstrip("/")
        self._session = session if session is not None else create_identity_session()
        self._timeout = timeout
        self._required_scope = required_scope
        self._leeway = leeway
        self._keys_max_age = keys_max_age
        self._min_refresh_interval = min_refresh_interval
        self._failure_backoff = failure_backoff
        self._clock = clock
        self._keyset: _KeySet | None = None
        self._jwks_uri: str | None = None
        self._next_fetch_allowed = float("-inf")
        self._fetch_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any, *, session: requests.Session | None = None) -> EntraTokenVerifier:
        """Built from the settings ``MICROSOFT_CLIENT_ID``, ``_TENANTS``, ``_AUTHORITY``, ``PUBLIC_URL``."""
        api_uri = (
            application_id_uri(settings.public_url, settings.microsoft_client_id)
            if settings.public_url
            else None
        )
        return cls(
            client_id=settings.microsoft_client_id,
            tenants=settings.microsoft_tenants,
            authority=settings.microsoft_authority,
            api_uri=api_uri,
            session=session,
        )

    def __repr__(self) -> str:
        return f"EntraTokenVerifier(client_id={self._client_id!r}, tenants={sorted(self._tenants)!r})"

    @property
    def audiences(self) -> tuple[str, ...]:
        return tuple(self._audiences)

    def issuer_for(self, tenant_id: str) -> str:
        return f"{self._authority}/{tenant_id}/v2.0"

    def verify_authorization(self, header: str | None) -> EntraUser:
        """Verify the token of an ``Authorization: Bearer ...`` header value."""
        scheme, _, token = (header or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise EntraTokenInvalid("missing", "expected an Authorization: Bearer header")
        return self.verify(token.strip())

    def verify(self, token: str) -> EntraUser:
        """The user the token stands for, or :class:`EntraTokenInvalid` saying why it is refused."""
        if not token or len(token) > _MAX_TOKEN_LENGTH:
            raise EntraTokenInvalid("malformed", "empty or oversized token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise EntraTokenInvalid("malformed", "not a JSON Web Token") from None
        # Only RS256: refuses "none", and HS256 signed with our public key as the secret.
        if header.get("alg") != "RS256":
            raise EntraTokenInvalid("algorithm_not_allowed", "only RS256 is accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise EntraTokenInvalid("missing_key_id", "the token names no signing key")
        key = self._signing_key(kid)
        claims = self._decode(token, key)

        tid = claims["tid"]
        oid = claims["oid"]
        if not isinstance(tid, str) or not isinstance(oid, str):
            raise EntraTokenInvalid("missing_claim", "tid and oid must be strings")
        if tid.lower() not in self._tenants:
            raise EntraTokenInvalid("tenant_not_allowed", f"tenant {tid} is not in MICROSOFT_TENANTS")
        if claims["iss"] != self.issuer_for(tid):
            raise EntraTokenInvalid("wrong_issuer", "issuer does not match the token's tenant")
        scp = claims.get("scp")
        scopes = tuple(scp.split()) if isinstance(scp, str) else ()
        if self._required_scope not in scopes:
            raise EntraTokenInvalid("missing_scope", f"the token lacks the {self._required_scope} scope")
        return EntraUser(
            oid=oid,
            tid=tid,
            name=_text(claims.get("name")),
            preferred_username=_text(claims.get("preferred_username")),
            scopes=scopes,
        )

    def _decode(self, token: str, key: Any) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=self._audiences,
                leeway=self._leeway,
                options={"require": ["exp", "nbf", "iat", "iss", "aud", "tid", "oid"]},
            )
        except jwt.ExpiredSignatureError:
            raise EntraTokenInvalid("expired", "the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise EntraTokenInvalid("not_yet_valid", "the token is not valid yet") from None
        except jwt.InvalidAudienceError:
            raise EntraTokenInvalid("wrong_audience", "the token is not for this API") from None
        except jwt.MissingRequiredClaimError as exc:
            raise EntraTokenInvalid("missing_claim", f"the token has no {exc.claim} claim") from None
        except jwt.InvalidSignatureError:
            raise EntraTokenInvalid("bad_signature", "signature verification failed") from None
        except jwt.InvalidAlgorithmError:
            raise EntraTokenInvalid("algorithm_not_allowed", "only RS256 is accepted") from None
        except jwt.PyJWTError:
            raise EntraTokenInvalid("malformed", "the token could not be decoded") from None
        return claims

    # -- keys --

    def _signing_key(self, kid: str) -> Any:
        keyset = self._keyset
        if keyset is not None and kid in keyset.keys and not self._is_stale(keyset):
            return keyset.keys[kid]
        with self._fetch_lock:
            keyset = self._keyset  # another thread may have refreshed while this one waited
            if keyset is not None and kid in keyset.keys and not self._is_stale(keyset):
                return keyset.keys[kid]
            now = self._clock()
            if now < self._next_fetch_allowed:
                if keyset is not None and kid in keyset.keys:
                    return keyset.keys[kid]  # stale, but a refresh was tried moments ago
                if keyset is None:
                    raise EntraUnavailable("the token signing keys could not be fetched; retry shortly")
                raise EntraTokenInvalid("unknown_key", "the signing key is not published by the authority")
            try:
                keyset = self._fetch_keys()
            except EntraUnavailable:
                self._next_fetch_allowed = now + self._failure_backoff
                if keyset is not None and kid in keyset.keys:
                    logger.warning("Entra signing keys could not be refreshed; using the cached ones")
                    return keyset.keys[kid]
                raise
            self._keyset = keyset
            self._next_fetch_allowed = now + self._min_refresh_interval
        if kid in keyset.keys:
            return keyset.keys[kid]
        raise EntraTokenInvalid("unknown_key", "the signing key is not published by the authority")

    def _is_stale(self, keyset: _KeySet) -> bool:
        return self._clock() - keyset.fetched_at >= self._keys_max_age

    def _fetch_keys(self) -> _KeySet:
        if self._jwks_uri is None:
            discovery = self._get_json(f"{self._authority}/common/v2.0{_DISCOVERY_SUFFIX}")
            jwks_uri = discovery.get("jwks_uri")
            if not isinstance(jwks_uri, str) or not jwks_uri.startswith("https://"):
                raise EntraUnavailable("the discovery document names no https jwks_uri")
            self._jwks_uri = jwks_uri
        document = self._get_json(self._jwks_uri)
        keys: dict[str, Any] = {}
        for jwk in document.get("keys") or []:
            if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig":
                continue
            kid = jwk.get("kid")
            if not isinstance(kid, str) or jwk.get("alg", "RS256") != "RS256":
                continue
            try:
                keys[kid] = jwt.PyJWK(jwk, algorithm="RS256").key
            except jwt.PyJWTError:
                logger.warning("skipping an unusable key in the JWKS (kid %s)", kid)
        if not keys:
            raise EntraUnavailable("the JWKS holds no usable RS256 signing key")
        logger.info("fetched %d Entra signing keys", len(keys))
        return _KeySet(keys=keys, fetched_at=self._clock())

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self._session.get(url, timeout=self._timeout)
            response.raise_for_status()
            document = response.json()
        except requests.RequestException as exc:
            raise EntraUnavailable(f"{_without_query(url)} could not be fetched: {exc}") from None
        except ValueError:
            raise EntraUnavailable(f"{_without_query(url)} did not answer JSON") from None
        if not isinstance(document, dict):
            raise EntraUnavailable(f"{_without_query(url)} did not answer a JSON object")
        return document


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _without_query(url: str) -> str:
    return url.split("?", 1)[0]


# --- on-behalf-of exchange to Graph --------------------------------------------------------------------


class TokenCacheStore(Protocol):
    """Where each user's MSAL token cache blob lives between requests (encrypted, in production)."""

    def load(self, user_key: str) -> str | None: ...

    def save(self, user_key: str, blob: str) -> None: ...


class InMemoryTokenCacheStore:
    """A :class:`TokenCacheStore` in a dict: for tests and the demo; lost when the process ends."""

    def __init__(self) -> None:
        self._blobs: dict[str, str] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"InMemoryTokenCacheStore({len(self._blobs)} users)"

    def load(self, user_key: str) -> str | None:
        with self._lock:
            return self._blobs.get(user_key)

    def save(self, user_key: str, blob: str) -> None:
        with self._lock:
            self._blobs[user_key] = blob


@dataclass(frozen=True)
class GraphToken:
    """A Graph access token for one user. Never sent to the browser, never logged (``repr`` hides it)."""

    value: str = field(repr=False)
    expires_in: int
    from_cache: bool


class _MsalHttpClient:
    """What MSAL uses for HTTP: the caller's session with a timeout on every call.

    It also keeps the tenants' discovery documents for a day. MSAL reads one each time an application
    object is built, and the broker builds one per exchange (each user has their own token cache).
    """

    def __init__(self, session: requests.Session, timeout: Timeout, ttl: float = 24 * 3600.0) -> None:
        self._session = session
        self._timeout = timeout
        self._ttl = ttl
        self._discovery: dict[str, tuple[float, requests.Response]] = {}
        self._lock = threading.Lock()

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self._timeout)
        cacheable = url.endswith(_DISCOVERY_SUFFIX) and not kwargs.get("params")
        if cacheable:
            with self._lock:
                cached = self._discovery.get(url)
            if cached is not None and time.monotonic() - cached[0] < self._ttl:
                return cached[1]
        response = self._session.get(url, **kwargs)
        if cacheable and response.status_code == 200:
            _ = response.content  # read the body now so the cached response can be read again
            with self._lock:
                self._discovery[url] = (time.monotonic(), response)
        return response

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self._timeout)
        return self._session.post(url, **kwargs)

    def close(self) -> None:
        """The session belongs to whoever gave it; MSAL does not get to close it."""


class GraphTokenBroker:
    """Graph access tokens for a verified user: from their cache when fresh, else on behalf of the user.

    The MSAL application is built per exchange with the user's own token cache (loaded from and saved
    to ``store`` under :attr:`EntraUser.key`) and the user's tenant as authority, as Microsoft advises
    for multi-tenant on-behalf-of. Two concurrent exchanges for the same user may both save; the last
    write wins, which loses nothing but a cached token.
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        store: TokenCacheStore,
        authority: str = DEFAULT_AUTHORITY,
        graph_resource: str = DEFAULT_GRAPH_RESOURCE,
        scopes: Sequence[str] = DEFAULT_GRAPH_SCOPES,
        session: requests.Session | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        if not client_id or not client_secret:
            raise ValueError("the on-behalf-of exchange needs the client id and the client secret")
        self._client_id = client_id
        self._client_secret = client_secret
        self._store = store
        self._authority = authority.rstrip("/")
        self._graph_resource = graph_resource.rstrip("/")
        self._default_scopes = tuple(scopes)
        self._http = _MsalHttpClient(session if session is not None else create_identity_session(), timeout)

    @classmethod
    def from_settings(
        cls, settings: Any, *, store: TokenCacheStore, session: requests.Session | None = None
    ) -> GraphTokenBroker:
        """Built from ``MICROSOFT_CLIENT_ID``/``_SECRET``, ``MICROSOFT_AUTHORITY``, ``GRAPH_RESOURCE``."""
        return cls(
            client_id=settings.microsoft_client_id,
            client_secret=settings.microsoft_client_secret,
            store=store,
            authority=settings.microsoft_authority,
            graph_resource=settings.graph_resource,
            session=session,
        )

    def __repr__(self) -> str:
        return f"GraphTokenBroker(client_id={self._client_id!r}, resource={self._graph_resource!r})"

    def graph_scopes(self, scopes: Sequence[str] | None = None) -> list[str]:
        """Scopes qualified with the Graph resource (``GRAPH_RESOURCE``; national clouds differ). Never with
        ``GRAPH_API_URL``: Entra names scopes after the resource, wherever its API is reached."""
        return [
            scope if "://" in scope else f"{self._graph_resource}/{scope}"
            for scope in (scopes if scopes is not None else self._default_scopes)
        ]

    def token_silently(self, account: str, *, scopes: Sequence[str] | None = None) -> GraphToken:
        """A Graph token for the user ``account`` (``<oid>.<tid>``) from their stored cache alone, with
        no request from them: what background work (the outbox) uses. :class:`GraphTokenRefused`
        (``interaction_required``) when the cache cannot give one: the user must open the pane again."""
        oid, _, tid = account.partition(".")
        if not oid or not tid:
            raise GraphTokenRefused(error="invalid_account", description=f"not an account key: {account!r}")
        user = EntraUser(oid=oid, tid=tid, name="", preferred_username="", scopes=())
        return self.token_for(user, assertion=None, scopes=scopes)

    def token_for(
        self, user: EntraUser, *, assertion: str | None, scopes: Sequence[str] | None = None
    ) -> GraphToken:
        """A Graph token for ``user``; ``assertion`` is the access token the pane sent (already verified)."""
        wanted = self.graph_scopes(scopes)
        cache = msal.SerializableTokenCache()
        blob = self._store.load(user.key)
        if blob:
            try:
                cache.deserialize(blob)
            except ValueError:
                logger.warning("discarding an unreadable Graph token cache for user %s", user.key)
        try:
            app = msal.ConfidentialClientApplication(
                self._client_id,
                client_credential=self._client_secret,
                authority=f"{self._authority}/{user.tid}",
                token_cache=cache,
                http_client=self._http,
                # The authority is configuration we trust, and each user's cache only ever holds this
                # one authority: instance discovery (and its alias lookup on every silent call) would
                # be a round trip per exchange for nothing.
                instance_discovery=False,
            )
        except (requests.RequestException, msal.exceptions.MsalError) as exc:  # unreachable, or 5xx
            raise EntraUnavailable(f"the authority could not be reached: {type(exc).__name__}") from None
        except ValueError as exc:  # MSAL: the tenant's discovery document was refused or unreadable
            raise EntraUnavailable(f"the authority for tenant {user.tid} is unusable: {exc}") from None
        try:
            result = None
            accounts = [a for a in app.get_accounts() if a.get("home_account_id") == user.key]
            if accounts:
                result = app.acquire_token_silent(wanted, account=accounts[0])
            if not result and assertion is None:
                result = {
                    "error": "interaction_required",
                    "error_description": "No Graph token is cached for this user: open the add-in again.",
                }
            elif not result:
                result = app.acquire_token_on_behalf_of(assertion, wanted)
        except (requests.RequestException, msal.exceptions.MsalError) as exc:
            raise EntraUnavailable(f"the token endpoint could not be reached: {type(exc).__name__}") from None
        if "access_token" not in result:
            raise GraphTokenRefused(
                error=str(result.get("error", "unknown_error")),
                description=str(result.get("error_description", "")),
                codes=[int(c) for c in result.get("error_codes", []) if isinstance(c, int)],
                claims=result.get("claims"),
            )
        if cache.has_state_changed:
            self._store.save(user.key, cache.serialize())
        return GraphToken(
            value=result["access_token"],
            expires_in=int(result.get("expires_in", 0)),
            from_cache=result.get("token_source") == "cache",
        )
