"""Replies sent by the connector for the Outlook pane, ``/api/v1/replies``: recorded, then sent once.

``POST /replies`` renders the template (refusing, with the fields named, when one is missing),
records the reply in the outbox, commits, and answers 202 at once: a runner sends it through Graph
(createReply with our Message-ID, then send) and retries it; the pane polls ``GET /replies`` for the
conversation to show each reply's state. The ``key`` is made by the pane per click, so a retried
request or a double click is one email.

Request body of ``POST /replies``::

    {"key": "<uuid per click>", "message": <the open message, as for /sidebar>,
     "template_id": 3, "record": {"type": "order", "id": "7"},   # or "text": "plain reply"
     "to": ["a@b.example"], "cc": [], "locale": "de_DE"}       # optional
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, current_app, g, jsonify, request

from connector.api.auth import Caller, current_caller
from connector.api.errors import ApiError
from connector.api.routes import bp, json_body, open_message
from connector.api.schemas import InvalidInput
from connector.app_services import services
from connector.db import db
from connector.mail.addresses import EmailAddress
from connector.mail.compose import message_id_domain, reply_recipients, reply_subject
from connector.oro import RecordRef
from connector.outbox.operations import (
    OutboxError,
    Reply,
    ReplyBody,
    SendConflict,
    SendNotFound,
    dismiss_send,
    enqueue_reply,
    record_of,
    retry_send,
    sends_in_thread,
    templated_reply_body,
)
from connector.security.microsoft import GraphTokenRefused
from connector.templates.errors import TemplateError, TemplateFieldsMissing, TemplateNotFound
from connector.templates.rendering import Sender

logger = logging.getLogger(__name__)


@bp.post("/replies")
def send_reply() -> Response:
    caller = current_caller()
    data = json_body("ReplyRequest")
    message = open_message(caller, data["message"])
    context = message.context
    if not message.item_id:
        raise InvalidInput([{"field": "message.item_id", "message": "is required to reply through Outlook"}])
    to = _addresses(data.get("to"), "to") or reply_recipients(
        caller.mailbox, sender=context.sender, to=context.to
    )
    if not to:
        raise InvalidInput([{"field": "to", "message": "names nobody to reply to"}])
    body = _body(caller, data)
    db.session.commit()  # SQLite: the token cache is saved by its own connection; hold no write lock
    _prime_graph_token(caller)
    reply = Reply(
        provider="graph",
        mailbox=caller.mailbox,
        account=caller.entra.key,
        reply_to=message.item_id,
        thread_id=context.thread_id,
        subject=reply_subject(context.subject),
        to=to,
        cc=_addresses(data.get("cc"), "cc"),
        html=body.html,
        text=body.text,
        in_reply_to=context.message_id,
        references=tuple(dict.fromkeys((*context.references, context.message_id))),
        template_id=body.template_id,
        template_name=body.template_name,
    )
    domain = message_id_domain(services().settings.public_url)
    try:
        row = enqueue_reply(db.session, user=caller.user, key=data["key"], reply=reply, domain=domain)
    except OutboxError as exc:
        raise ApiError("invalid_request", str(exc), status=400) from None
    db.session.commit()  # recorded before anything can send it
    current_app.extensions["connector.wakeup"].notify()
    response = jsonify({"send": record_of(row).to_dict()})
    response.status_code = 202
    return response


@bp.get("/replies")
def list_replies() -> Response:
    caller = current_caller()
    thread = request.args.get("conversationId", "").strip()
    if not thread or len(thread) > 400:
        raise InvalidInput([{"field": "conversationId", "message": "is required (at most 400 characters)"}])
    sends = sends_in_thread(db.session, user=caller.user, thread_id=thread)
    return jsonify({"sends": [s.to_dict() for s in sends]})


@bp.post("/replies/<int:send_id>/retry")
def retry_reply(send_id: int) -> Response:
    caller = current_caller()
    row = _own_action(lambda: retry_send(db.session, send_id=send_id, user=caller.user))
    db.session.commit()
    current_app.extensions["connector.wakeup"].notify()
    return jsonify({"send": record_of(row).to_dict()})


@bp.post("/replies/<int:send_id>/dismiss")
def dismiss_reply(send_id: int) -> Response:
    caller = current_caller()
    row = _own_action(lambda: dismiss_send(db.session, send_id=send_id, user=caller.user))
    return jsonify({"send": record_of(row).to_dict()})


def _own_action(action: Any) -> Any:
    try:
        return action()
    except SendNotFound as exc:
        raise ApiError("not_found", str(exc), status=404) from None
    except SendConflict as exc:
        raise ApiError("conflict", str(exc), status=409) from None


def _addresses(values: list[str] | None, field: str) -> tuple[EmailAddress, ...]:
    found = []
    for index, text in enumerate(values or []):
        address = EmailAddress.parse(text)
        if address is None:
            raise InvalidInput([{"field": f"{field}[{index}]", "message": "is not an email address"}])
        found.append(address)
    return tuple(found)


def _body(caller: Caller, data: dict[str, Any]) -> ReplyBody:
    """The reply's text, or its template rendered strictly (a missing field refuses the send)."""
    template_id = data.get("template_id")
    if template_id is None:
        text = (data.get("text") or "").strip()
        if not text:
            raise InvalidInput([{"field": "text", "message": "is required when no template is chosen"}])
        return ReplyBody(text)
    wanted = data.get("record")
    try:
        return templated_reply_body(
            db.session,
            services().oro_for(caller.user),
            user=caller.user,
            template_id=int(template_id),
            record=RecordRef(wanted["type"], wanted["id"]) if wanted else None,
            # The same sender and app URL as the Gmail add-on and the template preview, so a reply
            # reads the same whichever host sent it.
            sender=Sender(name=caller.user.display_name or caller.mailbox, email=caller.mailbox),
            app_url=services().settings.public_url,
            locale=data.get("locale"),
        )
    except TemplateNotFound:
        raise ApiError("not_found", f"There is no template {template_id} you may use.", status=404) from None
    except LookupError:
        raise InvalidInput([{"field": "record.type", "message": "is not a record type"}]) from None
    except TemplateFieldsMissing as exc:
        raise ApiError(
            "template_fields_missing",
            f"Fill in or remove these fields before sending: {', '.join(exc.missing)}.",
            status=422,
            missing=list(exc.missing),
        ) from None
    except TemplateError as exc:
        raise ApiError("template_unusable", str(exc), status=422) from None


def _prime_graph_token(caller: Caller) -> None:
    """Exchange the pane's token on-behalf-of now, so the runner finds a renewable Graph token in the
    user's cache; a refusal (consent, conditional access) is the user's to fix, and said now."""
    assertion = (request.headers.get("Authorization") or "").partition(" ")[2].strip()
    try:
        services().graph_broker.token_for(caller.entra, assertion=assertion)
    except GraphTokenRefused as exc:
        raise ApiError(
            "graph_consent_required",
            "Outlook has not allowed the connector to send mail for you yet: " + exc.description,
            status=403,
            claims=exc.claims,
        ) from None
    g.graph_token_primed = True
