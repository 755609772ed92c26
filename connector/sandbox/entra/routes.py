"""The sandbox Entra's HTTP face, as a blueprint: mount it anywhere (the sandbox app uses ``/entra``).

Paths, relative to the mount:

- ``GET  /<tenant>/v2.0/.well-known/openid-configuration``  discovery (``common`` has the template issuer)
- ``GET  /<tenant>/discovery/v2.0/keys``                     JWKS
- ``POST /<tenant>/oauth2/v2.0/token``                       on-behalf-of and refresh-token grants
- ``GET  /users``                                            the sandbox users (for the demo preview)
- ``POST /users/<username>/access-token``                    an access token for our API, as NAA would
                                                             give the pane (the Office.js host shim uses it)
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, jsonify, request

from connector.sandbox.entra.issuer import API_SCOPE, EntraIssuer, EntraOAuthError


def create_entra_blueprint(issuer: EntraIssuer) -> Blueprint:
    blueprint = Blueprint("sandbox_entra", __name__)

    @blueprint.errorhandler(EntraOAuthError)
    def oauth_error(error: EntraOAuthError) -> tuple[Response, int]:
        return _no_store(jsonify(error.to_dict())), error.status

    @blueprint.get("/<tenant>/v2.0/.well-known/openid-configuration")
    def openid_configuration(tenant: str) -> Response:
        return jsonify(issuer.openid_configuration(tenant))

    @blueprint.get("/<tenant>/discovery/v2.0/keys")
    def keys(tenant: str) -> Response:
        return jsonify(issuer.jwks(tenant))

    @blueprint.post("/<tenant>/oauth2/v2.0/token")
    def token(tenant: str) -> Response:
        return _no_store(jsonify(issuer.token(tenant, request.form.to_dict())))

    @blueprint.get("/users")
    def users() -> Response:
        return jsonify(
            [
                {"username": u.username, "name": u.name, "email": u.email, "oid": u.oid, "tid": u.tid}
                for u in issuer.users
            ]
        )

    @blueprint.post("/users/<username>/access-token")
    def access_token(username: str) -> Response | tuple[Response, int]:
        try:
            token = issuer.mint_access_token(username)
        except KeyError:
            return jsonify({"error": "unknown_user", "error_description": f"no sandbox user {username}"}), 404
        audience = issuer.api_uri or issuer.client_id
        return _no_store(
            jsonify(
                {
                    "access_token": token,
                    "token_type": "Bearer",
                    "expires_in": 3600,
                    "scope": f"{audience}/{API_SCOPE}",
                }
            )
        )

    return blueprint


def create_entra_app(issuer: EntraIssuer, *, mount: str = "/entra") -> Flask:
    """The blueprint alone in an app, at ``mount``: for tests that need only the identity platform."""
    app = Flask(__name__)
    app.register_blueprint(create_entra_blueprint(issuer), url_prefix=mount)
    return app


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
