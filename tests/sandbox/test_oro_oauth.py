"""OAuth 2 at the sandbox's Oro: client credentials, authorization code + PKCE with a login page,
refresh-token rotation and expiry, and league's error bodies."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask.testing import FlaskClient

from connector.sandbox.examples import (
    CONNECTOR_CLIENT_ID,
    CONNECTOR_CLIENT_SECRET,
    INTEGRATION_CLIENT_ID,
    INTEGRATION_CLIENT_SECRET,
    PASSWORD_CLIENT_ID,
    PASSWORD_CLIENT_SECRET,
    SANDBOX_PASSWORD,
)
from connector.sandbox.world import SandboxWorld
from tests.sandbox.conftest import JSON_API, OroApi

TOKEN_URL = "/oro/oauth2-token"
AUTHORIZE_URL = "/oro/admin/oauth2-token/authorize"
REDIRECT_URI = "http://127.0.0.1:8765/oro/callback"
VERIFIER = "P5CelXPAESKVn2ArcXGjFcOmEWLoO0IjR3ubUXHb9EI"
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(world: SandboxWorld) -> Clock:
    fake = Clock()
    world.oro.clock = fake
    return fake


@pytest.fixture
def client(oro: OroApi) -> FlaskClient:
    return oro.client


def token(client: FlaskClient, **params: str) -> Any:
    return client.post(TOKEN_URL, data=params)


def api_get(client: FlaskClient, access_token: str, path: str = "contacts/1") -> Any:
    return client.get(
        f"/oro/admin/api/{path}", headers={"Accept": JSON_API, "Authorization": f"Bearer {access_token}"}
    )


def authorize_query(**overrides: str) -> str:
    params = {
        "response_type": "code",
        "client_id": CONNECTOR_CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "state": "s-42",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return urlencode(params)


def log_in(
    client: FlaskClient,
    username: str = "alice",
    password: str = SANDBOX_PASSWORD,
    decision: str = "allow",
    **overrides: str,
) -> Any:
    return client.post(
        f"{AUTHORIZE_URL}?{authorize_query(**overrides)}",
        data={"username": username, "password": password, "decision": decision},
    )


def code_from(response: Any) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    params = parse_qs(location.query)
    assert params["state"] == ["s-42"]
    return params["code"][0]


def exchange(client: FlaskClient, code: str, verifier: str = VERIFIER) -> Any:
    return token(
        client,
        grant_type="authorization_code",
        client_id=CONNECTOR_CLIENT_ID,
        client_secret=CONNECTOR_CLIENT_SECRET,
        code=code,
        redirect_uri=REDIRECT_URI,
        code_verifier=verifier,
    )


def test_client_credentials_token_acts_as_admin(client: FlaskClient, oro: OroApi) -> None:
    response = token(
        client,
        grant_type="client_credentials",
        client_id=INTEGRATION_CLIENT_ID,
        client_secret=INTEGRATION_CLIENT_SECRET,
    )
    assert response.status_code == 200
    body = response.json
    assert set(body) == {"token_type", "expires_in", "access_token"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    header, claims, _ = body["access_token"].split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"typ": "JWT", "alg": "RS256"}
    assert json.loads(base64.urlsafe_b64decode(claims + "=="))["aud"] == INTEGRATION_CLIENT_ID
    bobs_contact = oro.find_id("contacts", primaryEmail="maria.gonzalez@andes-textiles.example")
    assert api_get(client, body["access_token"], f"contacts/{bobs_contact}").status_code == 200


def test_json_token_requests_work_too(client: FlaskClient) -> None:
    response = client.post(
        TOKEN_URL,
        json={
            "grant_type": "client_credentials",
            "client_id": INTEGRATION_CLIENT_ID,
            "client_secret": INTEGRATION_CLIENT_SECRET,
        },
    )
    assert response.status_code == 200


def test_wrong_client_secret_is_invalid_client(client: FlaskClient) -> None:
    response = token(
        client, grant_type="client_credentials", client_id=INTEGRATION_CLIENT_ID, client_secret="nope"
    )
    assert response.status_code == 401
    assert response.get_data(as_text=True) == (
        '{"error": "invalid_client", "error_description": "Client authentication failed", '
        '"message": "Client authentication failed"}'
    )


def test_client_used_for_another_grant_is_invalid_client(client: FlaskClient) -> None:
    response = token(
        client,
        grant_type="client_credentials",
        client_id=CONNECTOR_CLIENT_ID,
        client_secret=CONNECTOR_CLIENT_SECRET,
    )
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"


def test_unknown_grant_type(client: FlaskClient) -> None:
    response = token(client, grant_type="device_code", client_id=INTEGRATION_CLIENT_ID)
    assert response.status_code == 400
    assert response.json == {
        "error": "unsupported_grant_type",
        "error_description": "The authorization grant type is not supported by the authorization server.",
        "hint": "Check that all required parameters have been provided",
        "message": "The authorization grant type is not supported by the authorization server.",
    }


def test_password_grant_and_wrong_password(client: FlaskClient) -> None:
    good = token(
        client,
        grant_type="password",
        client_id=PASSWORD_CLIENT_ID,
        client_secret=PASSWORD_CLIENT_SECRET,
        username="bob",
        password=SANDBOX_PASSWORD,
    )
    assert good.status_code == 200 and "refresh_token" in good.json
    bad = token(
        client,
        grant_type="password",
        client_id=PASSWORD_CLIENT_ID,
        client_secret=PASSWORD_CLIENT_SECRET,
        username="bob",
        password="wrong",
    )
    assert bad.status_code == 400
    assert bad.json == {
        "error": "invalid_grant",
        "error_description": "The user credentials were incorrect.",
        "message": "The user credentials were incorrect.",
    }


def test_authorize_shows_a_login_page(client: FlaskClient) -> None:
    page = client.get(f"{AUTHORIZE_URL}?{authorize_query()}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="username"' in html and 'name="password"' in html and CONNECTOR_CLIENT_ID in html


def test_authorization_code_with_pkce_gives_a_token_pair_for_the_user(
    client: FlaskClient, oro: OroApi
) -> None:
    code = code_from(log_in(client, "bob"))
    response = exchange(client, code)
    assert response.status_code == 200
    pair = response.json
    assert set(pair) == {"token_type", "expires_in", "access_token", "refresh_token"}
    me = api_get(client, pair["access_token"], f"users/{oro.user_id('bob')}")
    assert me.json["data"]["attributes"]["username"] == "bob"


def test_wrong_password_shows_the_form_again(client: FlaskClient) -> None:
    response = log_in(client, "alice", "wrong")
    assert response.status_code == 200
    assert "Invalid user name or password." in response.get_data(as_text=True)


def test_denying_redirects_with_access_denied(client: FlaskClient) -> None:
    response = log_in(client, decision="deny")
    assert response.status_code == 302
    params = parse_qs(urlsplit(response.headers["Location"]).query)
    assert params["error"] == ["access_denied"]
    assert params["hint"] == ["The user denied the request"]
    assert params["state"] == ["s-42"]


def test_unregistered_redirect_uri_is_refused(client: FlaskClient) -> None:
    response = client.get(f"{AUTHORIZE_URL}?{authorize_query(redirect_uri='https://evil.example/cb')}")
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"] == 'Basic realm="OAuth"'


def test_configured_redirect_uri_is_accepted(client: FlaskClient, world: SandboxWorld) -> None:
    world.oro.configure(redirect_uris=["https://connector.example/oro/callback"])
    query = authorize_query(redirect_uri="https://connector.example/oro/callback")
    assert client.get(f"{AUTHORIZE_URL}?{query}").status_code == 200


def test_authorize_without_response_type(client: FlaskClient) -> None:
    response = client.get(AUTHORIZE_URL)
    assert response.status_code == 400
    assert response.json["error"] == "unsupported_grant_type"


def test_plain_text_challenge_must_follow_rfc_7636(client: FlaskClient) -> None:
    response = client.get(f"{AUTHORIZE_URL}?{authorize_query(code_challenge='short')}")
    assert response.status_code == 400
    assert response.json["hint"] == "Code challenge must follow the specifications of RFC-7636."


def test_wrong_code_verifier_is_invalid_grant(client: FlaskClient) -> None:
    code = code_from(log_in(client))
    response = exchange(client, code, verifier="x" * 43)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_grant"
    assert response.json["hint"] == "Failed to verify `code_verifier`."


def test_missing_code_verifier(client: FlaskClient) -> None:
    code = code_from(log_in(client))
    response = token(
        client,
        grant_type="authorization_code",
        client_id=CONNECTOR_CLIENT_ID,
        client_secret=CONNECTOR_CLIENT_SECRET,
        code=code,
        redirect_uri=REDIRECT_URI,
    )
    assert response.json["error"] == "invalid_request"
    assert response.json["hint"] == "Check the `code_verifier` parameter"


def test_code_is_single_use(client: FlaskClient) -> None:
    code = code_from(log_in(client))
    assert exchange(client, code).status_code == 200
    again = exchange(client, code)
    assert again.status_code == 400
    assert again.json["hint"] == "Authorization code has been revoked"


def test_unknown_code(client: FlaskClient) -> None:
    response = exchange(client, "not-a-code")
    assert response.status_code == 400
    assert response.json["hint"] == "Cannot decrypt the authorization code"


def test_code_redeemed_with_another_redirect_uri_is_invalid_client(client: FlaskClient) -> None:
    code = code_from(log_in(client))
    response = token(
        client,
        grant_type="authorization_code",
        client_id=CONNECTOR_CLIENT_ID,
        client_secret=CONNECTOR_CLIENT_SECRET,
        code=code,
        redirect_uri="http://127.0.0.1:1/other",
        code_verifier=VERIFIER,
    )
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"


def test_refresh_rotates_and_the_old_refresh_token_dies(client: FlaskClient) -> None:
    pair = exchange(client, code_from(log_in(client))).json
    refreshed = token(
        client,
        grant_type="refresh_token",
        client_id=CONNECTOR_CLIENT_ID,
        client_secret=CONNECTOR_CLIENT_SECRET,
        refresh_token=pair["refresh_token"],
    )
    assert refreshed.status_code == 200
    new_pair = refreshed.json
    assert new_pair["access_token"] != pair["access_token"]
    assert new_pair["refresh_token"] != pair["refresh_token"]
    assert api_get(client, new_pair["access_token"]).status_code == 200
    reused = token(
        client,
        grant_type="refresh_token",
        client_id=CONNECTOR_CLIENT_ID,
        client_secret=CONNECTOR_CLIENT_SECRET,
        refresh_token=pair["refresh_token"],
    )
    assert reused.status_code == 400
    assert reused.json == {
        "error": "invalid_grant",
        "error_description": "The refresh token is invalid.",
        "hint": "Token has been revoked",
        "message": "The refresh token is invalid.",
    }


def test_refresh_needs_the_client_secret(client: FlaskClient) -> None:
    pair = exchange(client, code_from(log_in(client))).json
    response = token(
        client, grant_type="refresh_token", client_id=CONNECTOR_CLIENT_ID, refresh_token=pair["refresh_token"]
    )
    assert response.status_code == 401


def test_access_tokens_expire_after_their_lifetime(
    client: FlaskClient, world: SandboxWorld, clock: Clock
) -> None:
    world.oro.configure(access_token_lifetime=60)
    pair = exchange(client, code_from(log_in(client))).json
    assert pair["expires_in"] == 60
    assert api_get(client, pair["access_token"]).status_code == 200
    clock.now += 61
    expired = api_get(client, pair["access_token"])
    assert expired.status_code == 401
    assert expired.get_data() == b""
    refreshed = token(
        client,
        grant_type="refresh_token",
        client_id=CONNECTOR_CLIENT_ID,
        client_secret=CONNECTOR_CLIENT_SECRET,
        refresh_token=pair["refresh_token"],
    )
    assert api_get(client, refreshed.json["access_token"]).status_code == 200


def test_refresh_tokens_expire_too(client: FlaskClient, world: SandboxWorld, clock: Clock) -> None:
    world.oro.configure(refresh_token_lifetime=3600)
    pair = exchange(client, code_from(log_in(client))).json
    clock.now += 3601
    response = token(
        client,
        grant_type="refresh_token",
        client_id=CONNECTOR_CLIENT_ID,
        client_secret=CONNECTOR_CLIENT_SECRET,
        refresh_token=pair["refresh_token"],
    )
    assert response.status_code == 400
    assert response.json["hint"] == "Token has expired"


def test_codes_expire(client: FlaskClient, clock: Clock) -> None:
    code = code_from(log_in(client))
    clock.now += 601
    assert exchange(client, code).json["hint"] == "Authorization code has expired"


def test_basic_auth_carries_client_credentials(client: FlaskClient) -> None:
    secret = base64.b64encode(f"{INTEGRATION_CLIENT_ID}:{INTEGRATION_CLIENT_SECRET}".encode()).decode()
    response = client.post(
        TOKEN_URL, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {secret}"}
    )
    assert response.status_code == 200
    wrong = base64.b64encode(f"{INTEGRATION_CLIENT_ID}:bad".encode()).decode()
    refused = client.post(
        TOKEN_URL, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {wrong}"}
    )
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Basic realm="OAuth"'


def test_the_login_page_is_served_at_the_back_office_prefix_only(client: FlaskClient) -> None:
    assert client.get(f"/oro/oauth2-token/authorize?{authorize_query()}").status_code == 404
    assert re.search("Sign in", client.get(f"{AUTHORIZE_URL}?{authorize_query()}").get_data(as_text=True))
