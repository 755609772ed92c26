"""``create_sandbox_app(world)``: the whole sandbox world as one WSGI app.

Each outside system is one blueprint under its own prefix: ``/oro`` now; ``/gmail``, ``/graph``,
``/google`` and ``/entra`` join later. The demo mounts the app at ``/sandbox`` and the CLI serves it
alone (``oro-connector sandbox``); links inside responses are built from each request, so they are
right under any mount point and port.
"""

from __future__ import annotations

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue

from connector.sandbox.oro.routes import create_oro_blueprint
from connector.sandbox.world import SandboxWorld


def create_sandbox_app(world: SandboxWorld) -> Flask:
    app = Flask(__name__)
    app.config["JSON_SORT_KEYS"] = False
    app.extensions["sandbox_world"] = world
    app.register_blueprint(create_oro_blueprint(world.oro, url_prefix="/oro"))

    @app.get("/")
    def index() -> ResponseReturnValue:
        return jsonify(
            {
                "sandbox": "Oro Connector sandbox world",
                "seed": world.seed,
                "parts": {"oro": "oro/"},
                "mailboxes": list(world.mailboxes),
            }
        )

    return app
