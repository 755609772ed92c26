"""``/healthz`` says the process is alive; ``/readyz`` says it can serve (503 when it cannot)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from connector.db import db
from connector.health.checks import check_database

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    results = check_database(db.engine())
    for probe in current_app.extensions.get("connector.readiness", []):
        results.extend(probe())
    ready = all(r.ok for r in results)
    body = {"status": "ready" if ready else "not ready", "checks": [r.to_dict() for r in results]}
    return jsonify(body), 200 if ready else 503
