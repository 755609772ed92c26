"""What the admin templates show, assembled from settings and domain objects (no logic of its own)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Response

from connector.admin import operations
from connector.admin.models import StoredSetting
from connector.admin.schemas import SECTIONS, Section, SettingField, TemplateForm
from connector.outbox.models import OutboxMessage
from connector.settings import Settings, env_name
from connector.templates.errors import TemplateError, TemplateInvalid
from connector.templates.models import EmailTemplate
from connector.templates.operations import resolve_variant
from connector.templates.variables import RECORD_TYPE_LABELS, Variable, catalog

NAV: tuple[tuple[str, str], ...] = (
    ("admin.status", "Status"),
    ("admin.oro_page", "Oro"),
    ("admin.google_page", "Google"),
    ("admin.microsoft_page", "Microsoft"),
    ("admin.users", "Users"),
    ("admin.templates", "Templates"),
    ("admin.privacy", "Privacy"),
    ("admin.audit", "Audit log"),
)

RULE_KIND_LABELS = {
    "domain": "Never-log domains",
    "address": "Never-log addresses",
    "internal_domain": "Internal domains",
}


@dataclass(frozen=True)
class FieldView:
    setting: SettingField
    value: str
    source: str
    is_set: bool
    env_name: str


def field_views(
    section: Section,
    *,
    effective: Settings,
    environment: Settings,
    stored: Mapping[str, StoredSetting],
    submitted: Mapping[str, str] | None = None,
) -> list[FieldView]:
    views = []
    for setting in SECTIONS[section]:
        row = stored.get(setting.name)
        if row is not None:
            source = f"saved here by {row.updated_by or 'an admin'} on {row.updated_at:%Y-%m-%d %H:%M} UTC"
        elif getattr(environment, setting.name):
            source = f"from the environment ({env_name(setting.name)})"
        else:
            source = "not set"
        value = "" if setting.secret else operations.form_value(effective, setting.name)
        if submitted is not None and setting.name in submitted:
            value = submitted[setting.name]
        views.append(
            FieldView(setting, value, source, bool(getattr(effective, setting.name)), env_name(setting.name))
        )
    return views


def https_base(url: str | None) -> str | None:
    if url and urlsplit(url).scheme == "https" and urlsplit(url).netloc:
        return url.rstrip("/")
    return None


def section_context(
    section: Section,
    *,
    effective: Settings,
    public_url: str,
    base_url: str | None,
    redirect_uris: Sequence[str],
) -> dict[str, Any]:
    """Extras of each settings page: redirect URLs for Oro, the manifests' base URL for the hosts."""
    if section == "oro":
        return {"redirect_uris": redirect_uris}
    chosen = (base_url or "").strip() or public_url
    base = https_base(chosen)
    host = urlsplit(base).netloc if base else "connector.example.com"
    return {
        "base_url": chosen,
        "manifest_base": base,
        "public_is_https": https_base(public_url) is not None,
        "host": host,
        "api_uri": operations.api_uri(effective, base or "https://connector.example.com"),
        "client_id": effective.microsoft_client_id,
        "endpoint_audience": f"{base or 'https://connector.example.com'}/addons/gmail/...",
    }


def saved_message(changed: Sequence[str]) -> str:
    if not changed:
        return "Nothing changed."
    labels = ", ".join(_label(name) for name in changed)
    return f"Saved: {labels}. The connector uses the new values within seconds."


def reset_message(forgotten: Sequence[str]) -> str:
    if not forgotten:
        return "Nothing was saved here: the environment's values were already in use."
    return "Forgotten: " + ", ".join(_label(name) for name in forgotten) + ". The environment's values apply."


def _label(name: str) -> str:
    for fields in SECTIONS.values():
        for setting in fields:
            if setting.name == name:
                return setting.label
    return name


def verdict_from_dict(data: Mapping[str, Any]) -> operations.ConnectionVerdict:
    return operations.ConnectionVerdict(
        ok=bool(data["ok"]),
        headline=str(data["headline"]),
        checks=tuple(operations.Check(**check) for check in data.get("checks", ())),
        notes=tuple(data.get("notes", ())),
    )


def download(text: str, filename: str, mimetype: str) -> Response:
    response = Response(text, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- templates ----------------------------------------------------------------------------------------


def record_type_choices() -> list[tuple[str, str]]:
    return [("", "No record"), *sorted(RECORD_TYPE_LABELS.items(), key=lambda item: item[1])]


def variables_for(record_type: str | None) -> list[Variable]:
    try:
        found = catalog(record_type)
    except ValueError:
        return []
    return [*found.entity, *found.user]


def template_form(template: EmailTemplate) -> TemplateForm:
    default = resolve_variant(template, "")
    return TemplateForm(
        name=template.name,
        record_type=template.record_type,
        format=template.format,
        visibility=template.visibility,
        subject=default.subject,
        body=default.body,
    )


def template_problems(exc: TemplateError) -> list[str]:
    if isinstance(exc, TemplateInvalid) and exc.problems:
        return [exc.message, *exc.problems]
    return [exc.message]


def retried_message(row: OutboxMessage) -> str:
    """What happens next to a reply an admin retried: Outlook's are sent by the runner, Gmail's can only
    be sent with the tokens of their sender's next add-on request."""
    if row.provider == "gmail":
        return (
            f"Reply {row.id} of {row.user.email} will be tried again when they next open its conversation "
            "with the Gmail add-on: Gmail replies are sent with their own permission only."
        )
    return f"Reply {row.id} of {row.user.email} will be tried again within a few seconds."
