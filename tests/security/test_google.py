"""Every Gmail add-on request must prove it comes from Google and name a verified user.

Tokens come from the sandbox issuer; the verifier fetches its certificates over HTTP from the sandbox
blueprint served on loopback, mounted as in the demo (``/sandbox/google``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from connector.sandbox.google import (
    SANDBOX_CLIENT_ID,
    SANDBOX_SERVICE_ACCOUNT,
    GoogleTokenIssuer,
    SigningKey,
    authorization_header,
    build_event,
    create_google_blueprint,
)
from connector.security.google import (
    GoogleCertificates,
    GoogleCertificatesUnavailable,
    GoogleRequestVerifier,
    GoogleSettingsMissing,
    GoogleTokenInvalid,
    GoogleTokenMissing,
    GoogleUser,
    cache_lifetime,
    redact_event,
)
from connector.settings import Settings
from tests.conftest import LiveServer, serve_wsgi

PUBLIC_URL = "https://connector.example.com"
MESSAGE_PATH = "/addons/gmail/message"
ENDPOINT = PUBLIC_URL + MESSAGE_PATH
ALICE = "alice@acme.example"


class Clock:
    """A monotonic clock the test moves by hand (for the certificate cache)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="module")
def issuer() -> GoogleTokenIssuer:
    return GoogleTokenIssuer()


def serve_sandbox_google(google: GoogleTokenIssuer) -> LiveServer:
    """The issuer's blueprint under /sandbox/google on loopback, mounted as in the demo."""
    sandbox = Flask("sandbox")
    sandbox.register_blueprint(create_google_blueprint(google), url_prefix="/google")
    return serve_wsgi(DispatcherMiddleware(_not_found, {"/sandbox": sandbox}))


def _not_found(_environ: Any, start_response: Any) -> list[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not here"]


@pytest.fixture(scope="module")
def sandbox_google(issuer: GoogleTokenIssuer) -> Iterator[str]:
    live = serve_sandbox_google(issuer)
    yield f"{live.url}/sandbox/google"
    live.stop()


@pytest.fixture
def certs_url(sandbox_google: str) -> str:
    return sandbox_google + "/oauth2/v1/certs"


@pytest.fixture
def serve_google() -> Iterator[Callable[[GoogleTokenIssuer], str]]:
    """Serve another issuer for one test (tests that rotate keys or change the cache lifetime)."""
    servers: list[LiveServer] = []

    def serve(google: GoogleTokenIssuer) -> str:
        servers.append(serve_sandbox_google(google))
        return f"{servers[-1].url}/sandbox/google"

    yield serve
    for live in servers:
        live.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_verifier(certs_url: str, clock: Clock | None = None, **options: Any) -> GoogleRequestVerifier:
    values: dict[str, Any] = {
        "service_account": SANDBOX_SERVICE_ACCOUNT,
        "client_id": SANDBOX_CLIENT_ID,
        "public_url": PUBLIC_URL,
    }
    values.update(options)
    return GoogleRequestVerifier(
        certificates=GoogleCertificates(certs_url, clock=clock or Clock()), **values
    )


@pytest.fixture
def verifier(certs_url: str, clock: Clock) -> GoogleRequestVerifier:
    return make_verifier(certs_url, clock)


def alice_event(issuer: GoogleTokenIssuer, endpoint: str = ENDPOINT) -> dict[str, Any]:
    return build_event(
        issuer,
        endpoint_url=endpoint,
        user_email=ALICE,
        user_sub="108765432109876543210",
        user_name="Alice Martin",
        message_id="18f1a2b3c4d5e6f7",
    )


def verify(verifier: GoogleRequestVerifier, event: dict[str, Any]) -> GoogleUser:
    """Verify ``event`` sent to the message endpoint with the header Google would send."""
    return verifier.verify_addon_request(
        authorization=authorization_header(event), path=MESSAGE_PATH, event=event
    )


def with_user_token(event: dict[str, Any], token: str) -> dict[str, Any]:
    changed = json.loads(json.dumps(event))
    changed["authorizationEventObject"]["userIdToken"] = token
    return changed


def refused(
    verifier: GoogleRequestVerifier,
    *,
    authorization: str | None,
    event: dict[str, Any],
    kind: str,
    because: str,
    path: str = MESSAGE_PATH,
) -> GoogleTokenInvalid:
    """Assert the request is refused for ``because``, and that the error quotes no token."""
    with pytest.raises(GoogleTokenInvalid) as caught:
        verifier.verify_addon_request(authorization=authorization, path=path, event=event)
    error = caught.value
    assert error.kind == kind
    assert because in error.reason
    shown = f"{error} {error!r} {error.args}"
    tokens = [v for v in event.get("authorizationEventObject", {}).values() if isinstance(v, str)]
    if authorization and " " in authorization:
        tokens.append(authorization.split(" ", 1)[1])
    for token in tokens:
        assert token not in shown
    return error


# --- accepted -----------------------------------------------------------------------------------------


def test_google_request_with_valid_tokens_names_the_user(
    issuer: GoogleTokenIssuer, verifier: GoogleRequestVerifier
) -> None:
    event = alice_event(issuer)

    user = verify(verifier, event)

    assert user == GoogleUser(sub="108765432109876543210", email=ALICE, name="Alice Martin")


def test_token_expired_within_the_clock_skew_is_accepted(
    issuer: GoogleTokenIssuer, verifier: GoogleRequestVerifier
) -> None:
    token = issuer.mint_system_id_token(
        ENDPOINT, SANDBOX_SERVICE_ACCOUNT, issued_at=time.time() - 3610, lifetime=3600
    )

    verifier.verify_system_token(f"Bearer {token}", path=MESSAGE_PATH)


def test_configured_audience_replaces_the_endpoint_url(issuer: GoogleTokenIssuer, certs_url: str) -> None:
    verifier = make_verifier(certs_url, audience="https://gateway.example.com/gmail")
    for_gateway = issuer.mint_system_id_token("https://gateway.example.com/gmail", SANDBOX_SERVICE_ACCOUNT)
    for_endpoint = issuer.mint_system_id_token(ENDPOINT, SANDBOX_SERVICE_ACCOUNT)

    verifier.verify_system_token(f"Bearer {for_gateway}", path=MESSAGE_PATH)
    with pytest.raises(GoogleTokenInvalid, match="audience"):
        verifier.verify_system_token(f"Bearer {for_endpoint}", path=MESSAGE_PATH)


def test_endpoint_audience_is_public_url_and_path(certs_url: str) -> None:
    verifier = make_verifier(certs_url, public_url="https://connector.example.com/oro/")

    assert verifier.endpoint_audience("/addons/gmail/homepage") == (
        "https://connector.example.com/oro/addons/gmail/homepage"
    )


# --- the request token (Authorization header) refused -------------------------------------------------


def test_request_token_from_another_issuer_is_refused(
    issuer: GoogleTokenIssuer, verifier: GoogleRequestVerifier
) -> None:
    event = alice_event(issuer)
    forged = issuer.mint_system_id_token(
        ENDPOINT, SANDBOX_SERVICE_ACCOUNT, claims={"iss": "https://accounts.evil.example"}
    )

    refused(verifier, authorization=f"Bearer {forged}", event=event, kind="system", because="issuer")


def test_request_token_for_another_endpoint_is_refused(
    issuer: GoogleTokenIssuer, verifier: GoogleRequestVerifier
) -> None:
    event = alice_event(issuer, endpoint=PUBLIC_URL + "/addons/gmail/homepage")

    refused(
        verifier, authorization=authorization_header(event), event=event, kind="system", because="audience"
    )


def test_request_token_of_another_service_account_is_refused(
    issuer: GoogleTokenIssuer, verifier: GoogleRequestVerifier
) -> None:
    event = alice_event(issuer)
    forged = issuer.mint_system_id_token(ENDPOINT, "attacker@evil-project.iam.gserviceaccount.com")

    error = refused(
        verifier, authorization=f"Bearer {forged}", event=event, kind="system", because="service account"
    )
    assert "attacker@evil-project" in error.reason  # tells the operator who signed it


def test_request_token_with_unverified_service_account_email_is_refused(
    issuer: GoogleTokenIssuer, verifier: GoogleRequestVerifier
) -> None:
    event = alice_event(issuer)
    forged = issuer.mint_system_id_token(ENDPOINT, SANDBOX_SERVICE_ACCOUNT, claims={"email_verified": False})

    refused(verifier, authorization=f"Bearer {forged}", event=event, kind="system", because="not verified")


def test_expired_request_token_is_refused(issuer: GoogleTokenIssuer, verifier: GoogleRequestVerifier) -> None:
    event = alice_event(issuer)
    expired = issuer.mint_system_id_token(
        ENDPOINT, SANDBOX_SERVICE_ACCOUNT, issued_at=time.time() - 7200, lifetime=3600
    )

    refused(verifier, authorization=f"Bearer {expired}", event=event, kind="system", because="expired")


def test_request_token_signed_by_another_key_is_refused(
    issuer: GoogleTokenIssuer, verifier: GoogleRequestVerifier
) -> None:
    event = alice_event(issuer)
    forged = issuer.mint_system_id_token(
        ENDPOINT,
        SANDBOX_SERVICE_ACCOUNT,
        key=SigningKey.generate(),
        headers={"kid": issuer.signing_key.kid},  # claims Google's key, signed with the attacker's
    )

    refused(verifier, authorization=f"Bearer {forged}", event=event, kind="system", because="signature")


def test_request_token_naming_an_unpublished_key_is_refused(
    issuer: GoogleTokenIssuer, verifier: GoogleRequestVerifier
) -> None:
    event = alice_event(issuer)
    forged = issuer.mint_system_id_token(ENDPOINT, SANDBOX_SERVICE_ACCOUNT, key=SigningKey.generate())

    refused(
        verifier,
        authorization=f"Bearer {forged}",
        event=event,
        kind="system",
        because="key Google does not publish",
    )


def test_unsigned_request_token_alg_none_is_refused(
    issuer: GoogleTokenIssuer, verifier: GoogleRequestVerifier
) -> None:
    event = alice_event(issuer)
    unsigned = issuer.mint_system_id_token(ENDPOINT, SANDBOX_SERVICE_ACCOUNT, headers={"alg": "none"})
    assert unsigned.endswith(".")

    refused(
        verifier, authorization=f"Bearer {unsigned}", event=event, kind="system", because="algorithm 'none'"
    )


def test_request_token_hmac_signed_with_googles_public_certificate_is_refused(
    issuer: GoogleTokenIssuer, verifier: GoogleRequestVerifier
) -> None:
    event = alice_event(issuer)
    template = issuer.mint_system_id_token(ENDPOINT, SANDBOX_SERVICE_ACCOUNT, headers={"alg": "HS256"})
    signing_input = template.rsplit(".", 1)[0]
    secret = issuer.signing_key.certificate_pem.encode("ascii")
    mac = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    forged = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode('ascii')}"

    refused(
        verifier, authorization=f"Bearer {forged}", event=event, kind="system", because="algorithm 'HS256'"
    )


def test_request_without_authorization_header_is_refused(
    issuer: GoogleTokenIssuer, verifier: GoogleRequestVerifier
) -> None:
    event = alice_event(issuer)

    error = refused(
        verifier, authorization=None, event=event, kind="system", because="no Authorization header"
    )
    assert isinstance(error, GoogleTokenMissing)


@pytest.mark.parametrize(
    ("header", "because"),
    [
        ("Basic YWxpY2U6c2VjcmV0", "not 'Bearer <token>'"),
        ("Bearer", "not 'Bearer <token>'"),
        ("Bearer one two", "not 'Bearer <token>'"),
        ("Bearer not-a-jwt", "not a well-formed JWT"),
        ("Bearer e30.e30.e30.e30", "not a well-formed JWT"),
        ("Bearer !!!.???.***", "not a well-formed JWT"),
        ("Bearer " + "a" * 9000 + ".b.c", "not a well-formed JWT"),
    ],
)
def test_malformed_authorization_header_is_refused(
    issuer: GoogleTokenIssuer, verifier: GoogleRequestVerifier, header: str, because: str
) -> None:
    event = alice_event(issuer)

    refused(verifier, authorization=header, event=event, kind="system", because=because)


def test_bearer_scheme_is_case_insensitive(
    issuer: GoogleTokenIssuer, verifier: GoogleRequestVerifier
) -> None:
    event = alice_event(issuer)
    token = event["authorizationEventObject"]["systemIdToken"]

    verifier.verify_addon_request(authorization=f"bearer {token}", path=MESSAGE_PATH, event=event)


# --- the user token refused ---------------------------------------------------------------------------


def test_user_token_for_another_client_id_is_refused(
    issuer: GoogleTokenIssuer, verifier: GoogleRequestVerifier
) -> None:
    event = alice_event(issuer)
    other_app = issuer.mint_user_id_token("999-other-app.apps.googleusercontent.com", ALICE, "1087654321")

    refused(
        verifier,
        authorization=authorization_header(event),
        event=with_user_token(event, other_app),
        kind="user",
        because="client id",
    )


def test_user_token_with_unverified_email_is_refused(
    issuer: GoogleTokenIssuer, verifier: GoogleRequestVerifier
) -> None:
    event = alice_event(issuer)
    unverified = issuer.mint_user_id_token(SANDBOX_CLIENT_ID, ALICE, "1087654321", email_verified=False)

    refused(
        verifier,
        authorization=authorization_header(event),
        event=with_user_token(event, unverified),
        kind="user",
        because="not verified",
    )


def test_user_token_without_email_is_refused(
    issuer: GoogleTokenIssuer, verifier: GoogleRequestVerifier
) -> None:
    event = alice_event(issuer)
    no_email = issuer.mint_user_id_token(SANDBOX_CLIENT_ID, ALICE, "1087654321", claims={"email": None})

    refused(
        verifier,
        authorization=authorization_header(event),
        event=with_user_token(event, no_email),
        kind="user",
        because="no email",
    )


def test_user_token_from_another_issuer_is_refused(
    issuer: GoogleTokenIssuer, verifier: GoogleRequestVerifier
) -> None:
    event = alice_event(issuer)
    forged = issuer.mint_user_id_token(
        SANDBOX_CLIENT_ID, ALICE, "1087654321", claims={"iss": "https://securetoken.google.com/x"}
    )

    refused(
        verifier,
        authorization=authorization_header(event),
        event=with_user_token(event, forged),
        kind="user",
        because="issuer",
    )


def test_expired_user_token_is_refused(issuer: GoogleTokenIssuer, verifier: GoogleRequestVerifier) -> None:
    event = alice_event(issuer)
    expired = issuer.mint_user_id_token(SANDBOX_CLIENT_ID, ALICE, "1087654321", issued_at=time.time() - 7200)

    refused(
        verifier,
        authorization=authorization_header(event),
        event=with_user_token(event, expired),
        kind="user",
        because="expired",
    )


def test_event_without_user_token_is_refused(
    issuer: GoogleTokenIssuer, verifier: GoogleRequestVerifier
) -> None:
    event = alice_event(issuer)
    del event["authorizationEventObject"]["userIdToken"]

    error = refused(
        verifier, authorization=authorization_header(event), event=event, kind="user", because="userIdToken"
    )
    assert isinstance(error, GoogleTokenMissing)


def test_request_token_cannot_stand_in_for_the_user_token(
    issuer: GoogleTokenIssuer, verifier: GoogleRequestVerifier
) -> None:
    event = alice_event(issuer)

    refused(
        verifier,
        authorization=authorization_header(event),
        event=with_user_token(event, event["authorizationEventObject"]["systemIdToken"]),
        kind="user",
        because="client id",
    )


# --- certificates -------------------------------------------------------------------------------------


def test_certificates_are_fetched_once_for_many_requests(
    issuer: GoogleTokenIssuer, verifier: GoogleRequestVerifier, clock: Clock
) -> None:
    before = issuer.certificate_fetches

    for _ in range(5):
        event = alice_event(issuer)
        verify(verifier, event)
        clock.advance(60)

    assert issuer.certificate_fetches == before + 1


def test_certificates_are_fetched_again_when_their_max_age_has_passed(
    serve_google: Callable[[GoogleTokenIssuer], str], clock: Clock
) -> None:
    google = GoogleTokenIssuer(certs_max_age=600)
    verifier = make_verifier(serve_google(google) + "/oauth2/v1/certs", clock)

    verify(verifier, alice_event(google))
    clock.advance(599)
    verify(verifier, alice_event(google))
    assert google.certificate_fetches == 1
    clock.advance(2)
    verify(verifier, alice_event(google))
    assert google.certificate_fetches == 2


def test_an_unknown_key_id_fetches_the_certificates_again_at_most_once_a_while(
    serve_google: Callable[[GoogleTokenIssuer], str], clock: Clock
) -> None:
    google = GoogleTokenIssuer()
    verifier = make_verifier(serve_google(google) + "/oauth2/v1/certs", clock)
    event = alice_event(google)
    verify(verifier, event)
    assert google.certificate_fetches == 1

    clock.advance(45)
    google.rotate_key()  # Google signs with a key published after our fetch
    event = alice_event(google)
    verify(verifier, event)
    assert google.certificate_fetches == 2

    forged = google.mint_system_id_token(ENDPOINT, SANDBOX_SERVICE_ACCOUNT, headers={"kid": "no-such-key"})
    for _ in range(5):
        with pytest.raises(GoogleTokenInvalid, match="key Google does not publish"):
            verifier.verify_system_token(f"Bearer {forged}", path=MESSAGE_PATH)
    assert google.certificate_fetches == 2  # forged key ids do not turn into requests to Google

    clock.advance(45)
    with pytest.raises(GoogleTokenInvalid):
        verifier.verify_system_token(f"Bearer {forged}", path=MESSAGE_PATH)
    assert google.certificate_fetches == 3


def test_certificates_in_the_v3_jwk_form_verify_tokens(
    issuer: GoogleTokenIssuer, sandbox_google: str
) -> None:
    verifier = make_verifier(sandbox_google + "/oauth2/v3/certs")
    event = alice_event(issuer)

    user = verify(verifier, event)

    assert user.email == ALICE


def test_known_keys_keep_serving_when_google_cannot_be_reached(
    serve_google: Callable[[GoogleTokenIssuer], str],
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    google = GoogleTokenIssuer(certs_max_age=60)
    verifier = make_verifier(serve_google(google) + "/oauth2/v1/certs", clock)
    event = alice_event(google)
    verify(verifier, event)

    verifier.certificates.url = _closed_port_url()
    clock.advance(120)
    event = alice_event(google)
    with caplog.at_level(logging.WARNING, logger="connector.security.google"):
        verify(verifier, event)

    assert "Keeping 1 known Google signing keys" in caplog.text


def test_no_certificates_at_all_is_an_outage_not_a_forgery(issuer: GoogleTokenIssuer) -> None:
    verifier = make_verifier(_closed_port_url())
    event = alice_event(issuer)

    with pytest.raises(GoogleCertificatesUnavailable, match="could not be fetched"):
        verify(verifier, event)


def test_certificates_answering_an_error_are_unavailable(issuer: GoogleTokenIssuer) -> None:
    def failing(_environ: Any, start_response: Any) -> list[bytes]:
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
        return [b"down"]

    live = serve_wsgi(failing)
    try:
        verifier = make_verifier(f"{live.url}/oauth2/v1/certs")
        event = alice_event(issuer)
        with pytest.raises(GoogleCertificatesUnavailable, match="HTTP 500"):
            verify(verifier, event)
    finally:
        live.stop()


def test_certificates_in_another_format_are_unavailable(issuer: GoogleTokenIssuer) -> None:
    def not_certificates(_environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"kid": "not a certificate"}']

    live = serve_wsgi(not_certificates)
    try:
        verifier = make_verifier(f"{live.url}/oauth2/v1/certs")
        with pytest.raises(GoogleCertificatesUnavailable, match="not in Google's v1 or v3 format"):
            verify(verifier, alice_event(issuer))
    finally:
        live.stop()


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Cache-Control": "public, max-age=19680, must-revalidate, no-transform"}, 19680.0),
        ({"Cache-Control": "public, max-age=19680", "Age": "680"}, 19000.0),
        ({"Cache-Control": "public, s-maxage=50"}, 300.0),
        ({"Cache-Control": "max-age=9999999"}, 86400.0),
        ({}, 300.0),
    ],
)
def test_certificates_stay_fresh_as_long_as_the_response_allows(
    headers: dict[str, str], seconds: float
) -> None:
    assert cache_lifetime(headers, default=300.0) == seconds


def _closed_port_url() -> str:
    """A loopback URL nothing listens on (a server started and stopped)."""
    live = serve_wsgi(_not_found)
    live.stop()
    return f"{live.url}/oauth2/v1/certs"


# --- settings and logging -----------------------------------------------------------------------------


def test_verifier_from_settings_names_each_missing_setting() -> None:
    with pytest.raises(GoogleSettingsMissing) as caught:
        GoogleRequestVerifier.from_settings(Settings(mode="test", public_url=PUBLIC_URL))

    assert "ORO_CONNECTOR_GOOGLE_SERVICE_ACCOUNT" in str(caught.value)
    assert "ORO_CONNECTOR_GOOGLE_CLIENT_ID" in str(caught.value)


def test_verifier_refuses_plain_http_certificates_in_production() -> None:
    settings = Settings(
        public_url=PUBLIC_URL,
        google_service_account=SANDBOX_SERVICE_ACCOUNT,
        google_client_id=SANDBOX_CLIENT_ID,
        google_certs_url="http://certs.example.com/oauth2/v1/certs",
    )

    with pytest.raises(GoogleSettingsMissing, match="ORO_CONNECTOR_GOOGLE_CERTS_URL"):
        GoogleRequestVerifier.from_settings(settings)


def test_verifier_from_settings_verifies_sandbox_tokens(issuer: GoogleTokenIssuer, certs_url: str) -> None:
    settings = Settings(
        mode="demo",
        public_url=PUBLIC_URL,
        google_service_account=SANDBOX_SERVICE_ACCOUNT,
        google_client_id=SANDBOX_CLIENT_ID,
        google_certs_url=certs_url,
    )
    verifier = GoogleRequestVerifier.from_settings(settings)
    event = alice_event(issuer)

    user = verify(verifier, event)

    assert user.sub == "108765432109876543210"


def test_redacted_event_keeps_the_context_and_no_token(issuer: GoogleTokenIssuer) -> None:
    event = alice_event(issuer)
    event["commonEventObject"]["parameters"] = {"handler": "on_link_record"}
    tokens = [*event["authorizationEventObject"].values(), event["gmail"]["accessToken"]]

    redacted = redact_event(event)
    logged = json.dumps(redacted)

    assert "authorizationEventObject" not in redacted
    assert redacted["gmail"] == {"messageId": "18f1a2b3c4d5e6f7", "threadId": "18f1a2b3c4d5e6f7"}
    assert redacted["commonEventObject"]["parameters"] == {"handler": "on_link_record"}
    for token in tokens:
        assert token not in logged
    assert event["gmail"]["accessToken"] == tokens[-1]  # the request still has its tokens
