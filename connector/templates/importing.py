"""Importing Oro's email templates through its legacy REST endpoints (reference §4.7).

Oro lists templates per entity class. The import asks for each class the connector knows, converts
each template (``txt`` -> text, the entity class -> our record type) and checks it as any template is
checked. A template that uses something we do not support (a tag, filter or function outside the
subset, a variable our records do not carry, a record type templates cannot be for) is not stored:
the report says, per template, what stopped it, so an admin can change it in Oro and import again.
Imports are idempotent: a template already imported by this owner is updated (or left unchanged).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.db.models import User
from connector.oro import OroClient, OroRejected
from connector.oro.records import ENTITY_CLASSES
from connector.oro.records import EmailTemplate as OroEmailTemplate
from connector.templates.models import EmailTemplate
from connector.templates.operations import (
    TemplateText,
    check_text,
    create_template,
    resolve_variant,
)
from connector.templates.rendering import TemplateRenderer, default_renderer
from connector.templates.variables import RECORD_TYPE_LABELS

logger = logging.getLogger(__name__)

ORO_FORMATS = {"html": "html", "txt": "text", "text": "text"}
RECORD_TYPES_BY_CLASS = {cls: kind for kind, cls in ENTITY_CLASSES.items()}

Outcome = Literal["created", "updated", "unchanged", "skipped"]


@dataclass(frozen=True)
class ImportedTemplate:
    """What became of one Oro template; ``unsupported`` says why it was skipped."""

    oro_id: str
    name: str
    record_type: str | None
    outcome: Outcome
    template_id: int | None = None
    unsupported: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "oro_id": self.oro_id,
            "name": self.name,
            "record_type": self.record_type,
            "outcome": self.outcome,
            "template_id": self.template_id,
            "unsupported": list(self.unsupported),
        }


@dataclass(frozen=True)
class ImportReport:
    items: tuple[ImportedTemplate, ...]

    def of(self, outcome: Outcome) -> list[ImportedTemplate]:
        return [item for item in self.items if item.outcome == outcome]

    def to_dict(self) -> dict[str, Any]:
        counts = {
            outcome: len(self.of(outcome)) for outcome in ("created", "updated", "unchanged", "skipped")
        }
        return {"counts": counts, "templates": [item.to_dict() for item in self.items]}


def list_oro_templates(client: OroClient, *, include_system: bool = False) -> list[OroEmailTemplate]:
    """Every template Oro lists for the entity classes the client knows, and those for no entity."""
    found: dict[str, OroEmailTemplate] = {}
    for index, entity_class in enumerate(ENTITY_CLASSES.values()):
        try:
            listed = client.email_templates(
                entity_class=entity_class, include_non_entity=index == 0, include_system=include_system
            )
        except OroRejected as exc:  # an entity this Oro does not have (Commerce classes on OroCRM)
            logger.info("Oro lists no templates for %s: %s", entity_class, type(exc).__name__)
            continue
        for template in listed:
            found.setdefault(template.id, template)
    return sorted(found.values(), key=lambda t: (t.name, t.id))


def convert(
    source: OroEmailTemplate, renderer: TemplateRenderer
) -> tuple[str | None, str, TemplateText, list[str]]:
    """(record type, format, text, what is not supported) of an Oro template."""
    problems: list[str] = []
    record_type: str | None = None
    if source.entity_class:
        kind = RECORD_TYPES_BY_CLASS.get(source.entity_class)
        if kind in RECORD_TYPE_LABELS:
            record_type = kind
        else:
            problems.append(f"templates for {source.entity_class} records are not supported")
    template_format = ORO_FORMATS.get((source.type or "html").lower())
    if template_format is None:
        problems.append(f"the template type {source.type!r} is not supported")
        template_format = "html"
    text = TemplateText(source.subject or "", source.content or "")
    if not text.body.strip():
        problems.append("the template has no content")
    if not problems:
        problems.extend(check_text(renderer, text, format=template_format, record_type=record_type))  # type: ignore[arg-type]
    return record_type, template_format, text, problems


def import_oro_templates(
    session: Session,
    *,
    client: OroClient,
    owner: User,
    visibility: str = "shared",
    include_system: bool = False,
    renderer: TemplateRenderer | None = None,
) -> ImportReport:
    """Import Oro's templates for ``owner`` (as ``visibility``), with a report per template."""
    renderer = renderer or default_renderer()
    items: list[ImportedTemplate] = []
    for source in list_oro_templates(client, include_system=include_system):
        record_type, template_format, text, problems = convert(source, renderer)
        if problems:
            items.append(
                ImportedTemplate(source.id, source.name, record_type, "skipped", None, tuple(problems))
            )
            continue
        existing = session.scalar(
            select(EmailTemplate).where(
                EmailTemplate.owner_id == owner.id, EmailTemplate.oro_template_id == source.id
            )
        )
        if existing is None:
            created = create_template(
                session,
                owner=owner,
                name=source.name,
                record_type=record_type,
                subject=text.subject,
                body=text.body,
                format=template_format,
                visibility=visibility,
                oro_template_id=source.id,
                renderer=renderer,
            )
            items.append(ImportedTemplate(source.id, source.name, record_type, "created", created.id))
            continue
        default = resolve_variant(existing, "")
        current = (existing.name, existing.record_type, existing.format, default.subject, default.body)
        if current == (source.name, record_type, template_format, text.subject, text.body):
            items.append(ImportedTemplate(source.id, source.name, record_type, "unchanged", existing.id))
            continue
        existing.name, existing.record_type, existing.format = source.name, record_type, template_format
        default.subject, default.body = text.subject, text.body
        existing.version += 1
        session.flush()
        items.append(ImportedTemplate(source.id, source.name, record_type, "updated", existing.id))
    report = ImportReport(tuple(items))
    logger.info(
        "Oro template import for user %s: %d created, %d updated, %d unchanged, %d skipped",
        owner.id,
        len(report.of("created")),
        len(report.of("updated")),
        len(report.of("unchanged")),
        len(report.of("skipped")),
    )
    return report


def skipped_reasons(report: ImportReport) -> dict[str, Sequence[str]]:
    """Per skipped template name, what we do not support (for a short summary)."""
    return {item.name: item.unsupported for item in report.of("skipped")}
