"""A connector with its sandbox, served on a loopback port as the demo runs it, and sandbox users in it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from flask import Flask

from connector.accounts.operations import user_for_identity
from connector.accounts.tokens import token_key
from connector.app_services import services
from connector.cli import sandbox_identity_settings
from connector.db import db
from connector.oro import OroTokens
from tests.conftest import LiveServer, serve_wsgi


class _LateApp:
    """A WSGI app that is given its application after the server knows its port."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)


@dataclass
class LiveConnector:
    url: str
    app: Flask
    server: LiveServer

    @property
    def world(self) -> Any:
        return self.app.extensions["sandbox_world"]

    def token(self, username: str = "alice", **forgery: Any) -> str:
        """An access token for our API from the sandbox's Entra (``forgery`` as ``mint_access_token``)."""
        token: str = self.world.entra.mint_access_token(username, **forgery)
        return token

    def headers(self, username: str = "alice") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}"}

    def connect_to_oro(self, username: str = "alice") -> int:
        """The user of ``username``'s Entra identity, connected to the sandbox's Oro as ``username``."""
        entra = self.world.entra.user(username)
        with db.session_scope(self.app) as session:
            user = user_for_identity(
                session,
                provider="microsoft",
                subject=f"{entra.oid}.{entra.tid}",
                email=entra.email,
                display_name=entra.name,
            )
            session.flush()
            user_id = user.id
        oro_user = self.world.oro.user_by_username(username)
        access = self.world.oro.oauth.issue_for_user(oro_user.id, client_id="demo-connector")
        tokens = OroTokens(access_token=access, expires_at=datetime.fromtimestamp(time.time() + 3600, tz=UTC))
        services(self.app).token_store.save(token_key(user_id), tokens)
        return user_id

    def api(self, method: str, path: str, username: str = "alice", **kwargs: Any) -> requests.Response:
        return requests.request(
            method, f"{self.url}/api/v1{path}", headers=self.headers(username), timeout=30, **kwargs
        )


def start_connector(app_factory: Callable[..., Flask], **extra: Any) -> LiveConnector:
    late = _LateApp()
    live = serve_wsgi(late)
    base = live.url
    app = app_factory(
        sandbox=True,
        public_url=base,
        oro_url=f"{base}/sandbox/oro",
        oro_backoffice_prefix="admin",
        oro_client_id="demo-connector",
        oro_client_secret="demo-connector-secret",
        oro_integration_client_id="demo-integration",
        oro_integration_client_secret="demo-secret",
        **sandbox_identity_settings(base),
        **extra,
    )
    late.app = app
    return LiveConnector(base, app, live)
