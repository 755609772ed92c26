"""What one Oro instance offers, found by asking it, and a report people can read.

Oro before 6.0 has no usable ``emails`` JSON:API and no ``emailcontext`` (reference §1.3, §4); CRM
resources exist only where OroCRM is installed, Commerce resources only where OroCommerce is; an
instance with the API feature switched off answers every resource like an unknown route (404). Each
resource type is probed with a one-record list request: 200 (or a 400 about a missing filter, as
``emailcontext`` answers without ``messageId``) means it is there, 404 or 405 that it is not, 403
that it exists but this identity may not read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

ResourceStatus = Literal["available", "missing", "forbidden"]

PLATFORM_TYPES = ("users", "emails", "emailcontext", "emailthreadcontext", "notes", "search")
CRM_TYPES = ("contacts", "accounts", "b2bcustomers", "leads", "opportunities", "cases", "tasks")
COMMERCE_TYPES = ("customers", "customerusers", "orders", "rfqs")
PROBED_TYPES = PLATFORM_TYPES + CRM_TYPES + COMMERCE_TYPES


@dataclass(frozen=True)
class Capabilities:
    """The resource types an instance has, as seen by one identity."""

    api_base: str
    resources: Mapping[str, ResourceStatus] = field(default_factory=dict)
    legacy_templates: ResourceStatus = "missing"

    def has(self, resource_type: str) -> bool:
        return self.resources.get(resource_type) == "available"

    @property
    def api_enabled(self) -> bool:
        """False when every probed type answered 404: the API feature is off or the prefix is wrong."""
        return any(status != "missing" for status in self.resources.values())

    @property
    def emails_api(self) -> bool:
        return self.has("emails")

    @property
    def email_context(self) -> bool:
        return self.has("emailcontext")

    @property
    def crm(self) -> bool:
        return any(self.has(t) for t in CRM_TYPES)

    @property
    def commerce(self) -> bool:
        return any(self.has(t) for t in COMMERCE_TYPES)

    def lacks(self) -> list[str]:
        """What the connector cannot do on this instance, and what it does instead, in plain words."""
        notes: list[str] = []
        if not self.api_enabled:
            return [
                f"No Oro API answered at {self.api_base}: enable it (System Configuration > General Setup > "
                "Application Settings > Web API) or correct ORO_CONNECTOR_ORO_BACKOFFICE_PREFIX."
            ]
        if not self.emails_api:
            notes.append(
                "No emails API (Oro before 6.0): emails cannot be logged into Oro; notes on the records "
                "are used instead."
            )
        if not self.email_context:
            notes.append(
                "No email context API (Oro before 6.0): senders are matched by looking up contacts, leads "
                "and customer users by address, one type at a time."
            )
        if not self.has("search"):
            notes.append("No search API: records can only be found by email address.")
        if not self.crm:
            notes.append(
                "No CRM resources (OroCRM is not installed): no contacts, leads, opportunities or cases."
            )
        if not self.commerce:
            notes.append(
                "No Commerce resources (OroCommerce is not installed): no customer users or orders."
            )
        if self.legacy_templates != "available":
            notes.append(
                "Oro's email templates are not readable (legacy REST API): only local templates work."
            )
        forbidden = sorted(t for t, s in self.resources.items() if s == "forbidden")
        if forbidden:
            notes.append(f"This identity may not read: {', '.join(forbidden)} (Oro's permissions).")
        return notes

    def report(self) -> list[str]:
        """Lines for ``oro-connector check``."""
        lines = [f"Oro API at {self.api_base}"]
        for label, types in (("platform", PLATFORM_TYPES), ("CRM", CRM_TYPES), ("Commerce", COMMERCE_TYPES)):
            shown = (_label(t, self.resources.get(t, "missing")) for t in types)
            lines.append(f"  {label}: " + ", ".join(shown))
        lines.append("  " + _label("email templates (legacy REST)", self.legacy_templates))
        lines.extend(f"  - {note}" for note in self.lacks())
        return lines

    def check_lines(self) -> list[tuple[str, bool, str]]:
        """(name, good, detail) rows in the style of ``oro-connector check``."""
        if not self.api_enabled:
            return [("Oro API", False, self.lacks()[0])]
        rows = [("Oro API", True, self.api_base)]
        for name, present, yes, no in (
            ("Oro emails", self.emails_api, "emails API available", "no emails API (Oro before 6.0)"),
            ("Oro context", self.email_context, "email context API available",
             "no email context API: per-type look-ups"),
            ("Oro CRM", self.crm, "CRM resources available", "OroCRM not installed"),
            ("Oro Commerce", self.commerce, "Commerce resources available", "OroCommerce not installed"),
            ("Oro templates", self.legacy_templates == "available", "legacy template API available",
             "Oro's templates unavailable"),
        ):
            rows.append((name, True, yes if present else no))
        return rows


def _label(name: str, status: ResourceStatus) -> str:
    return name if status == "available" else f"{name} ({status})"
