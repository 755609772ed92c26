"""A stand-in for Google's token service: it signs ID tokens as Google does and publishes its keys.

The connector verifies these tokens with its production verifier
(:class:`connector.security.google.GoogleRequestVerifier`) pointed at this issuer's certificates
(``ORO_CONNECTOR_GOOGLE_CERTS_URL`` = ``<sandbox>/google/oauth2/v1/certs``). Keys are generated when
the issuer is built and live only in memory.

Tests forge tokens with the ``claims``, ``headers`` and ``key`` arguments of the ``mint_*`` methods:
another issuer or audience, times in the past, a key that is not published (``SigningKey.generate()``
with ``headers={"kid": issuer.signing_key.kid}`` for a bad signature), ``headers={"alg": "none"}``
(an unsigned token). A claim or header given as ``None`` is left out.

It also hands out the opaque per-request tokens of an add-on event (``userOAuthToken``,
``gmail.accessToken``) and remembers what each grants, so that a sandbox Gmail API can check them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

GOOGLE_ISSUER = "https://accounts.google.com"
SANDBOX_PROJECT_NUMBER = "123456789012"
SANDBOX_SERVICE_ACCOUNT = f"service-{SANDBOX_PROJECT_NUMBER}@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
"""The add-on's service account in the sandbox (``ORO_CONNECTOR_GOOGLE_SERVICE_ACCOUNT``)."""
SANDBOX_CLIENT_ID = f"{SANDBOX_PROJECT_NUMBER}-sandbox-addon.apps.googleusercontent.com"
"""The add-on's OAuth client id in the sandbox (``ORO_CONNECTOR_GOOGLE_CLIENT_ID``)."""

TOKEN_LIFETIME = 3600
_PUBLISHED_KEYS = 2  # Google publishes the current key and the previous (or next) one


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _merged(base: Mapping[str, Any], changes: Mapping[str, Any] | None) -> dict[str, Any]:
    merged = {**base, **(changes or {})}
    return {name: value for name, value in merged.items() if value is not None}


def numeric_id(seed: str, digits: int = 21) -> str:
    """A stable numeric id derived from ``seed``, shaped like Google's account ids (``sub``)."""
    number = int.from_bytes(hashlib.sha256(seed.encode("utf-8")).digest()[:12], "big")
    return "1" + str(number).zfill(digits)[-(digits - 1) :]


@dataclass(frozen=True, repr=False)
class SigningKey:
    """An RSA key pair and the self-signed certificate Google-style v1 certs publish for it."""

    kid: str
    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @classmethod
    def generate(cls, *, key_size: int = 2048) -> SigningKey:
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
        public_der = private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        kid = hashlib.sha256(public_der).hexdigest()[:40]
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sandbox.accounts.google.test")])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(private_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=14))
            .sign(private_key, hashes.SHA256())
        )
        return cls(kid=kid, private_key=private_key, certificate=certificate)

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r})"

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    def jwk(self) -> dict[str, str]:
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "kid": self.kid,
            "n": _b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": _b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
        }

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())


def encode_jwt(header: Mapping[str, Any], claims: Mapping[str, Any], key: SigningKey | None) -> str:
    """A compact JWT; unsigned (empty signature) when ``key`` is None."""
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode("utf-8")) for part in (header, claims)
    )
    signature = b"" if key is None else key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{_b64url(signature)}"


@dataclass(frozen=True)
class OAuthGrant:
    """What an opaque sandbox token stands for: the user, the scopes, and for a Gmail access token
    the one message it opens."""

    kind: Literal["user_oauth", "gmail_access"]
    email: str
    scopes: tuple[str, ...]
    expires_at: float
    message_id: str | None = None

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at


class GoogleTokenIssuer:
    """Signs Google-style ID tokens with keys generated at start, and publishes those keys."""

    def __init__(
        self, *, issuer: str = GOOGLE_ISSUER, certs_max_age: int = 3600, key_size: int = 2048
    ) -> None:
        self.issuer = issuer
        self.certs_max_age = certs_max_age
        self._key_size = key_size
        self._keys: list[SigningKey] = [SigningKey.generate(key_size=key_size)]
        self._grants: dict[str, OAuthGrant] = {}
        self._lock = threading.Lock()
        self.certificate_fetches = 0
        """How many times the certificates were served (tests count the verifier's fetches with it)."""

    def __repr__(self) -> str:
        return f"GoogleTokenIssuer(issuer={self.issuer!r}, kid={self.signing_key.kid!r})"

    # --- keys -----------------------------------------------------------------------------------------

    @property
    def signing_key(self) -> SigningKey:
        """The key new tokens are signed with."""
        return self._keys[0]

    @property
    def published_keys(self) -> tuple[SigningKey, ...]:
        return tuple(self._keys)

    def rotate_key(self) -> SigningKey:
        """Sign with a new key from now on; the previous key stays published, older ones are dropped."""
        key = SigningKey.generate(key_size=self._key_size)
        with self._lock:
            self._keys = [key, *self._keys][:_PUBLISHED_KEYS]
        return key

    def certificates(self) -> dict[str, str]:
        """Google's v1 form (``/oauth2/v1/certs``): key id -> PEM X.509 certificate."""
        return {key.kid: key.certificate_pem for key in self._keys}

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """Google's v3 form (``/oauth2/v3/certs``): a JWK set."""
        return {"keys": [key.jwk() for key in self._keys]}

    def record_certificate_fetch(self) -> None:
        with self._lock:
            self.certificate_fetches += 1

    # --- ID tokens ------------------------------------------------------------------------------------

    def mint(
        self,
        claims: Mapping[str, Any],
        *,
        headers: Mapping[str, Any] | None = None,
        key: SigningKey | None = None,
    ) -> str:
        """Sign ``claims`` as given. ``headers`` override ``alg``/``kid``/``typ``; ``alg: none`` leaves
        the token unsigned; ``key`` signs with another key (its own kid unless ``headers`` say else)."""
        key = key or self.signing_key
        header = _merged({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, headers)
        return encode_jwt(header, _merged(claims, None), None if header.get("alg") == "none" else key)

    def _standard_claims(self, audience: str, *, issued_at: float | None, lifetime: int) -> dict[str, Any]:
        now = int(time.time() if issued_at is None else issued_at)
        return {"iss": self.issuer, "aud": audience, "iat": now, "exp": now + lifetime}

    def mint_system_id_token(
        self,
        audience: str,
        service_account_email: str,
        *,
        lifetime: int = TOKEN_LIFETIME,
        issued_at: float | None = None,
        claims: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        key: SigningKey | None = None,
    ) -> str:
        """The token Google sends in ``Authorization`` (and ``systemIdToken``): for the add-on's
        service account, audience the endpoint URL."""
        account_id = numeric_id(service_account_email)
        base = {
            **self._standard_claims(audience, issued_at=issued_at, lifetime=lifetime),
            "azp": account_id,
            "sub": account_id,
            "email": service_account_email,
            "email_verified": True,
        }
        return self.mint(_merged(base, claims), headers=headers, key=key)

    def mint_user_id_token(
        self,
        client_id: str,
        email: str,
        sub: str,
        *,
        name: str | None = None,
        email_verified: bool = True,
        lifetime: int = TOKEN_LIFETIME,
        issued_at: float | None = None,
        claims: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        key: SigningKey | None = None,
    ) -> str:
        """The event's ``userIdToken``: the user, audience the add-on's OAuth client id."""
        base = {
            **self._standard_claims(client_id, issued_at=issued_at, lifetime=lifetime),
            "azp": client_id,
            "sub": sub,
            "email": email,
            "email_verified": email_verified,
            "name": name,
        }
        return self.mint(_merged(base, claims), headers=headers, key=key)

    # --- opaque per-request tokens ----------------------------------------------------------------------

    def mint_user_oauth_token(
        self, email: str, *, scopes: Sequence[str], lifetime: int = TOKEN_LIFETIME
    ) -> str:
        """An opaque ``userOAuthToken`` for ``email`` with ``scopes``."""
        grant = OAuthGrant("user_oauth", email, tuple(scopes), time.time() + lifetime)
        return self._grant("ya29.sandbox-", grant)

    def mint_gmail_access_token(self, email: str, message_id: str, *, lifetime: int = TOKEN_LIFETIME) -> str:
        """An opaque ``gmail.accessToken``: opens ``message_id`` of ``email``'s mailbox only."""
        grant = OAuthGrant("gmail_access", email, (), time.time() + lifetime, message_id=message_id)
        return self._grant("AM3sandbox-", grant)

    def grant_for(self, token: str) -> OAuthGrant | None:
        """What an opaque token grants, or None when it is unknown or expired."""
        with self._lock:
            grant = self._grants.get(token)
        return None if grant is None or grant.expired else grant

    def _grant(self, prefix: str, grant: OAuthGrant) -> str:
        token = prefix + secrets.token_urlsafe(32)
        with self._lock:
            # A long demo mints one pair per click: forget the expired ones as new ones arrive.
            for stale in [t for t, g in self._grants.items() if g.expired]:
                del self._grants[stale]
            self._grants[token] = grant
        return token
