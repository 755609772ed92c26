"""The Gmail add-on served for real: the connector and its sandbox world on one loopback port, with the
settings the demo uses, and a harness that plays Google (events signed by the sandbox's Google)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from flask import Flask

from connector.cli import sandbox_identity_settings
from connector.manifests.gmail import ACTION_PATH, HOMEPAGE_PATH, MESSAGE_PATH
from connector.sandbox import examples as ex
from connector.sandbox.google import authorization_header, build_event
from tests.conftest import LiveServer, serve_wsgi


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def addon_settings(base: str, **extra: Any) -> dict[str, Any]:
    """What ``oro-connector demo`` sets, for a connector served at ``base``."""
    values: dict[str, Any] = {
        "sandbox": True,
        "public_url": base,
        "oro_url": f"{base}/sandbox/oro",
        "oro_backoffice_prefix": "admin",
        "oro_client_id": ex.CONNECTOR_CLIENT_ID,
        "oro_client_secret": ex.CONNECTOR_CLIENT_SECRET,
        "oro_integration_client_id": ex.INTEGRATION_CLIENT_ID,
        "oro_integration_client_secret": ex.INTEGRATION_CLIENT_SECRET,
        "oro_read_timeout": 5.0,
        "oro_max_retries": 0,
        **sandbox_identity_settings(base),
    }
    values.update(extra)
    return values


def buttons(card: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every button of a card (in button lists and on decorated texts), in order."""
    found: list[dict[str, Any]] = []
    for section in card.get("sections", []):
        for widget in section["widgets"]:
            if "buttonList" in widget:
                found += widget["buttonList"]["buttons"]
            if "decoratedText" in widget and "button" in widget["decoratedText"]:
                found.append(widget["decoratedText"]["button"])
    return found


def texts(card: Mapping[str, Any]) -> str:
    """All the text a person reads on a card, as one string (for assertions)."""
    return json.dumps(card, ensure_ascii=False)


def top_card(response: Mapping[str, Any]) -> dict[str, Any] | None:
    """The card a response leaves on top of the stack (None for a notification only)."""
    action = response.get("action") or response.get("renderActions", {}).get("action", {})
    card = None
    for navigation in action.get("navigations", []):
        card = navigation.get("pushCard") or navigation.get("updateCard") or card
    return card


def notification(response: Mapping[str, Any]) -> str:
    action = response.get("action") or response.get("renderActions", {}).get("action", {})
    text: str = action.get("notification", {}).get("text", "")
    return text


@dataclass
class Gmail:
    """Plays Google against the live add-on."""

    app: Flask
    base: str
    world: Any
    live: LiveServer
    responses: list[dict[str, Any]]

    def event(
        self,
        path: str,
        *,
        mailbox: str = ex.ALICE_MAILBOX,
        message: Any = None,
        parameters: Mapping[str, str] | None = None,
        form: Mapping[str, Sequence[str]] | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        return build_event(
            self.world.google,
            endpoint_url=self.base + path,
            user_email=mailbox,
            message_id=message.id if message is not None else None,
            thread_id=message.thread_id if message is not None else None,
            parameters=parameters,
            form_inputs=form,
            **options,
        )

    def post(
        self, path: str, event: Mapping[str, Any], *, authorization: str | None = "auto"
    ) -> requests.Response:
        header = authorization_header(event) if authorization == "auto" else authorization
        headers = {"Authorization": header} if header is not None else {}
        return requests.post(self.base + path, json=event, headers=headers, timeout=30)

    def call(self, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.post(path, self.event(path, **kwargs))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        self.responses.append(body)
        return body

    def open(self, message: Any, **kwargs: Any) -> dict[str, Any]:
        return self.call(MESSAGE_PATH, message=message, **kwargs)

    def home(self, **kwargs: Any) -> dict[str, Any]:
        return self.call(HOMEPAGE_PATH, **kwargs)

    def click(
        self, button: Mapping[str, Any], *, form: Mapping[str, Sequence[str]] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Press a button as Google would: POST its action's function with its parameters."""
        action = button["onClick"]["action"]
        assert action["function"] == self.base + ACTION_PATH
        parameters = {p["key"]: p["value"] for p in action.get("parameters", [])}
        return self.call(ACTION_PATH, parameters=parameters, form=form, **kwargs)

    def connect(self, card: Mapping[str, Any], *, username: str = "alice") -> None:
        """Follow the Connect button: Oro's sign-in page in a browser, then back to the connector."""
        (connect,) = [b for b in buttons(card) if "openLink" in b["onClick"]]
        link = connect["onClick"]["openLink"]
        assert link["onClose"] == "RELOAD"
        browser = requests.Session()
        start = browser.get(link["url"], allow_redirects=False, timeout=10)
        assert start.status_code == 302, start.text
        authorize = start.headers["Location"]
        assert browser.get(authorize, timeout=10).status_code == 200
        login = browser.post(
            authorize,
            data={"username": username, "password": ex.SANDBOX_PASSWORD, "decision": "allow"},
            allow_redirects=False,
            timeout=10,
        )
        assert login.status_code == 302, login.text
        done = browser.get(login.headers["Location"], timeout=10)
        assert "Connected to Oro" in done.text


@pytest.fixture(autouse=True)
def _fresh_template_renderer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's database starts template ids at 1 again, and the process-wide renderer caches
    compiled templates by (id, version, locale): without a fresh renderer, a test would be served
    another test's template. (Reported: the cache key should not outlive its database.)"""
    from connector.templates import rendering

    monkeypatch.setattr(rendering, "_default_renderer", None)


@pytest.fixture
def gmail(app_factory: Any) -> Iterator[Gmail]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = app_factory(**addon_settings(base))
    live = serve_wsgi(app, port=port)
    try:
        yield Gmail(app, base, app.extensions["sandbox_world"], live, [])
    finally:
        live.stop()


@pytest.fixture
def connected(gmail: Gmail) -> Gmail:
    """The harness with alice connected to Oro (through the Connect card, as a person would)."""
    card = top_card(gmail.home())
    assert card is not None and card["name"] == "connect"
    gmail.connect(card)
    return gmail
