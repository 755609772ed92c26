"""The sandbox Entra: discovery, keys, the token endpoint, minting, and the in-process transport."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from connector.sandbox.entra import (
    OTHER_TENANT_ID,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_MAIL_DOMAIN,
    SANDBOX_TENANT_ID,
    EntraIssuer,
    SandboxTokenRejected,
    create_entra_app,
    create_entra_blueprint,
    route_to_sandbox,
)

AUTHORITY = "https://login.microsoftonline.com"
OBO = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@pytest.fixture
def issuer() -> EntraIssuer:
    return EntraIssuer()


@pytest.fixture
def client(issuer: EntraIssuer) -> FlaskClient:
    return create_entra_app(issuer).test_client()


def obo_form(assertion: str, **extra: str) -> dict[str, str]:
    form = {
        "grant_type": OBO,
        "requested_token_use": "on_behalf_of",
        "assertion": assertion,
        "scope": "https://graph.microsoft.com/Mail.Read openid profile offline_access",
        "client_id": SANDBOX_CLIENT_ID,
        "client_secret": SANDBOX_CLIENT_SECRET,
        "client_info": "1",
    }
    form.update(extra)
    return form


def test_discovery_for_common_has_microsofts_issuer_template(client: FlaskClient) -> None:
    document = client.get("/entra/common/v2.0/.well-known/openid-configuration").get_json()
    assert document["issuer"] == f"{AUTHORITY}/{{tenantid}}/v2.0"
    assert document["jwks_uri"] == f"{AUTHORITY}/common/discovery/v2.0/keys"
    assert document["token_endpoint"] == f"{AUTHORITY}/common/oauth2/v2.0/token"
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]


def test_discovery_for_a_tenant_names_it(client: FlaskClient) -> None:
    document = client.get(f"/entra/{SANDBOX_TENANT_ID}/v2.0/.well-known/openid-configuration").get_json()
    assert document["issuer"] == f"{AUTHORITY}/{SANDBOX_TENANT_ID}/v2.0"
    assert document["token_endpoint"] == f"{AUTHORITY}/{SANDBOX_TENANT_ID}/oauth2/v2.0/token"


def test_an_unknown_tenant_is_a_400(client: FlaskClient) -> None:
    response = client.get("/entra/no-such-tenant/v2.0/.well-known/openid-configuration")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_tenant"


def test_jwks_publishes_every_signing_key_and_verifies_minted_tokens(
    client: FlaskClient, issuer: EntraIssuer
) -> None:
    old = issuer.active_kid
    new = issuer.rotate_signing_key()
    keys = client.get("/entra/common/discovery/v2.0/keys").get_json()["keys"]
    assert [k["kid"] for k in keys] == [old, new]
    assert all(k["kty"] == "RSA" and k["use"] == "sig" and "d" not in k for k in keys)

    token = issuer.mint_access_token("bob")
    key = jwt.PyJWK(next(k for k in keys if k["kid"] == jwt.get_unverified_header(token)["kid"]))
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=SANDBOX_CLIENT_ID)
    assert claims["iss"] == f"{AUTHORITY}/{SANDBOX_TENANT_ID}/v2.0"
    assert claims["tid"] == SANDBOX_TENANT_ID and claims["scp"] == "access_as_user"
    assert claims["preferred_username"] == f"bob@{SANDBOX_MAIL_DOMAIN}"


def test_minted_tokens_can_be_forged_every_way_the_tests_need(issuer: EntraIssuer) -> None:
    def decoded(segment: str) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
        return value

    def parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        header, payload, _ = token.split(".")
        return decoded(header), decoded(payload)

    header, claims = parts(issuer.mint_access_token("alice", tenant_id=OTHER_TENANT_ID, audience="x"))
    assert claims["tid"] == OTHER_TENANT_ID and claims["iss"].endswith(f"/{OTHER_TENANT_ID}/v2.0")
    assert claims["aud"] == "x"
    header, claims = parts(issuer.mint_access_token(claims={"nbf": 5, "name": None}, kid="k"))
    assert claims["nbf"] == 5 and "name" not in claims and header["kid"] == "k"
    assert parts(issuer.mint_access_token(algorithm="none"))[0]["alg"] == "none"
    assert parts(issuer.mint_access_token(algorithm="HS256"))[0]["alg"] == "HS256"
    foreign = issuer.mint_access_token(key="foreign")
    assert jwt.get_unverified_header(foreign)["kid"] != issuer.active_kid


def test_on_behalf_of_returns_graph_tokens_for_the_same_user(
    client: FlaskClient, issuer: EntraIssuer
) -> None:
    response = client.post(
        f"/entra/{SANDBOX_TENANT_ID}/oauth2/v2.0/token", data=obo_form(issuer.mint_access_token("bob"))
    )

    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["scope"] == "https://graph.microsoft.com/Mail.Read"
    graph = issuer.verify_graph_token(body["access_token"])
    assert graph["oid"] == issuer.user("bob").oid and graph["scp"] == "Mail.Read"
    assert graph["aud"] == "https://graph.microsoft.com"
    assert {"id_token", "refresh_token", "client_info"} <= body.keys()

    refreshed = client.post(
        f"/entra/{SANDBOX_TENANT_ID}/oauth2/v2.0/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": body["refresh_token"],
            "scope": "https://graph.microsoft.com/Mail.Read offline_access",
            "client_id": SANDBOX_CLIENT_ID,
            "client_secret": SANDBOX_CLIENT_SECRET,
        },
    ).get_json()
    assert issuer.verify_graph_token(refreshed["access_token"])["oid"] == issuer.user("bob").oid


@pytest.mark.parametrize(
    ("change", "status", "error", "code"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client", 7000215),
        ({"grant_type": "password"}, 400, "unsupported_grant_type", 70003),
        ({"requested_token_use": "x"}, 400, "invalid_request", 900144),
        ({"scope": "https://outlook.office.com/Mail.Read"}, 400, "invalid_scope", 70011),
        ({"scope": "openid profile"}, 400, "invalid_scope", 70011),
    ],
)
def test_the_token_endpoint_refuses_bad_requests(
    client: FlaskClient, issuer: EntraIssuer, change: dict[str, str], status: int, error: str, code: int
) -> None:
    form = obo_form(issuer.mint_access_token(), **change)
    response = client.post(f"/entra/{SANDBOX_TENANT_ID}/oauth2/v2.0/token", data=form)
    assert response.status_code == status
    body = response.get_json()
    assert body["error"] == error and body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}:")


@pytest.mark.parametrize(
    "forgery",
    [
        {"key": "foreign"},
        {"algorithm": "none"},
        {"audience": "someone-else"},
        {"claims": {"exp": 1, "nbf": 0, "iat": 0}},
        {"tenant_id": OTHER_TENANT_ID},  # assertion of another tenant sent to this tenant's endpoint
    ],
)
def test_on_behalf_of_refuses_forged_assertions(
    client: FlaskClient, issuer: EntraIssuer, forgery: dict[str, Any]
) -> None:
    assertion = issuer.mint_access_token(**forgery)
    response = client.post(f"/entra/{SANDBOX_TENANT_ID}/oauth2/v2.0/token", data=obo_form(assertion))
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_withheld_consent_answers_like_entra(client: FlaskClient, issuer: EntraIssuer) -> None:
    issuer.withhold_consent("Mail.Read")
    response = client.post(
        f"/entra/{SANDBOX_TENANT_ID}/oauth2/v2.0/token", data=obo_form(issuer.mint_access_token())
    )
    body = response.get_json()
    assert (response.status_code, body["error"], body["suberror"]) == (
        400,
        "invalid_grant",
        "consent_required",
    )
    assert body["error_description"].startswith("AADSTS65001")


def test_the_demo_can_list_users_and_get_a_token_for_the_pane(
    client: FlaskClient, issuer: EntraIssuer
) -> None:
    users = {u["username"]: u for u in client.get("/entra/users").get_json()}
    assert users["alice"]["email"] == f"alice@{SANDBOX_MAIL_DOMAIN}"
    assert users["bob"]["tid"] == SANDBOX_TENANT_ID

    body = client.post("/entra/users/alice/access-token").get_json()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["oid"] == users["alice"]["oid"] and claims["scp"] == "access_as_user"
    assert client.post("/entra/users/nobody/access-token").status_code == 404


def test_graph_tokens_are_checked_by_the_sandbox(issuer: EntraIssuer) -> None:
    with pytest.raises(SandboxTokenRejected):
        issuer.verify_graph_token(issuer.mint_access_token())  # an API token is not a Graph token
    with pytest.raises(SandboxTokenRejected):
        issuer.verify_graph_token("not.a.token")


# --- the in-process transport --------------------------------------------------------------------------


def test_the_session_reaches_the_sandbox_at_the_real_authority_url(issuer: EntraIssuer) -> None:
    session = route_to_sandbox(
        requests.Session(), base_url=AUTHORITY, app=create_entra_app(issuer), path_prefix="/entra"
    )

    response = session.get(f"{AUTHORITY}/common/v2.0/.well-known/openid-configuration", timeout=5)

    assert response.status_code == 200 and response.json()["issuer"].startswith(AUTHORITY)
    assert response.headers["Content-Type"] == "application/json"
    assert response.url == f"{AUTHORITY}/common/v2.0/.well-known/openid-configuration"
    posted = session.post(
        f"{AUTHORITY}/{SANDBOX_TENANT_ID}/oauth2/v2.0/token",
        data=obo_form(issuer.mint_access_token()),
        timeout=5,
    )
    assert posted.status_code == 200 and "access_token" in posted.json()
    assert (
        session.get(f"{AUTHORITY}/nope/v2.0/.well-known/openid-configuration", timeout=5).status_code == 400
    )


def test_the_transport_keeps_query_strings_and_works_through_the_demo_mount(issuer: EntraIssuer) -> None:
    seen: dict[str, str] = {}
    echo = Flask("echo")

    @echo.get("/sandbox/echo/<path:rest>")
    def show(rest: str) -> dict[str, str]:
        from flask import request

        seen.update(path=rest, query=request.query_string.decode(), host=request.host, scheme=request.scheme)
        return {"ok": "yes"}

    entra = Flask("outer")
    entra.register_blueprint(create_entra_blueprint(issuer), url_prefix="/entra")
    demo = DispatcherMiddleware(echo, {"/sandbox": entra})  # the demo mounts the sandbox at /sandbox
    session = requests.Session()
    route_to_sandbox(session, base_url="https://graph.example", app=echo, path_prefix="/sandbox/echo")
    route_to_sandbox(session, base_url=AUTHORITY, app=demo, path_prefix="/sandbox/entra")

    assert session.get("https://graph.example/v1.0/me?$select=subject&x=1%202", timeout=5).json() == {
        "ok": "yes"
    }
    assert seen == {
        "path": "v1.0/me",
        "query": "$select=subject&x=1%202",
        "host": "graph.example",
        "scheme": "https",
    }
    keys = session.get(f"{AUTHORITY}/common/discovery/v2.0/keys", timeout=5).json()["keys"]
    assert keys[0]["kid"] == issuer.active_kid
