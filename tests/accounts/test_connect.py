"""Connecting a mailbox user to Oro: authorization code + PKCE against the sandbox's Oro."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from connector.accounts.operations import connect_ticket, user_for_identity
from connector.accounts.tokens import token_key
from connector.app_services import services
from connector.db import db
from connector.db.models import OAuthState, User


@pytest.fixture
def connect_app(app_factory: Any, sandbox_server: Any) -> Flask:
    app: Flask = app_factory(
        public_url="http://localhost:8000",
        oro_url=sandbox_server.oro_url,
        oro_client_id="demo-connector",
        oro_client_secret="demo-connector-secret",
    )
    return app


def _new_user(app: Flask, email: str = "alice@acme.example") -> tuple[int, str]:
    with db.session_scope(app) as session:
        user = user_for_identity(session, provider="google", subject="g-123", email=email)
        session.flush()
        return user.id, connect_ticket(app.config["SECRET_KEY"], user)


def _sign_in_at_oro(authorize_url: str, username: str = "alice", password: str = "demo") -> str:
    """What the person does in the browser window: Oro's login form; returns the redirect back."""
    http = requests.Session()
    assert http.get(authorize_url, timeout=10).status_code == 200
    answer = http.post(
        authorize_url, data={"username": username, "password": password}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302, answer.text
    location: str = answer.headers["Location"]
    return location


def test_connect_stores_encrypted_tokens_that_call_oro_as_the_user(connect_app: Flask, backend: str) -> None:
    user_id, ticket = _new_user(connect_app)
    client = connect_app.test_client()
    start = client.get(f"/oauth/oro/start?ticket={ticket}")
    assert start.status_code == 302
    authorize = start.headers["Location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["client_id"] == ["demo-connector"]
    assert "client_secret" not in authorize

    back = urlsplit(_sign_in_at_oro(authorize))
    assert back.path == "/oauth/oro/callback"
    done = client.get(f"{back.path}?{back.query}")
    assert done.status_code == 200, done.get_data(as_text=True)
    assert "Connected to Oro" in done.get_data(as_text=True)

    with connect_app.app_context():
        store = services().token_store
        tokens = store.load(token_key(user_id))
        assert tokens is not None and tokens.refresh_token
        with db.session_scope(connect_app) as session:
            raw = session.execute(select(User)).scalars().one().credentials[0].secret
        assert tokens.access_token not in raw and tokens.refresh_token not in raw
        oro = services().oro.for_user(store=store, key=token_key(user_id))
        assert oro.capabilities().emails_api

    replay = client.get(f"{back.path}?{back.query}")
    assert replay.status_code == 400
    assert "already used" in replay.get_data(as_text=True)


def test_denied_consent_connects_nothing(connect_app: Flask) -> None:
    user_id, ticket = _new_user(connect_app)
    client = connect_app.test_client()
    authorize = client.get(f"/oauth/oro/start?ticket={ticket}").headers["Location"]
    denied = requests.post(authorize, data={"decision": "deny"}, allow_redirects=False, timeout=10)
    back = urlsplit(denied.headers["Location"])
    answer = client.get(f"{back.path}?{back.query}")
    assert answer.status_code == 400
    assert "did not grant access" in answer.get_data(as_text=True)
    with connect_app.app_context():
        assert services().token_store.load(token_key(user_id)) is None
        with db.session_scope(connect_app) as session:
            assert session.scalars(select(OAuthState)).one().used_at is not None


@pytest.mark.parametrize("ticket", ["", "forged.ticket.value"])
def test_forged_or_missing_ticket_is_refused(connect_app: Flask, ticket: str) -> None:
    answer = connect_app.test_client().get(f"/oauth/oro/start?ticket={ticket}")
    assert answer.status_code == 400
    assert "connect_link_invalid" in answer.get_data(as_text=True)


def test_callback_with_unknown_state_is_refused(connect_app: Flask) -> None:
    answer = connect_app.test_client().get("/oauth/oro/callback?code=abc&state=never-issued")
    assert answer.status_code == 400
    assert "was not started here" in answer.get_data(as_text=True)


def test_one_user_across_hosts_by_email(app: Flask, backend: str) -> None:
    with db.session_scope(app) as session:
        google = user_for_identity(session, provider="google", subject="g-1", email="Alice@Acme.example")
        outlook = user_for_identity(
            session, provider="microsoft", subject="tid.oid", email="alice@acme.example"
        )
        again = user_for_identity(session, provider="google", subject="g-1", email="alice@acme.example")
        assert google.id == outlook.id == again.id
