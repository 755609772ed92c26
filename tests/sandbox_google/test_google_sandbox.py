"""The sandbox Google: certificates in Google's formats under any mount, tokens shaped as Google's, and
add-on events shaped as the reference (A2) describes them."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from flask import Flask
from google.auth import jwt

from connector.manifests.gmail import GMAIL_SCOPES
from connector.sandbox.google import (
    GOOGLE_ISSUER,
    SANDBOX_CLIENT_ID,
    SANDBOX_SERVICE_ACCOUNT,
    GoogleTokenIssuer,
    authorization_header,
    build_event,
    create_google_blueprint,
)

ENDPOINT = "https://connector.example.com/addons/gmail/message"


@pytest.fixture(scope="module")
def issuer() -> GoogleTokenIssuer:
    return GoogleTokenIssuer()


def segments(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    def decode(part: str) -> bytes:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    header, claims, signature = token.split(".")
    return json.loads(decode(header)), json.loads(decode(claims)), decode(signature)


@pytest.mark.parametrize("mount", ["/google", "/sandbox/google", ""])
def test_certificates_are_served_in_googles_v1_form_under_any_mount(
    issuer: GoogleTokenIssuer, mount: str
) -> None:
    app = Flask("sandbox")
    app.register_blueprint(create_google_blueprint(issuer), url_prefix=mount or None)

    response = app.test_client().get(f"{mount}/oauth2/v1/certs")

    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith(f"public, max-age={issuer.certs_max_age}")
    certificates = response.get_json()
    assert set(certificates) == {issuer.signing_key.kid}
    certificate = x509.load_pem_x509_certificate(certificates[issuer.signing_key.kid].encode("ascii"))
    public_der = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    assert certificate.public_key().public_bytes(*public_der) == (
        issuer.signing_key.private_key.public_key().public_bytes(*public_der)
    )


def test_certificates_are_served_as_a_jwk_set_too(issuer: GoogleTokenIssuer) -> None:
    app = Flask("sandbox")
    app.register_blueprint(create_google_blueprint(issuer), url_prefix="/google")

    keys = app.test_client().get("/google/oauth2/v3/certs").get_json()["keys"]

    assert [key["kid"] for key in keys] == [issuer.signing_key.kid]
    assert keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and keys[0]["use"] == "sig"
    modulus = int.from_bytes(base64.urlsafe_b64decode(keys[0]["n"] + "=="), "big")
    assert modulus == issuer.signing_key.private_key.public_key().public_numbers().n


def test_system_token_is_what_google_sends_an_add_on(issuer: GoogleTokenIssuer) -> None:
    token = issuer.mint_system_id_token(ENDPOINT, SANDBOX_SERVICE_ACCOUNT)

    claims = jwt.decode(token, certs=issuer.certificates(), audience=ENDPOINT)  # google-auth's own check

    header, _, _ = segments(token)
    assert header == {"alg": "RS256", "kid": issuer.signing_key.kid, "typ": "JWT"}
    assert claims["iss"] == GOOGLE_ISSUER
    assert claims["email"] == SANDBOX_SERVICE_ACCOUNT and claims["email_verified"] is True
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["sub"].isdigit()


def test_user_token_names_the_user_for_the_add_ons_client(issuer: GoogleTokenIssuer) -> None:
    token = issuer.mint_user_id_token(SANDBOX_CLIENT_ID, "alice@acme.example", "1087", name="Alice Martin")

    claims = jwt.decode(token, certs=issuer.certificates(), audience=SANDBOX_CLIENT_ID)

    assert (claims["sub"], claims["email"], claims["name"]) == ("1087", "alice@acme.example", "Alice Martin")
    assert claims["email_verified"] is True and claims["azp"] == SANDBOX_CLIENT_ID


def test_overrides_forge_tokens_for_tests(issuer: GoogleTokenIssuer) -> None:
    unsigned = issuer.mint_system_id_token(ENDPOINT, SANDBOX_SERVICE_ACCOUNT, headers={"alg": "none"})
    without_email = issuer.mint_user_id_token(SANDBOX_CLIENT_ID, "a@b.example", "1", claims={"email": None})
    other_issuer = issuer.mint_system_id_token(ENDPOINT, SANDBOX_SERVICE_ACCOUNT, claims={"iss": "https://x"})

    assert segments(unsigned)[0]["alg"] == "none" and segments(unsigned)[2] == b""
    assert "email" not in segments(without_email)[1]
    assert segments(other_issuer)[1]["iss"] == "https://x"


def test_rotation_signs_with_a_new_key_and_keeps_the_previous_one_published() -> None:
    google = GoogleTokenIssuer()
    first = google.signing_key

    second = google.rotate_key()
    third = google.rotate_key()

    assert google.signing_key is third
    assert list(google.certificates()) == [third.kid, second.kid]  # Google publishes two keys
    assert first.kid not in google.certificates()
    assert segments(google.mint_system_id_token(ENDPOINT, SANDBOX_SERVICE_ACCOUNT))[0]["kid"] == third.kid


def test_message_event_has_the_shape_google_posts(issuer: GoogleTokenIssuer) -> None:
    event = build_event(
        issuer,
        endpoint_url=ENDPOINT,
        user_email="alice@acme.example",
        user_name="Alice Martin",
        message_id="18f1a2b3c4d5e6f7",
        thread_id="18f1a2b3c4d5e000",
        parameters={"state": "signed-state"},
        form_inputs={"query": ["acme"]},
    )

    assert set(event) == {"commonEventObject", "authorizationEventObject", "gmail"}
    common = event["commonEventObject"]
    assert (common["hostApp"], common["platform"], common["userLocale"]) == ("GMAIL", "WEB", "en")
    assert common["timeZone"]["id"] == "Europe/Paris"
    assert common["timeZone"]["offset"] in (3600000, 7200000)
    assert common["parameters"] == {"state": "signed-state"}
    assert common["formInputs"] == {"query": {"stringInputs": {"value": ["acme"]}}}
    authorization = event["authorizationEventObject"]
    assert set(authorization) == {"userOAuthToken", "userIdToken", "systemIdToken"}
    assert authorization_header(event) == f"Bearer {authorization['systemIdToken']}"
    assert segments(authorization["systemIdToken"])[1]["aud"] == ENDPOINT
    assert segments(authorization["userIdToken"])[1]["aud"] == SANDBOX_CLIENT_ID
    gmail = event["gmail"]
    assert (gmail["messageId"], gmail["threadId"]) == ("18f1a2b3c4d5e6f7", "18f1a2b3c4d5e000")


def test_event_tokens_grant_what_the_sandbox_gmail_needs_to_check(issuer: GoogleTokenIssuer) -> None:
    event = build_event(issuer, endpoint_url=ENDPOINT, user_email="bob@acme.example", message_id="18f0")

    oauth = issuer.grant_for(event["authorizationEventObject"]["userOAuthToken"])
    access = issuer.grant_for(event["gmail"]["accessToken"])

    assert oauth is not None and oauth.email == "bob@acme.example" and oauth.scopes == tuple(GMAIL_SCOPES)
    assert access is not None and access.kind == "gmail_access" and access.message_id == "18f0"
    assert issuer.grant_for("ya29.never-issued") is None


def test_homepage_and_compose_events(issuer: GoogleTokenIssuer) -> None:
    homepage = build_event(issuer, endpoint_url=ENDPOINT, user_email="alice@acme.example")
    compose = build_event(
        issuer,
        endpoint_url=ENDPOINT,
        user_email="alice@acme.example",
        to_recipients=["jane@customer.example"],
        cc_recipients=[],
        authorized_scopes=["https://www.googleapis.com/auth/gmail.addons.execute"],
    )

    assert "gmail" not in homepage
    assert compose["gmail"] == {"toRecipients": ["jane@customer.example"], "ccRecipients": []}
    assert compose["authorizationEventObject"]["authorizedScopes"] == [
        "https://www.googleapis.com/auth/gmail.addons.execute"
    ]


def test_signing_key_repr_shows_no_key_material(issuer: GoogleTokenIssuer) -> None:
    private_pem = issuer.signing_key.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")

    shown = f"{issuer!r} {issuer.signing_key!r}"

    assert issuer.signing_key.kid in shown
    assert private_pem.splitlines()[1] not in shown
