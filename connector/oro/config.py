"""Where Oro lives and how patiently to talk to it, taken from the connector's settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from connector.settings import Settings

MAX_BACKOFF_SECONDS = 30.0
"""No single wait between retries is longer than this (settings.py documents the cap)."""


@dataclass(frozen=True)
class OroConfig:
    """The Oro client's configuration. ``backoffice_prefix`` is ``admin`` on OroCommerce, empty on
    OroCRM and OroPlatform (reference §1.1)."""

    oro_url: str
    backoffice_prefix: str = "admin"
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    integration_client_id: str = ""
    integration_client_secret: str = field(default="", repr=False)
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    max_retries: int = 4
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = MAX_BACKOFF_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings) -> OroConfig:
        return cls(
            oro_url=settings.oro_url,
            backoffice_prefix=settings.oro_backoffice_prefix,
            client_id=settings.oro_client_id,
            client_secret=settings.oro_client_secret,
            integration_client_id=settings.oro_integration_client_id,
            integration_client_secret=settings.oro_integration_client_secret,
            connect_timeout=settings.oro_connect_timeout,
            read_timeout=settings.oro_read_timeout,
            max_retries=settings.oro_max_retries,
            backoff_seconds=settings.oro_backoff_seconds,
        )

    @property
    def base_url(self) -> str:
        return self.oro_url.rstrip("/")

    @property
    def backoffice_url(self) -> str:
        """The back-office root, e.g. ``https://oro.example.com/admin`` (pages and the authorize endpoint)."""
        prefix = self.backoffice_prefix.strip("/")
        return f"{self.base_url}/{prefix}" if prefix else self.base_url

    @property
    def api_base(self) -> str:
        """The back-office JSON:API root (same rule as ``Settings.oro_api_base``)."""
        return f"{self.backoffice_url}/api"

    @property
    def legacy_rest_base(self) -> str:
        """The older plain-JSON REST API (email templates), under the same prefix (reference §4.7)."""
        return f"{self.api_base}/rest/latest"

    @property
    def token_url(self) -> str:
        """``/oauth2-token`` sits at the site root even on OroCommerce (reference §2.1)."""
        return f"{self.base_url}/oauth2-token"

    @property
    def authorize_url(self) -> str:
        """``/{prefix}/oauth2-token/authorize`` on Commerce, ``/oauth2-token/authorize`` without a prefix
        (reference §2.1, verified.md item 5)."""
        return f"{self.backoffice_url}/oauth2-token/authorize"

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)
