"""The whole /admin URL map: nobody but a signed-in admin gets anything, and no state changes without
this session's CSRF token."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from connector.accounts.operations import user_for_identity
from connector.admin.routes import PUBLIC_ENDPOINTS
from connector.db import db
from tests.admin.conftest import csrf_of

ARGUMENTS = {
    "user_id": "1",
    "template_id": "1",
    "send_id": "1",
    "section": "oro",
    "fmt": "xml",
    "filename": "admin.css",
}
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def admin_routes(app: Flask) -> list[tuple[Rule, str, str]]:
    """(rule, method, url) for every /admin rule and method, arguments filled with plausible values."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        url = _fill(rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule, method, url))
    return found


def _fill(rule: Rule) -> str:
    """The rule's URL with each argument given its plausible value."""
    return rule.build({name: ARGUMENTS[name] for name in rule.arguments}, append_unknown=False)[1]  # type: ignore[index]


def _call(client: FlaskClient, method: str, url: str, **kwargs: Any) -> Any:
    return client.open(url, method=method, **kwargs)


@pytest.fixture
def routes(admin_app: Flask) -> list[tuple[Rule, str, str]]:
    found = admin_routes(admin_app)
    endpoints = {rule.endpoint for rule, _, _ in found}
    # The walk covers the pages the issue names; a route added later is walked too.
    for expected in (
        "admin.status",
        "admin.oro_page",
        "admin.google_page",
        "admin.microsoft_page",
        "admin.users",
        "admin.templates",
        "admin.privacy",
        "admin.audit",
        "admin.audit_csv",
        "admin.gmail_deployment",
        "admin.outlook_manifest",
        "admin.template_preview",
        "admin.outbox_retry",
        "admin.outbox_dismiss",
    ):
        assert expected in endpoints
    return found


def test_every_admin_route_refuses_anonymous_people(admin_app: Flask, routes: Any) -> None:
    client = admin_app.test_client()
    walked = 0
    for rule, method, url in routes:
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        answer = _call(client, method, url, data={"csrf_token": csrf_of(client)})
        if method == "GET":
            assert answer.status_code == 302, (method, url, answer.status_code)
            assert answer.headers["Location"].startswith("/admin/signin?next="), url
        else:
            assert answer.status_code == 403, (method, url, answer.status_code)
            assert "Sign in to the admin page first" in answer.get_data(as_text=True)
        walked += 1
    assert walked >= 25


def test_every_admin_route_refuses_a_signed_in_person_who_is_not_an_admin(
    admin_app: Flask, routes: Any
) -> None:
    with db.session_scope(admin_app) as session:
        bob = user_for_identity(session, provider="oro", subject="3", email="bob@acme.example")
        session.flush()
        bob_id = bob.id
    client = admin_app.test_client()
    token = csrf_of(client)
    with client.session_transaction() as session:
        session["admin"] = {"uid": bob_id, "email": "bob@acme.example", "since": time.time()}
    for rule, method, url in routes:
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        answer = _call(client, method, url, data={"csrf_token": token})
        assert answer.status_code == 403, (method, url, answer.status_code)
        assert "is not an administrator" in answer.get_data(as_text=True)


def test_every_state_change_without_a_valid_csrf_token_is_refused(
    admin_client: FlaskClient, routes: Any
) -> None:
    token = csrf_of(admin_client)
    unsafe = [(rule, method, url) for rule, method, url in routes if method in UNSAFE]
    assert len(unsafe) >= 15
    for _rule, method, url in unsafe:
        for data, headers in (
            ({}, {}),  # no token
            ({"csrf_token": "not-the-token"}, {}),  # a wrong one
            ({"csrf_token": token}, {"Origin": "https://evil.example"}),  # right token, another site
        ):
            answer = _call(admin_client, method, url, data=data, headers=headers)
            assert answer.status_code == 400, (method, url, data, headers, answer.status_code)
            assert "did not come from this page" in answer.get_data(as_text=True)
    # Still signed in: the refusals changed nothing, and the same request with the token goes through.
    answer = admin_client.post("/admin/status/refresh", data={"csrf_token": token})
    assert answer.status_code == 303


def test_the_csrf_token_also_travels_in_a_header(admin_client: FlaskClient) -> None:
    token = csrf_of(admin_client)
    answer = admin_client.post(
        "/admin/templates/preview",
        data={"subject": "Hi", "body": "Hello", "format": "text"},
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    )
    assert answer.status_code == 200 and answer.get_json()["body"] == "Hello"
