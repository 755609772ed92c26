"""The sandbox Graph's HTTP face (mounted at ``/graph``; paths below are under ``/graph/v1.0``).

- ``GET   /me/messages/{id}``                 a message of the caller's mailbox (``Prefer`` text body)
- ``GET   /me/messages?$filter=...``          ``internetMessageId eq '...'`` or ``conversationId eq '...'``
- ``POST  /me/messages/{id}/reply``           ``comment`` or ``message``, not both (202)
- ``POST  /me/messages/{id}/createReply``     a draft reply (201; needs Mail.ReadWrite)
- ``PATCH /me/messages/{draftId}``            change the draft's body or recipients
- ``POST  /me/messages/{draftId}/send``       send the draft (202)
- ``POST  /me/sendMail``                      a new message (202)
- ``GET   /me/mailFolders/sentitems/messages`` what was sent

Tokens are Graph tokens of the sandbox's Entra (``world.entra.verify_graph_token``); the caller's
mailbox is their ``preferred_username``. Errors have Graph's shape, ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from connector.sandbox.conversations import Address, SampleMessage
from connector.sandbox.entra import SandboxTokenRejected
from connector.sandbox.graph.store import GraphMailboxes, SentMessage

_FILTER = re.compile(r"^\s*(internetMessageId|conversationId)\s+eq\s+'((?:[^']|'')*)'\s*$")


class GraphFault(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def create_graph_blueprint(world: Any) -> Blueprint:
    bp = Blueprint("sandbox_graph", __name__)

    def mailboxes() -> GraphMailboxes:
        state: GraphMailboxes = world.graph
        return state

    @bp.errorhandler(GraphFault)
    def fault(exc: GraphFault) -> tuple[Response, int]:
        return jsonify({"error": {"code": exc.code, "message": exc.message}}), exc.status

    @bp.before_request
    def authenticate() -> tuple[Response, int] | None:
        wait = mailboxes().next_throttle()
        if wait is not None:
            answer = jsonify(
                {"error": {"code": "TooManyRequests", "message": "Application is over its limit."}}
            )
            answer.headers["Retry-After"] = str(wait)
            return answer, 429
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise GraphFault(401, "InvalidAuthenticationToken", "Access token is empty.")
        try:
            claims = world.entra.verify_graph_token(token.strip())
        except SandboxTokenRejected as exc:
            raise GraphFault(
                401, "InvalidAuthenticationToken", f"Access token validation failure: {exc}"
            ) from None
        g.graph_mailbox = str(claims.get("preferred_username") or "").lower()
        g.graph_scopes = set(str(claims.get("scp", "")).split())
        return None

    def need(*scopes: str) -> None:
        if not g.graph_scopes.intersection(scopes):
            raise GraphFault(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")

    def sample(message_id: str) -> SampleMessage:
        for thread in world.threads_of(g.graph_mailbox):
            for message in thread.messages:
                if message.id == message_id:
                    return message
        raise GraphFault(404, "ErrorItemNotFound", "The specified object was not found in the store.")

    def text_wanted() -> bool:
        return 'outlook.body-content-type="text"' in request.headers.get("Prefer", "")

    def resource(m: SampleMessage) -> dict[str, Any]:
        def recipient(a: Address) -> dict[str, Any]:
            return {"emailAddress": {"name": a.name, "address": a.email}}

        headers = [{"name": "Message-ID", "value": m.message_id}]
        if m.in_reply_to:
            headers.append({"name": "In-Reply-To", "value": m.in_reply_to})
        if m.references:
            headers.append({"name": "References", "value": " ".join(m.references)})
        body = (
            {"contentType": "text", "content": m.body_text}
            if text_wanted()
            else {
                "contentType": "html",
                "content": "<html><body><pre>" + _escape(m.body_text) + "</pre></body></html>",
            }
        )
        stamp = m.date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "id": m.id,
            "conversationId": m.thread_id,
            "internetMessageId": m.message_id,
            "subject": m.subject,
            "from": recipient(m.sender),
            "sender": recipient(m.sender),
            "toRecipients": [recipient(a) for a in m.to],
            "ccRecipients": [recipient(a) for a in m.cc],
            "receivedDateTime": stamp,
            "sentDateTime": stamp,
            "bodyPreview": m.snippet,
            "body": body,
            "internetMessageHeaders": headers,
            "isDraft": False,
        }

    def sent_resource(m: SentMessage) -> dict[str, Any]:
        return {
            "id": m.id,
            "conversationId": m.conversation_id,
            "subject": m.subject,
            "body": m.body,
            "toRecipients": m.to,
            "ccRecipients": m.cc,
            "internetMessageHeaders": m.headers,
            "isDraft": m.is_draft,
            "sentDateTime": m.sent_at.strftime("%Y-%m-%dT%H:%M:%SZ") if m.sent_at else None,
        }

    def body_json() -> dict[str, Any]:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise GraphFault(400, "RequestBodyRead", "The request body is not a JSON object.")
        return data

    def own_draft(draft_id: str) -> SentMessage:
        draft = mailboxes().messages.get(draft_id)
        if draft is None or draft.mailbox != g.graph_mailbox:
            raise GraphFault(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        return draft

    @bp.get("/v1.0/me/messages/<message_id>")
    def get_message(message_id: str) -> Response:
        need("Mail.Read", "Mail.ReadWrite")
        draft = mailboxes().messages.get(message_id)
        if draft is not None and draft.mailbox == g.graph_mailbox:
            return jsonify(sent_resource(draft))
        return jsonify(resource(sample(message_id)))

    @bp.get("/v1.0/me/messages")
    def list_messages() -> Response:
        need("Mail.Read", "Mail.ReadWrite")
        wanted: Callable[[SampleMessage], bool] = lambda _m: True  # noqa: E731
        expression = request.args.get("$filter", "")
        if expression:
            match = _FILTER.match(expression)
            if match is None:
                raise GraphFault(400, "BadRequest", "Invalid filter clause.")
            name, value = match.group(1), match.group(2).replace("''", "'")
            if name == "internetMessageId":
                wanted = lambda m: m.message_id == value  # noqa: E731
            else:
                wanted = lambda m: m.thread_id == value  # noqa: E731
        top = request.args.get("$top", "10")
        limit = int(top) if top.isdigit() else 10
        found = [m for t in world.threads_of(g.graph_mailbox) for m in t.messages if wanted(m)]
        return jsonify({"value": [resource(m) for m in found[:limit]]})

    @bp.post("/v1.0/me/messages/<message_id>/reply")
    def reply(message_id: str) -> tuple[str, int]:
        need("Mail.Send")
        original = sample(message_id)
        data = body_json()
        if "comment" in data and isinstance(data.get("message"), dict) and data["message"].get("body"):
            raise GraphFault(400, "ErrorInvalidRequest", "Send either comment or message.body, not both.")
        message = data.get("message") or {}
        text = str(data.get("comment") or (message.get("body") or {}).get("content") or "")
        mailboxes().add(
            SentMessage(
                id=mailboxes().new_id(),
                mailbox=g.graph_mailbox,
                subject=f"Re: {original.subject}",
                body={"contentType": "text", "content": text},
                to=message.get("toRecipients") or [{"emailAddress": {"address": original.sender.email}}],
                in_reply_to=original.id,
                conversation_id=original.thread_id,
                sent_at=datetime.now(UTC),
            )
        )
        return "", 202

    @bp.post("/v1.0/me/messages/<message_id>/createReply")
    def create_reply(message_id: str) -> tuple[Response, int]:
        need("Mail.ReadWrite")
        original = sample(message_id)
        draft = mailboxes().add(
            SentMessage(
                id=mailboxes().new_id(),
                mailbox=g.graph_mailbox,
                subject=f"Re: {original.subject}",
                body={"contentType": "html", "content": ""},
                to=[{"emailAddress": {"name": original.sender.name, "address": original.sender.email}}],
                in_reply_to=original.id,
                conversation_id=original.thread_id,
                is_draft=True,
            )
        )
        return jsonify(sent_resource(draft)), 201

    @bp.patch("/v1.0/me/messages/<draft_id>")
    def update_draft(draft_id: str) -> Response:
        need("Mail.ReadWrite")
        draft = own_draft(draft_id)
        if not draft.is_draft:
            raise GraphFault(400, "ErrorInvalidRequest", "Only drafts can be changed.")
        data = body_json()
        with mailboxes().lock:
            if isinstance(data.get("body"), dict):
                draft.body = {k: str(v) for k, v in data["body"].items()}
            if isinstance(data.get("toRecipients"), list):
                draft.to = data["toRecipients"]
        return jsonify(sent_resource(draft))

    @bp.post("/v1.0/me/messages/<draft_id>/send")
    def send_draft(draft_id: str) -> tuple[str, int]:
        need("Mail.Send")
        draft = own_draft(draft_id)
        if not draft.is_draft:
            raise GraphFault(400, "ErrorInvalidRequest", "The message was sent already.")
        mailboxes().mark_sent(draft)
        return "", 202

    @bp.post("/v1.0/me/sendMail")
    def send_mail() -> tuple[str, int]:
        need("Mail.Send")
        message = body_json().get("message")
        if not isinstance(message, dict) or not message.get("toRecipients"):
            raise GraphFault(400, "ErrorInvalidRecipients", "At least one recipient is not valid.")
        headers = message.get("internetMessageHeaders") or []
        if any(not str(h.get("name", "")).lower().startswith("x-") for h in headers):
            raise GraphFault(400, "InvalidInternetMessageHeader", "Custom headers must start with x-.")
        mailboxes().add(
            SentMessage(
                id=mailboxes().new_id(),
                mailbox=g.graph_mailbox,
                subject=str(message.get("subject") or ""),
                body=message.get("body") or {},
                to=message["toRecipients"],
                cc=message.get("ccRecipients") or [],
                headers=headers,
                sent_at=datetime.now(UTC),
            )
        )
        return "", 202

    @bp.get("/v1.0/me/mailFolders/sentitems/messages")
    def sent_items() -> Response:
        need("Mail.Read", "Mail.ReadWrite")
        return jsonify({"value": [sent_resource(m) for m in mailboxes().sent(g.graph_mailbox)]})

    return bp


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
