"""What the admin page does: settings saved over the environment's, Oro checks, users, audit, sign-in.

Operations take domain objects, flush and write the audit entry, and never commit: the request's
commit point does (``connector.db.session``). Nothing here logs or audits a secret's value.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from connector.accounts.operations import user_for_identity
from connector.accounts.tokens import PROVIDER as ORO_PROVIDER
from connector.admin.errors import NotAnAdmin, SettingsInvalid, SignInFailed, UnknownSend, UnknownUser
from connector.admin.models import StoredSetting
from connector.admin.schemas import FIELDS, SECTIONS, Section, SettingsForm, TemplateForm
from connector.audit.models import AuditEntry
from connector.audit.operations import record_audit
from connector.db.models import Credential, Identity, User
from connector.linking.models import PrivacyRule
from connector.linking.policy import ORG_SCOPE, RULE_KINDS, PrivacyPolicy, load_policy
from connector.manifests.gmail import render_gmail_deployment
from connector.manifests.outlook import render_outlook_json, render_outlook_xml
from connector.oro import (
    RECORD_TYPES,
    OroAuthRejected,
    OroClient,
    OroConnection,
    OroError,
    OroRecord,
    OroTokens,
    OroUnavailable,
    OroUnexpectedResponse,
    Query,
    pkce_challenge,
)
from connector.oro import User as OroUser
from connector.outbox.models import OutboxMessage
from connector.outbox.operations import (
    OutboxHealth,
    SendRecord,
    dismiss_send,
    outbox_health,
    retry_send,
    unresolved_sends,
)
from connector.security.credentials import delete_secret, save_secret
from connector.security.microsoft import application_id_uri
from connector.security.secrets import SecretBox
from connector.settings import Settings, SettingsError, env_name, overlay_settings
from connector.templates.errors import TemplateError, TemplateInvalid
from connector.templates.importing import ImportReport, import_oro_templates
from connector.templates.models import EmailTemplate
from connector.templates.operations import (
    TemplateText,
    check_text,
    create_template,
    delete_template,
    edit_template,
)
from connector.templates.rendering import RenderContext, Sender, default_renderer
from connector.templates.variables import check_record_type

logger = logging.getLogger(__name__)

ADMIN_PROVIDER = "oro"
"""Identities of people who signed in to the admin page: their Oro user id."""


# --- settings saved on the admin page -------------------------------------------------------------------


def stored_values(session: Session, box: SecretBox | None) -> dict[str, str]:
    """Every saved setting, secrets decrypted, by field name."""
    values: dict[str, str] = {}
    for row in session.scalars(select(StoredSetting)):
        if row.secret is not None:
            if box is None:
                logger.warning("setting %s is stored encrypted but no encryption key is set", row.key)
                continue
            values[row.key] = box.decrypt(row.secret)
        elif row.value is not None:
            values[row.key] = row.value
    return values


def effective_from(base: Settings, stored: Mapping[str, str]) -> Settings:
    """``base`` with ``stored`` laid over it. A saved value that is no longer valid (a setting an
    upgrade removed, a check that became stricter) is skipped with a warning rather than taking the
    whole connector down: the environment's value applies until an admin saves the page again."""
    try:
        return overlay_settings(base, stored)
    except SettingsError:
        pass
    settings = base
    for name, value in stored.items():
        try:
            settings = overlay_settings(settings, {name: value})
        except SettingsError as exc:
            logger.warning("ignoring the admin page's saved %s: %s", env_name(name), "; ".join(exc.problems))
    return settings


def read_effective_settings(engine: Engine, box: SecretBox | None, base: Settings) -> Settings:
    """The effective settings, read on a connection of its own (never the request's transaction)."""
    try:
        with Session(engine) as session:
            stored = stored_values(session, box)
    except SQLAlchemyError as exc:
        # Before `oro-connector db upgrade` has made the table: the environment alone applies.
        logger.warning(
            "cannot read the admin page's settings, using the environment's: %s", exc.__class__.__name__
        )
        return base
    return effective_from(base, stored) if stored else base


def stored_rows(session: Session, names: Iterable[str]) -> dict[str, StoredSetting]:
    wanted = list(names)
    rows = session.scalars(select(StoredSetting).where(StoredSetting.key.in_(wanted)))
    return {row.key: row for row in rows}


def save_settings(
    session: Session, box: SecretBox, *, base: Settings, actor: User, form: SettingsForm
) -> list[str]:
    """Save what ``form`` changes over the effective settings; return the changed field names.

    A value set back to the environment's is not stored: the environment's applies again.

    Raises :class:`SettingsInvalid` naming every problem; nothing is saved then. The audit entry lists
    the changed settings with old and new values, secrets by name only.
    """
    if form.problems:
        raise SettingsInvalid(form.problems)
    current = effective_from(base, stored_values(session, box))
    changed_values = {
        name: value for name, value in form.values.items() if value != _as_text(getattr(current, name))
    }
    changes = {**changed_values, **form.secrets}
    if not changes:
        return []
    try:
        overlay_settings(current, changes)
    except SettingsError as exc:
        raise SettingsInvalid(exc.problems) from None

    rows = stored_rows(session, changes)
    for name, value in changes.items():
        if value == _as_text(getattr(base, name)):
            # Back to the environment's value: nothing to override (and a later change of the
            # environment applies again).
            if name in rows:
                session.delete(rows[name])
            continue
        row = rows.get(name) or StoredSetting(key=name)
        if FIELDS[name].secret:
            row.secret, row.value = box.encrypt(value), None
        else:
            row.value, row.secret = value, None
        row.updated_by_id, row.updated_by = actor.id, actor.email
        session.add(row)
    session.flush()
    details: dict[str, Any] = {
        "changed": {
            name: {"from": _as_text(getattr(current, name)), "to": value}
            for name, value in sorted(changed_values.items())
        },
        "secrets": sorted(form.secrets),
    }
    record_audit(
        session, actor=actor, action="settings.change", subject=f"settings:{form.section}", details=details
    )
    in_page_order = [f.name for f in SECTIONS[form.section] if f.name in changes]
    logger.info("%s changed the %s settings: %s", actor.email, form.section, ", ".join(in_page_order))
    return in_page_order


def reset_settings(session: Session, *, actor: User, section: Section) -> list[str]:
    """Forget the values saved for ``section``: the environment's apply again. Returns their names."""
    rows = stored_rows(session, (f.name for f in SECTIONS[section]))
    if not rows:
        return []
    for row in rows.values():
        session.delete(row)
    session.flush()
    names = sorted(rows)
    record_audit(
        session,
        actor=actor,
        action="settings.reset",
        subject=f"settings:{section}",
        details={"forgotten": names},
    )
    return names


def _as_text(value: Any) -> str:
    """A setting's value as the form shows it (lists comma-separated)."""
    if isinstance(value, tuple):
        return ",".join(value)
    return "" if value is None else str(value)


def form_value(settings: Settings, name: str) -> str:
    return _as_text(getattr(settings, name))


# --- what is complete, what Oro says -----------------------------------------------------------------


@dataclass(frozen=True)
class SectionStatus:
    """Whether a host's settings are complete. ``configured`` False with nothing set means "not used"."""

    title: str
    complete: bool
    missing: tuple[str, ...]
    untouched: bool

    @property
    def summary(self) -> str:
        if self.complete:
            return "complete"
        if self.untouched:
            return "not configured (the add-on cannot be used)"
        return "missing " + ", ".join(self.missing)


_REQUIRED: dict[str, tuple[str, ...]] = {
    "google": ("google_service_account", "google_client_id"),
    "microsoft": ("microsoft_client_id", "microsoft_client_secret", "microsoft_tenants"),
}


def host_status(settings: Settings) -> list[SectionStatus]:
    """Google's and Microsoft's settings: complete, partly set (and what is missing), or untouched."""
    found = []
    for section, title in (("google", "Google (Gmail add-on)"), ("microsoft", "Microsoft (Outlook add-in)")):
        missing = tuple(FIELDS[name].label for name in _REQUIRED[section] if not getattr(settings, name))
        found.append(SectionStatus(title, not missing, missing, len(missing) == len(_REQUIRED[section])))
    return found


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class ConnectionVerdict:
    """The answer to "Test connection": a plain ``headline`` and the ``checks`` behind it."""

    ok: bool
    headline: str
    checks: tuple[Check, ...] = ()
    notes: tuple[str, ...] = ()


def check_oro_connection(settings: Settings, *, redirect_uris: Sequence[str]) -> ConnectionVerdict:
    """Ask Oro, as ``settings`` describe it, whether the connector can work with it.

    In order: the integration client gets a token and probes what the instance offers; the OAuth
    application accepts each of ``redirect_uris`` at the authorize endpoint; its secret is accepted by
    the token endpoint (a made-up code is sent: Oro checks the client before the code). A connection or
    read timeout ends the test at once, since every further request would wait as long.
    """
    if not settings.oro_url:
        return ConnectionVerdict(False, "No Oro URL is set: enter Oro's address and save first.")
    connection = OroConnection.from_settings(settings)
    try:
        return _verdict(connection, settings, redirect_uris)
    finally:
        connection.close()


def _verdict(
    connection: OroConnection, settings: Settings, redirect_uris: Sequence[str]
) -> ConnectionVerdict:
    checks: list[Check] = []
    notes: tuple[str, ...] = ()
    where = connection.config.api_base
    try:
        if settings.oro_integration_client_id and settings.oro_integration_client_secret:
            try:
                capabilities = connection.for_integration().capabilities()
            except OroAuthRejected as exc:
                checks.append(
                    Check("Integration client", False, f"Oro refused it: {exc.description or exc.error}")
                )
            else:
                checks.append(Check("Integration client", True, "Oro issued it a token"))
                checks.extend(Check(name, good, detail) for name, good, detail in capabilities.check_lines())
                notes = tuple(capabilities.lacks())
        else:
            checks.append(
                Check(
                    "Integration client",
                    False,
                    "not set: the status page and background work need a Client Credentials application",
                )
            )
        if settings.oro_client_id and settings.oro_client_secret:
            checks.extend(_user_client_checks(connection, redirect_uris))
        else:
            checks.append(
                Check(
                    "OAuth application",
                    False,
                    "not set: without it users cannot connect and admins cannot sign in",
                )
            )
    except OroUnavailable as exc:
        return ConnectionVerdict(
            False,
            "Oro is not answering: is it running, and is the Oro URL right?",
            (*checks, Check("Oro", False, str(exc))),
        )
    except OroUnexpectedResponse as exc:
        return ConnectionVerdict(
            False,
            f"Something answered at {exc.url}, but not Oro's API ({exc.status}): check the URL and the "
            "back-office prefix.",
            tuple(checks),
        )
    except OroError as exc:
        return ConnectionVerdict(False, f"Oro answered with an error: {exc}", tuple(checks))
    failed = [c for c in checks if not c.ok]
    if not failed:
        return ConnectionVerdict(
            True, f"Connected: Oro answered at {where} and accepts both applications.", tuple(checks), notes
        )
    first = failed[0].detail.rstrip(".")
    more = (
        f" ({len(failed) - 1} more {'problem' if len(failed) == 2 else 'problems'} below)"
        if len(failed) > 1
        else ""
    )
    return ConnectionVerdict(False, f"Not working yet: {first}.{more}", tuple(checks), notes)


def _user_client_checks(connection: OroConnection, redirect_uris: Sequence[str]) -> list[Check]:
    config = connection.config
    checks = []
    for redirect_uri in redirect_uris:
        params = [
            ("response_type", "code"),
            ("client_id", config.client_id),
            ("redirect_uri", redirect_uri),
            ("state", "connector-check"),
            ("code_challenge", pkce_challenge("c" * 43)),
            ("code_challenge_method", "S256"),
        ]
        answer = connection.transport.send("GET", config.authorize_url, params=params)
        if answer.status < 400:  # the login page, or a redirect to it
            checks.append(Check("Redirect URL", True, f"accepted: {redirect_uri}"))
        elif answer.status == 404:
            checks.append(
                Check(
                    "Redirect URL",
                    False,
                    f"Oro's sign-in page is not at {config.authorize_url} (404): check the prefix",
                )
            )
            break
        else:
            checks.append(
                Check(
                    "Redirect URL",
                    False,
                    f"Oro refused the client id or {redirect_uri} ({answer.status}): add this URL to the "
                    "OAuth application's redirect URLs",
                )
            )
    try:
        connection.oauth.exchange_code(
            code="connector-check", code_verifier="c" * 43, redirect_uri=redirect_uris[0]
        )
    except OroAuthRejected as exc:
        if exc.error == "invalid_client":
            checks.append(Check("OAuth application", False, "Oro refused its client id or secret"))
        else:  # Oro authenticated the client, then turned down the made-up code, as it should
            checks.append(Check("OAuth application", True, "client id and secret accepted"))
    else:
        checks.append(Check("OAuth application", False, "Oro accepted a made-up authorization code"))
    return checks


# --- the add-ons' documents ------------------------------------------------------------------------------


def addin_id(base_url: str) -> str:
    """The Outlook add-in's own GUID: derived from the base URL, as ``oro-connector manifest outlook``."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, base_url.rstrip("/") + "/addons/outlook"))


def gmail_deployment(settings: Settings, *, base_url: str) -> str:
    """``deployment.json`` for ``base_url``; ``ValueError`` says what is wrong with the input."""
    oro_url = settings.oro_url if settings.oro_url.startswith("https://") else None
    return json.dumps(render_gmail_deployment(base_url, oro_url=oro_url), indent=2) + "\n"


def outlook_manifest(settings: Settings, *, base_url: str, fmt: str) -> str:
    """The add-in's XML or unified JSON manifest; ``ValueError`` says what is wrong with the input."""
    if not settings.microsoft_client_id:
        raise ValueError("Set the Application (client) id first: the manifest names the Entra app.")
    if fmt == "xml":
        return render_outlook_xml(base_url, client_id=settings.microsoft_client_id, app_id=addin_id(base_url))
    document = render_outlook_json(
        base_url, client_id=settings.microsoft_client_id, app_id=addin_id(base_url)
    )
    return json.dumps(document, indent=2) + "\n"


def api_uri(settings: Settings, base_url: str) -> str | None:
    """Our API's Application ID URI for the Entra app's "Expose an API", once a client id is set."""
    if not settings.microsoft_client_id or not base_url:
        return None
    return application_id_uri(base_url, settings.microsoft_client_id.lower())


# --- users ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserRow:
    user: User
    hosts: tuple[str, ...]
    connected_at: datetime | None


HOST_LABELS = {"google": "Gmail", "microsoft": "Outlook", ADMIN_PROVIDER: "admin page"}


def list_users(session: Session) -> list[UserRow]:
    """Everyone who opened a sidebar (or signed in here), most recently seen first."""
    users = list(session.scalars(select(User).order_by(User.last_seen_at.desc().nulls_last(), User.id)))
    hosts: dict[int, set[str]] = {}
    for identity in session.scalars(select(Identity)):
        hosts.setdefault(identity.user_id, set()).add(HOST_LABELS.get(identity.provider, identity.provider))
    connected = {
        c.user_id: c.updated_at
        for c in session.scalars(select(Credential).where(Credential.provider == ORO_PROVIDER))
    }
    return [UserRow(u, tuple(sorted(hosts.get(u.id, ()))), connected.get(u.id)) for u in users]


def disconnect_user(session: Session, *, actor: User, user_id: int) -> User:
    """Forget ``user_id``'s Oro tokens: their sidebar asks them to connect again. Audited."""
    user = session.get(User, user_id)
    if user is None:
        raise UnknownUser(f"There is no user {user_id}.")
    removed = delete_secret(session, user=user, provider=ORO_PROVIDER)
    record_audit(
        session,
        actor=actor,
        action="user.disconnect",
        subject=f"user:{user.email}",
        details={"had_connection": removed},
    )
    return user


# --- the audit log -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    subject: str = ""
    since: date | None = None
    until: date | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> AuditFilter:
        return cls(
            actor=args.get("actor", "").strip(),
            action=args.get("action", "").strip(),
            subject=args.get("subject", "").strip(),
            since=_date(args.get("since", "")),
            until=_date(args.get("until", "")),
        )

    def query_args(self) -> dict[str, str]:
        values = {
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {k: v for k, v in values.items() if v}


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def _contains(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find_audit_entries(session: Session, filters: AuditFilter, *, limit: int = 500) -> list[AuditEntry]:
    """Entries newest first: actor and subject match anywhere (any case), action exactly, dates inclusive."""
    query = select(AuditEntry)
    if filters.actor:
        query = query.where(func.lower(AuditEntry.actor).like(_contains(filters.actor.lower()), escape="\\"))
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.subject:
        query = query.where(
            func.lower(AuditEntry.subject).like(_contains(filters.subject.lower()), escape="\\")
        )
    if filters.since:
        query = query.where(AuditEntry.at >= datetime.combine(filters.since, time.min, UTC))
    if filters.until:
        query = query.where(
            AuditEntry.at < datetime.combine(filters.until + timedelta(days=1), time.min, UTC)
        )
    return list(session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)))


def audit_actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


def audit_csv(entries: Sequence[AuditEntry]) -> str:
    """The entries as CSV. A cell a spreadsheet would run as a formula gets a leading apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["time (UTC)", "actor", "action", "subject", "details"])
    for entry in entries:
        at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)
        row = [
            at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            entry.actor,
            entry.action,
            entry.subject,
            json.dumps(entry.details, ensure_ascii=False, sort_keys=True),
        ]
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()


def _cell(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


# --- signing in ----------------------------------------------------------------------------------------


def token_subject(access_token: str) -> str:
    """The ``sub`` claim of an Oro access token (a JWT): the user it speaks for.

    Read without checking the signature: the token came to the connector straight from Oro's token
    endpoint in the code exchange, never through a browser, and Oro checks it on every call anyway.
    """
    try:
        payload = access_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        subject = str(claims["sub"]).strip()
    except (IndexError, KeyError, ValueError, TypeError, binascii.Error):
        raise SignInFailed("Oro's access token does not say whom it was issued to.") from None
    if not subject:
        raise SignInFailed("Oro's access token does not say whom it was issued to.")
    return subject


def oro_user_behind(connection: OroConnection, tokens: OroTokens) -> OroUser:
    """The Oro user who just signed in, read from Oro with their own token."""
    subject = token_subject(tokens.access_token)
    client = connection.with_token(tokens.access_token)
    if subject.isdigit():
        return client.get_record(OroUser, id=subject)
    # An Oro that names users by username in ``sub``.
    found = client.read_all(OroUser, query=Query().where("username", subject), limit=2)
    if len(found) != 1:
        raise SignInFailed(f"Oro did not tell who {subject!r} is.")
    return found[0]


def is_admin(settings: Settings, email: str) -> bool:
    return email.strip().lower() in {e.strip().lower() for e in settings.admin_emails}


def sign_in_admin(
    session: Session, box: SecretBox, *, settings: Settings, oro_user: OroUser, tokens: OroTokens
) -> User:
    """The connector's user for an Oro user who signed in to the admin page; their Oro tokens are kept
    (encrypted) so that previews and imports run as them. :class:`NotAnAdmin` when they are not one."""
    email = (oro_user.email or "").strip().lower()
    if not email or oro_user.enabled is False or not is_admin(settings, email):
        shown = email or oro_user.username or f"Oro user {oro_user.id}"
        logger.warning("admin sign-in refused for %s: not in ORO_CONNECTOR_ADMIN_EMAILS", shown)
        raise NotAnAdmin(
            f"You are signed in at Oro as {shown}, who is not an administrator of this connector. "
            f"An administrator is an Oro user whose address is in {env_name('admin_emails')}."
        )
    user = user_for_identity(
        session, provider=ADMIN_PROVIDER, subject=oro_user.id, email=email, display_name=oro_user.title
    )
    save_secret(session, box, user=user, provider=ORO_PROVIDER, secret=tokens.to_json())
    record_audit(
        session, actor=user, action="admin.sign_in", subject="admin", details={"oro_user": oro_user.id}
    )
    return user


# --- templates -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplatePreview:
    """A template's text rendered for one record, or the ``problems`` that stop it."""

    subject: str = ""
    body: str = ""
    format: str = "html"
    missing: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    record_title: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "body": self.body,
            "format": self.format,
            "missing": list(self.missing),
            "problems": list(self.problems),
            "record": self.record_title,
        }


def _template_details(template: EmailTemplate) -> dict[str, Any]:
    return {
        "name": template.name,
        "record_type": template.record_type,
        "format": template.format,
        "visibility": template.visibility,
        "version": template.version,
    }


def create_template_as_admin(session: Session, *, actor: User, form: TemplateForm) -> EmailTemplate:
    """A new template owned by the admin; :class:`TemplateInvalid` lists what is wrong with it."""
    template = create_template(
        session,
        owner=actor,
        name=form.name,
        record_type=form.record_type,
        subject=form.subject,
        body=form.body,
        format=form.format,
        visibility=form.visibility,
    )
    record_audit(
        session,
        actor=actor,
        action="template.create",
        subject=f"template:{template.id}",
        details=_template_details(template),
    )
    return template


def edit_template_as_admin(
    session: Session, template: EmailTemplate, *, actor: User, form: TemplateForm
) -> EmailTemplate:
    edit_template(
        session,
        template,
        editor=actor,
        name=form.name,
        record_type=form.record_type,
        format=form.format,
        visibility=form.visibility,
        subject=form.subject,
        body=form.body,
        as_admin=True,
    )
    record_audit(
        session,
        actor=actor,
        action="template.edit",
        subject=f"template:{template.id}",
        details=_template_details(template),
    )
    return template


def delete_template_as_admin(session: Session, template: EmailTemplate, *, actor: User) -> None:
    details = _template_details(template)
    subject = f"template:{template.id}"
    delete_template(session, template, editor=actor, as_admin=True)
    record_audit(session, actor=actor, action="template.delete", subject=subject, details=details)


def import_templates_as_admin(session: Session, *, actor: User, client: OroClient) -> ImportReport:
    """Oro's templates, imported as shared templates owned by the admin (an import again updates them)."""
    report = import_oro_templates(session, client=client, owner=actor, visibility="shared")
    counts = report.to_dict()["counts"]
    record_audit(session, actor=actor, action="template.import", subject="templates", details=counts)
    return report


def preview_template_text(client: OroClient | None, *, actor: User, form: TemplateForm) -> TemplatePreview:
    """The editor's current text rendered for the chosen record, as the admin would send it."""
    renderer = default_renderer()
    text = TemplateText(form.subject, form.body)
    try:
        record_type = check_record_type(form.record_type)
    except ValueError as exc:
        return TemplatePreview(format=form.format, problems=(str(exc),))
    if form.format not in ("html", "text"):
        return TemplatePreview(problems=("The format must be html or text.",))
    problems = check_text(renderer, text, format=form.format, record_type=record_type)  # type: ignore[arg-type]
    if problems:
        return TemplatePreview(format=form.format, problems=tuple(problems))
    record: OroRecord | None = None
    if record_type and form.record_id:
        if client is None:
            return TemplatePreview(
                format=form.format, problems=("Sign in again to preview with Oro's records.",)
            )
        record = client.get_record(RECORD_TYPES[record_type], id=form.record_id)
    sender = Sender(name=actor.display_name or actor.email, email=actor.email)
    try:
        rendered = renderer.render(
            subject=form.subject,
            body=form.body,
            format=form.format,  # type: ignore[arg-type]
            context=RenderContext(record=record, sender=sender),
        )
    except TemplateInvalid as exc:
        return TemplatePreview(format=form.format, problems=tuple(exc.problems) or (exc.message,))
    except TemplateError as exc:
        return TemplatePreview(format=form.format, problems=(exc.message,))
    return TemplatePreview(
        subject=rendered.subject,
        body=rendered.body,
        format=rendered.format,
        missing=rendered.missing,
        record_title=record.title if record is not None else "",
    )


def records_to_choose(client: OroClient, record_type: str, *, limit: int = 25) -> list[tuple[str, str]]:
    """(id, title) of some records of ``record_type`` to preview a template against."""
    cls = RECORD_TYPES.get(record_type)
    if cls is None:
        return []
    page = client.list_records(cls, query=Query().page(size=limit))
    return [(record.id, record.title) for record in page.items]


# --- privacy -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrivacyView:
    policy: PrivacyPolicy
    rules: dict[str, list[PrivacyRule]]


def privacy_view(session: Session) -> PrivacyView:
    """The organisation's policy and its lists (with who added each entry)."""
    rules: dict[str, list[PrivacyRule]] = {kind: [] for kind in RULE_KINDS}
    query = select(PrivacyRule).where(PrivacyRule.scope == ORG_SCOPE).order_by(PrivacyRule.value)
    for rule in session.scalars(query):
        rules.setdefault(rule.kind, []).append(rule)
    return PrivacyView(load_policy(session, user=None), rules)


# --- the outbox ----------------------------------------------------------------------------------------

HOST_OF_PROVIDER = {"gmail": "Gmail", "graph": "Outlook"}


@dataclass(frozen=True)
class UnresolvedSend:
    """A reply not sent yet, or failed and not dismissed, with whose it is."""

    send: SendRecord
    owner: str  # the address of the user who sent it
    host: str  # "Gmail" or "Outlook"

    @property
    def can_act(self) -> bool:
        """Retry and dismiss apply to failed replies only; the others are still being tried."""
        return self.send.state == "failed"


@dataclass(frozen=True)
class OutboxPanel:
    health: OutboxHealth
    unresolved: list[UnresolvedSend]


def outbox_panel(session: Session, *, limit: int = 50) -> OutboxPanel:
    """The outbox at a glance and the replies someone should look at, oldest first."""
    sends = unresolved_sends(session, limit=limit)
    owners: dict[int, tuple[str, str]] = {
        row_id: (email, provider)
        for row_id, email, provider in session.execute(
            select(OutboxMessage.id, User.email, OutboxMessage.provider)
            .join(User, User.id == OutboxMessage.user_id)
            .where(OutboxMessage.id.in_([s.id for s in sends]))
        )
    }
    rows = []
    for send in sends:
        email, provider = owners.get(send.id, ("", ""))
        rows.append(UnresolvedSend(send, email, HOST_OF_PROVIDER.get(provider, provider)))
    return OutboxPanel(outbox_health(session), rows)


def _audit_send(session: Session, *, actor: User, action: str, row: OutboxMessage) -> None:
    # Who, which mailbox and how far it got; never the reply's text.
    record_audit(
        session,
        actor=actor,
        action=action,
        subject=f"reply:{row.id}",
        details={
            "owner": row.user.email,
            "mailbox": row.mailbox,
            "host": HOST_OF_PROVIDER.get(row.provider, row.provider),
            "attempts": row.attempts,
            "error": row.last_error[:500],
        },
    )


def retry_send_as_admin(session: Session, *, actor: User, send_id: int) -> OutboxMessage:
    """Give someone's failed reply another attempt now. Audited. :class:`UnknownSend` when there is no
    such reply; ``SendConflict`` (from the outbox) when it is not failed."""
    row = _outbox_row(session, send_id)
    retry_send(session, send_id=row.id)
    _audit_send(session, actor=actor, action="outbox.retry", row=row)
    return row


def dismiss_send_as_admin(session: Session, *, actor: User, send_id: int) -> OutboxMessage:
    """Stop showing someone's failed reply; it will not be sent. Audited."""
    row = _outbox_row(session, send_id)
    dismiss_send(session, send_id=row.id)
    _audit_send(session, actor=actor, action="outbox.dismiss", row=row)
    return row


def _outbox_row(session: Session, send_id: int) -> OutboxMessage:
    row = session.get(OutboxMessage, send_id)
    if row is None:
        raise UnknownSend(f"There is no reply {send_id}.")
    return row
