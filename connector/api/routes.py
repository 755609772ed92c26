"""The JSON API's routes, ``/api/v1``: thin; parse, call an operation, serialise.

The database session commits after a successful response and rolls back otherwise
(:mod:`connector.db.session`); linking's write claims commit on their own, as documented there.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, jsonify, request

from connector.accounts.tokens import token_key
from connector.api import schemas
from connector.api.auth import Caller, connect_url, current_caller
from connector.api.errors import ApiError, register_error_handlers
from connector.api.openapi import openapi_document
from connector.api.schemas import ChoiceMade, InvalidInput, Me, OpenMessage, checked, to_plain
from connector.app_services import services
from connector.db import db
from connector.linking import operations as linking
from connector.mail.addresses import EmailAddress
from connector.oro import OroClient

logger = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
register_error_handlers(bp, connect_url=connect_url)

MAX_SEARCH_TEXT = 200
MAX_SEARCH_PAGE = 100


@bp.after_request
def _no_store(response: Response) -> Response:
    # Answers hold a person's CRM data: never kept by a shared cache or the browser's back button.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def json_body(schema_name: str) -> dict[str, Any]:
    if not request.is_json:
        raise ApiError("unsupported_media_type", "Send the request body as application/json.")
    data = request.get_json(silent=True)
    if data is None:
        raise InvalidInput([{"field": "(body)", "message": "is not valid JSON"}])
    return checked(data, schema_name)


def open_message(caller: Caller, data: dict[str, Any]) -> OpenMessage:
    return OpenMessage.parse(data, mailbox=caller.mailbox)


def _oro(caller: Caller) -> OroClient:
    return services().oro_for(caller.user)


# --- who am I -------------------------------------------------------------------------------------------


@bp.get("/me")
def me() -> Response:
    caller = current_caller()
    connected = services().token_store.load(token_key(caller.user.id)) is not None
    return jsonify(
        to_plain(
            Me(
                email=caller.mailbox,
                name=caller.entra.name or caller.user.display_name,
                oro_connected=connected,
                connect_url=None if connected else connect_url(),
            )
        )
    )


# --- the sidebar ---------------------------------------------------------------------------------------


@bp.post("/sidebar")
def sidebar() -> Response:
    caller = current_caller()
    data = json_body("SidebarRequest")
    message = open_message(caller, data["message"])
    view = services().sidebar.open_message(
        db.session,
        user=caller.user,
        oro=_oro(caller),
        message=message.context,
        mail=message.mail_message(),
        fresh=bool(data.get("fresh")),
    )
    return jsonify(to_plain(view))


# --- search ----------------------------------------------------------------------------------------------


@bp.get("/search")
def search() -> Response:
    caller = current_caller()
    text = request.args.get("q", "")
    raw_page = request.args.get("page", "1")
    errors = []
    if not text.strip():
        errors.append({"field": "q", "message": "is required"})
    elif len(text) > MAX_SEARCH_TEXT:
        errors.append({"field": "q", "message": f"must be at most {MAX_SEARCH_TEXT} characters long"})
    page = int(raw_page) if raw_page.isdigit() and raw_page.isascii() else 0
    if not 1 <= page <= MAX_SEARCH_PAGE:
        errors.append({"field": "page", "message": f"must be a whole number from 1 to {MAX_SEARCH_PAGE}"})
    if errors:
        raise InvalidInput(errors)
    results = services().sidebar.search(oro=_oro(caller), text=text.strip(), page=page)
    return jsonify(to_plain(results))


# --- linking ---------------------------------------------------------------------------------------------


@bp.post("/links")
def link() -> Response:
    caller = current_caller()
    data = json_body("LinkRequest")
    message = open_message(caller, data["message"])
    result = services().sidebar.link(
        db.session,
        user=caller.user,
        oro=_oro(caller),
        mail=message.mail_message(),
        record=schemas.link_target(data["record"]),
    )
    return jsonify(to_plain(result))


@bp.delete("/links")
def unlink() -> Response:
    caller = current_caller()
    data = json_body("LinkRequest")
    message = open_message(caller, data["message"])
    result = services().sidebar.unlink(
        db.session,
        user=caller.user,
        oro=_oro(caller),
        mail=message.mail_message(),
        record=schemas.record_ref(data["record"]),
    )
    return jsonify(to_plain(result))


@bp.post("/notes")
def note() -> Response:
    caller = current_caller()
    data = json_body("NoteRequest")
    result = linking.add_note(
        db.session,
        _oro(caller),
        user=caller.user,
        record=schemas.link_target(data["record"]),
        text=data["text"],
        idempotency_key=_idempotency_key(),
    )
    services().sidebar.invalidate(caller.user)
    response = jsonify(to_plain(result))
    response.status_code = 200 if result.reused else 201
    return response


# --- records from email ----------------------------------------------------------------------------------


@bp.post("/records")
def create_record() -> Response:
    caller = current_caller()
    data = json_body("CreateRequest")
    message = open_message(caller, data["message"])
    mail = message.mail_message()
    wanted = EmailAddress.parse(data["participant"])
    participant = next(
        (a for a, _role in mail.participants() if wanted is not None and a.key == wanted.key), None
    )
    if participant is None:
        raise InvalidInput([{"field": "participant", "message": "is not on this email (other than you)"}])
    outcome = linking.create_from_email(
        db.session,
        _oro(caller),
        user=caller.user,
        kind=data["kind"],
        message=mail,
        participant=participant,
        fields=schemas.create_fields(data.get("fields")),
        confirm=bool(data.get("confirm")),
        idempotency_key=_idempotency_key(),
    )
    if outcome.created is not None:
        services().sidebar.invalidate(caller.user)
    response = jsonify(to_plain(outcome))
    response.status_code = 201 if outcome.created is not None and not outcome.reused else 200
    return response


def _idempotency_key() -> str | None:
    return request.headers.get("Idempotency-Key", "").strip() or None


# --- ambiguous matches -----------------------------------------------------------------------------------


@bp.put("/choices")
def choose() -> Response:
    caller = current_caller()
    data = json_body("ChoiceRequest")
    address = _address_key(data["address"])
    services().sidebar.choose(
        db.session,
        user=caller.user,
        address_key=address,
        record_type=data["record_type"],
        record_id=data["record_id"],
    )
    return jsonify(to_plain(ChoiceMade(address, data["record_type"], data["record_id"])))


@bp.delete("/choices")
def forget_choice() -> Response:
    caller = current_caller()
    data = checked(
        {k: request.args[k] for k in ("address", "record_type") if k in request.args},
        "ForgetChoiceQuery",
    )
    services().sidebar.forget_choice(
        db.session,
        user=caller.user,
        address_key=_address_key(data["address"]),
        record_type=data["record_type"],
    )
    return Response(status=204)


def _address_key(text: str) -> str:
    parsed = EmailAddress.parse(text)
    if parsed is None:
        raise InvalidInput([{"field": "address", "message": "is not an email address"}])
    return parsed.key


# --- the document ----------------------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi() -> Response:
    response = jsonify(openapi_document(server_url=services().settings.public_url))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
