"""Email templates over the JSON API: ``/api/v1/templates`` and ``/api/v1/template-variables``.

Routes on the API's blueprint (imported by :mod:`connector.api.routes`), thin like the others: parse,
call :mod:`connector.templates.operations`, serialise. Who sees and changes what is decided there: a
template is visible to its owner and, when shared, to everyone; only its owner changes it, or an
administrator (``ORO_CONNECTOR_ADMIN_EMAILS``) a shared one, as on the admin page. A template the
caller may not see answers 404, exactly as one that does not exist.

Previews render as the Gmail add-on inserts a template into a draft: the same sender (the user's
name and address), the same record, the same application URL, so a template reads the same in both.
Every change is in the audit log, as the admin page's are.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Response, jsonify, request

from connector.admin.operations import is_admin
from connector.api import schemas
from connector.api.auth import Caller, current_caller
from connector.api.errors import problem
from connector.api.routes import bp, json_body
from connector.api.schemas import InvalidInput, checked, to_plain
from connector.app_services import services
from connector.audit.operations import record_audit
from connector.db import db
from connector.mail.compose import html_to_text
from connector.oro import OroRecord
from connector.oro.records import RECORD_TYPES
from connector.templates import operations as template_ops
from connector.templates.errors import (
    TemplateAccessDenied,
    TemplateError,
    TemplateFieldsMissing,
    TemplateInvalid,
    TemplateNotFound,
)
from connector.templates.models import EmailTemplate
from connector.templates.rendering import RenderContext, Sender
from connector.templates.variables import all_catalogs, catalog

logger = logging.getLogger(__name__)

TEMPLATE_STATUS: dict[type[TemplateError], int] = {
    TemplateNotFound: 404,
    TemplateAccessDenied: 403,
}
"""Every other template error is about the template's text or its render: 422."""


@bp.errorhandler(TemplateError)
def _template_error(exc: TemplateError) -> Response:
    extra: dict[str, Any] = {}
    if isinstance(exc, TemplateInvalid) and exc.problems:
        extra["problems"] = list(exc.problems)
    if isinstance(exc, TemplateFieldsMissing):
        extra["missing"] = list(exc.missing)
    return problem(exc.code, exc.message, status=TEMPLATE_STATUS.get(type(exc), 422), **extra)


def _as_admin(caller: Caller) -> bool:
    return is_admin(services().effective_settings(), caller.user.email)


def _template(caller: Caller, template_id: int) -> EmailTemplate:
    if not 1 <= template_id <= schemas.MAX_TEMPLATE_ID:  # a database integer holds no more
        raise TemplateNotFound(f"no template {template_id}")
    return template_ops.get_template(db.session, user=caller.user, template_id=template_id)


def _can_change(caller: Caller, template: EmailTemplate, as_admin: bool) -> bool:
    # What connector.templates.operations lets pass for a template the caller sees: its owner, or an
    # administrator (who sees others' templates only when they are shared).
    return template.owner_id == caller.user.id or as_admin


def _detail(caller: Caller, template: EmailTemplate, as_admin: bool) -> Response:
    detail = schemas.template_detail(
        template, user=caller.user, can_change=_can_change(caller, template, as_admin)
    )
    return jsonify(to_plain(detail))


def _audit(caller: Caller, action: str, template: EmailTemplate, **details: Any) -> None:
    record_audit(
        db.session,
        actor=caller.user,
        action=action,
        subject=f"template:{template.id}",
        details={
            "name": template.name,
            "owner": template.owner_id,
            "visibility": template.visibility,
            "version": template.version,
            **details,
        },
    )


def _body(schema_name: str) -> dict[str, Any]:
    data = json_body(schema_name)
    schemas.template_texts_valid(data)
    return data


# --- templates ------------------------------------------------------------------------------------------


@bp.get("/templates")
def list_templates() -> Response:
    caller = current_caller()
    query = checked(request.args.to_dict(), "TemplateListQuery")
    wanted = query.get("record_type")
    found = (
        template_ops.list_templates(db.session, user=caller.user)
        if wanted is None
        else template_ops.list_templates(
            db.session, user=caller.user, record_type=None if wanted == "none" else wanted
        )
    )
    as_admin = _as_admin(caller)
    return jsonify(
        to_plain(
            schemas.TemplateList(
                tuple(
                    schemas.template_summary(t, user=caller.user, can_change=_can_change(caller, t, as_admin))
                    for t in found
                )
            )
        )
    )


@bp.post("/templates")
def create_template() -> Response:
    caller = current_caller()
    data = _body("TemplateCreate")
    template = template_ops.create_template(
        db.session,
        owner=caller.user,
        name=data["name"],
        record_type=data.get("record_type"),
        subject=data["subject"],
        body=data["body"],
        format=data.get("format", "html"),
        visibility=data.get("visibility", "private"),
        variants={
            v["locale"]: template_ops.TemplateText(v["subject"], v["body"]) for v in data.get("variants", [])
        },
    )
    _audit(caller, "template.create", template)
    response = _detail(caller, template, _as_admin(caller))
    response.status_code = 201
    response.headers["Location"] = f"{request.base_url.rstrip('/')}/{template.id}"
    return response


@bp.get("/templates/<int:template_id>")
def get_template(template_id: int) -> Response:
    caller = current_caller()
    return _detail(caller, _template(caller, template_id), _as_admin(caller))


@bp.patch("/templates/<int:template_id>")
def edit_template(template_id: int) -> Response:
    caller = current_caller()
    template = _template(caller, template_id)
    data = _body("TemplateEdit")
    as_admin = _as_admin(caller)
    template_ops.edit_template(
        db.session,
        template,
        editor=caller.user,
        as_admin=as_admin,
        **data,  # only the schema's fields
    )
    _audit(caller, "template.edit", template, changed=sorted(data))
    return _detail(caller, template, as_admin)


@bp.delete("/templates/<int:template_id>")
def delete_template(template_id: int) -> Response:
    caller = current_caller()
    template = _template(caller, template_id)
    _audit(caller, "template.delete", template)
    template_ops.delete_template(db.session, template, editor=caller.user, as_admin=_as_admin(caller))
    return Response(status=204)


# --- locale variants ------------------------------------------------------------------------------------


@bp.put("/templates/<int:template_id>/variants/<locale>")
def set_variant(template_id: int, locale: str) -> Response:
    caller = current_caller()
    template = _template(caller, template_id)
    key = _locale(locale)
    data = _body("TemplateVariantText")
    as_admin = _as_admin(caller)
    template_ops.set_variant(
        db.session,
        template,
        editor=caller.user,
        locale=key,
        subject=data["subject"],
        body=data["body"],
        as_admin=as_admin,
    )
    _audit(caller, "template.variant_set", template, locale=key)
    return _detail(caller, template, as_admin)


@bp.delete("/templates/<int:template_id>/variants/<locale>")
def remove_variant(template_id: int, locale: str) -> Response:
    caller = current_caller()
    template = _template(caller, template_id)
    key = _locale(locale)
    template_ops.remove_variant(
        db.session, template, editor=caller.user, locale=key, as_admin=_as_admin(caller)
    )
    _audit(caller, "template.variant_remove", template, locale=key)
    return Response(status=204)


def _locale(text: str) -> str:
    if len(text) > 20 or not re.fullmatch(schemas.LOCALE_PATTERN, text):
        raise InvalidInput([{"field": "locale", "message": "is not a locale such as de or de-AT"}])
    return template_ops.normalize_locale(text)


# --- previews -------------------------------------------------------------------------------------------


@bp.post("/templates/<int:template_id>/preview")
def preview_template(template_id: int) -> Response:
    """The email each recipient would get, with the fields missing for each named."""
    caller = current_caller()
    template = _template(caller, template_id)
    data = _body("TemplatePreviewRequest")
    records = _records(caller, [data.get("record"), *(r.get("record") for r in data["recipients"])])
    about = records.get(_ref(data.get("record")))
    context = RenderContext(
        record=about,
        sender=Sender(name=caller.user.display_name or caller.mailbox, email=caller.mailbox),
        app_url=services().settings.public_url.rstrip("/"),
    )
    recipients = [
        template_ops.Recipient(
            email=r["email"],
            name=r.get("name", ""),
            record=records.get(_ref(r.get("record"))) or about,
            locale=r.get("locale"),
        )
        for r in data["recipients"]
    ]
    previews = template_ops.preview_template(
        template, context=context, recipients=recipients, locale=data.get("locale")
    )
    return jsonify(to_plain(schemas.template_previews(template, previews, plain_text=html_to_text)))


def _ref(data: dict[str, str] | None) -> tuple[str, str] | None:
    return (data["type"], data["id"]) if data else None


def _records(caller: Caller, refs: list[dict[str, str] | None]) -> dict[tuple[str, str] | None, OroRecord]:
    """Each record named, read once from Oro as the caller (Oro's permissions apply)."""
    wanted = list(dict.fromkeys(ref for ref in map(_ref, refs) if ref is not None))
    if not wanted:
        return {}
    oro = services().oro_for(caller.user)
    return {(kind, id): oro.get_record(RECORD_TYPES[kind], id=id) for kind, id in wanted}


# --- the variable catalog -------------------------------------------------------------------------------


@bp.get("/template-variables")
def template_variables() -> Response:
    current_caller()
    query = checked(request.args.to_dict(), "TemplateListQuery")
    wanted = query.get("record_type")
    found = all_catalogs() if wanted is None else [catalog(None if wanted == "none" else wanted)]
    return jsonify(
        to_plain(schemas.TemplateVariableCatalogs(tuple(schemas.variable_catalog(c) for c in found)))
    )
