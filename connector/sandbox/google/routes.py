"""The sandbox Google's HTTP face, as a blueprint: mount it anywhere (the sandbox app uses ``/google``,
so the demo serves it under ``/sandbox/google``).

Paths, relative to the mount, as on ``https://www.googleapis.com``:

- ``GET /oauth2/v1/certs``  key id -> PEM X.509 certificate (``ORO_CONNECTOR_GOOGLE_CERTS_URL``)
- ``GET /oauth2/v3/certs``  the same keys as a JWK set

Both answer with ``Cache-Control: public, max-age=<issuer.certs_max_age>`` as Google does.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from connector.sandbox.google.issuer import GoogleTokenIssuer


def create_google_blueprint(issuer: GoogleTokenIssuer) -> Blueprint:
    blueprint = Blueprint("sandbox_google", __name__)

    @blueprint.get("/oauth2/v1/certs")
    def certificates_v1() -> Response:
        issuer.record_certificate_fetch()
        return _cacheable(issuer.certificates(), issuer.certs_max_age)

    @blueprint.get("/oauth2/v3/certs")
    def certificates_v3() -> Response:
        issuer.record_certificate_fetch()
        return _cacheable(issuer.jwks(), issuer.certs_max_age)

    return blueprint


def _cacheable(payload: Any, max_age: int) -> Response:
    response = jsonify(payload)
    response.headers["Cache-Control"] = f"public, max-age={max_age}, must-revalidate, no-transform"
    return response
