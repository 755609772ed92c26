"""The composition root: builds the Flask application from settings. The only module importing addons/."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from connector.app_services import Services, services
from connector.db import db
from connector.health.checks import CheckResult
from connector.logs import configure_logging, init_request_logging
from connector.settings import Settings, load_settings

logger = logging.getLogger(__name__)


def create_app(overrides: Mapping[str, Any] | None = None, *, env_file: str | None = ".env") -> Flask:
    """Build the application: defaults, then ``ORO_CONNECTOR_*`` (and ``.env``), then ``overrides``.

    Raises :class:`connector.settings.SettingsError` naming every missing or malformed setting.
    """
    settings = load_settings(overrides, env_file=env_file)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        MAX_CONTENT_LENGTH=25 * 1024 * 1024,
    )
    app.extensions["connector.settings"] = settings
    app.extensions["connector.services"] = Services(settings=settings, app=app)
    app.extensions["connector.readiness"] = [_oro_readiness] if settings.oro_url else []

    configure_logging(level=settings.log_level, fmt=settings.log_format, secrets=settings.secret_values())
    init_request_logging(app)
    db.init_app(app, settings.effective_database_url)

    from addons.gmail.routes import bp as gmail_bp
    from addons.outlook.routes import bp as outlook_bp
    from connector.accounts.routes import bp as accounts_bp
    from connector.admin.routes import bp as admin_bp
    from connector.api import replies as _replies  # noqa: F401  (its routes join the API blueprint)
    from connector.api import templates as _templates  # noqa: F401  (its routes join the API blueprint)
    from connector.api.routes import bp as api_bp
    from connector.health.routes import bp as health_bp
    from connector.preview.gmail import bp as preview_gmail_bp
    from connector.preview.routes import bp as preview_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(preview_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(gmail_bp)
    app.register_blueprint(preview_gmail_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(outlook_bp)
    _register_error_handlers(app)

    if settings.sandbox:
        _mount_sandbox(app, settings)
    _prepare_background_work(app, settings)
    return app


def _prepare_background_work(app: Flask, settings: Settings) -> None:
    """Requests wake the outbox's runners; with ``JOB_RUNNER=thread`` (outside tests, which drive the
    runner themselves) this process runs one, started by its first request so that it starts after a
    gunicorn fork, in the process that serves."""
    from connector.outbox.runner import start_thread_runner, wakeup_for

    app.extensions["connector.wakeup"] = wakeup_for(settings)
    if settings.job_runner != "thread" or settings.mode == "test":
        return
    started = threading.Lock()

    @app.before_request
    def _start_runner() -> None:
        if "connector.runner_stop" in app.extensions or not started.acquire(blocking=False):
            return
        app.extensions["connector.runner_stop"] = start_thread_runner(app)


def settings_of(app: Flask) -> Settings:
    settings: Settings = app.extensions["connector.settings"]
    return settings


def _oro_readiness() -> list[CheckResult]:
    good, detail = services().oro_reachable()
    return [CheckResult("oro", good, detail)]


def _mount_sandbox(app: Flask, settings: Settings) -> None:
    """Serve the sandbox world under ``/sandbox`` of the same process (demo and tests)."""
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from connector.sandbox.app import create_sandbox_app
    from connector.sandbox.world import SandboxWorld

    world = SandboxWorld.generate(seed=settings.sandbox_seed)
    app.extensions["sandbox_world"] = world
    app.wsgi_app = DispatcherMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, {"/sandbox": create_sandbox_app(world)}
    )


def _register_error_handlers(app: Flask) -> None:
    def wants_json() -> bool:
        best = request.accept_mimetypes.best_match(["application/json", "text/html"])
        return request.path.startswith("/api/") or best == "application/json"

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response | HTTPException:
        if not wants_json():
            return exc
        response = jsonify(
            type="about:blank", title=exc.name, status=exc.code, detail=exc.description,
            code=(exc.name or "error").lower().replace(" ", "_"),
        )
        response.status_code = exc.code or 500
        response.mimetype = "application/problem+json"
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        logger.error("unhandled error", exc_info=exc)
        response = jsonify(
            type="about:blank", title="Internal Server Error", status=500, code="internal_error",
            detail="Something went wrong on the connector's side; the error was logged.",
        )
        response.mimetype = "application/problem+json"
        return response, 500
