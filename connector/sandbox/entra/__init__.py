"""The sandbox's Microsoft Entra: token issuer, discovery, JWKS, on-behalf-of, in-process transport."""

from connector.sandbox.entra.issuer import (
    API_SCOPE,
    OTHER_TENANT_ID,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_MAIL_DOMAIN,
    SANDBOX_TENANT_ID,
    SANDBOX_USERS,
    EntraIssuer,
    EntraOAuthError,
    SandboxEntraUser,
    SandboxTokenRejected,
)
from connector.sandbox.entra.routes import create_entra_app, create_entra_blueprint
from connector.sandbox.entra.transport import WSGITransport, route_to_sandbox

__all__ = [
    "API_SCOPE",
    "OTHER_TENANT_ID",
    "SANDBOX_CLIENT_ID",
    "SANDBOX_CLIENT_SECRET",
    "SANDBOX_MAIL_DOMAIN",
    "SANDBOX_TENANT_ID",
    "SANDBOX_USERS",
    "EntraIssuer",
    "EntraOAuthError",
    "SandboxEntraUser",
    "SandboxTokenRejected",
    "WSGITransport",
    "create_entra_app",
    "create_entra_blueprint",
    "route_to_sandbox",
]
