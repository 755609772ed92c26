"""Outlook users' MSAL token caches kept encrypted in the database, used by the on-behalf-of broker."""

from __future__ import annotations

import requests
from flask import Flask
from sqlalchemy import select

from connector.accounts.operations import user_for_identity
from connector.accounts.tokens import DatabaseTokenCacheStore
from connector.app_services import services
from connector.db import db
from connector.db.models import Credential
from connector.sandbox.entra import (
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    EntraIssuer,
    create_entra_app,
    route_to_sandbox,
)
from connector.security.microsoft import GraphTokenBroker

AUTHORITY = "https://login.microsoftonline.com"


def test_the_broker_keeps_each_users_cache_encrypted_and_reuses_it(app: Flask, backend: str) -> None:
    issuer = EntraIssuer()
    session = route_to_sandbox(
        requests.Session(), base_url=AUTHORITY, app=create_entra_app(issuer), path_prefix="/entra"
    )
    alice = issuer.user("alice")
    from connector.security.microsoft import EntraUser

    entra_user = EntraUser(alice.oid, alice.tid, alice.name, alice.email, ("access_as_user",))
    with app.app_context():
        with db.session_scope(app) as scope:
            user_for_identity(scope, provider="microsoft", subject=entra_user.key, email=alice.email)
        store = DatabaseTokenCacheStore(db.engine(app), services().secret_box)

        def broker() -> GraphTokenBroker:
            return GraphTokenBroker(
                client_id=SANDBOX_CLIENT_ID, client_secret=SANDBOX_CLIENT_SECRET, store=store, session=session
            )

        first = broker().token_for(entra_user, assertion=issuer.mint_access_token("alice"))
        second = broker().token_for(entra_user, assertion=issuer.mint_access_token("alice"))
        assert second.from_cache and second.value == first.value, "another process reads the same cache"
        with db.session_scope(app) as scope:
            stored = scope.scalars(select(Credential).where(Credential.provider == "graph")).one()
            assert first.value not in stored.secret and "refresh_token" not in stored.secret.lower()
        assert store.load("someone-else.tenant") is None
