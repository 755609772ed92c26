"""The connector with the sandbox mounted, served on a loopback port whose URL is its PUBLIC_URL, so
that Oro's redirects come back to it as they would in production."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from flask import Flask

from tests.admin.conftest import ADMIN_EMAIL, ORO_SETTINGS
from tests.conftest import LiveServer, serve_wsgi


@dataclass
class LiveConnector:
    url: str
    app: Flask
    world: Any
    server: LiveServer

    def stop(self) -> None:
        self.server.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve_connector(app_factory: Any, **extra: Any) -> LiveConnector:
    from connector.cli import sandbox_identity_settings

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = {
        "public_url": base,
        "sandbox": True,
        "oro_url": f"{base}/sandbox/oro",
        "admin_emails": (ADMIN_EMAIL,),
        **ORO_SETTINGS,
        **sandbox_identity_settings(base),
        **extra,
    }
    app: Flask = app_factory(**settings)
    return LiveConnector(base, app, app.extensions["sandbox_world"], serve_wsgi(app, port=port))
