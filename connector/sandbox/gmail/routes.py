"""The sandbox's Gmail API, as a blueprint: mount it anywhere (the sandbox app uses ``/gmail``, so the
demo serves it under ``/sandbox/gmail``, which is ``ORO_CONNECTOR_GMAIL_API_URL``).

Paths, relative to the mount, as on ``https://gmail.googleapis.com``:

- ``GET  /gmail/v1/users/{userId}/messages?q=...&maxResults=&pageToken=&includeSpamTrash=&labelIds=``
- ``GET  /gmail/v1/users/{userId}/messages/{id}?format=minimal|metadata|full|raw&metadataHeaders=...``
- ``GET  /gmail/v1/users/{userId}/threads/{id}?format=...``
- ``POST /gmail/v1/users/{userId}/messages/send``   ``{"raw": base64url RFC 822, "threadId": ...}``
- ``POST /gmail/v1/users/{userId}/drafts``          ``{"message": {"raw": ..., "threadId": ...}}``

Authorisation is checked as an add-on's calls are: ``Authorization: Bearer <userOAuthToken>`` must be a
live token of the sandbox Google (``world.google.grant_for``) with a scope that allows the call; a read
under one of the ``gmail.addons.current.*`` scopes also needs ``X-Goog-Gmail-Access-Token``, the
event's per-message token, for that very message (or its thread). Listing and searching need a
whole-mailbox scope (``gmail.readonly``, ``gmail.modify``, ``mail.google.com``) or ``gmail.metadata``,
which may list but not search (``q``). Errors come in Google's JSON shape.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from typing import Any

from flask import Blueprint, Response, jsonify, request

from connector.sandbox.gmail.mailbox import FORMATS, Format, SandboxGmail
from connector.sandbox.google import GoogleTokenIssuer, OAuthGrant

_AUTH = "https://www.googleapis.com/auth/"
ADDON_READ_SCOPES = frozenset(
    {
        _AUTH + "gmail.addons.current.message.readonly",
        _AUTH + "gmail.addons.current.message.metadata",
        _AUTH + "gmail.addons.current.message.action",
    }
)
"""Scopes that read the open message only, with the event's per-message access token."""
MAILBOX_READ_SCOPES = frozenset(
    {_AUTH + "gmail.readonly", _AUTH + "gmail.modify", "https://mail.google.com/"}
)
METADATA_SCOPE = _AUTH + "gmail.metadata"
METADATA_ONLY_SCOPES = frozenset({_AUTH + "gmail.addons.current.message.metadata", METADATA_SCOPE})
LIST_SCOPES = MAILBOX_READ_SCOPES | {METADATA_SCOPE}
"""``users.messages.list`` (``q`` needs one of MAILBOX_READ_SCOPES)."""
SEND_SCOPES = frozenset(
    {_AUTH + "gmail.send", _AUTH + "gmail.compose", _AUTH + "gmail.modify", "https://mail.google.com/"}
)
DRAFT_SCOPES = frozenset(
    {
        _AUTH + "gmail.compose",
        _AUTH + "gmail.modify",
        "https://mail.google.com/",
        _AUTH + "gmail.addons.current.action.compose",
    }
)
_GMAIL_ID = re.compile(r"^[0-9a-f]{1,32}$")
_PAGE_TOKEN = re.compile(r"^[0-9]{20}$")
MAX_RESULTS = 500


class GmailApiError(Exception):
    """An error answer in Google's shape (``{"error": {"code", "message", "errors", "status"}}``)."""

    STATUSES = {
        400: "INVALID_ARGUMENT",
        401: "UNAUTHENTICATED",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
    }

    def __init__(self, code: int, message: str, *, reason: str, detail_reason: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason
        self.detail_reason = detail_reason

    def response(self) -> Response:
        error: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "errors": [{"message": self.message, "domain": "global", "reason": self.reason}],
            "status": self.STATUSES.get(self.code, "UNKNOWN"),
        }
        if self.detail_reason:
            error["details"] = [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": self.detail_reason,
                    "domain": "googleapis.com",
                    "metadata": {"service": "gmail.googleapis.com", "method": request.endpoint or ""},
                }
            ]
        response = jsonify({"error": error})
        response.status_code = self.code
        if self.code == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/"'
        return response


def _insufficient_scope() -> GmailApiError:
    return GmailApiError(
        403,
        "Request had insufficient authentication scopes.",
        reason="insufficientPermissions",
        detail_reason="ACCESS_TOKEN_SCOPE_INSUFFICIENT",
    )


def _not_found() -> GmailApiError:
    return GmailApiError(404, "Requested entity was not found.", reason="notFound")


def create_gmail_blueprint(gmail: SandboxGmail, google: GoogleTokenIssuer) -> Blueprint:
    blueprint = Blueprint("sandbox_gmail", __name__)

    @blueprint.errorhandler(GmailApiError)
    def _api_error(exc: GmailApiError) -> Response:
        return exc.response()

    def user_grant(user_id: str) -> OAuthGrant:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        grant = google.grant_for(token) if token else None
        if grant is None or grant.kind != "user_oauth":
            raise GmailApiError(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
                "cookie or other valid authentication credential.",
                reason="authError",
                detail_reason="ACCESS_TOKEN_TYPE_UNSUPPORTED" if token else "CREDENTIALS_MISSING",
            )
        if user_id not in ("me", grant.email):
            raise GmailApiError(403, "Delegation denied for " + grant.email, reason="forbidden")
        return grant

    def check_read(grant: OAuthGrant, *, message_ids: set[str], fmt: Format) -> None:
        """A read is allowed by a whole-mailbox scope, or by an add-on scope with the per-message token."""
        scopes = set(grant.scopes)
        if fmt in ("full", "raw") and scopes and scopes <= METADATA_ONLY_SCOPES:
            raise GmailApiError(403, f"Metadata scope doesn't allow format {fmt.upper()}", reason="forbidden")
        if scopes & MAILBOX_READ_SCOPES:
            return
        if not scopes & ADDON_READ_SCOPES:
            raise _insufficient_scope()
        token = request.headers.get("X-Goog-Gmail-Access-Token", "")
        access = google.grant_for(token) if token else None
        if (
            access is None
            or access.kind != "gmail_access"
            or access.email != grant.email
            or access.message_id not in message_ids
        ):
            raise GmailApiError(
                401,
                "The add-on's Gmail access token (X-Goog-Gmail-Access-Token) is missing, expired or not "
                "for this message.",
                reason="authError",
            )

    def requested_format() -> Format:
        value = request.args.get("format", "full").lower()
        if value not in FORMATS:
            raise GmailApiError(400, f"Invalid value at 'format' ({value})", reason="invalidArgument")
        fmt: Format = value
        return fmt

    def checked_id(value: str) -> str:
        if not _GMAIL_ID.match(value):
            raise GmailApiError(400, "Invalid id value", reason="invalidArgument")
        return value

    @blueprint.get("/gmail/v1/users/<user_id>/messages")
    def list_messages(user_id: str) -> Response:
        grant = user_grant(user_id)
        scopes = set(grant.scopes)
        query = request.args.get("q", "")
        if not scopes & LIST_SCOPES:
            raise _insufficient_scope()
        if query and not scopes & MAILBOX_READ_SCOPES:
            raise GmailApiError(403, "Metadata scope does not support 'q' parameter", reason="forbidden")
        size = _whole_number(request.args.get("maxResults", "100"), "max_results")
        size = min(max(size, 1), MAX_RESULTS)
        token = request.args.get("pageToken", "")
        if token and not _PAGE_TOKEN.match(token):
            raise GmailApiError(400, "Invalid pageToken", reason="invalidArgument")
        start = int(token) if token else 0
        found = gmail.search(
            grant.email,
            query=query,
            label_ids=request.args.getlist("labelIds"),
            include_spam_trash=_flag(request.args.get("includeSpamTrash", "false"), "include_spam_trash"),
        )
        page = found[start : start + size]
        answer: dict[str, Any] = {"resultSizeEstimate": len(found)}
        if page:
            answer = {"messages": [{"id": m.id, "threadId": m.thread_id} for m in page], **answer}
        if start + size < len(found):
            answer["nextPageToken"] = f"{start + size:020d}"
        return jsonify(answer)

    @blueprint.get("/gmail/v1/users/<user_id>/messages/<message_id>")
    def get_message(user_id: str, message_id: str) -> Response:
        grant = user_grant(user_id)
        fmt = requested_format()
        message = gmail.message(grant.email, checked_id(message_id))
        if message is None:
            raise _not_found()
        check_read(grant, message_ids={message.id}, fmt=fmt)
        return jsonify(message.resource(fmt, request.args.getlist("metadataHeaders")))

    @blueprint.get("/gmail/v1/users/<user_id>/threads/<thread_id>")
    def get_thread(user_id: str, thread_id: str) -> Response:
        grant = user_grant(user_id)
        fmt = requested_format()
        messages = gmail.thread(grant.email, checked_id(thread_id))
        if not messages:
            raise _not_found()
        check_read(grant, message_ids={m.id for m in messages}, fmt=fmt)
        headers = request.args.getlist("metadataHeaders")
        return jsonify(
            {
                "id": thread_id,
                "historyId": messages[-1].resource("minimal")["historyId"],
                "messages": [m.resource(fmt, headers) for m in messages],
            }
        )

    @blueprint.post("/gmail/v1/users/<user_id>/messages/send")
    def send_message(user_id: str) -> Response:
        grant = user_grant(user_id)
        if not set(grant.scopes) & SEND_SCOPES:
            raise _insufficient_scope()
        body = request.get_json(silent=True) or {}
        stored = gmail.store_sent(grant.email, _raw(body.get("raw")), thread_id=body.get("threadId"))
        delay = gmail.answer_delay
        if delay:
            time.sleep(delay)  # sent, but the answer is late: see SandboxGmail.configure
        return jsonify({"id": stored.id, "threadId": stored.thread_id, "labelIds": list(stored.label_ids)})

    @blueprint.post("/gmail/v1/users/<user_id>/drafts")
    def create_draft(user_id: str) -> Response:
        grant = user_grant(user_id)
        if not set(grant.scopes) & DRAFT_SCOPES:
            raise _insufficient_scope()
        message = (request.get_json(silent=True) or {}).get("message") or {}
        draft = gmail.store_draft(grant.email, _raw(message.get("raw")), thread_id=message.get("threadId"))
        stored = draft.message
        message = {"id": stored.id, "threadId": stored.thread_id, "labelIds": list(stored.label_ids)}
        return jsonify({"id": draft.id, "message": message})

    return blueprint


def _raw(value: Any) -> bytes:
    if not isinstance(value, str) or not value:
        raise GmailApiError(400, "'raw' RFC822 payload message string is required", reason="invalidArgument")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise GmailApiError(400, "Invalid raw payload: not base64url", reason="invalidArgument") from None


def _whole_number(value: str, field: str) -> int:
    if not value.strip().isdigit():
        raise GmailApiError(400, f"Invalid value at '{field}' ({value})", reason="invalidArgument")
    return int(value)


def _flag(value: str, field: str) -> bool:
    """A boolean query parameter as Google's APIs read one."""
    lowered = value.strip().lower()
    if lowered not in ("true", "false", "1", "0"):
        raise GmailApiError(400, f"Invalid value at '{field}' ({value})", reason="invalidArgument")
    return lowered in ("true", "1")
