"""Templates: create, edit, delete, list, and render or preview them for a record and its recipients.

Operations take domain objects, flush and never commit (the request's commit point does). A template
is visible to its owner and, when ``shared``, to every user; only its owner (or an admin) changes it.
Every change bumps ``version``, which keys the compiled-template cache. Logs name templates by id,
never a rendered text (it may hold personal data).

Locales: a template has a default text (locale ``""``) and optional variants (``de``, ``de_AT``). A
render in ``de_AT`` uses the first text of ``de_AT``, ``de``, default.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from connector.db.models import User
from connector.oro.records import OroRecord
from connector.templates.errors import TemplateAccessDenied, TemplateInvalid, TemplateNotFound
from connector.templates.models import FORMATS, VISIBILITIES, EmailTemplate, TemplateVariant
from connector.templates.rendering import (
    Format,
    RenderContext,
    RenderedEmail,
    TemplateRenderer,
    check_record,
    default_renderer,
)
from connector.templates.variables import VariableCatalog, catalog, check_record_type

logger = logging.getLogger(__name__)

MAX_NAME = 200
_LOCALE = re.compile(
    r"^(?P<language>[a-z]{2,3})(?:_(?P<script>[A-Z][a-z]{3}))?(?:_(?P<region>[A-Z]{2}|\d{3}))?$"
)


class _Unchanged(enum.Enum):
    UNCHANGED = "unchanged"


UNCHANGED = _Unchanged.UNCHANGED
"""For :func:`edit_template`: leave this attribute as it is."""


@dataclass(frozen=True)
class TemplateText:
    """A subject and a body, for one locale."""

    subject: str
    body: str


# --- locales ------------------------------------------------------------------------------------


def normalize_locale(locale: str | None) -> str:
    """``de-at`` -> ``de_AT``, ``zh-hant-tw`` -> ``zh_Hant_TW``, ``""`` / None -> ``""`` (default).

    Raises TemplateInvalid for something that is not a locale.
    """
    text = (locale or "").strip().replace("-", "_")
    if not text:
        return ""
    parts = text.split("_")
    fixed = [parts[0].lower()]
    for part in parts[1:]:
        fixed.append(part.title() if len(part) == 4 else part.upper())
    normalized = "_".join(fixed)
    if not _LOCALE.match(normalized):
        raise TemplateInvalid(f"{locale!r} is not a locale", problems=("use a locale such as de or de_AT",))
    return normalized


def locale_chain(locale: str | None) -> list[str]:
    """The locales to try, most specific first, ending with the default: de_AT -> [de_AT, de, ""]."""
    normalized = normalize_locale(locale)
    chain: list[str] = []
    parts = normalized.split("_") if normalized else []
    while parts:
        chain.append("_".join(parts))
        parts.pop()
    chain.append("")
    return chain


def resolve_variant(template: EmailTemplate, locale: str | None) -> TemplateVariant:
    """The text a render in ``locale`` uses (falling back to the parent locale, then the default)."""
    for candidate in locale_chain(locale):
        variant = template.variant(candidate)
        if variant is not None:
            return variant
    raise TemplateNotFound(f"template {template.id} has no default text")


# --- validation -----------------------------------------------------------------------------------


def _unknown_variables(paths: Sequence[str], known: VariableCatalog) -> list[str]:
    kinds = {v.path: v.kind for v in (*known.entity, *known.system, *known.user)}
    unknown = []
    for path in paths:
        root, _, rest = path.partition(".")
        name, _, deeper = rest.partition(".")
        base = f"{root}.{name}"
        price_part = kinds.get(base) == "price" and deeper in ("amount", "currency")
        if base not in kinds or (deeper and not price_part):
            unknown.append(path)
    return unknown


def check_text(
    renderer: TemplateRenderer, text: TemplateText, *, format: Format, record_type: str | None
) -> list[str]:
    """Everything wrong with a subject and body for a template of ``record_type``, one sentence each."""
    problems: list[str] = []
    known = catalog(record_type)
    for part, source, part_format in (("subject", text.subject, "text"), ("body", text.body, format)):
        check = renderer.check(source, format=part_format)  # type: ignore[arg-type]
        problems.extend(f"{part}, {problem}" for problem in check.problems)
        for path in _unknown_variables(check.variables, known):
            where = f"{known.label.lower()} templates" if record_type else "templates for no record"
            problems.append(f"{part}: {path} is not a variable of {where}")
    return problems


def _validated(
    renderer: TemplateRenderer, text: TemplateText, *, format: str, record_type: str | None
) -> TemplateText:
    if format not in FORMATS:
        raise TemplateInvalid(f"the format must be one of {', '.join(FORMATS)}")
    if not text.body.strip():
        raise TemplateInvalid("a template needs a body", problems=("the body is empty",))
    unstorable = [
        part for part, value in (("subject", text.subject), ("body", text.body)) if not _storable(value)
    ]
    if unstorable:
        raise TemplateInvalid(
            "the template holds characters that cannot be stored",
            problems=[f"the {part} holds a NUL or an unpaired surrogate character" for part in unstorable],
        )
    problems = check_text(renderer, text, format=format, record_type=record_type)  # type: ignore[arg-type]
    if problems:
        raise TemplateInvalid("the template cannot be used as written", problems=problems)
    return text


def _storable(text: str) -> bool:
    """Whether both databases can keep ``text``: PostgreSQL refuses NUL, and no encoder takes a lone
    surrogate (pasted text from some editors carries either)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_name(name: str) -> str:
    name = name.strip()
    if not _storable(name):
        raise TemplateInvalid("a template's name cannot hold a NUL or an unpaired surrogate character")
    if not name or len(name) > MAX_NAME:
        raise TemplateInvalid(f"a template needs a name of 1 to {MAX_NAME} characters")
    return name


def _check_visibility(visibility: str) -> str:
    if visibility not in VISIBILITIES:
        raise TemplateInvalid(f"the visibility must be one of {', '.join(VISIBILITIES)}")
    return visibility


def _record_type(record_type: str | None) -> str | None:
    try:
        return check_record_type(record_type)
    except ValueError as exc:
        raise TemplateInvalid(str(exc)) from exc


# --- access -----------------------------------------------------------------------------------------


def can_see(user: User, template: EmailTemplate) -> bool:
    return template.owner_id == user.id or template.visibility == "shared"


def _require_change(user: User, template: EmailTemplate, as_admin: bool) -> None:
    if template.owner_id != user.id and not as_admin:
        if not can_see(user, template):
            raise TemplateNotFound(f"no template {template.id}")
        raise TemplateAccessDenied("only the template's owner can change it")


# --- operations -----------------------------------------------------------------------------------


def create_template(
    session: Session,
    *,
    owner: User,
    name: str,
    record_type: str | None,
    subject: str,
    body: str,
    format: str = "html",
    visibility: str = "private",
    variants: Mapping[str, TemplateText] | None = None,
    oro_template_id: str | None = None,
    renderer: TemplateRenderer | None = None,
) -> EmailTemplate:
    """A new template with its default text and any locale variants; refused if it does not compile
    or uses variables that records of ``record_type`` do not have."""
    renderer = renderer or default_renderer()
    record_type = _record_type(record_type)
    default = _validated(renderer, TemplateText(subject, body), format=format, record_type=record_type)
    template = EmailTemplate(
        name=_check_name(name),
        record_type=record_type,
        format=format,
        owner=owner,
        visibility=_check_visibility(visibility),
        version=1,
        oro_template_id=oro_template_id,
    )
    template.variants.append(TemplateVariant(locale="", subject=default.subject, body=default.body))
    for locale, text in (variants or {}).items():
        key = normalize_locale(locale)
        if not key:
            raise TemplateInvalid("the default text is given by subject and body, not as a variant")
        checked = _validated(renderer, text, format=format, record_type=record_type)
        template.variants.append(TemplateVariant(locale=key, subject=checked.subject, body=checked.body))
    session.add(template)
    session.flush()
    logger.info("template %s created by user %s (%s, %s)", template.id, owner.id, record_type, visibility)
    return template


def edit_template(
    session: Session,
    template: EmailTemplate,
    *,
    editor: User,
    name: str | _Unchanged = UNCHANGED,
    record_type: str | _Unchanged | None = UNCHANGED,
    format: str | _Unchanged = UNCHANGED,
    visibility: str | _Unchanged = UNCHANGED,
    subject: str | _Unchanged = UNCHANGED,
    body: str | _Unchanged = UNCHANGED,
    as_admin: bool = False,
    renderer: TemplateRenderer | None = None,
) -> EmailTemplate:
    """Change what is given; every text is checked again against the (new) record type and format."""
    _require_change(editor, template, as_admin)
    renderer = renderer or default_renderer()
    new_type = template.record_type if isinstance(record_type, _Unchanged) else _record_type(record_type)
    new_format = template.format if isinstance(format, _Unchanged) else format
    default = resolve_variant(template, "")
    new_default = TemplateText(
        default.subject if isinstance(subject, _Unchanged) else subject,
        default.body if isinstance(body, _Unchanged) else body,
    )
    _validated(renderer, new_default, format=new_format, record_type=new_type)
    if new_type != template.record_type or new_format != template.format:
        for variant in template.variants:
            if variant.locale:
                _validated(
                    renderer,
                    TemplateText(variant.subject, variant.body),
                    format=new_format,
                    record_type=new_type,
                )
    if not isinstance(name, _Unchanged):
        template.name = _check_name(name)
    if not isinstance(visibility, _Unchanged):
        template.visibility = _check_visibility(visibility)
    template.record_type, template.format = new_type, new_format
    default.subject, default.body = new_default.subject, new_default.body
    template.version += 1
    session.flush()
    logger.info("template %s edited by user %s (version %s)", template.id, editor.id, template.version)
    return template


def set_variant(
    session: Session,
    template: EmailTemplate,
    *,
    editor: User,
    locale: str,
    subject: str,
    body: str,
    as_admin: bool = False,
    renderer: TemplateRenderer | None = None,
) -> TemplateVariant:
    """Add or replace the text of one locale (``""`` replaces the default text)."""
    _require_change(editor, template, as_admin)
    key = normalize_locale(locale)
    text = _validated(
        renderer or default_renderer(),
        TemplateText(subject, body),
        format=template.format,
        record_type=template.record_type,
    )
    variant = template.variant(key)
    if variant is None:
        variant = TemplateVariant(locale=key)
        template.variants.append(variant)
    variant.subject, variant.body = text.subject, text.body
    template.version += 1
    session.flush()
    logger.info("template %s: %s text set by user %s", template.id, key or "default", editor.id)
    return variant


def remove_variant(
    session: Session, template: EmailTemplate, *, editor: User, locale: str, as_admin: bool = False
) -> None:
    """Remove a locale's text; renders in that locale fall back to its parent or the default."""
    _require_change(editor, template, as_admin)
    key = normalize_locale(locale)
    if not key:
        raise TemplateInvalid("the default text cannot be removed")
    variant = template.variant(key)
    if variant is None:
        raise TemplateNotFound(f"template {template.id} has no {key} text")
    template.variants.remove(variant)
    template.version += 1
    session.flush()
    logger.info("template %s: %s text removed by user %s", template.id, key, editor.id)


def delete_template(
    session: Session, template: EmailTemplate, *, editor: User, as_admin: bool = False
) -> None:
    _require_change(editor, template, as_admin)
    template_id = template.id
    session.delete(template)
    session.flush()
    logger.info("template %s deleted by user %s", template_id, editor.id)


_ANY: Any = object()


def list_templates(session: Session, *, user: User, record_type: str | None = _ANY) -> list[EmailTemplate]:
    """The templates ``user`` may use (own and shared), by name; ``record_type`` narrows to one type
    (None: templates for no record)."""
    query = (
        select(EmailTemplate)
        .where(or_(EmailTemplate.owner_id == user.id, EmailTemplate.visibility == "shared"))
        .options(selectinload(EmailTemplate.variants))
        .order_by(EmailTemplate.name, EmailTemplate.id)
    )
    if record_type is not _ANY:
        query = query.where(
            EmailTemplate.record_type.is_(None)
            if record_type is None
            else EmailTemplate.record_type == record_type
        )
    return list(session.scalars(query))


def get_template(session: Session, *, user: User, template_id: int) -> EmailTemplate:
    """The template if ``user`` may see it; TemplateNotFound otherwise (whether it exists or not)."""
    template = session.get(EmailTemplate, template_id)
    if template is None or not can_see(user, template):
        raise TemplateNotFound(f"no template {template_id}")
    return template


# --- rendering -------------------------------------------------------------------------------------


def render_template(
    template: EmailTemplate,
    *,
    context: RenderContext,
    locale: str | None = None,
    renderer: TemplateRenderer | None = None,
) -> RenderedEmail:
    """The template rendered for ``context`` in ``locale`` (with fallback). Check ``missing`` (or call
    ``require_complete()``) before sending."""
    check_record(template.record_type, context.record)
    variant = resolve_variant(template, locale)
    key = (template.id, template.version, variant.locale) if template.id is not None else None
    return (renderer or default_renderer()).render(
        subject=variant.subject,
        body=variant.body,
        format=template.format,  # type: ignore[arg-type]
        context=context,
        locale=variant.locale,
        key=key,
    )


@dataclass(frozen=True)
class Recipient:
    """Someone the reply goes to: their address, and the record the template is about for them (the
    contact or customer user behind the address; None: the context's record). ``locale`` picks their
    language."""

    email: str
    name: str = ""
    record: OroRecord | None = None
    locale: str | None = None


@dataclass(frozen=True)
class RecipientPreview:
    recipient: Recipient
    email: RenderedEmail

    def to_dict(self) -> dict[str, Any]:
        return {"to": self.recipient.email, "name": self.recipient.name, **self.email.to_dict()}


def preview_template(
    template: EmailTemplate,
    *,
    context: RenderContext,
    recipients: Sequence[Recipient],
    locale: str | None = None,
    renderer: TemplateRenderer | None = None,
) -> list[RecipientPreview]:
    """The email each recipient would get, with what is missing for each (one may have a phone number
    on record and the next not)."""
    previews = []
    for recipient in recipients:
        own = replace(context, record=recipient.record) if recipient.record is not None else context
        rendered = render_template(
            template, context=own, locale=recipient.locale or locale, renderer=renderer
        )
        previews.append(RecipientPreview(recipient, rendered))
    return previews
