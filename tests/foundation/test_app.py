from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert len(response.headers["X-Request-Id"]) >= 8


def test_readyz_reports_database_and_migrations(client: FlaskClient, backend: str) -> None:
    response = client.get("/readyz")
    body = response.get_json()
    assert response.status_code == 200, body
    checks = {c["name"]: c for c in body["checks"]}
    assert checks["database"]["ok"] and checks["migrations"]["ok"]


def test_readyz_is_503_when_migrations_are_behind(app_factory: Any, database_url: str) -> None:
    from alembic import command

    from connector.db.migrate import alembic_config

    command.downgrade(alembic_config(database_url), "base")
    response = app_factory().test_client().get("/readyz")
    assert response.status_code == 503
    migrations = next(c for c in response.get_json()["checks"] if c["name"] == "migrations")
    assert "oro-connector db upgrade" in migrations["detail"]


def test_one_json_log_line_per_request_with_id_and_duration(
    client: FlaskClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client.get("/healthz", headers={"X-Request-Id": "abcdef123456"})
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
    requests = [x for x in lines if x.get("logger") == "connector.request"]
    assert len(requests) == 1
    assert requests[0]["request_id"] == "abcdef123456"
    assert requests[0]["status"] == 200 and requests[0]["path"] == "/healthz"
    assert isinstance(requests[0]["duration_ms"], float)


def test_log_lines_never_carry_configured_secrets_or_tokens(
    app_factory: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    app_factory(oro_client_secret="very-secret-oro-client-secret")
    log = logging.getLogger("connector.test")
    log.warning("calling Oro with %s", "very-secret-oro-client-secret")
    log.warning("header Authorization: Bearer abc.def-ghi and id_token=eyJhbGciOi.eyJzdWIiOiIx.sig")
    err = capsys.readouterr().err
    assert "very-secret-oro-client-secret" not in err
    assert "abc.def-ghi" not in err and "eyJzdWIiOiIx" not in err
    assert err.count("[redacted]") >= 3


def test_unknown_api_route_answers_problem_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "not_found"


def test_request_commits_on_success_and_rolls_back_on_error(app: Flask, backend: str) -> None:
    from sqlalchemy import func, select

    from connector.db import db
    from connector.db.models import User

    @app.post("/_probe/<int:status>")
    def probe(status: int) -> tuple[str, int]:
        db.session.add(User(email=f"u{status}@example.com"))
        db.session.flush()
        return "", status

    client = app.test_client()
    assert client.post("/_probe/201").status_code == 201
    assert client.post("/_probe/409").status_code == 409
    with app.app_context():
        emails = db.session.scalars(select(User.email)).all()
        assert emails == ["u201@example.com"]
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
