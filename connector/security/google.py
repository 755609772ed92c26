"""Proof that a Gmail add-on request comes from Google, and who the user behind it is.

Google POSTs every add-on event with ``Authorization: Bearer <ID token>``: a Google-signed OpenID
Connect token for the add-on's service account whose audience is the endpoint URL Google called.
The event carries a second Google ID token, ``authorizationEventObject.userIdToken``, for the user;
its audience is the add-on's OAuth client id. :class:`GoogleRequestVerifier` checks both.
:class:`GoogleCertificates` holds Google's signing certificates, fetched over HTTP and kept as long
as the response's ``Cache-Control`` allows.

Tokens are checked and dropped. Nothing here stores or logs a token, and no error message quotes
one. :func:`redact_event` removes tokens from an event before anything logs it.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers
from google.auth import exceptions as google_auth_exceptions
from google.auth import jwt
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from connector.settings import Settings, env_name

logger = logging.getLogger(__name__)

#: The ``iss`` values of Google ID tokens (google-auth's ``id_token`` accepts the same two).
GOOGLE_ISSUERS = frozenset({"https://accounts.google.com", "accounts.google.com"})
#: Google signs ID tokens with RS256 only; any other ``alg`` (``none``, ``HS256``...) is a forgery.
ALGORITHM = "RS256"
#: Seconds of clock difference tolerated on ``iat`` and ``exp``.
DEFAULT_CLOCK_SKEW = 30
#: Google ID tokens are about 1 KB; anything far larger is refused before it is parsed.
MAX_TOKEN_LENGTH = 8192
#: Fields of an add-on event that hold a token, wherever they appear.
TOKEN_FIELDS = frozenset(
    {"authorizationEventObject", "accessToken", "userOAuthToken", "userIdToken", "systemIdToken", "idToken"}
)

_BEARER = re.compile(r"^bearer +(\S+) *$", re.IGNORECASE)
_JWT_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)

TokenKind = Literal["system", "user"]
_TOKEN_NAMES: dict[TokenKind, str] = {
    "system": "Google's request token (Authorization header)",
    "user": "the user's ID token (authorizationEventObject.userIdToken)",
}


# --- errors -----------------------------------------------------------------------------------------


class GoogleAuthError(Exception):
    """A Gmail add-on request could not be authenticated. ``reason`` says why, never with a token."""

    code = "google_auth_failed"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class GoogleTokenInvalid(GoogleAuthError):
    """A token was refused (answer 401). ``kind`` is ``system`` (the header) or ``user``."""

    code = "google_token_invalid"

    def __init__(self, reason: str, *, kind: TokenKind) -> None:
        self.kind = kind
        super().__init__(reason)
        self.args = (f"{_TOKEN_NAMES[kind]} refused: {reason}",)


class GoogleTokenMissing(GoogleTokenInvalid):
    """The request carries no token where Google always sends one (answer 401)."""

    code = "google_token_missing"


class GoogleCertificatesUnavailable(GoogleAuthError):
    """Google's certificates could not be fetched, so nothing can be verified (answer 503, not 401)."""

    code = "google_certs_unavailable"


class GoogleSettingsMissing(ValueError):
    """The verifier cannot be built: the message names each setting to fix."""


# --- what a verified request proves -------------------------------------------------------------------


@dataclass(frozen=True)
class GoogleUser:
    """The Google user behind an add-on request, from their verified ID token.

    ``sub`` is Google's stable account id (use it as the key); ``email`` is verified by Google.
    """

    sub: str
    email: str
    name: str | None = None


# --- certificates -------------------------------------------------------------------------------------


def _certificates_session() -> requests.Session:
    # Verification happens while Google waits for our card, so retries are few and short, and a 429's
    # Retry-After is not slept on: the last known keys keep serving instead (see GoogleCertificates).
    retry = Retry(
        total=2,
        connect=2,
        read=1,
        backoff_factor=0.2,
        status_forcelist=(500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=False,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class GoogleCertificates:
    """Google's token-signing keys by key id, fetched from ``url`` and cached.

    ``url`` serves Google's v1 format (a JSON object: key id -> PEM X.509 certificate) or the v3 JWK
    set (``{"keys": [...]}``). The keys are kept for the response's ``Cache-Control: max-age``
    (``default_max_age`` when it has none) and fetched again when they expire, or when a token names a
    key id they lack, at most once per ``min_refetch_interval`` so that forged key ids cannot turn
    into a stream of requests to Google. When a refresh fails, the keys already known keep serving.
    Thread-safe; one instance serves the whole process.
    """

    def __init__(
        self,
        url: str,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (3.05, 10.0),
        default_max_age: float = 300.0,
        min_refetch_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.session = session if session is not None else _certificates_session()
        self.timeout = timeout
        self.default_max_age = default_max_age
        self.min_refetch_interval = min_refetch_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, str] = {}
        self._fetched_at: float | None = None  # last attempt, successful or not
        self._expires_at = 0.0

    def __repr__(self) -> str:
        return f"GoogleCertificates(url={self.url!r}, keys={len(self._keys)})"

    def key_for(self, kid: str) -> str | None:
        """The PEM certificate (or public key) for ``kid``, or None when Google publishes no such key."""
        with self._lock:
            now = self._clock()
            if now >= self._expires_at or (kid not in self._keys and self._may_refetch(now)):
                self._refresh(now)
            return self._keys.get(kid)

    def _may_refetch(self, now: float) -> bool:
        return self._fetched_at is None or now - self._fetched_at >= self.min_refetch_interval

    def _refresh(self, now: float) -> None:
        if self._fetched_at is not None and not self._keys and not self._may_refetch(now):
            raise GoogleCertificatesUnavailable(
                f"Google's certificates at {self.url} could not be fetched a moment ago; not retrying yet"
            )
        self._fetched_at = now
        try:
            keys, lifetime = self._fetch()
        except GoogleCertificatesUnavailable as exc:
            if not self._keys:
                self._expires_at = now
                raise
            logger.warning("Keeping %d known Google signing keys: %s", len(self._keys), exc.reason)
            self._expires_at = now + self.min_refetch_interval
            return
        self._keys = keys
        self._expires_at = now + lifetime

    def _fetch(self) -> tuple[dict[str, str], float]:
        try:
            response = self.session.get(
                self.url, timeout=self.timeout, headers={"Accept": "application/json"}
            )
            response.raise_for_status()
            payload = response.json()
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else "?"
            raise GoogleCertificatesUnavailable(
                f"Google's certificates at {self.url} answered HTTP {status}"
            ) from None
        except requests.RequestException as exc:
            raise GoogleCertificatesUnavailable(
                f"Google's certificates at {self.url} could not be fetched ({type(exc).__name__})"
            ) from None
        keys = parse_certificates(payload)
        if not keys:
            raise GoogleCertificatesUnavailable(
                f"Google's certificates at {self.url} are not in Google's v1 or v3 format"
            )
        return keys, cache_lifetime(response.headers, default=self.default_max_age)


def parse_certificates(payload: Any) -> dict[str, str]:
    """Key id -> PEM from Google's v1 form (kid -> certificate) or v3 form (JWK set); {} if neither."""
    if not isinstance(payload, Mapping):
        return {}
    if isinstance(payload.get("keys"), list):
        keys: dict[str, str] = {}
        for jwk in payload["keys"]:
            pem = _jwk_to_pem(jwk)
            if pem is not None:
                keys[jwk["kid"]] = pem
        return keys
    if all(
        isinstance(kid, str) and isinstance(pem, str) and pem.startswith("-----BEGIN CERTIFICATE-----")
        for kid, pem in payload.items()
    ):
        return dict(payload)
    return {}


def _jwk_to_pem(jwk: Any) -> str | None:
    if not isinstance(jwk, Mapping) or jwk.get("kty") != "RSA" or not isinstance(jwk.get("kid"), str):
        return None
    if jwk.get("use", "sig") != "sig" or jwk.get("alg", ALGORITHM) != ALGORITHM:
        return None
    try:
        modulus = int.from_bytes(_b64url_decode(jwk["n"]), "big")
        exponent = int.from_bytes(_b64url_decode(jwk["e"]), "big")
        public_key = RSAPublicNumbers(exponent, modulus).public_key()
    except (KeyError, TypeError, ValueError):
        return None
    pem = public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def cache_lifetime(headers: Mapping[str, str], *, default: float) -> float:
    """Seconds a response stays fresh: ``max-age`` minus ``Age``, at most a day; ``default`` without."""
    match = _MAX_AGE.search(headers.get("Cache-Control", ""))
    if match is None:
        return default
    age = headers.get("Age", "0").strip()
    lifetime = int(match.group(1)) - (int(age) if age.isdigit() else 0)
    return float(min(max(lifetime, 0), 86400))


# --- verification -------------------------------------------------------------------------------------


class GoogleRequestVerifier:
    """Verifies the two Google ID tokens of every Gmail add-on request.

    The request token (``Authorization: Bearer``) must be signed by Google with RS256, issued by
    ``accounts.google.com``, unexpired, for the audience ``public_url + path`` (the exact URL Google
    called; ``audience`` replaces it when set), and for the add-on's ``service_account`` with a
    verified email. The user token must pass the same signature, issuer and expiry checks, be for the
    add-on's ``client_id``, and carry a verified email.
    """

    def __init__(
        self,
        *,
        certificates: GoogleCertificates,
        service_account: str,
        client_id: str,
        public_url: str = "",
        audience: str = "",
        clock_skew: int = DEFAULT_CLOCK_SKEW,
    ) -> None:
        if not service_account or not client_id or not (public_url or audience):
            raise ValueError("service_account, client_id and public_url (or audience) are required")
        self.certificates = certificates
        self.service_account = service_account
        self.client_id = client_id
        self.public_url = public_url.rstrip("/")
        self.audience = audience
        self.clock_skew = clock_skew

    def __repr__(self) -> str:
        return (
            f"GoogleRequestVerifier(service_account={self.service_account!r}, "
            f"client_id={self.client_id!r}, audience={self.audience or self.public_url + '/...'!r})"
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, *, session: requests.Session | None = None
    ) -> GoogleRequestVerifier:
        """The verifier the settings describe; :class:`GoogleSettingsMissing` names what is missing."""
        problems = []
        if not settings.google_service_account:
            problems.append(
                f"{env_name('google_service_account')} is not set: the add-on's service account email "
                "(serviceAccountEmail of the deployment's authorization)."
            )
        if not settings.google_client_id:
            problems.append(
                f"{env_name('google_client_id')} is not set: the add-on's OAuth client id "
                "(oauthClientId of the deployment's authorization)."
            )
        if not settings.public_url and not settings.google_audience:
            problems.append(
                f"{env_name('public_url')} is not set: Google's request tokens are for the endpoint URLs."
            )
        if settings.mode == "production" and not settings.google_certs_url.startswith("https://"):
            problems.append(f"{env_name('google_certs_url')} must be an https:// URL in production.")
        if problems:
            raise GoogleSettingsMissing("\n".join(problems))
        return cls(
            certificates=GoogleCertificates(settings.google_certs_url, session=session),
            service_account=settings.google_service_account,
            client_id=settings.google_client_id,
            public_url=settings.public_url,
            audience=settings.google_audience,
        )

    def endpoint_audience(self, path: str) -> str:
        """The audience Google's request token must have for a request to ``path`` (the app-relative
        path, Flask's ``request.path``, without query string)."""
        if self.audience:
            return self.audience
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/', got {path!r}")
        return self.public_url + path

    def verify_addon_request(
        self, *, authorization: str | None, path: str, event: Mapping[str, Any]
    ) -> GoogleUser:
        """Verify both tokens of one add-on request and return the user; raise :class:`GoogleAuthError`."""
        self.verify_system_token(authorization, path=path)
        return self.verify_user_token(user_id_token_of(event))

    def verify_system_token(self, authorization: str | None, *, path: str) -> None:
        """Check the ``Authorization`` header of a request Google sent to ``path``."""
        claims = self._verified_claims(bearer_token(authorization), kind="system")
        expected = self.endpoint_audience(path)
        audience = claims.get("aud")
        if audience != expected:
            # Which URL Google puts in ``aud`` is not documented precisely (reference A2): show it.
            logger.warning(
                "Google's request token is for audience %r, expected %r", _shown(audience), expected
            )
            raise GoogleTokenInvalid(
                f"audience {_shown(audience)} is not this endpoint ({expected!r})", kind="system"
            )
        email = claims.get("email")
        if not isinstance(email, str) or email.casefold() != self.service_account.casefold():
            raise GoogleTokenInvalid(
                f"it was issued to {_shown(email)}, not to the add-on's service account", kind="system"
            )
        if not _is_true(claims.get("email_verified")):
            raise GoogleTokenInvalid("the service account's email is not verified", kind="system")

    def verify_user_token(self, token: str) -> GoogleUser:
        """Check ``authorizationEventObject.userIdToken`` and return the user it names."""
        claims = self._verified_claims(token, kind="user")
        audience = claims.get("aud")
        if audience != self.client_id:
            raise GoogleTokenInvalid(
                f"audience {_shown(audience)} is not the add-on's OAuth client id", kind="user"
            )
        sub, email, name = claims.get("sub"), claims.get("email"), claims.get("name")
        if not isinstance(sub, str) or not sub:
            raise GoogleTokenInvalid("it names no user (sub)", kind="user")
        if not isinstance(email, str) or not email:
            raise GoogleTokenInvalid(
                "it carries no email (is the userinfo.email scope granted?)", kind="user"
            )
        if not _is_true(claims.get("email_verified")):
            raise GoogleTokenInvalid("the user's email is not verified by Google", kind="user")
        return GoogleUser(sub=sub, email=email, name=name if isinstance(name, str) and name else None)

    def _verified_claims(self, token: str, *, kind: TokenKind) -> Mapping[str, Any]:
        """Signature (RS256, Google's key), ``iat``/``exp`` and ``iss``; the caller checks the rest."""
        if len(token) > MAX_TOKEN_LENGTH or not _JWT_SHAPE.match(token):
            raise GoogleTokenInvalid("it is not a well-formed JWT", kind=kind)
        try:
            header = jwt.decode_header(token)
        except (ValueError, google_auth_exceptions.GoogleAuthError):
            raise GoogleTokenInvalid("it is not a well-formed JWT", kind=kind) from None
        algorithm = header.get("alg")
        if algorithm != ALGORITHM:
            raise GoogleTokenInvalid(
                f"signature algorithm {_shown(algorithm, limit=20)} is not allowed (only {ALGORITHM})",
                kind=kind,
            )
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise GoogleTokenInvalid("it names no signing key (kid)", kind=kind)
        certificate = self.certificates.key_for(kid)
        if certificate is None:
            raise GoogleTokenInvalid("it is signed with a key Google does not publish", kind=kind)
        try:
            claims: Mapping[str, Any] = jwt.decode(
                token, certs={kid: certificate}, verify=True, clock_skew_in_seconds=self.clock_skew
            )
        except (ValueError, TypeError, google_auth_exceptions.GoogleAuthError) as exc:
            # google-auth's messages may quote the token: map them to our own words.
            raise GoogleTokenInvalid(_decode_failure(exc), kind=kind) from None
        issuer = claims.get("iss")
        if issuer not in GOOGLE_ISSUERS:
            raise GoogleTokenInvalid(f"issuer {_shown(issuer)} is not Google", kind=kind)
        return claims


def _decode_failure(exc: Exception) -> str:
    message = str(exc)
    if message.startswith("Token expired"):
        return "it has expired"
    if message.startswith("Token used too early"):
        return "it is issued in the future"
    if message.startswith("Could not verify token signature"):
        return "its signature does not match Google's key"
    if message.startswith("Token does not contain required claim"):
        return "it lacks its iat or exp claim"
    return f"it could not be verified ({type(exc).__name__})"


def _shown(value: Any, *, limit: int = 200) -> str:
    """A claim value fit for a message: repr'd and cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_true(value: Any) -> bool:
    # Google's ID tokens carry email_verified as a JSON boolean; some older ones as the string "true".
    return value is True or value == "true"


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header; :class:`GoogleTokenInvalid` otherwise."""
    if authorization is None or not authorization.strip():
        raise GoogleTokenMissing("the request has no Authorization header", kind="system")
    match = _BEARER.match(authorization.strip())
    if match is None:
        raise GoogleTokenInvalid("the Authorization header is not 'Bearer <token>'", kind="system")
    return match.group(1)


def user_id_token_of(event: Mapping[str, Any]) -> str:
    """``authorizationEventObject.userIdToken`` of an add-on event; :class:`GoogleTokenMissing` if absent."""
    authorization = event.get("authorizationEventObject") if isinstance(event, Mapping) else None
    token = authorization.get("userIdToken") if isinstance(authorization, Mapping) else None
    if not isinstance(token, str) or not token:
        raise GoogleTokenMissing("the event has no authorizationEventObject.userIdToken", kind="user")
    return token


def redact_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an add-on event fit for a log line: ``authorizationEventObject`` and every other
    token-bearing field (``gmail.accessToken``...) removed, at any depth. The event is not modified."""
    redacted: dict[str, Any] = _without_tokens(event)
    return redacted


def _without_tokens(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _without_tokens(item) for key, item in value.items() if key not in TOKEN_FIELDS}
    if isinstance(value, list | tuple):
        return [_without_tokens(item) for item in value]
    return value
