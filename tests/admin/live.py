"""The connector with the sandbox mounted, served on a loopback port whose URL is its PUBLIC_URL, so
that Oro's redirects come back to it as they would in production."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from flask import Flask

from connector.mail.addresses import EmailAddress
from connector.sidebar.context import MessageContext
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


def message_context(sample: Any) -> MessageContext:
    """A sandbox sample message as the sidebar sees the open email."""

    def parse(address: Any) -> EmailAddress:
        parsed = EmailAddress.parse(address.email, address.name)
        assert parsed is not None
        return parsed

    return MessageContext(
        message_id=sample.message_id,
        thread_id=sample.thread_id,
        mailbox=sample.mailbox,
        subject=sample.subject,
        sender=parse(sample.sender),
        to=tuple(parse(a) for a in sample.to),
        cc=tuple(parse(a) for a in sample.cc),
        date=sample.date,
    )
