"""The demo preview plays Google for the Gmail add-on: it signs the event Google would POST.

The preview page's Gmail slot (``preview/_gmail_slot.html``) renders the add-on's real card JSON and,
for each trigger or click, asks ``POST /preview/gmail/event`` for the event Google would send to that
URL: built with :func:`connector.sandbox.google.build_event` and signed by the sandbox's Google. The
page then POSTs it to the add-on with the ``Authorization`` header Google would send, so every click
goes through the production verification and handlers. Sandbox only: without the sandbox world this
blueprint answers 404 and signs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, jsonify, request

from connector.app_services import services
from connector.sandbox.google import authorization_header, build_event

bp = Blueprint("preview_gmail", __name__)

_PATHS = ("/addons/gmail/",)


def _strings(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


def _string_lists(value: Any) -> dict[str, list[str]]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): [str(x) for x in v] for k, v in value.items() if isinstance(v, list)}


def _addresses(value: Any) -> list[str] | None:
    return [str(x) for x in value] if isinstance(value, list) else None


@bp.post("/preview/gmail/event")
def event() -> Response:
    """What Google would POST to ``url`` for a sandbox mailbox: ``{path, event, authorization}``.

    The body: ``url`` (an add-on URL, or a trigger's path), ``mailbox``, and as the context has them
    ``messageId``, ``threadId``, ``parameters``, ``formInputs``, ``toRecipients``, ``ccRecipients``."""
    world = current_app.extensions.get("sandbox_world")
    if world is None:
        abort(404)
    body = request.get_json(silent=True) or {}
    base = services().settings.public_url.rstrip("/")
    url = str(body.get("url", ""))
    path = urlsplit(url).path
    # Triggers are named by path; a card's actions carry the absolute URL the deployment declares.
    if not (url.startswith("/") or url.startswith(base + "/")) or not path.startswith(_PATHS):
        abort(400, description="url must be one of the add-on's endpoints")
    mailbox = str(body.get("mailbox", ""))
    if mailbox not in world.mailboxes:
        abort(400, description="mailbox must be one of the sandbox's mailboxes")
    message_id = body.get("messageId") or None
    to, cc = _addresses(body.get("toRecipients")), _addresses(body.get("ccRecipients"))
    built = build_event(
        world.google,
        endpoint_url=base + path,
        user_email=mailbox,
        message_id=str(message_id) if message_id else None,
        thread_id=str(body["threadId"]) if body.get("threadId") else None,
        to_recipients=to,
        cc_recipients=cc if to is not None or cc is not None else None,
        parameters=_strings(body.get("parameters")) or None,
        form_inputs=_string_lists(body.get("formInputs")) or None,
    )
    return jsonify({"path": path, "event": built, "authorization": authorization_header(built)})
