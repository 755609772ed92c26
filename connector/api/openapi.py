"""The OpenAPI 3.1 document of ``/api/v1``, built from the same schemas the API validates and serialises.

A test compares its paths and methods with the application's URL map, and a property-based run
(schemathesis) checks the answers against it.
"""

from __future__ import annotations

from typing import Any

from connector.api.errors import PROBLEM_JSON
from connector.api.schemas import (
    CHOICE_REQUEST,
    LOCALE,
    MAX_TEMPLATE_ID,
    REPLY_RESPONSE_SCHEMAS,
    REQUEST_SCHEMAS,
    RESPONSE_ROOTS,
    TEMPLATE_LIST_QUERY,
    dataclass_schemas,
)

API_VERSION = "1.0.0"

PROBLEM: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `code` is stable, `detail` is a sentence for the person.",
    "required": ["type", "title", "status", "code", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string"},
        "detail": {"type": ["string", "null"]},
        "reason": {"type": "string", "description": "Why a token was refused (`invalid_token`)."},
        "errors": {
            "type": "array",
            "description": "Each field at fault (`invalid_request`).",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "connect_url": {
            "type": ["string", "null"],
            "description": "Opens the Connect-to-Oro dialog (`oro_not_connected`).",
        },
        "retryable": {"type": "boolean"},
        "retry_after": {"type": "number"},
        "reasons": {"type": "array", "items": {"type": "string"}},
        "problems": {
            "type": "array",
            "items": {"type": "string"},
            "description": "What is wrong with a template's text, one sentence each (`template_invalid`).",
        },
        "missing": {
            "type": "array",
            "items": {"type": "string"},
            "description": "The fields a render left empty (`template_fields_missing`).",
        },
    },
}

_ERRORS = {
    "400": "The body or query does not match the schema (`invalid_request`).",
    "401": "The Entra access token is missing or refused (`invalid_token`).",
    "403": "Connect to Oro first (`oro_not_connected`), or Oro's permissions say no.",
    "404": "Oro has no such record (`oro_not_found`).",
    "409": "Linking refused for this Oro or in progress elsewhere (`oro_too_old`, `link_in_progress`).",
    "415": "The body is not JSON.",
    "422": "Oro refused the request (`oro_rejected`, `oro_refused`, `message_unusable`).",
    "502": "Oro could not be reached (`oro_unavailable`).",
    "503": "Microsoft's sign-in or Oro is unavailable for now; retry (`identity_unavailable`).",
}
_READ_ERRORS = ("400", "401", "403", "404", "502", "503")
_WRITE_ERRORS = ("400", "401", "403", "404", "409", "415", "422", "502", "503")


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _operation(
    operation_id: str,
    summary: str,
    *,
    ok: tuple[str, str | None],
    errors: tuple[str, ...],
    body: str | None = None,
    parameters: list[dict[str, Any]] | None = None,
    secured: bool = True,
    extra_ok: tuple[str, ...] = (),
) -> dict[str, Any]:
    status, schema = ok
    responses: dict[str, Any] = {}
    for code in (status, *extra_ok):
        responses[code] = (
            {"description": "Done."}
            if schema is None
            else {
                "description": "Done.",
                "content": _json(_ref(schema)),
            }
        )
    for code in errors:
        responses[code] = {"$ref": f"#/components/responses/E{code}"}
    operation: dict[str, Any] = {"operationId": operation_id, "summary": summary, "responses": responses}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": _json(_ref(body))}
    if parameters:
        operation["parameters"] = parameters
    if not secured:
        operation["security"] = []
    return operation


def _query(name: str, schema: dict[str, Any], description: str, *, required: bool = True) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def openapi_document(*, server_url: str = "") -> dict[str, Any]:
    schemas: dict[str, Any] = {**REQUEST_SCHEMAS, **dataclass_schemas(*RESPONSE_ROOTS), "Problem": PROBLEM}
    paths: dict[str, Any] = {
        "/api/v1/me": {
            "get": _operation(
                "me",
                "Who the caller is, and whether they are connected to Oro.",
                ok=("200", "Me"),
                errors=("401", "503"),
            )
        },
        "/api/v1/sidebar": {
            "post": _operation(
                "sidebar",
                "The sidebar of the open email: participants matched to Oro records, commerce context, "
                "the records the thread is linked to. Opening a message of a linked thread links it too.",
                ok=("200", "SidebarView"),
                body="SidebarRequest",
                errors=_WRITE_ERRORS,
            )
        },
        "/api/v1/search": {
            "get": _operation(
                "search",
                "Free-text search across Oro's records, a page at a time.",
                ok=("200", "SearchResults"),
                errors=_READ_ERRORS,
                parameters=[
                    _query(
                        "q",
                        {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S"},
                        "What to look for.",
                    ),
                    _query(
                        "page",
                        {"type": "integer", "minimum": 1, "maximum": 100, "default": 1},
                        "Which page of results (10 a page).",
                        required=False,
                    ),
                ],
            )
        },
        "/api/v1/links": {
            "post": _operation(
                "link",
                "Link the open email's thread to an Oro record (Oro's add context); logs the email into "
                "Oro when Oro does not have it. Repeating it writes nothing twice.",
                ok=("200", "LinkResult"),
                body="LinkRequest",
                errors=_WRITE_ERRORS,
            ),
            "delete": _operation(
                "unlink",
                "Remove an Oro record from the thread's context, in Oro and locally.",
                ok=("200", "UnlinkResult"),
                body="LinkRequest",
                errors=_WRITE_ERRORS,
            ),
        },
        "/api/v1/notes": {
            "post": _operation(
                "add_note",
                "Add a note (plain text) to an Oro record. Send `Idempotency-Key` to make a deliberate "
                "repeat a second note; otherwise the same text within ten minutes is one note.",
                ok=("201", "NoteResult"),
                extra_ok=("200",),
                body="NoteRequest",
                errors=_WRITE_ERRORS,
            )
        },
        "/api/v1/records": {
            "post": _operation(
                "create_record",
                "Create a lead, contact, case, opportunity or task from a participant of the open email, "
                "then link the thread to it. Unless `confirm`, records that look like the one asked for "
                "come back as `duplicates` (200) and nothing is written; otherwise the answer holds the "
                "`created` record and the thread's `link` (201, or 200 when a repeat found the record it "
                "had made). Send `Idempotency-Key` to tell a deliberate second record from a retry.",
                ok=("201", "CreateOutcome"),
                extra_ok=("200",),
                body="CreateRequest",
                errors=_WRITE_ERRORS,
            )
        },
        "/api/v1/choices": {
            "put": _operation(
                "choose",
                "Remember which record an address that several records share means, for the caller.",
                ok=("200", "ChoiceMade"),
                body="ChoiceRequest",
                errors=("400", "401", "415", "503"),
            ),
            "delete": _operation(
                "forget_choice",
                "Forget the caller's choice for an address and record type.",
                ok=("204", None),
                errors=("400", "401", "503"),
                parameters=[
                    _query("address", CHOICE_REQUEST["properties"]["address"], "The shared address."),
                    _query("record_type", CHOICE_REQUEST["properties"]["record_type"], "The record type."),
                ],
            ),
        },
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document.",
                "security": [],
                "responses": {
                    "200": {"description": "The OpenAPI document.", "content": _json({"type": "object"})}
                },
            }
        },
    }
    paths.update(template_paths())
    paths.update(reply_paths())
    schemas.update(REPLY_RESPONSE_SCHEMAS)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Oro Connector API",
            "version": API_VERSION,
            "description": "What the Outlook add-in's task pane calls. Authenticate with an Entra access "
            "token for this API (scope `access_as_user`), obtained through nested app authentication.",
        },
        "servers": [{"url": server_url.rstrip("/") or "/"}],
        "security": [{"entra": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "entra": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "Microsoft Entra v2.0 access token; audience the connector's client id.",
                }
            },
            "schemas": schemas,
            "responses": {
                **{
                    f"E{code}": {"description": text, "content": {PROBLEM_JSON: {"schema": _ref("Problem")}}}
                    for code, text in _ERRORS.items()
                },
                **{
                    f"T{code}": {"description": text, "content": {PROBLEM_JSON: {"schema": _ref("Problem")}}}
                    for code, text in _TEMPLATE_ERRORS.items()
                },
            },
        },
    }


# --- email templates (connector/api/templates.py) -------------------------------------------------------

_TEMPLATE_ERRORS = {
    "403": "Only the template's owner (or an administrator, for a shared template) may change it "
    "(`template_access_denied`); or Oro's permissions hide the record (`oro_forbidden`), or connect to "
    "Oro first (`oro_not_connected`).",
    "404": "No such template, or not one you may see (`template_not_found`); or Oro has no such record "
    "(`oro_not_found`).",
    "422": "The template's text cannot be used (`template_invalid`, with `problems`), or it cannot be "
    "rendered for this record (`template_render_failed`, `template_unsafe`).",
}


def _template_operation(operation_id: str, summary: str, **options: Any) -> dict[str, Any]:
    """An operation whose 403, 404 and 422 answers say what they mean for templates."""
    operation = _operation(operation_id, summary, **options)
    for code in _TEMPLATE_ERRORS:
        if code in operation["responses"]:
            operation["responses"][code] = {"$ref": f"#/components/responses/T{code}"}
    return operation


def _path(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def template_paths() -> dict[str, Any]:
    template_id = _path(
        "template_id", {"type": "integer", "minimum": 1, "maximum": MAX_TEMPLATE_ID}, "The template's id."
    )
    locale = _path("locale", LOCALE, "The locale of the text, such as `de` or `de-AT`.")
    record_type = _query(
        "record_type",
        TEMPLATE_LIST_QUERY["properties"]["record_type"],
        "Only templates for this record type (`none`: templates for no record).",
        required=False,
    )
    read = ("400", "401", "404", "503")
    write = ("400", "401", "403", "404", "415", "422", "503")
    return {
        "/api/v1/templates": {
            "get": _template_operation(
                "list_templates",
                "The templates the caller may use (their own and the shared ones), by name.",
                ok=("200", "TemplateList"),
                errors=("400", "401", "503"),
                parameters=[record_type],
            ),
            "post": _template_operation(
                "create_template",
                "A new template owned by the caller. Refused (`template_invalid`, with `problems`) when its "
                "text does not compile or uses a variable that its record type does not have.",
                ok=("201", "TemplateDetail"),
                body="TemplateCreate",
                errors=("400", "401", "415", "422", "503"),
            ),
        },
        "/api/v1/templates/{template_id}": {
            "get": _template_operation(
                "get_template",
                "A template with its texts.",
                ok=("200", "TemplateDetail"),
                errors=read,
                parameters=[template_id],
            ),
            "patch": _template_operation(
                "edit_template",
                "Change a template's name, record type, format, visibility or default text; every text is "
                "checked again.",
                ok=("200", "TemplateDetail"),
                body="TemplateEdit",
                errors=write,
                parameters=[template_id],
            ),
            "delete": _template_operation(
                "delete_template",
                "Delete a template.",
                ok=("204", None),
                errors=("401", "403", "404", "503"),
                parameters=[template_id],
            ),
        },
        "/api/v1/templates/{template_id}/variants/{locale}": {
            "put": _template_operation(
                "set_template_variant",
                "Add or replace the text of one locale.",
                ok=("200", "TemplateDetail"),
                body="TemplateVariantText",
                errors=write,
                parameters=[template_id, locale],
            ),
            "delete": _template_operation(
                "remove_template_variant",
                "Remove a locale's text; renders in that locale fall back to its parent, then the default.",
                ok=("204", None),
                errors=("400", "401", "403", "404", "422", "503"),
                parameters=[template_id, locale],
            ),
        },
        "/api/v1/templates/{template_id}/preview": {
            "post": _template_operation(
                "preview_template",
                "The email each recipient would get, rendered for a record read from Oro as the caller: "
                "subject, body, the plain-text alternative of an HTML body, and the fields `missing` "
                "(named, with their labels). A preview with missing fields is not `ready`: sending it is "
                "refused until they are filled in Oro or taken out of the template.",
                ok=("200", "TemplatePreviews"),
                body="TemplatePreviewRequest",
                errors=("400", "401", "403", "404", "415", "422", "502", "503"),
                parameters=[template_id],
            ),
        },
        "/api/v1/template-variables": {
            "get": _template_operation(
                "template_variables",
                "The variables a template may use, per record type: `entity.*` of the record, "
                "`system.*` and `user.*` (the sender).",
                ok=("200", "TemplateVariableCatalogs"),
                errors=("400", "401", "503"),
                parameters=[record_type],
            ),
        },
    }


# --- replies sent by the connector (connector/api/replies.py) -------------------------------------------


def reply_paths() -> dict[str, Any]:
    send_id = _path("send_id", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}, "The reply's id.")
    conversation = _query(
        "conversationId", {"type": "string", "minLength": 1, "maxLength": 400}, "Office.js `conversationId`."
    )
    return {
        "/api/v1/replies": {
            "post": _operation(
                "send_reply",
                "Record a reply to the open message and answer at once (202); the connector sends it through "
                "Graph exactly once, retrying when Graph fails. A template with a field that has no value is "
                "refused (422 `template_fields_missing`, with `missing`); a caller whose Outlook has not "
                "allowed sending gets 403 `graph_consent_required`.",
                ok=("202", "SendAnswer"),
                body="ReplyRequest",
                errors=("400", "401", "403", "404", "415", "422", "502", "503"),
            ),
            "get": _operation(
                "list_replies",
                "The caller's replies in a conversation, newest first, with their state.",
                ok=("200", "SendList"),
                errors=("400", "401", "503"),
                parameters=[conversation],
            ),
        },
        "/api/v1/replies/{send_id}/retry": {
            "post": _operation(
                "retry_reply",
                "Try a failed reply again now (409 when it is not failed).",
                ok=("200", "SendAnswer"),
                errors=("401", "404", "409", "503"),
                parameters=[send_id],
            )
        },
        "/api/v1/replies/{send_id}/dismiss": {
            "post": _operation(
                "dismiss_reply",
                "Stop showing a failed reply; it will not be sent (409 when it is not failed).",
                ok=("200", "SendAnswer"),
                errors=("401", "404", "409", "503"),
                parameters=[send_id],
            )
        },
    }
