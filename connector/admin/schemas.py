"""The settings each admin page edits, and reading its form into changes.

A plain field arrives prefilled with the effective value; only what the admin changed is saved, so
saving a page does not freeze the environment's other values into the database. A secret field is
write-only: it is never sent to the browser, and left empty it keeps what is there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Section = Literal["oro", "google", "microsoft"]
Kind = Literal["text", "url", "email", "list", "guid", "guid_list"]

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class SettingField:
    """One setting on a page: ``name`` is the field of :class:`connector.settings.Settings`."""

    name: str
    label: str
    help: str
    kind: Kind = "text"
    secret: bool = False
    required: bool = False
    placeholder: str = ""

    @property
    def input_id(self) -> str:
        return f"setting-{self.name.replace('_', '-')}"

    def problem(self, value: str) -> str | None:
        """Why ``value`` (as submitted, stripped) cannot be saved, or None."""
        if not value:
            return f"{self.label} is required." if self.required else None
        if self.kind == "url" and not re.match(r"^https?://[^/\s]+", value):
            return f"{self.label} must be an http:// or https:// address, got {value!r}."
        if self.kind == "email" and not _EMAIL.match(value):
            return f"{self.label} must be an email address, got {value!r}."
        if self.kind == "guid" and not _GUID.match(value):
            return f"{self.label} must be a GUID such as 2b8f6c1d-9e4a-4f7b-8c3d-1a2b3c4d5e6f, got {value!r}."
        if self.kind == "guid_list":
            bad = [item for item in split_list(value) if not _GUID.match(item)]
            if bad:
                return f"{self.label}: {', '.join(bad)} is not a tenant id (a GUID)."
        return None


def split_list(value: str) -> list[str]:
    """A comma- or line-separated list as typed, without blanks."""
    return [item.strip() for item in re.split(r"[,\n]", value) if item.strip()]


SECTIONS: dict[Section, tuple[SettingField, ...]] = {
    "oro": (
        SettingField(
            "oro_url",
            "Oro URL",
            "Oro's address, without the back-office prefix.",
            kind="url",
            required=True,
            placeholder="https://oro.example.com",
        ),
        SettingField(
            "oro_backoffice_prefix",
            "Back-office prefix",
            "admin on OroCommerce; empty on OroCRM and OroPlatform.",
        ),
        SettingField(
            "oro_client_id",
            "OAuth client id",
            "Of the Oro OAuth application (Authorization Code) that connects each user and signs admins in.",
        ),
        SettingField(
            "oro_client_secret",
            "OAuth client secret",
            "Shown once by Oro when the application is made.",
            secret=True,
        ),
        SettingField(
            "oro_integration_client_id",
            "Integration client id",
            "Of the Oro OAuth application (Client Credentials) used for background work and these checks.",
        ),
        SettingField(
            "oro_integration_client_secret",
            "Integration client secret",
            "Its client secret.",
            secret=True,
        ),
    ),
    "google": (
        SettingField(
            "google_service_account",
            "Service account email",
            "The add-on's service account: Google signs its requests to the connector as this identity.",
            kind="email",
            placeholder="service-123456789@gcp-sa-gsuiteaddons.iam.gserviceaccount.com",
        ),
        SettingField(
            "google_client_id",
            "OAuth client id",
            "The add-on's OAuth client id: the audience of the users' ID tokens.",
            placeholder="123456789-abc.apps.googleusercontent.com",
        ),
        SettingField(
            "google_audience",
            "Audience (optional)",
            "Only when Google's request tokens are not addressed to the endpoint URL.",
        ),
    ),
    "microsoft": (
        SettingField(
            "microsoft_tenants",
            "Allowed tenants",
            "Directory (tenant) ids whose users may use the add-in, comma-separated.",
            kind="guid_list",
        ),
        SettingField(
            "microsoft_client_id",
            "Application (client) id",
            "Of the Entra app registration.",
            kind="guid",
        ),
        SettingField(
            "microsoft_client_secret",
            "Client secret",
            "A secret of that app registration (Certificates & secrets), for the exchange to Graph.",
            secret=True,
        ),
    ),
}

FIELDS: dict[str, SettingField] = {f.name: f for fields in SECTIONS.values() for f in fields}
SECTION_TITLES: dict[Section, str] = {"oro": "Oro", "google": "Google", "microsoft": "Microsoft"}


@dataclass(frozen=True)
class SettingsForm:
    """What a page's form asks to change: plain ``values`` and new ``secrets`` (both by field name)."""

    section: Section
    values: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def read_settings_form(section: Section, form: Mapping[str, str]) -> SettingsForm:
    """The submitted fields of ``section``: values normalised, empty secrets left out, problems listed."""
    result = SettingsForm(section)
    for setting in SECTIONS[section]:
        raw = form.get(setting.name)
        if raw is None:
            continue
        value = raw.strip()
        if setting.kind in ("list", "guid_list"):
            value = ",".join(split_list(value))
        if setting.kind == "url":
            value = value.rstrip("/")
        if setting.name == "oro_backoffice_prefix":
            value = value.strip("/")
        if setting.secret:
            if value:
                result.secrets[setting.name] = value
            continue
        problem = setting.problem(value)
        if problem:
            result.problems.append(problem)
        result.values[setting.name] = value
    return result


@dataclass(frozen=True)
class TemplateForm:
    """The template editor's fields, as submitted (``record_type`` None: a template for no record)."""

    name: str = ""
    record_type: str | None = None
    format: str = "html"
    visibility: str = "shared"
    subject: str = ""
    body: str = ""
    record_id: str = ""

    @classmethod
    def read(cls, form: Mapping[str, str]) -> TemplateForm:
        return cls(
            name=form.get("name", "").strip(),
            record_type=form.get("record_type", "").strip() or None,
            format=form.get("format", "html").strip() or "html",
            visibility=form.get("visibility", "shared").strip() or "shared",
            subject=form.get("subject", ""),
            body=form.get("body", ""),
            record_id=form.get("record_id", "").strip(),
        )
