"""Fixtures for the sandbox world's tests: the sandbox app and a small raw-HTTP helper for its Oro."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from connector.sandbox.app import create_sandbox_app
from connector.sandbox.world import SandboxWorld

JSON_API = "application/vnd.api+json"
API = "/oro/admin/api"


class OroApi:
    """Raw HTTP against the sandbox's Oro through Flask's test client, as a given sandbox user."""

    def __init__(self, client: FlaskClient, world: SandboxWorld) -> None:
        self.client = client
        self.world = world
        self._tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self._tokens:
            user = self.world.oro.user_by_username(username)
            assert user is not None, username
            self._tokens[username] = self.world.oro.oauth.issue_for_user(user.id)
        return self._tokens[username]

    def user_id(self, username: str) -> str:
        user = self.world.oro.user_by_username(username)
        assert user is not None
        return user.id

    def call(
        self,
        method: str,
        path: str,
        *,
        user: str | None = "alice",
        query: str = "",
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        sent = {"Accept": JSON_API}
        if body is not None:
            sent["Content-Type"] = JSON_API
        if user is not None:
            sent["Authorization"] = f"Bearer {self.token(user)}"
        sent.update(headers or {})
        url = f"{API}/{path.lstrip('/')}"
        data = json.dumps(body) if body is not None and not isinstance(body, str) else body
        return self.client.open(url, method=method, query_string=query or None, data=data, headers=sent)

    def get(self, path: str, query: str = "", **kw: Any) -> TestResponse:
        return self.call("GET", path, query=query, **kw)

    def post(self, path: str, body: Any, **kw: Any) -> TestResponse:
        return self.call("POST", path, body=body, **kw)

    def patch(self, path: str, body: Any, **kw: Any) -> TestResponse:
        return self.call("PATCH", path, body=body, **kw)

    def delete(self, path: str, body: Any = None, **kw: Any) -> TestResponse:
        return self.call("DELETE", path, body=body, **kw)

    def ids(self, path: str, query: str = "", **kw: Any) -> list[str]:
        response = self.get(path, query, **kw)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [item["id"] for item in response.json["data"]]

    def find_id(self, type_: str, **attributes: Any) -> str:
        """The id of the one ``type_`` record with these attribute values (looked up in the store)."""
        found = [
            r.id
            for r in self.world.oro.all(type_)
            if all(r.attributes.get(k) == v for k, v in attributes.items())
        ]
        assert len(found) == 1, (type_, attributes, found)
        return found[0]


@pytest.fixture
def world(sandbox_world: SandboxWorld) -> SandboxWorld:
    return sandbox_world


@pytest.fixture
def sandbox_app(world: SandboxWorld) -> Flask:
    app = create_sandbox_app(world)
    app.testing = True
    return app


@pytest.fixture
def oro(sandbox_app: Flask, world: SandboxWorld) -> OroApi:
    return OroApi(sandbox_app.test_client(), world)


def error(response: TestResponse) -> dict[str, Any]:
    """The single error object of an Oro error response."""
    body = response.json
    assert body is not None and len(body["errors"]) == 1, response.get_data(as_text=True)
    item: dict[str, Any] = body["errors"][0]
    return item
