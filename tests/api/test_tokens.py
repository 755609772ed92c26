"""Every API call needs a valid Entra access token for our API; each kind of forgery is refused with 401."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from connector.cli import sandbox_identity_settings
from connector.sandbox.entra import OTHER_TENANT_ID


@pytest.fixture
def api_app(app_factory: Any) -> Flask:
    app: Flask = app_factory(sandbox=True, **sandbox_identity_settings("http://connector.test"))
    return app


@pytest.fixture
def api(api_app: Flask) -> FlaskClient:
    return api_app.test_client()


@pytest.fixture
def entra(api_app: Flask) -> Any:
    return api_app.extensions["sandbox_world"].entra


def refused(api: FlaskClient, token: str) -> str:
    """The reason the API gives for refusing ``token``, after checking the refusal's form."""
    answer = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert answer.mimetype == "application/problem+json"
    assert answer.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    problem = answer.get_json()
    assert problem["code"] == "invalid_token" and problem["status"] == 401
    assert token not in answer.get_data(as_text=True)
    reason: str = problem["reason"]
    return reason


def test_a_valid_token_is_accepted(api: FlaskClient, entra: Any) -> None:
    answer = api.get("/api/v1/me", headers={"Authorization": f"Bearer {entra.mint_access_token('alice')}"})
    assert answer.status_code == 200
    assert answer.get_json()["email"] == "alice@acme.example"


def test_no_token_at_all_is_refused(api: FlaskClient) -> None:
    answer = api.get("/api/v1/me")
    assert answer.status_code == 401 and answer.get_json()["reason"] == "missing"


def test_a_token_of_another_tenant_is_refused(api: FlaskClient, entra: Any) -> None:
    token = entra.mint_access_token("mallory")
    assert entra.user("mallory").tid == OTHER_TENANT_ID
    assert refused(api, token) == "tenant_not_allowed"


def test_a_token_for_another_audience_is_refused(api: FlaskClient, entra: Any) -> None:
    token = entra.mint_access_token("alice", audience="00000003-0000-0000-c000-000000000000")
    assert refused(api, token) == "wrong_audience"


def test_an_expired_token_is_refused(api: FlaskClient, entra: Any) -> None:
    token = entra.mint_access_token("alice", lifetime=-3600)
    assert refused(api, token) == "expired"


def test_a_token_with_a_bad_signature_is_refused(api: FlaskClient, entra: Any) -> None:
    # Signed with a key the authority never published, under the published key's id.
    token = entra.mint_access_token("alice", key="foreign", kid=entra.active_kid)
    assert refused(api, token) == "bad_signature"


def test_alg_none_is_refused(api: FlaskClient, entra: Any) -> None:
    token = entra.mint_access_token("alice", algorithm="none")
    assert token.endswith(".")
    assert refused(api, token) == "algorithm_not_allowed"


def test_a_token_without_our_scope_is_refused(api: FlaskClient, entra: Any) -> None:
    token = entra.mint_access_token("alice", scopes=("Mail.Read", "User.Read"))
    assert refused(api, token) == "missing_scope"


def test_a_token_signed_with_an_unknown_key_id_is_refused(api: FlaskClient, entra: Any) -> None:
    token = entra.mint_access_token("alice", kid="not-a-published-key-id")
    assert refused(api, token) == "unknown_key"


def test_every_endpoint_but_the_document_needs_a_token(api_app: Flask, api: FlaskClient) -> None:
    rules = [r for r in api_app.url_map.iter_rules() if r.rule.startswith("/api/v1/")]
    for rule in rules:
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            path = re.sub(r"<int:[^<>]+>", "1", re.sub(r"<(?!int:)[^<>]+>", "de", rule.rule))  # parameters
            answer = api.open(path, method=method, json={})
            if rule.rule == "/api/v1/openapi.json":
                assert answer.status_code == 200
            else:
                assert answer.status_code == 401, f"{method} {rule.rule}"
