"""Shared fixtures: the app, its client and database session, live servers, the sandbox world, a browser.

Database tests (those using ``db``) run on SQLite always and on PostgreSQL when
``ORO_CONNECTOR_TEST_DATABASE_URL`` is set. Under ``CI=true`` a missing PostgreSQL, Redis or Chromium
is a failure, not a skip.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import BaseWSGIServer, make_server

IN_CI = os.environ.get("CI", "").lower() == "true"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"

TEST_SECRET_KEY = "test-secret-key-" + "x" * 32
TEST_ENCRYPTION_KEY = Fernet.generate_key().decode()


def needs_service(variable: str, what: str) -> str:
    """The service URL from ``variable``; skip without it, or fail under CI."""
    url = os.environ.get(variable, "")
    if not url:
        message = f"{what} not available: set {variable} to run this test"
        if IN_CI:
            pytest.fail(f"{message} (required under CI=true)")
        pytest.skip(message)
    return url


@pytest.fixture(autouse=True)
def _hermetic_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own ORO_CONNECTOR_* settings must not leak into tests."""
    for name in list(os.environ):
        if name.startswith("ORO_CONNECTOR_") and not name.startswith("ORO_CONNECTOR_TEST_"):
            monkeypatch.delenv(name)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


_BACKEND_RUNS: dict[str, int] = {"sqlite": 0, "postgresql": 0}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed:
        for name in _BACKEND_RUNS:
            if f"[{name}" in report.nodeid:
                _BACKEND_RUNS[name] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    runs = ", ".join(f"{name}: {count} passed" for name, count in _BACKEND_RUNS.items())
    terminalreporter.write_line(f"database tests by backend: {runs}")


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    name: str = getattr(request, "param", "sqlite")
    if name == "postgresql":
        request.applymarker(pytest.mark.postgresql)
    return name


def _reset_postgresql(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    name = request.getfixturevalue("backend") if "backend" in request.fixturenames else "sqlite"
    if name == "postgresql":
        url = needs_service("ORO_CONNECTOR_TEST_DATABASE_URL", "PostgreSQL")
        _reset_postgresql(url)
        return url
    return f"sqlite:///{tmp_path / 'connector.db'}"


def app_overrides(database_url: str, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "mode": "test",
        "database_url": database_url,
        "var_dir": str(tmp_path / "var"),
        "secret_key": TEST_SECRET_KEY,
        "encryption_keys": (TEST_ENCRYPTION_KEY,),
        "public_url": "http://connector.test",
        "log_format": "json",
    }
    values.update(extra)
    return values


@pytest.fixture
def app_factory(database_url: str, tmp_path: Path) -> Iterator[Any]:
    """Build apps on the migrated test database; ``app_factory(sandbox=True, ...)`` overrides settings."""
    from connector.app import create_app
    from connector.app_services import services
    from connector.db import db as database
    from connector.db.migrate import upgrade

    upgrade(database_url)
    built: list[Flask] = []

    def make(**extra: Any) -> Flask:
        application = create_app(app_overrides(database_url, tmp_path, **extra), env_file=None)
        application.testing = True
        built.append(application)
        return application

    yield make
    for application in built:
        services(application).close()
        database.dispose(application)


@pytest.fixture
def app(app_factory: Any) -> Flask:
    application: Flask = app_factory()
    return application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db(app: Flask, backend: str) -> Iterator[Session]:
    """The request-style session of ``app`` (inside an app context), on each database backend."""
    from connector.db import db as database

    with app.app_context():
        yield database.session


# --- live servers -----------------------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    server: BaseWSGIServer
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_wsgi(wsgi_app: Any, port: int = 0) -> LiveServer:
    """Serve ``wsgi_app`` on 127.0.0.1 in a background thread (threaded, like the demo)."""
    server = make_server("127.0.0.1", port, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return LiveServer(f"http://127.0.0.1:{server.server_port}", server, thread)


@dataclass
class SandboxServer:
    url: str
    world: Any

    @property
    def oro_url(self) -> str:
        return f"{self.url}/sandbox/oro"


@pytest.fixture
def sandbox_world() -> Any:
    from connector.sandbox.world import SandboxWorld

    return SandboxWorld.generate(seed=42)


@pytest.fixture
def sandbox_server(sandbox_world: Any) -> Iterator[SandboxServer]:
    """The sandbox world served alone on a loopback port, mounted under /sandbox as in the demo."""
    from connector.sandbox.app import create_sandbox_app

    def not_found(_environ: Any, start_response: Any) -> list[bytes]:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not part of the sandbox"]

    live = serve_wsgi(DispatcherMiddleware(not_found, {"/sandbox": create_sandbox_app(sandbox_world)}))
    yield SandboxServer(live.url, sandbox_world)
    live.stop()


def message_context(sample: Any) -> Any:
    """A sandbox sample message as the sidebar sees the open email (a MessageContext)."""
    from connector.mail.addresses import EmailAddress
    from connector.sidebar.context import MessageContext

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


# --- browser ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail(f"Chromium is required under CI=true ({CHROMIUM} missing)")
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Any, name: str) -> Path:
    """Save a screenshot under test-artifacts/ (kept by CI, looked at by people)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
