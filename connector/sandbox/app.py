"""``create_sandbox_app(world)``: the whole sandbox world as one WSGI app.

Each outside system is one blueprint under its own prefix: ``/oro``, ``/google`` (token
certificates) and ``/entra`` (Microsoft identity) now; ``/gmail`` and ``/graph`` join later. The demo
mounts the app at ``/sandbox`` and the CLI serves it alone (``oro-connector sandbox``); links inside
responses are built from each request, so they are right under any mount point and port.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue

from connector.sandbox.entra import EntraIssuer, create_entra_blueprint
from connector.sandbox.gmail import create_gmail_blueprint
from connector.sandbox.google import GoogleTokenIssuer, create_google_blueprint
from connector.sandbox.graph import create_graph_blueprint
from connector.sandbox.oro.routes import create_oro_blueprint
from connector.sandbox.world import SandboxWorld


def create_sandbox_app(world: SandboxWorld) -> Flask:
    app = Flask(__name__)
    app.config["JSON_SORT_KEYS"] = False
    app.extensions["sandbox_world"] = world
    app.register_blueprint(create_oro_blueprint(world.oro, url_prefix="/oro"))
    # The identity issuers make RSA keys on first use; most tests only need the Oro part.
    google = cast(GoogleTokenIssuer, _OnFirstUse(lambda: world.google))
    entra = cast(EntraIssuer, _OnFirstUse(lambda: world.entra))
    app.register_blueprint(create_google_blueprint(google), url_prefix="/google")
    app.register_blueprint(create_entra_blueprint(entra), url_prefix="/entra")
    app.register_blueprint(create_graph_blueprint(world), url_prefix="/graph")
    app.register_blueprint(create_gmail_blueprint(world.gmail, google), url_prefix="/gmail")

    @app.get("/")
    def index() -> ResponseReturnValue:
        return jsonify(
            {
                "sandbox": "Oro Connector sandbox world",
                "seed": world.seed,
                "parts": {"oro": "oro/", "google": "google/", "entra": "entra/"},
                "mailboxes": list(world.mailboxes),
            }
        )

    return app


class _OnFirstUse:
    """Stands in for an object that is only built when one of its attributes is first used."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build

    def __getattr__(self, name: str) -> Any:
        return getattr(self._build(), name)
