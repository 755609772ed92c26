"""The sandbox Graph's HTTP face (mounted at ``/graph``; paths below are under ``/graph/v1.0``).

- ``GET   /me/messages/{id}``                 a message of the caller's mailbox (``Prefer`` text body)
- ``GET   /me/messages?$filter=...``          ``internetMessageId eq '...'`` or ``conversationId eq '...'``,
                                              over every message: received, drafts and Sent Items
- ``POST  /me/messages/{id}/reply``           ``comment`` or ``message``, not both (202; Mail.Send)
- ``POST  /me/messages/{id}/createReply``     a draft reply (201; Mail.ReadWrite); ``comment`` and/or
                                              ``message`` (writable properties of the reply)
- ``PATCH /me/messages/{draftId}``            a draft's body, subject, recipients, internetMessageId
- ``POST  /me/messages/{draftId}/send``       send the draft (202; Mail.Send): it moves to Sent Items
                                              under a new id, and the draft id answers 404
- ``POST  /me/sendMail``                      a new message (202)
- ``GET   /me/mailFolders/sentitems/messages`` what was sent

As Graph: ``$select`` picks the properties (``internetMessageHeaders`` only when selected), an unknown
one is a 400; ``internetMessageId`` is "updatable only if isDraft is true"; custom headers must be
named ``x-...``. Tokens are Graph tokens of the sandbox's Entra (``world.entra.verify_graph_token``);
the caller's mailbox is their ``preferred_username``. Errors have Graph's shape,
``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from connector.sandbox.conversations import Address, SampleMessage
from connector.sandbox.entra import SandboxTokenRejected
from connector.sandbox.graph.store import GraphMailboxes, SentMessage

_FILTER = re.compile(r"^\s*(internetMessageId|conversationId)\s+eq\s+'((?:[^']|'')*)'\s*$")
_REPLY_PREFIX = re.compile(r"^\s*re\s*:\s*", re.IGNORECASE)
MESSAGE_PROPERTIES = frozenset(
    {
        "bccRecipients", "body", "bodyPreview", "categories", "ccRecipients", "changeKey",
        "conversationId", "conversationIndex", "createdDateTime", "flag", "from", "hasAttachments", "id",
        "importance", "inferenceClassification", "internetMessageHeaders", "internetMessageId",
        "isDeliveryReceiptRequested", "isDraft", "isRead", "isReadReceiptRequested", "lastModifiedDateTime",
        "parentFolderId", "receivedDateTime", "replyTo", "sender", "sentDateTime", "subject",
        "toRecipients", "uniqueBody", "webLink",
    }
)
"""The properties of Graph's message resource (v1.0): ``$select`` may name these."""
NOT_BY_DEFAULT = frozenset({"internetMessageHeaders", "uniqueBody"})
"""Returned only when ``$select`` names them."""
DRAFT_UPDATABLE = ("body", "subject", "toRecipients", "ccRecipients", "internetMessageId")
"""What PATCH changes on a draft (the writable properties the sandbox keeps)."""


class GraphFault(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _not_found() -> GraphFault:
    return GraphFault(404, "ErrorItemNotFound", "The specified object was not found in the store.")


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

    def samples() -> list[SampleMessage]:
        return [m for thread in world.threads_of(g.graph_mailbox) for m in thread.messages]

    def sample(message_id: str) -> SampleMessage:
        found = next((m for m in samples() if m.id == message_id), None)
        if found is None:
            raise _not_found()
        return found

    def own(message_id: str) -> SentMessage | None:
        with mailboxes().lock:
            stored = mailboxes().messages.get(message_id)
        return stored if stored is not None and stored.mailbox.lower() == g.graph_mailbox else None

    def own_draft(draft_id: str) -> SentMessage:
        draft = own(draft_id)
        if draft is None:
            raise _not_found()
        return draft

    def owner() -> dict[str, Any]:
        name = next((u.name for u in world.entra.users if u.email.lower() == g.graph_mailbox), "")
        return {"emailAddress": {"name": name, "address": g.graph_mailbox}}

    def text_wanted() -> bool:
        return 'outlook.body-content-type="text"' in request.headers.get("Prefer", "")

    def selected(resource: dict[str, Any]) -> dict[str, Any]:
        """``resource`` cut to ``$select`` (Graph always adds ``id``), or to the default properties."""
        names = [n.strip() for n in request.args.get("$select", "").split(",") if n.strip()]
        for name in names:
            if name not in MESSAGE_PROPERTIES:
                raise GraphFault(
                    400,
                    "RequestBroker--ParseUri",
                    f"Could not find a property named '{name}' on type 'microsoft.graph.message'.",
                )
        if not names:
            return {k: v for k, v in resource.items() if k not in NOT_BY_DEFAULT}
        return {k: v for k, v in resource.items() if k == "id" or k in names}

    def sample_resource(m: SampleMessage) -> dict[str, Any]:
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
        stamp = _stamp(m.date)
        return {
            "id": m.id,
            "createdDateTime": stamp,
            "lastModifiedDateTime": stamp,
            "receivedDateTime": stamp,
            "sentDateTime": stamp,
            "conversationId": m.thread_id,
            "internetMessageId": m.message_id,
            "subject": m.subject,
            "from": recipient(m.sender),
            "sender": recipient(m.sender),
            "toRecipients": [recipient(a) for a in m.to],
            "ccRecipients": [recipient(a) for a in m.cc],
            "bodyPreview": m.snippet,
            "body": body,
            "internetMessageHeaders": headers,
            "isDraft": False,
        }

    def stored_resource(m: SentMessage) -> dict[str, Any]:
        body = dict(m.body)
        if text_wanted() and str(body.get("contentType", "")).lower() == "html":
            body = {"contentType": "text", "content": _html_text(str(body.get("content", "")))}
        elif not text_wanted() and str(body.get("contentType", "")).lower() == "text":
            body = {"contentType": "html", "content": "<html><body><pre>" + _escape(body["content"])}
            body["content"] += "</pre></body></html>"
        preview = " ".join(_html_text(str(m.body.get("content", ""))).split())[:255]
        headers = list(m.headers)
        if not m.is_draft:
            # Transport headers exist once the message is sent.
            headers = [{"name": "Message-ID", "value": m.internet_message_id}, *headers]
            if m.references:
                headers.append({"name": "In-Reply-To", "value": m.references[-1]})
                headers.append({"name": "References", "value": " ".join(m.references)})
        return {
            "id": m.id,
            "createdDateTime": _stamp(m.created_at),
            "lastModifiedDateTime": _stamp(m.sent_at or m.created_at),
            "receivedDateTime": _stamp(m.sent_at or m.created_at),
            "sentDateTime": _stamp(m.sent_at) if m.sent_at else None,
            "conversationId": m.conversation_id,
            "internetMessageId": m.internet_message_id,
            "subject": m.subject,
            "from": owner(),
            "sender": owner(),
            "toRecipients": m.to,
            "ccRecipients": m.cc,
            "bodyPreview": preview,
            "body": body,
            "internetMessageHeaders": headers,
            "isDraft": m.is_draft,
        }

    def body_json() -> dict[str, Any]:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise GraphFault(400, "RequestBodyRead", "The request body is not a JSON object.")
        return data

    def late_answer() -> None:
        """After a send is done: wait as ``GraphMailboxes.configure(answer_delay=...)`` asks."""
        delay = mailboxes().answer_delay
        if delay:
            time.sleep(delay)

    # --- reading -----------------------------------------------------------------------------------

    @bp.get("/v1.0/me/messages/<message_id>")
    def get_message(message_id: str) -> Response:
        need("Mail.Read", "Mail.ReadWrite")
        stored = own(message_id)
        if stored is not None:
            return jsonify(selected(stored_resource(stored)))
        return jsonify(selected(sample_resource(sample(message_id))))

    @bp.get("/v1.0/me/messages")
    def list_messages() -> Response:
        need("Mail.Read", "Mail.ReadWrite")
        wanted: Callable[[str, str], bool] = lambda _internet_id, _conversation: True  # noqa: E731
        expression = request.args.get("$filter", "")
        if expression:
            match = _FILTER.match(expression)
            if match is None:
                raise GraphFault(400, "BadRequest", "Invalid filter clause.")
            name, value = match.group(1), match.group(2).replace("''", "'")
            if name == "internetMessageId":
                wanted = lambda internet_id, _conversation: internet_id == value  # noqa: E731
            else:
                wanted = lambda _internet_id, conversation: conversation == value  # noqa: E731
        top = request.args.get("$top", "10")
        limit = int(top) if top.isdigit() else 10
        found = [sample_resource(m) for m in samples() if wanted(m.message_id, m.thread_id)]
        found += [
            stored_resource(m)
            for m in mailboxes().of(g.graph_mailbox)
            if wanted(m.internet_message_id, m.conversation_id)
        ]
        return jsonify({"value": [selected(r) for r in found[:limit]]})

    @bp.get("/v1.0/me/mailFolders/sentitems/messages")
    def sent_items() -> Response:
        need("Mail.Read", "Mail.ReadWrite")
        return jsonify({"value": [selected(stored_resource(m)) for m in mailboxes().sent(g.graph_mailbox)]})

    # --- replying and sending ------------------------------------------------------------------------

    def reply_parts(data: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
        """(comment, message) of a reply or createReply body; both a comment and a body is a 400."""
        message = data.get("message") or {}
        if not isinstance(message, dict):
            raise GraphFault(400, "RequestBodyRead", "'message' must be an object.")
        comment = data.get("comment")
        if comment is not None and message.get("body"):
            raise GraphFault(400, "ErrorInvalidRequest", "Send either comment or message.body, not both.")
        return (str(comment) if comment is not None else None), message

    def reply_to(original: SampleMessage, *, draft: bool) -> SentMessage:
        # Everything in a createReply body is optional: no body at all is a plain draft reply.
        comment, message = reply_parts(body_json() if request.get_data() or not draft else {})
        if "body" in message:
            body = _body(message["body"])
        else:
            body = {"contentType": "html" if draft else "text", "content": comment or ""}
        sender = {"emailAddress": {"name": original.sender.name, "address": original.sender.email}}
        internet_id = message.get("internetMessageId")
        if internet_id is not None and not isinstance(internet_id, str):
            raise GraphFault(400, "RequestBodyRead", "internetMessageId must be a string.")
        return SentMessage(
            id=mailboxes().new_id(),
            mailbox=g.graph_mailbox,
            subject=str(message.get("subject") or _reply_subject(original.subject, draft=draft)),
            body=body,
            to=_recipients(message.get("toRecipients")) or [sender],
            cc=_recipients(message.get("ccRecipients")),
            headers=_custom_headers(message.get("internetMessageHeaders")),
            in_reply_to=original.id,
            conversation_id=original.thread_id,
            is_draft=draft,
            sent_at=None if draft else datetime.now(UTC),
            internet_message_id=internet_id or "",
            references=(*original.references, original.message_id),
        )

    @bp.post("/v1.0/me/messages/<message_id>/reply")
    def reply(message_id: str) -> tuple[str, int]:
        need("Mail.Send")
        mailboxes().add(reply_to(sample(message_id), draft=False))
        late_answer()
        return "", 202

    @bp.post("/v1.0/me/messages/<message_id>/createReply")
    def create_reply(message_id: str) -> tuple[Response, int]:
        need("Mail.ReadWrite")
        draft = mailboxes().add(reply_to(sample(message_id), draft=True))
        return jsonify(stored_resource(draft)), 201

    @bp.patch("/v1.0/me/messages/<draft_id>")
    def update_draft(draft_id: str) -> Response:
        need("Mail.ReadWrite")
        draft = own_draft(draft_id)
        if not draft.is_draft:
            raise GraphFault(400, "ErrorInvalidRequest", "Only drafts can be changed.")
        data = body_json()
        internet_id = data.get("internetMessageId")
        if internet_id is not None and (not isinstance(internet_id, str) or not internet_id.strip()):
            raise GraphFault(400, "RequestBodyRead", "internetMessageId must be a string.")
        changes: dict[str, Any] = {}
        if "body" in data:
            changes["body"] = _body(data["body"])
        if "subject" in data:
            changes["subject"] = str(data["subject"] or "")
        if "toRecipients" in data:
            changes["to"] = _recipients(data["toRecipients"])
        if "ccRecipients" in data:
            changes["cc"] = _recipients(data["ccRecipients"])
        if internet_id is not None:
            changes["internet_message_id"] = internet_id.strip()
        with mailboxes().lock:
            if not draft.is_draft:  # sent meanwhile
                raise GraphFault(400, "ErrorInvalidRequest", "Only drafts can be changed.")
            for name, value in changes.items():
                setattr(draft, name, value)
        return jsonify(stored_resource(draft))

    @bp.post("/v1.0/me/messages/<draft_id>/send")
    def send_draft(draft_id: str) -> tuple[str, int]:
        need("Mail.Send")
        with mailboxes().lock:
            draft = own_draft(draft_id)
            if not draft.is_draft:
                raise GraphFault(400, "ErrorInvalidRequest", "The message was sent already.")
            mailboxes().send(draft)
        late_answer()
        return "", 202

    @bp.post("/v1.0/me/sendMail")
    def send_mail() -> tuple[str, int]:
        need("Mail.Send")
        message = body_json().get("message")
        if not isinstance(message, dict) or not message.get("toRecipients"):
            raise GraphFault(400, "ErrorInvalidRecipients", "At least one recipient is not valid.")
        internet_id = message.get("internetMessageId")
        mailboxes().add(
            SentMessage(
                id=mailboxes().new_id(),
                mailbox=g.graph_mailbox,
                subject=str(message.get("subject") or ""),
                body=_body(message.get("body") or {"contentType": "text", "content": ""}),
                to=_recipients(message["toRecipients"]),
                cc=_recipients(message.get("ccRecipients")),
                headers=_custom_headers(message.get("internetMessageHeaders")),
                sent_at=datetime.now(UTC),
                internet_message_id=internet_id if isinstance(internet_id, str) else "",
            )
        )
        late_answer()
        return "", 202

    return bp


def _reply_subject(subject: str, *, draft: bool) -> str:
    """Outlook's reply subject: ``RE: `` once. (``/reply`` keeps the sandbox's earlier ``Re: ``.)"""
    if not draft:
        return f"Re: {subject}"
    return "RE: " + _REPLY_PREFIX.sub("", subject, count=1)


def _body(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise GraphFault(400, "RequestBodyRead", "'body' must be an itemBody object.")
    kind = str(value.get("contentType") or "text")
    if kind.lower() not in ("text", "html"):
        raise GraphFault(400, "RequestBodyRead", f"Invalid contentType '{kind}'.")
    return {"contentType": kind, "content": str(value.get("content") or "")}


def _recipients(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(r, dict) and isinstance(r.get("emailAddress"), dict) and r["emailAddress"].get("address")
        for r in value
    ):
        raise GraphFault(400, "ErrorInvalidRecipients", "At least one recipient is not valid.")
    return value


def _custom_headers(value: Any) -> list[dict[str, str]]:
    headers = value or []
    if not isinstance(headers, list) or any(
        not isinstance(h, dict) or not str(h.get("name", "")).lower().startswith("x-") for h in headers
    ):
        raise GraphFault(400, "InvalidInternetMessageHeader", "Custom headers must start with x-.")
    return [{"name": str(h["name"]), "value": str(h.get("value", ""))} for h in headers]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_BREAKS = re.compile(r"<br\s*/?>|</(p|div|li|tr|h[1-6])\s*>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")


def _html_text(markup: str) -> str:
    """What Graph gives for an HTML body under ``Prefer: outlook.body-content-type="text"``, roughly."""
    return html.unescape(_TAGS.sub("", _BREAKS.sub("\n", markup))).strip()
