"""The Gmail add-on's HTTP endpoints (Google Workspace add-on, HTTP runtime; reference A2, A4).

Google POSTs an event to each endpoint; every request is verified first (Google's request token in
``Authorization`` and the user's ``userIdToken``, :class:`connector.security.google.GoogleRequestVerifier`)
and refused with 401 and no card when either fails. Then:

- ``POST /addons/gmail/homepage``             the add-on opened without a message
- ``POST /addons/gmail/message``              a message is open (contextual trigger)
- ``POST /addons/gmail/compose``              the add-on opened from a draft (compose trigger)
- ``POST /addons/gmail/action``               every card button (handler named in the signed state)
- ``POST /addons/gmail/universal/refresh``    menu: Refresh
- ``POST /addons/gmail/universal/disconnect`` menu: Disconnect from Oro
- ``GET  /addons/gmail/logo.png``             the add-on's logo

The event's tokens serve this request only: they are never stored, and an event is logged only
through :func:`connector.security.google.redact_event`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request, send_from_directory

from addons.gmail import actions, cards, reply, screens
from addons.gmail.context import ActionSigner, ActionStateInvalid, AddonRequest, Root
from connector.accounts.operations import user_for_identity
from connector.accounts.tokens import token_key
from connector.app_services import services
from connector.db import db
from connector.manifests.gmail import (
    ACTION_PATH,
    COMPOSE_PATH,
    DISCONNECT_PATH,
    HOMEPAGE_PATH,
    LOGO_PATH,
    MESSAGE_PATH,
    REFRESH_PATH,
)
from connector.security.google import (
    GoogleAuthError,
    GoogleCertificatesUnavailable,
    GoogleRequestVerifier,
    GoogleSettingsMissing,
    GoogleTokenInvalid,
    redact_event,
)

logger = logging.getLogger(__name__)

bp = Blueprint("gmail_addon", __name__)

STATIC = Path(__file__).resolve().parent / "static"


class Refused(Exception):
    """The request is not answered with a card: ``status`` and a stable ``code`` only."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code


@bp.errorhandler(Refused)
def _refused(exc: Refused) -> Response:
    response = jsonify({"error": exc.code})
    response.status_code = exc.status
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


def verifier(app: Flask) -> GoogleRequestVerifier:
    """The app's verifier for the effective settings (its certificate cache serves every request)."""
    return services(app).google_verifier


def signer(app: Flask) -> ActionSigner:
    return ActionSigner(services(app).settings.secret_key)


def _event() -> Mapping[str, Any]:
    event = request.get_json(silent=True, force=True)
    return event if isinstance(event, dict) else {}


def verified_request(root: Root) -> AddonRequest:
    """The request, proven to come from Google for a verified user; :class:`Refused` otherwise."""
    event = _event()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        google_user = verifier(app).verify_addon_request(
            authorization=request.headers.get("Authorization"), path=request.path, event=event
        )
    except GoogleSettingsMissing as exc:
        logger.error("the Gmail add-on is not configured: %s", exc)
        raise Refused(503, "gmail_not_configured") from None
    except GoogleCertificatesUnavailable as exc:
        logger.warning("Google's certificates are unavailable: %s", exc.reason)
        raise Refused(503, exc.code) from None
    except GoogleTokenInvalid as exc:
        logger.warning("refused a Gmail add-on request to %s: %s", request.path, exc)
        raise Refused(401, exc.code) from None
    except GoogleAuthError as exc:
        raise Refused(401, exc.code) from None
    user = user_for_identity(
        db.session,
        provider="google",
        subject=google_user.sub,
        email=google_user.email,
        display_name=google_user.name or "",
    )
    # The identity must not hold SQLite's write lock while Oro is asked (a token refresh writes).
    db.session.commit()
    if logger.isEnabledFor(logging.DEBUG):
        shown = redact_event(event)
        common = shown.get("commonEventObject")
        if isinstance(common, dict):
            common.pop("formInputs", None)  # what the user typed stays out too
        logger.debug("gmail add-on event %s", shown)
    return AddonRequest(
        event=event,
        google_user=google_user,
        user=user,
        settings=services(app).effective_settings(),
        signer=signer(app),
        session=db.session,
        root=root,
    )


def _answer(response: cards.AddonResponse) -> Response:
    return jsonify(response.to_dict())


def _trigger(root: Root) -> Response:
    req = verified_request(root)
    if root == "message" and req.message_id:
        _finish_replies(req)
    try:
        card = screens.root_card(req)
    except Exception as exc:
        replacement = actions.failure_card(req, exc)
        if replacement is None:
            raise
        db.session.rollback()
        card = replacement
    return _answer(cards.TriggerCard(card))


def _finish_replies(req: AddonRequest) -> None:
    """Finish the user's replies whose sending died (or waits for a retry) while this request has
    Gmail's tokens: Gmail is asked first whether each went out. Never in the way of the card."""
    try:
        done = reply.send_now(req)
    except Exception:
        logger.exception("could not finish %s's waiting Gmail replies", req.user)
        return
    if done:
        logger.info("finished waiting Gmail replies of %s: %s", req.user, done)


@bp.post(HOMEPAGE_PATH)
def homepage() -> Response:
    return _trigger("home")


@bp.post(MESSAGE_PATH)
def message() -> Response:
    return _trigger("message")


@bp.post(COMPOSE_PATH)
def compose() -> Response:
    return _trigger("compose")


@bp.post(ACTION_PATH)
def action() -> Response:
    req = verified_request("home")
    try:
        response = actions.dispatch(req, req.parameters.get("state", ""))
    except ActionStateInvalid as exc:
        logger.warning("refused a card click: %s", exc)
        response = cards.Navigate(
            notification=cards.notice("That button is not valid any more; refresh the add-on.", exc.code)
        )
    return _answer(response)


@bp.post(REFRESH_PATH)
def refresh() -> Response:
    req = verified_request("home")
    req.root = req.event_root()
    try:
        response = actions.on_refresh(req, {})
    except Exception as exc:
        failed = actions.failure_response(req, exc)
        if failed is None:
            raise
        db.session.rollback()
        response = failed
    return _answer(response)


@bp.post(DISCONNECT_PATH)
def disconnect() -> Response:
    """Forget the user's Oro tokens; the card asks to connect again."""
    req = verified_request("home")
    req.root = req.event_root()
    removed = services().token_store.delete(token_key(req.user.id))
    services().sidebar.invalidate(req.user)
    logger.info("%s disconnected from Oro (tokens %s)", req.user, "removed" if removed else "absent")
    text = "Disconnected from Oro." if removed else "You were not connected to Oro."
    return _answer(cards.Navigate(card=screens.connect_card(req), root=True, notification=text))


@bp.get(LOGO_PATH)
def logo() -> Response:
    response = send_from_directory(STATIC, "logo.png", mimetype="image/png", max_age=86400)
    return response
