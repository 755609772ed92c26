"""An app with the admin page, its Oro being the sandbox's, and a way to sign in through it."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

ADMIN_EMAIL = "admin@acme.example"
ORO_SETTINGS = {
    "oro_client_id": "demo-connector",
    "oro_client_secret": "demo-connector-secret",
    "oro_integration_client_id": "demo-integration",
    "oro_integration_client_secret": "demo-secret",
}


@pytest.fixture
def admin_app(app_factory: Any, sandbox_server: Any) -> Flask:
    app: Flask = app_factory(
        public_url="http://localhost:8000",
        oro_url=sandbox_server.oro_url,
        admin_emails=(ADMIN_EMAIL,),
        oro_max_retries=0,
        **ORO_SETTINGS,
    )
    return app


def csrf_of(client: FlaskClient) -> str:
    """The CSRF token of the client's session (a page render makes one)."""
    with client.session_transaction() as session:
        token = session.get("admin_csrf")
    if not token:
        client.get("/admin/signin")
        with client.session_transaction() as session:
            token = session["admin_csrf"]
    assert isinstance(token, str)
    return token


def sign_in(client: FlaskClient, username: str = "admin", password: str = "demo") -> Any:
    """Sign in to the admin page as a person does: the button, Oro's login form, back to the connector.
    Returns the connector's answer to Oro's redirect."""
    start = client.post("/admin/signin", data={"csrf_token": csrf_of(client), "next": "/admin/"})
    assert start.status_code == 303, start.get_data(as_text=True)
    authorize = start.headers["Location"]
    http = requests.Session()
    assert http.get(authorize, timeout=10).status_code == 200
    answer = http.post(
        authorize,
        data={"username": username, "password": password, "decision": "allow"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    return client.get(f"{back.path}?{back.query}")


@pytest.fixture
def admin_client(admin_app: Flask) -> FlaskClient:
    client = admin_app.test_client()
    done = sign_in(client)
    assert done.status_code == 303 and done.headers["Location"] == "/admin/", done.get_data(as_text=True)
    return client


def text_of(response: Any) -> str:
    """A page's HTML with entities resolved, to look for sentences in it."""
    return html.unescape(response.get_data(as_text=True))
