"""The application's long-lived services, built once per app by ``create_app`` and found from a request.

Routes and hosts ask here instead of building clients themselves, so one place decides which
implementation (real or sandbox-backed) is in use.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property

from flask import Flask, current_app

from connector.accounts.tokens import DatabaseTokenStore, token_key
from connector.cache import Cache, create_cache
from connector.db.models import User
from connector.oro import HttpOroClient, OroConnection, oro_check
from connector.security.secrets import SecretBox
from connector.settings import Settings
from connector.sidebar.operations import SidebarService
from connector.sidebar.policy import SidebarPolicy


@dataclass
class Services:
    settings: Settings
    app: Flask = field(repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _oro_probe: tuple[float, tuple[bool, str]] | None = field(default=None, repr=False)

    @cached_property
    def secret_box(self) -> SecretBox:
        if not self.settings.encryption_keys:
            raise RuntimeError("ORO_CONNECTOR_ENCRYPTION_KEYS is not set: secrets cannot be stored")
        return SecretBox(self.settings.encryption_keys)

    @cached_property
    def oro(self) -> OroConnection:
        return OroConnection.from_settings(self.settings)

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
            internal_domains=frozenset(d.lower() for d in self.settings.internal_domains),
            time_budget=self.settings.sidebar_time_budget,
            cache_seconds=self.settings.sidebar_cache_seconds,
        )
        return SidebarService(cache=self.cache, pool=self.pool, policy=policy, oro_key=self.settings.oro_url)

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
        rows = oro_check(self.settings)
        result = (all(good for _, good, _ in rows), rows[0][2] if rows else "not checked")
        with self._lock:
            self._oro_probe = (now, result)
        return result

    def close(self) -> None:
        if "oro" in self.__dict__:
            self.oro.close()
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
