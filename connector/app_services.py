"""The application's long-lived services, built once per app by ``create_app`` and found from a request.

Routes and hosts ask here instead of building clients themselves, so one place decides which
implementation (real or sandbox-backed) is in use.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar, cast

import requests
from flask import Flask, current_app

from connector.accounts.tokens import DatabaseTokenCacheStore, DatabaseTokenStore, token_key
from connector.cache import Cache, create_cache
from connector.db.models import User
from connector.oro import HttpOroClient, OroConfig, OroConnection, oro_check
from connector.security.google import GoogleRequestVerifier
from connector.security.microsoft import EntraTokenVerifier, GraphTokenBroker, create_identity_session
from connector.security.secrets import SecretBox
from connector.settings import Settings
from connector.sidebar.operations import SidebarService
from connector.sidebar.policy import SidebarPolicy

ADMIN_SETTINGS_OWNER = "admin-settings"
"""Cache generation owner bumped when the admin page saves settings."""
T = TypeVar("T")
EFFECTIVE_SETTINGS_SECONDS = 5.0
"""How long a process uses the settings it read before reading them again (when not bumped)."""


@dataclass
class Services:
    settings: Settings
    app: Flask = field(repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _oro_probe: tuple[float, tuple[bool, str]] | None = field(default=None, repr=False)
    _effective: tuple[float, int, Settings] | None = field(default=None, repr=False)
    _oro: OroConnection | None = field(default=None, repr=False)
    _verifiers: dict[str, tuple[tuple[object, ...], object]] = field(default_factory=dict, repr=False)

    @cached_property
    def secret_box(self) -> SecretBox:
        if not self.settings.encryption_keys:
            raise RuntimeError("ORO_CONNECTOR_ENCRYPTION_KEYS is not set: secrets cannot be stored")
        return SecretBox(self.settings.encryption_keys)

    @property
    def oro(self) -> OroConnection:
        """The connection to Oro the effective settings describe; a new one when the admin page changes
        them (the old one is left to finish what it is doing)."""
        config = OroConfig.from_settings(self.effective_settings())
        with self._lock:
            if self._oro is None or self._oro.config != config:
                self._oro = OroConnection(config)
            return self._oro

    def effective_settings(self) -> Settings:
        """The environment's settings with those saved on the admin page laid over them.

        Read from the database at most every ``EFFECTIVE_SETTINGS_SECONDS`` per process, and again at
        once after a save: the admin page bumps the ``admin-settings`` generation in the cache (Redis,
        when configured, shares it between processes).
        """
        generation = self.cache.generation(ADMIN_SETTINGS_OWNER)
        now = time.monotonic()
        with self._lock:
            known = self._effective
            if known is not None and known[1] == generation and now - known[0] < EFFECTIVE_SETTINGS_SECONDS:
                return known[2]
        from connector.admin.operations import read_effective_settings
        from connector.db import db

        box = self.secret_box if self.settings.encryption_keys else None
        effective = read_effective_settings(db.engine(self.app), box, self.settings)
        with self._lock:
            self._effective = (now, generation, effective)
        return effective

    @cached_property
    def token_store(self) -> DatabaseTokenStore:
        from connector.db import db

        return DatabaseTokenStore(db.engine(self.app), self.secret_box)

    @cached_property
    def cache(self) -> Cache:
        return create_cache(self.settings.redis_url)

    @cached_property
    def pool(self) -> ThreadPoolExecutor:
        """Threads for parallel calls to Oro (the sidebar's fan-out), shared by all requests."""
        return ThreadPoolExecutor(max_workers=16, thread_name_prefix="oro")

    @cached_property
    def sidebar(self) -> SidebarService:
        policy = SidebarPolicy(
            time_budget=self.settings.sidebar_time_budget,
            cache_seconds=self.settings.sidebar_cache_seconds,
        )
        return SidebarService(cache=self.cache, pool=self.pool, policy=policy, oro_key=self.settings.oro_url)

    @cached_property
    def identity_session(self) -> requests.Session:
        """HTTP to Microsoft's identity platform. With the sandbox mounted, the authority's URLs are
        answered in process by the sandbox's Entra: the settings and the code stay those of production."""
        session = create_identity_session()
        world = self.app.extensions.get("sandbox_world")
        if self.settings.sandbox and world is not None:
            from connector.sandbox.entra import create_entra_app, route_to_sandbox

            route_to_sandbox(
                session,
                base_url=self.settings.microsoft_authority,
                app=create_entra_app(world.entra),
                path_prefix="/entra",
            )
        return session

    @property
    def entra_verifier(self) -> EntraTokenVerifier:
        """Verifies the Outlook pane's Entra access tokens (its JWKS cache serves every request), for the
        effective settings: a change saved on the admin page builds a new one."""
        settings = self.effective_settings()
        if not settings.microsoft_client_id:
            raise RuntimeError("ORO_CONNECTOR_MICROSOFT_CLIENT_ID is not set: Outlook calls can't be checked")
        return self._built(
            "entra",
            (
                settings.microsoft_client_id,
                settings.microsoft_tenants,
                settings.microsoft_authority,
                settings.public_url,
            ),
            lambda: EntraTokenVerifier.from_settings(settings, session=self.identity_session),
        )

    @property
    def google_verifier(self) -> GoogleRequestVerifier:
        """Verifies Google's add-on requests (its certificate cache serves every request), for the
        effective settings: a change saved on the admin page builds a new one."""
        settings = self.effective_settings()
        return self._built(
            "google",
            (
                settings.google_service_account,
                settings.google_client_id,
                settings.google_audience,
                settings.google_certs_url,
                settings.public_url,
            ),
            lambda: GoogleRequestVerifier.from_settings(settings),
        )

    def _built(self, name: str, inputs: tuple[object, ...], build: Callable[[], T]) -> T:
        """One long-lived object per name, rebuilt only when the settings it was made from change."""
        with self._lock:
            found = self._verifiers.get(name)
            if found is not None and found[0] == inputs:
                return cast(T, found[1])
        made = build()
        with self._lock:
            self._verifiers[name] = (inputs, made)
        return made

    @cached_property
    def graph_broker(self) -> GraphTokenBroker:
        """On-behalf-of tokens for Microsoft Graph; each user's MSAL cache kept encrypted in the database."""
        from connector.db import db

        store = DatabaseTokenCacheStore(db.engine(self.app), self.secret_box)
        # The effective settings: a client id or secret saved on the admin page is the one Entra knows.
        return GraphTokenBroker.from_settings(
            self.effective_settings(), store=store, session=self.identity_session
        )

    def oro_for(self, user: User) -> HttpOroClient:
        """An Oro client acting as ``user`` (``OroAuthExpired`` on use when not connected)."""
        return self.oro.for_user(store=self.token_store, key=token_key(user.id))

    def oro_reachable(self, *, max_age: float = 30.0) -> tuple[bool, str]:
        """Whether Oro answers the integration client; remembered for ``max_age`` seconds so that
        frequent readiness probes do not each cost Oro a round of requests."""
        now = time.monotonic()
        with self._lock:
            if self._oro_probe is not None and now - self._oro_probe[0] < max_age:
                return self._oro_probe[1]
        rows = oro_check(self.effective_settings())
        result = (all(good for _, good, _ in rows), rows[0][2] if rows else "not checked")
        with self._lock:
            self._oro_probe = (now, result)
        return result

    def close(self) -> None:
        if self._oro is not None:
            self._oro.close()
        if "identity_session" in self.__dict__:
            self.identity_session.close()
        if "pool" in self.__dict__:
            self.pool.shutdown(wait=False, cancel_futures=True)


def services(app: Flask | None = None) -> Services:
    found: Services = (app or current_app).extensions["connector.services"]
    return found


def settings() -> Settings:
    return services().settings


def secret_box() -> SecretBox:
    return services().secret_box


def oro_connection() -> OroConnection:
    return services().oro


def token_store() -> DatabaseTokenStore:
    return services().token_store
