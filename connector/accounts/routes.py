"""Connecting a mailbox user to Oro: ``/oauth/oro/start`` and ``/oauth/oro/callback``.

Shared by both hosts: the Gmail card and the Outlook pane open ``start`` in a browser window with a
signed ticket; Oro's login and consent happen there; the callback stores the tokens and the window
closes, which makes the add-on reload.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, redirect, render_template, request
from werkzeug.wrappers import Response

from connector.accounts import operations
from connector.accounts.errors import ConnectError, ConnectRefused
from connector.accounts.tokens import token_key
from connector.app_services import oro_connection, secret_box, settings, token_store
from connector.db import db
from connector.oro import OroError

logger = logging.getLogger(__name__)

bp = Blueprint("accounts", __name__, template_folder="templates")


def callback_url() -> str:
    return settings().public_url.rstrip("/") + "/oauth/oro/callback"


@bp.get("/oauth/oro/start")
def start() -> Response | tuple[str, int]:
    try:
        user = operations.user_from_ticket(db.session, settings().secret_key, request.args.get("ticket", ""))
        url = operations.start_connect(
            db.session, oro_connection().oauth, secret_box(), user=user, redirect_uri=callback_url()
        )
    except ConnectError as exc:
        return render_template(
            "accounts/connect_result.html", ok=False, message=exc.message, code=exc.code
        ), 400
    except OroError as exc:
        logger.warning("cannot start the Oro connection: %s", exc)
        return render_template(
            "accounts/connect_result.html",
            ok=False,
            code="oro_unavailable",
            message=f"Oro could not be asked to sign you in: {exc}",
        ), 502
    return redirect(url)


@bp.get("/oauth/oro/callback")
def callback() -> tuple[str, int]:
    try:
        user, verifier, redirect_uri = operations.claim_state(
            db.session, secret_box(), state=request.args.get("state", "")
        )
        # The claim must be durable before the code is used, whatever happens next: a second commit
        # point on purpose. It also releases SQLite's write lock before the token store writes.
        db.session.commit()
        if request.args.get("error"):
            reason = request.args.get("error_description") or request.args["error"]
            raise ConnectRefused(f"Oro did not grant access ({reason}). Nothing was connected.")
        tokens = operations.finish_connect(
            oro_connection().oauth,
            code=request.args.get("code", ""),
            code_verifier=verifier,
            redirect_uri=redirect_uri,
        )
        token_store().save(token_key(user.id), tokens)
    except ConnectError as exc:
        # A refused consent leaves its state claimed (committed above); nothing else was written.
        db.session.commit()
        return render_template(
            "accounts/connect_result.html", ok=False, message=exc.message, code=exc.code
        ), 400
    except OroError as exc:
        logger.warning("the Oro connection could not be completed: %s", exc)
        return render_template(
            "accounts/connect_result.html",
            ok=False,
            code="oro_refused",
            message=f"Oro did not complete the sign-in: {exc}. Start again from the sidebar.",
        ), 400
    current_app.logger.info("connected %s to Oro", user)
    return render_template("accounts/connect_result.html", ok=True, message="", code="connected"), 200
