"""Signing in to the admin page through Oro: who gets in, who does not, and what the session is like."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask
from sqlalchemy import select

from connector.accounts.tokens import token_key
from connector.app_services import services
from connector.audit.models import AuditEntry
from connector.db import db
from connector.db.models import Credential, Identity, User
from tests.admin.conftest import ADMIN_EMAIL, ORO_SETTINGS, csrf_of, sign_in


def test_the_oro_admin_signs_in_and_is_connected_to_oro_as_themselves(admin_app: Flask, backend: str) -> None:
    client = admin_app.test_client()
    assert client.get("/admin/oro").headers["Location"] == "/admin/signin?next=/admin/oro"
    page = client.get("/admin/signin?next=/admin/oro").get_data(as_text=True)
    assert "Sign in with Oro" in page and "no passwords of its own" in page

    done = sign_in(client)
    assert done.status_code == 303
    status = client.get(done.headers["Location"])
    assert status.status_code == 200
    assert f"Signed in as {ADMIN_EMAIL}" in status.get_data(as_text=True)

    with db.session_scope(admin_app) as session:
        admin = session.scalars(select(User).where(User.email == ADMIN_EMAIL)).one()
        identity = session.scalars(select(Identity).where(Identity.user_id == admin.id)).one()
        assert identity.provider == "oro"
        raw = session.scalars(select(Credential).where(Credential.user_id == admin.id)).one().secret
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "admin.sign_in")).one()
        assert entry.actor == ADMIN_EMAIL
        admin_id = admin.id
    with admin_app.app_context():
        tokens = services().token_store.load(token_key(admin_id))
        assert tokens is not None and tokens.access_token not in raw


def test_an_oro_user_who_is_not_an_admin_is_refused_and_stays_signed_out(admin_app: Flask) -> None:
    client = admin_app.test_client()
    refused = sign_in(client, username="bob")
    assert refused.status_code == 403
    text = refused.get_data(as_text=True)
    assert "bob@acme.example, who is not an administrator" in text
    assert client.get("/admin/").headers["Location"].startswith("/admin/signin")
    with db.session_scope(admin_app) as session:
        assert session.scalars(select(Credential)).all() == []


def test_wrong_password_at_oro_leaves_the_person_on_oros_login_page(admin_app: Flask) -> None:
    client = admin_app.test_client()
    start = client.post("/admin/signin", data={"csrf_token": csrf_of(client)})
    answer = requests.post(
        start.headers["Location"],
        data={"username": "admin", "password": "guess"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 200 and "Invalid user name or password" in answer.text
    assert client.get("/admin/").status_code == 302


def test_denied_consent_and_replayed_or_forged_callbacks_sign_nobody_in(admin_app: Flask) -> None:
    client = admin_app.test_client()
    start = client.post("/admin/signin", data={"csrf_token": csrf_of(client)})
    denied = requests.post(
        start.headers["Location"], data={"decision": "deny"}, allow_redirects=False, timeout=10
    )
    back = urlsplit(denied.headers["Location"])
    answer = client.get(f"{back.path}?{back.query}")
    assert answer.status_code == 400 and "did not grant access" in answer.get_data(as_text=True)

    forged = client.get("/admin/signin/callback?code=abc&state=made-up")
    assert forged.status_code == 400 and "not started here" in forged.get_data(as_text=True)

    # A callback taken to another browser (another session) is refused, and so is a second use.
    start = client.post("/admin/signin", data={"csrf_token": csrf_of(client)})
    http = requests.Session()
    http.get(start.headers["Location"], timeout=10)
    granted = http.post(
        start.headers["Location"],
        data={"username": "admin", "password": "demo"},
        allow_redirects=False,
        timeout=10,
    )
    back = urlsplit(granted.headers["Location"])
    other = admin_app.test_client()
    assert other.get(f"{back.path}?{back.query}").status_code == 400
    assert client.get(f"{back.path}?{back.query}").status_code == 303
    assert client.get(f"{back.path}?{back.query}").status_code == 400  # used once already


def test_session_cookie_is_httponly_samesite_and_secure_on_https(
    app_factory: Any, sandbox_server: Any
) -> None:
    app = app_factory(
        public_url="https://connector.test",
        oro_url=sandbox_server.oro_url,
        admin_emails=(ADMIN_EMAIL,),
        **ORO_SETTINGS,
    )
    answer = app.test_client().get("/admin/signin", base_url="https://connector.test")
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")


def test_admin_pages_carry_a_strict_content_security_policy(admin_client: Any, sandbox_server: Any) -> None:
    for path in ("/admin/", "/admin/signin", "/admin/templates/new"):
        headers = admin_client.get(path).headers
        policy = headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        # The sign-in form's redirect goes to Oro: form-action allows Oro's origin and nothing else.
        assert f"form-action 'self' {sandbox_server.url}" in policy
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Cache-Control"] == "no-store"


def test_sign_in_attempts_are_rate_limited(app_factory: Any, sandbox_server: Any) -> None:
    app = app_factory(
        public_url="http://localhost:8000",
        oro_url=sandbox_server.oro_url,
        admin_emails=(ADMIN_EMAIL,),
        admin_signin_attempts=3,
        **ORO_SETTINGS,
    )
    client = app.test_client()
    token = csrf_of(client)
    answers = [client.post("/admin/signin", data={"csrf_token": token}).status_code for _ in range(4)]
    assert answers == [303, 303, 303, 429]
    limited = client.post("/admin/signin", data={"csrf_token": token})
    assert "Too many sign-in attempts" in limited.get_data(as_text=True)
    assert 0 < int(limited.headers["Retry-After"]) <= 301
    # From another address the door is still open.
    other = client.post("/admin/signin", data={"csrf_token": token}, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 303


def test_a_sign_in_older_than_the_session_lifetime_must_be_renewed(admin_client: Any) -> None:
    assert admin_client.get("/admin/").status_code == 200
    with admin_client.session_transaction() as session:
        session["admin"] = {**session["admin"], "since": time.time() - 481 * 60}
    assert admin_client.get("/admin/").headers["Location"] == "/admin/signin?next=/admin/"


def test_sign_out_ends_the_session(admin_client: Any) -> None:
    out = admin_client.post("/admin/signout", data={"csrf_token": csrf_of(admin_client)})
    assert out.status_code == 303 and out.headers["Location"] == "/admin/signin"
    assert admin_client.get("/admin/").status_code == 302
