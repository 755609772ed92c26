"""The ``oro-connector`` command: demo, serve, db, check, keys (and sandbox)."""

from __future__ import annotations

import json
import os
import secrets as pysecrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import click

from connector.settings import Settings, SettingsError, load_settings


def _fail_settings(exc: SettingsError) -> NoReturn:
    click.echo(exc.report(), err=True)
    sys.exit(2)


def _settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    try:
        return load_settings(overrides)
    except SettingsError as exc:
        _fail_settings(exc)


def _app(overrides: Mapping[str, Any] | None = None) -> Any:
    from connector.app import create_app

    try:
        return create_app(overrides)
    except SettingsError as exc:
        _fail_settings(exc)


@click.group()
@click.version_option(package_name="oro-connector")
def main() -> None:
    """Oro Connector: the Oro back-office inside Gmail and Outlook."""


# --- demo -------------------------------------------------------------------------------------------


def demo_keys(var_dir: Path) -> dict[str, str]:
    """The demo's signing and encryption keys, generated once and kept in ``var/demo-keys.json``."""
    from connector.security.secrets import generate_key

    path = var_dir / "demo-keys.json"
    if path.is_file():
        keys: dict[str, str] = json.loads(path.read_text())
        return keys
    var_dir.mkdir(parents=True, exist_ok=True)
    keys = {"secret_key": pysecrets.token_urlsafe(48), "encryption_key": generate_key()}
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(keys, handle)
    return keys


def demo_overrides(*, host: str, port: int, var_dir: Path) -> dict[str, Any]:
    keys = demo_keys(var_dir)
    base = f"http://{host}:{port}"
    return {
        "mode": "demo",
        "sandbox": True,
        "host": host,
        "port": port,
        "var_dir": str(var_dir),
        "public_url": base,
        "secret_key": keys["secret_key"],
        "encryption_keys": (keys["encryption_key"],),
        "oro_url": f"{base}/sandbox/oro",
        "oro_backoffice_prefix": "admin",
        "oro_client_id": "demo-connector",
        "oro_client_secret": "demo-connector-secret",
        "oro_integration_client_id": "demo-integration",
        "oro_integration_client_secret": "demo-secret",
        "admin_emails": ("admin@acme.example",),  # the sandbox's Oro admin signs in to /admin
        **sandbox_identity_settings(base),
    }


def sandbox_identity_settings(base: str) -> dict[str, Any]:
    """Google and Microsoft settings that point at the sandbox world served under ``{base}/sandbox``."""
    from connector.sandbox.entra import SANDBOX_CLIENT_ID as ENTRA_CLIENT_ID
    from connector.sandbox.entra import SANDBOX_CLIENT_SECRET as ENTRA_CLIENT_SECRET
    from connector.sandbox.entra import SANDBOX_TENANT_ID
    from connector.sandbox.entra.issuer import DEFAULT_GRAPH_RESOURCE
    from connector.sandbox.google import SANDBOX_CLIENT_ID as GOOGLE_CLIENT_ID
    from connector.sandbox.google import SANDBOX_SERVICE_ACCOUNT

    return {
        "google_service_account": SANDBOX_SERVICE_ACCOUNT,
        "google_client_id": GOOGLE_CLIENT_ID,
        "google_certs_url": f"{base}/sandbox/google/oauth2/v1/certs",
        "gmail_api_url": f"{base}/sandbox/gmail",
        "microsoft_client_id": ENTRA_CLIENT_ID,
        "microsoft_client_secret": ENTRA_CLIENT_SECRET,
        "microsoft_tenants": (SANDBOX_TENANT_ID,),
        # The authority keeps Microsoft's URL: in sandbox mode its requests are answered in process.
        "graph_api_url": f"{base}/sandbox/graph/v1.0",
        # Graph is called at the sandbox, but its scopes keep the resource's name, as the sandbox's Entra
        # (like Microsoft's) issues them: `https://graph.microsoft.com/Mail.Read`, not `{base}/Mail.Read`.
        "graph_resource": DEFAULT_GRAPH_RESOURCE,
    }


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
def demo(host: str, port: int) -> None:
    """Run the whole product in one process on the sandbox world (SQLite, in-process jobs)."""
    from werkzeug.serving import run_simple

    from connector.db.migrate import upgrade

    base_settings = _settings({"mode": "demo"})
    overrides = demo_overrides(host=host, port=port, var_dir=base_settings.var_path)
    settings = _settings(overrides)
    click.echo(f"Preparing the database at {settings.effective_database_url} ...")
    upgrade(settings.effective_database_url)
    app = _app(overrides)
    url = f"http://{host}:{port}"
    click.echo(
        "\nOro Connector demo is running.\n"
        f"  Preview (sample inbox with the sidebars):  {url}/\n"
        f"  Admin page (sign in as admin / demo):      {url}/admin/\n"
        f"  Health:                                    {url}/healthz  and  {url}/readyz\n"
        f"  Sandbox Oro API:                           {url}/sandbox/oro/admin/api\n"
        "  Sandbox users: admin, alice, bob (password: demo)\n"
        "Press Ctrl+C to stop.\n"
    )
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


# --- serve ------------------------------------------------------------------------------------------


@main.command()
def serve() -> None:
    """Run the connector with gunicorn (host, port and workers from the settings)."""
    from gunicorn.app.base import BaseApplication

    settings = _settings()
    # Build the app once here so that a bad configuration fails before gunicorn forks.
    _app()

    class _Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{settings.host}:{settings.port}")
            self.cfg.set("workers", settings.workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 8)
            self.cfg.set("accesslog", None)
            self.cfg.set("forwarded_allow_ips", "*")

        def load(self) -> Any:
            return _app()

    _Server().run()


# --- worker -----------------------------------------------------------------------------------------


@main.command()
@click.option("--once", is_flag=True, help="Send what is due now, then exit (cron, tests).")
def worker(once: bool) -> None:
    """Send the outbox's replies (Graph), retry failed ones and link sent replies to Oro.

    Run one or more next to `serve` with ORO_CONNECTOR_JOB_RUNNER=worker; any number may run at once
    (each reply is claimed by one). SIGTERM or Ctrl-C stops it after the reply in hand.
    """
    import signal
    import threading

    from connector.db import db
    from connector.outbox.delivery import DeliveryPolicy
    from connector.outbox.runner import OutboxWorker, wakeup_for

    app = _app()
    settings: Settings = app.extensions["connector.settings"]
    runner = OutboxWorker(
        app,
        sessions=lambda: db.session_scope(app),
        policy=DeliveryPolicy.from_settings(settings),
        poll_seconds=settings.outbox_poll_seconds,
        wakeup=wakeup_for(settings),
    )
    if once:
        outcomes = runner.run_once()
        click.echo(f"outbox: {dict(outcomes) or 'nothing due'}")
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"outbox worker {runner.name}: polling every {settings.outbox_poll_seconds:g} s; Ctrl-C stops")
    runner.run(stop)


# --- db ---------------------------------------------------------------------------------------------


@main.group(name="db")
def db_group() -> None:
    """Database migrations."""


@db_group.command(name="upgrade")
@click.option("--revision", default="heads", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the migrations (creates the database on first run)."""
    from connector.db.migrate import upgrade

    settings = _settings()
    click.echo(f"Upgrading {_safe_url(settings.effective_database_url)} to {revision} ...")
    upgrade(settings.effective_database_url, revision)
    click.echo("Done.")


@db_group.command(name="current")
def db_current() -> None:
    """Print the database's migration revision and the code's."""
    from connector.db.migrate import current_revisions, head_revisions
    from connector.db.session import build_engine

    settings = _settings()
    engine = build_engine(settings.effective_database_url)
    current = ", ".join(sorted(current_revisions(engine))) or "none"
    click.echo(f"database: {current}\ncode:     {', '.join(sorted(head_revisions()))}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --- check ------------------------------------------------------------------------------------------


@main.command()
def check() -> None:
    """Print a configuration and connectivity report; exit non-zero when something is wrong."""
    from connector.db.session import build_engine
    from connector.health.checks import check_database

    settings = _settings()
    ok = True

    def line(name: str, good: bool, detail: str) -> None:
        nonlocal ok
        ok = ok and good
        mark = click.style("ok  ", fg="green") if good else click.style("FAIL", fg="red")
        click.echo(f"[{mark}] {name:<12} {detail}")

    click.echo(f"Oro Connector configuration ({settings.mode})")
    line("public URL", bool(settings.public_url), settings.public_url or "not set")
    engine = build_engine(settings.effective_database_url)
    for result in check_database(engine):
        line(result.name, result.ok, result.detail)
    engine.dispose()
    for name, good, detail in _integration_lines(settings):
        line(name, good, detail)
    for name, good, detail in run_extra_checks(settings):
        line(name, good, detail)
    sys.exit(0 if ok else 1)


def _integration_lines(settings: Settings) -> list[tuple[str, bool, str]]:
    """Whether the Google and Microsoft settings are complete (informational when wholly unset)."""
    lines = []
    google = {
        "GOOGLE_SERVICE_ACCOUNT": settings.google_service_account,
        "GOOGLE_CLIENT_ID": settings.google_client_id,
    }
    microsoft = {
        "MICROSOFT_CLIENT_ID": settings.microsoft_client_id,
        "MICROSOFT_CLIENT_SECRET": settings.microsoft_client_secret,
        "MICROSOFT_TENANTS": ",".join(settings.microsoft_tenants),
    }
    for label, group in (("Gmail", google), ("Outlook", microsoft)):
        missing = [k for k, v in group.items() if not v]
        if len(missing) == len(group):
            lines.append((label, True, "not configured (add-on disabled)"))
        elif missing:
            lines.append((label, False, "missing " + ", ".join(f"ORO_CONNECTOR_{m}" for m in missing)))
        else:
            lines.append((label, True, "configured"))
    return lines


def run_extra_checks(settings: Settings) -> list[tuple[str, bool, str]]:
    """Oro: reachable as the integration client, and what the instance offers."""
    from connector.oro import oro_check

    return oro_check(settings)


# --- keys -------------------------------------------------------------------------------------------


@main.group()
def keys() -> None:
    """Signing and encryption keys."""


@keys.command(name="generate")
def keys_generate() -> None:
    """Print a new SECRET_KEY and a new encryption key."""
    from connector.security.secrets import generate_key

    click.echo(f"ORO_CONNECTOR_SECRET_KEY={pysecrets.token_urlsafe(48)}")
    click.echo(f"new encryption key (put it first in ORO_CONNECTOR_ENCRYPTION_KEYS): {generate_key()}")


@keys.command(name="rotate")
def keys_rotate() -> None:
    """Re-encrypt every stored secret with the first key of ORO_CONNECTOR_ENCRYPTION_KEYS."""
    from connector.db import db
    from connector.security.credentials import count_encrypted, rotate_secrets
    from connector.security.secrets import SecretBox

    app = _app()
    settings: Settings = app.extensions["connector.settings"]
    if not settings.encryption_keys:
        click.echo("ORO_CONNECTOR_ENCRYPTION_KEYS is not set: nothing to rotate with.", err=True)
        sys.exit(2)
    box = SecretBox(settings.encryption_keys)
    with db.session_scope(app) as session:
        total = count_encrypted(session)
        with click.progressbar(length=total, label="Re-encrypting stored secrets", file=sys.stderr) as bar:
            done = rotate_secrets(session, box, progress=lambda _n: bar.update(1))
    click.echo(f"Re-encrypted {done} secret(s) with the newest key. Older keys may now be removed.")


# --- sandbox ----------------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8100, show_default=True, type=int, help="Port to listen on.")
@click.option("--seed", default=42, show_default=True, type=int, help="Seed of the sample data.")
@click.option("--latency-ms", default=0.0, show_default=True, type=float, help="Added to every Oro request.")
@click.option("--jitter-ms", default=0.0, show_default=True, type=float, help="Random extra latency, up to.")
@click.option(
    "--error-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1),
    help="Share of Oro requests answered with an error (500, 503 or 429 with Retry-After).",
)
@click.option("--down", is_flag=True, help="Start with the sandbox's Oro not answering.")
@click.option("--crm", is_flag=True, help="Serve the Oro API without the /admin prefix, like OroCRM.")
def sandbox(
    host: str, port: int, seed: int, latency_ms: float, jitter_ms: float, error_rate: float, down: bool,
    crm: bool,
) -> None:
    """Serve the sandbox world alone (an Oro-compatible API with sample data) under /sandbox.

    Faults can be changed while it runs: PUT JSON to /sandbox/oro/_sandbox/faults.
    """
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from werkzeug.serving import run_simple

    from connector.sandbox.app import create_sandbox_app
    from connector.sandbox.world import SandboxWorld

    click.echo(f"Generating the sandbox world (seed {seed}) ...")
    world = SandboxWorld.generate(seed=seed)
    world.oro.configure(latency_ms=latency_ms, jitter_ms=jitter_ms, error_rate=error_rate, down=down)
    if crm:
        world.oro.configure(backoffice_prefix="")
    app = DispatcherMiddleware(_not_in_sandbox, {"/sandbox": create_sandbox_app(world)})
    base = f"http://{host}:{port}/sandbox/oro"
    api = f"{base}/api" if crm else f"{base}/admin/api"
    click.echo(
        f"Sandbox Oro API:   {api}\n"
        f"Token endpoint:    {base}/oauth2-token\n"
        f"Faults:            {base}/_sandbox/faults (GET, PUT)\n"
        "Clients: demo-integration/demo-secret, demo-connector/demo-connector-secret; "
        "users admin, alice, bob (password demo)."
    )
    run_simple(host, port, app, threaded=True, use_reloader=False)


def _not_in_sandbox(_environ: Any, start_response: Any) -> list[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
    return [b"The sandbox world is served under /sandbox/.\n"]


# --- manifest ---------------------------------------------------------------------------------------


@main.group()
def manifest() -> None:
    """Print the add-ons' deployment documents for this deployment."""


def _manifest_failure(exc: ValueError) -> NoReturn:
    click.echo(f"Cannot build the manifest: {exc}", err=True)
    sys.exit(2)


@manifest.command(name="gmail")
@click.option("--base-url", help="The connector's public HTTPS URL (default: ORO_CONNECTOR_PUBLIC_URL).")
@click.option(
    "--no-send", is_flag=True, help="Leave out the gmail.send scope (replies go through drafts only)."
)
def manifest_gmail(base_url: str | None, no_send: bool) -> None:
    """The Google Workspace add-on's deployment.json (for `gcloud workspace-add-ons deployments create`)."""
    from connector.manifests.gmail import render_gmail_deployment

    settings = load_settings({"mode": "test"}) if base_url else _settings()
    try:
        document = render_gmail_deployment(
            base_url or settings.public_url, oro_url=settings.oro_url or None, send_mail=not no_send
        )
    except ValueError as exc:
        _manifest_failure(exc)
    click.echo(json.dumps(document, indent=2))


@manifest.command(name="outlook")
@click.option("--base-url", help="The connector's public HTTPS URL (default: ORO_CONNECTOR_PUBLIC_URL).")
@click.option("--format", "fmt", type=click.Choice(["xml", "json"]), default="xml", show_default=True)
@click.option("--client-id", help="The Entra app's client id (default: ORO_CONNECTOR_MICROSOFT_CLIENT_ID).")
@click.option(
    "--app-id", help="The add-in's own GUID (default: derived from the base URL, stable across runs)."
)
def manifest_outlook(base_url: str | None, fmt: str, client_id: str | None, app_id: str | None) -> None:
    """The Outlook add-in's manifest: add-in only XML, or the unified JSON manifest."""
    import uuid

    from connector.manifests.outlook import render_outlook_json, render_outlook_xml

    settings = load_settings({"mode": "test"}) if base_url else _settings()
    base = base_url or settings.public_url
    client = client_id or settings.microsoft_client_id
    if not client:
        click.echo(
            "The Entra client id is needed: --client-id or ORO_CONNECTOR_MICROSOFT_CLIENT_ID.", err=True
        )
        sys.exit(2)
    addin = app_id or str(uuid.uuid5(uuid.NAMESPACE_URL, base.rstrip("/") + "/addons/outlook"))
    try:
        if fmt == "xml":
            click.echo(render_outlook_xml(base, client_id=client, app_id=addin))
        else:
            click.echo(json.dumps(render_outlook_json(base, client_id=client, app_id=addin), indent=2))
    except ValueError as exc:
        _manifest_failure(exc)


# --- settings ---------------------------------------------------------------------------------------


@main.command(name="settings")
@click.option("--markdown", is_flag=True, help="As the Markdown table README.md shows.")
def settings_command(markdown: bool) -> None:
    """List every setting with its default and meaning."""
    from connector.settings import describe

    rows = describe()
    if markdown:
        click.echo("| variable | default | meaning |\n|---|---|---|")
        for name, default, meaning, _secret in rows:
            shown = f"`{default}`" if default else "(empty)"
            click.echo(f"| `{name}` | {shown} | {meaning} |")
        return
    for name, default, meaning, secret in rows:
        click.echo(f"{name}={default}{'  (secret)' if secret else ''}\n    {meaning}")
