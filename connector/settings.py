"""Every setting of the connector: typed, documented, read from ``ORO_CONNECTOR_*`` variables.

Precedence, lowest first: the defaults below, a ``.env`` file in the working directory, the process
environment, then the ``overrides`` given to :func:`load_settings` (tests and the demo use those).
Validation collects every problem before failing, so one start tells the operator everything that is
missing or malformed.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_type_hints
from urllib.parse import urlsplit

from dotenv import dotenv_values

PREFIX = "ORO_CONNECTOR_"

Mode = Literal["production", "demo", "test"]
LogFormat = Literal["auto", "json", "text"]
JobRunner = Literal["thread", "worker"]


def _setting(default: Any, doc: str, *, secret: bool = False, example: str = "") -> Any:
    return field(default=default, metadata={"doc": doc, "secret": secret, "example": example})


@dataclass(frozen=True)
class Settings:
    """The connector's configuration. Field ``x`` is read from ``ORO_CONNECTOR_X``."""

    mode: Mode = _setting(
        "production",
        "`production`, `demo` (embedded sandbox world, generated keys) or `test`.",
    )
    public_url: str = _setting(
        "",
        "The HTTPS base URL at which Google, Microsoft and browsers reach the connector. "
        "Required in production.",
        example="https://connector.example.com",
    )
    host: str = _setting("127.0.0.1", "Address `oro-connector serve` and `demo` listen on.")
    port: int = _setting(8000, "Port `oro-connector serve` and `demo` listen on.")
    workers: int = _setting(2, "Gunicorn worker processes for `oro-connector serve`.")
    var_dir: str = _setting(
        "var", "Directory for local state: the SQLite database, the demo's generated keys, artefacts."
    )
    database_url: str = _setting(
        "",
        "SQLAlchemy database URL. Empty means SQLite at `<VAR_DIR>/connector.db`. "
        "PostgreSQL: `postgresql+psycopg://user:password@host:5432/dbname`.",
    )
    redis_url: str = _setting(
        "", "Optional Redis URL; enables the Redis cache, rate limits and job queue.",
        example="redis://127.0.0.1:6379/0",
    )
    secret_key: str = _setting(
        "",
        "Long random string that signs sessions and action states. Required in production; "
        "`oro-connector keys generate` prints one.",
        secret=True,
    )
    encryption_keys: tuple[str, ...] = _setting(
        (),
        "Comma-separated Fernet keys that encrypt stored secrets, newest first; older keys still decrypt. "
        "Required in production; `oro-connector keys generate` prints one.",
        secret=True,
    )
    admin_emails: tuple[str, ...] = _setting(
        (), "Comma-separated email addresses of the Oro users allowed into the admin page."
    )
    admin_session_minutes: int = _setting(
        480, "Minutes an admin page sign-in lasts; then the admin signs in through Oro again."
    )
    admin_signin_attempts: int = _setting(
        10,
        "Admin page sign-in attempts allowed from one client address in 5 minutes; more are refused "
        "(429) until the window passes.",
    )
    log_level: str = _setting("INFO", "Logging level: DEBUG, INFO, WARNING or ERROR.")
    log_format: LogFormat = _setting(
        "auto", "`json` (one JSON object a line), `text`, or `auto`: text on a terminal, JSON otherwise."
    )
    sandbox: bool = _setting(
        False,
        "Mount the sandbox world (an Oro stand-in, sample mail) under `/sandbox`. On in the demo. "
        "Never enable it on a public deployment.",
    )
    sandbox_seed: int = _setting(42, "Seed of the sandbox's deterministic sample data.")
    job_runner: JobRunner = _setting(
        "thread",
        "Where background work runs (the outbox's Graph sends and retries): `thread`, a thread in each "
        "web process; `worker`, only in `oro-connector worker` processes (run at least one).",
    )
    outbox_max_attempts: int = _setting(
        8, "Attempts at sending one reply before it is shown as failed (a user can retry it)."
    )
    outbox_retry_seconds: float = _setting(
        15.0,
        "Seconds before the first retry of a reply that could not be sent; doubles each time, up to 1 h.",
    )
    outbox_lease_seconds: float = _setting(
        30.0,
        "Seconds a send stays claimed without a heartbeat; after that a crashed sender's reply is taken "
        "over (the provider is asked first whether it went out).",
    )
    outbox_poll_seconds: float = _setting(5.0, "Seconds between a worker's looks for replies due to be sent.")
    sidebar_time_budget: float = _setting(
        2.0, "Seconds the sidebar waits for Oro; what is not back by then is shown as not loaded."
    )
    sidebar_cache_seconds: float = _setting(
        300.0, "Seconds a user's sidebar for one email is served from the cache (links invalidate it)."
    )
    internal_domains: tuple[str, ...] = _setting(
        (),
        "Comma-separated domains of your own company (subdomains included), added to the internal domains "
        "of the admin page's privacy rules: colleagues there are not looked up in Oro nor linked, and mail "
        "between colleagues only stays out of Oro.",
    )
    oro_url: str = _setting(
        "", "Oro's base URL, without the back-office prefix.", example="https://oro.example.com"
    )
    oro_backoffice_prefix: str = _setting(
        "admin",
        "Back-office path prefix: `admin` for OroCommerce, empty for OroCRM or OroPlatform.",
    )
    oro_client_id: str = _setting("", "Client id of the Oro OAuth application used to connect each user.")
    oro_client_secret: str = _setting(
        "", "Client secret of that Oro OAuth application (kept on the server).", secret=True
    )
    oro_integration_client_id: str = _setting(
        "", "Client id of the Oro client-credentials application used for background work."
    )
    oro_integration_client_secret: str = _setting(
        "", "Client secret of the Oro client-credentials application.", secret=True
    )
    oro_connect_timeout: float = _setting(5.0, "Seconds to wait for a connection to Oro.")
    oro_read_timeout: float = _setting(20.0, "Seconds to wait for Oro to answer a request.")
    oro_max_retries: int = _setting(
        4, "Retries of a request that Oro answered with 429 or 5xx (with exponential backoff)."
    )
    oro_backoff_seconds: float = _setting(
        0.5, "First retry delay; doubles each retry, capped at 30 s, unless Oro sends Retry-After."
    )
    google_service_account: str = _setting(
        "", "Email of the add-on's service account: Google signs its requests with this identity."
    )
    google_client_id: str = _setting(
        "", "The add-on's OAuth client id: the audience of users' ID tokens."
    )
    google_audience: str = _setting(
        "", "Expected audience of Google's request tokens when it is not the endpoint URL."
    )
    google_certs_url: str = _setting(
        "https://www.googleapis.com/oauth2/v1/certs",
        "Where Google's token-signing certificates are published.",
    )
    gmail_api_url: str = _setting("https://gmail.googleapis.com", "Base URL of the Gmail API.")
    microsoft_client_id: str = _setting("", "Application (client) id of the Entra app registration.")
    microsoft_client_secret: str = _setting(
        "", "Client secret of the Entra app (on-behalf-of exchange to Graph).", secret=True
    )
    microsoft_tenants: tuple[str, ...] = _setting(
        (), "Comma-separated tenant ids whose users may use the add-in."
    )
    microsoft_authority: str = _setting(
        "https://login.microsoftonline.com", "Microsoft identity platform authority host."
    )
    graph_api_url: str = _setting("https://graph.microsoft.com/v1.0", "Base URL of Microsoft Graph.")
    graph_resource: str = _setting(
        "https://graph.microsoft.com",
        "The resource Graph scopes are named after (`<resource>/Mail.Read`), whatever `GRAPH_API_URL` is; "
        "change only for national clouds, e.g. `https://graph.microsoft.us`.",
    )

    def __repr__(self) -> str:
        shown = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("secret") and value:
                value = "***"
            shown.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    @property
    def var_path(self) -> Path:
        return Path(self.var_dir).resolve()

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.var_path / 'connector.db'}"

    @property
    def oro_api_base(self) -> str:
        """Oro's back-office JSON:API root, e.g. ``https://oro.example.com/admin/api``."""
        prefix = self.oro_backoffice_prefix.strip("/")
        base = self.oro_url.rstrip("/")
        return f"{base}/{prefix}/api" if prefix else f"{base}/api"

    def secret_values(self) -> list[str]:
        """Every secret this configuration holds, so that log output can be scrubbed of them."""
        values: list[str] = []
        for f in dataclasses.fields(self):
            if not f.metadata.get("secret"):
                continue
            value = getattr(self, f.name)
            values.extend(value if isinstance(value, tuple) else [value])
        return [v for v in values if v]


class SettingsError(Exception):
    """The configuration is incomplete or malformed; ``problems`` names each variable at fault."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))

    def report(self) -> str:
        lines = ["The connector's configuration has problems:"]
        lines += [f"  - {p}" for p in self.problems]
        lines.append("Set them in the environment or in a .env file; README.md documents every setting.")
        return "\n".join(lines)


def env_name(field_name: str) -> str:
    return PREFIX + field_name.upper()


def describe() -> list[tuple[str, str, str, bool]]:
    """(variable, default, meaning, secret) for every setting, in declaration order (README's table)."""
    rows = []
    for f in dataclasses.fields(Settings):
        default = f.default
        if isinstance(default, tuple):
            default = ",".join(default)
        rows.append((env_name(f.name), str(default), f.metadata["doc"], bool(f.metadata["secret"])))
    return rows


def _convert(name: str, raw: Any, kind: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    choices = get_args(kind)
    if choices and all(isinstance(c, str) for c in choices):
        if text not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}, got {text!r}")
        return text
    if kind is bool:
        lowered = text.lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ValueError(f"must be true or false, got {text!r}")
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"must be a whole number, got {text!r}") from None
    if kind is float:
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"must be a number, got {text!r}") from None
    if kind == tuple[str, ...]:
        return tuple(item.strip() for item in text.split(",") if item.strip())
    return text


def _validate(settings: Settings) -> list[str]:
    problems: list[str] = []
    if settings.mode == "production":
        if not settings.secret_key:
            problems.append(
                f"{env_name('secret_key')} is not set: a long random string that signs sessions "
                "(`oro-connector keys generate` prints one)."
            )
        if not settings.encryption_keys:
            problems.append(
                f"{env_name('encryption_keys')} is not set: Fernet keys that encrypt stored secrets "
                "(`oro-connector keys generate` prints one)."
            )
        if not settings.public_url:
            problems.append(
                f"{env_name('public_url')} is not set: the HTTPS URL Google, Microsoft and browsers "
                "reach the connector at."
            )
        elif not settings.public_url.startswith("https://"):
            problems.append(f"{env_name('public_url')} must start with https:// in production.")
        if settings.sandbox:
            problems.append(
                f"{env_name('sandbox')} is on in production: the sandbox world is for the demo and tests."
            )
    if settings.secret_key and len(settings.secret_key) < 16 and settings.mode == "production":
        problems.append(f"{env_name('secret_key')} is too short: use at least 32 random characters.")
    if settings.encryption_keys:
        from connector.security.secrets import invalid_keys

        for position in invalid_keys(settings.encryption_keys):
            problems.append(
                f"{env_name('encryption_keys')}: key {position} is not a Fernet key (32 url-safe "
                "base64-encoded bytes; `oro-connector keys generate` prints one)."
            )
    if settings.internal_domains:
        from connector.linking.policy import normalise_domain

        for value in settings.internal_domains:
            try:
                normalise_domain(value)
            except ValueError:
                problems.append(f"{env_name('internal_domains')}: {value!r} is not a domain.")
    for name in ("port", "workers", "admin_session_minutes", "admin_signin_attempts"):
        if getattr(settings, name) < 1:
            problems.append(f"{env_name(name)} must be at least 1.")
    if settings.oro_url and not settings.oro_url.startswith(("http://", "https://")):
        problems.append(f"{env_name('oro_url')} must be an http:// or https:// URL.")
    for name in (
        "oro_connect_timeout",
        "oro_read_timeout",
        "oro_backoff_seconds",
        "sidebar_time_budget",
        "outbox_retry_seconds",
        "outbox_lease_seconds",
        "outbox_poll_seconds",
        "outbox_max_attempts",
    ):
        if getattr(settings, name) <= 0:
            problems.append(f"{env_name(name)} must be greater than 0.")
    resource = urlsplit(settings.graph_resource)
    if resource.scheme != "https" or not resource.netloc or resource.path.strip("/") or resource.query:
        problems.append(
            f"{env_name('graph_resource')} must be a resource such as https://graph.microsoft.com "
            "(https, no path: it is not the API's URL)."
        )
    if settings.oro_max_retries < 0:
        problems.append(f"{env_name('oro_max_retries')} must not be negative.")
    if settings.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        problems.append(f"{env_name('log_level')} must be DEBUG, INFO, WARNING or ERROR.")
    return problems


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    env_file: str | os.PathLike[str] | None = ".env",
) -> Settings:
    """Read, convert and validate the settings; raise :class:`SettingsError` naming every problem.

    ``overrides`` are keyed by field name (``database_url``) or variable name (``ORO_CONNECTOR_...``).
    """
    sources: dict[str, Any] = {}
    if env_file and Path(env_file).is_file():
        sources.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    sources.update(os.environ if environ is None else environ)
    for key, value in (overrides or {}).items():
        sources[key if key.startswith(PREFIX) else env_name(key)] = value

    hints = get_type_hints(Settings)
    values: dict[str, Any] = {}
    problems: list[str] = []
    known = {env_name(f.name) for f in dataclasses.fields(Settings)}
    for f in dataclasses.fields(Settings):
        name = env_name(f.name)
        if name not in sources:
            continue
        try:
            values[f.name] = _convert(name, sources[name], hints[f.name])
        except ValueError as exc:
            problems.append(f"{name} {exc}.")
    for name in sorted(sources):
        # ORO_CONNECTOR_TEST_* belong to the test suite, not to the connector.
        if name.startswith(PREFIX) and name not in known and not name.startswith(PREFIX + "TEST_"):
            problems.append(f"{name} is not a setting of the connector (misspelt?).")
    if problems:
        raise SettingsError(problems)
    settings = Settings(**values)
    problems = _validate(settings)
    if problems:
        raise SettingsError(problems)
    return settings


def overlay_settings(settings: Settings, values: Mapping[str, Any]) -> Settings:
    """``settings`` with ``values`` laid over them, converted as the environment's text is and validated
    as a whole; :class:`SettingsError` names each problem.

    ``values`` are keyed by field name. The admin page keeps its settings as text in the database and
    lays them over the environment's with this, so both pass the same conversions and checks.
    """
    hints = get_type_hints(Settings)
    known = {f.name for f in dataclasses.fields(Settings)}
    converted: dict[str, Any] = {}
    problems: list[str] = []
    for name, raw in values.items():
        if name not in known:
            problems.append(f"{env_name(name)} is not a setting of the connector.")
            continue
        try:
            converted[name] = _convert(env_name(name), raw, hints[name])
        except ValueError as exc:
            problems.append(f"{env_name(name)} {exc}.")
    if problems:
        raise SettingsError(problems)
    result = dataclasses.replace(settings, **converted)
    problems = _validate(result)
    if problems:
        raise SettingsError(problems)
    return result
