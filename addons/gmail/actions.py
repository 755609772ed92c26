"""What each button of a card does: a registry of named handlers, dispatched by ``/addons/gmail/action``.

A button's ``state`` (see :mod:`addons.gmail.context`) names the handler and its parameters; the
registry :data:`HANDLERS` maps the name to a function ``(request, params) -> response``. Handlers call
the operations of :mod:`connector.sidebar` and :mod:`connector.linking`, commit what changed, and
answer with a navigation (the re-rendered card) and a notification. Failures are mapped to what the
user sees in one place, :func:`failure_response` (clicks) and :func:`failure_card` (triggers), each
with the error's stable code.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Mapping
from types import MappingProxyType

from flask import current_app

from addons.gmail import cards, reply, screens
from addons.gmail.context import ActionStateExpired, ActionStateInvalid, AddonRequest
from connector.app_services import services
from connector.linking import operations as linking
from connector.linking.errors import LinkingError
from connector.linking.schemas import LinkTarget
from connector.mail.gmail import GmailError, GmailScopeMissing
from connector.oro import OroAuthExpired, OroError, OroNotFound, OroUnavailable, RecordRef
from connector.outbox.operations import OutboxError, dismiss_send, retry_send
from connector.templates.errors import TemplateError

logger = logging.getLogger(__name__)

Handler = Callable[[AddonRequest, Mapping[str, str]], cards.AddonResponse]


class InvalidClick(Exception):
    """A click that cannot be served as it is (an empty search, a note without text)."""

    code = "invalid_input"


def _required(params: Mapping[str, str], *names: str) -> list[str]:
    missing = [n for n in names if not params.get(n)]
    if missing:
        raise ActionStateInvalid(f"the button lacks {', '.join(missing)}")
    return [params[n] for n in names]


def _changed(req: AddonRequest) -> None:
    """After a change: make it durable, and let the user's cached sidebars go."""
    req.commit()
    services().sidebar.invalidate(req.user)


# --- handlers -----------------------------------------------------------------------------------------


def on_refresh(req: AddonRequest, params: Mapping[str, str]) -> cards.AddonResponse:
    return cards.Navigate(card=screens.root_card(req, fresh=True), root=True)


def on_open_record(req: AddonRequest, params: Mapping[str, str]) -> cards.AddonResponse:
    record_type, record_id = _required(params, "type", "id")
    return cards.Navigate(card=screens.record_card(req, record_type, record_id), verb="push")


def on_link_record(req: AddonRequest, params: Mapping[str, str]) -> cards.AddonResponse:
    """Link the open conversation to a record: Oro gets the email if it lacks it (with the body when
    the privacy policy and the user's Gmail permissions allow) and the record in its context; later
    messages of the conversation follow when opened."""
    record_type, record_id = _required(params, "type", "id")
    title = params.get("title") or f"{record_type} #{record_id}"
    services().sidebar.link(
        req.session,
        user=req.user,
        oro=screens.oro(req),
        mail=screens.mail_message(req, bodies=True),
        record=LinkTarget(record_type, record_id, title),
    )
    req.commit()
    return cards.Navigate(
        card=screens.root_card(req, fresh=True),
        root=True,
        notification=f"Linked this conversation to {title}.",
    )


def on_unlink_record(req: AddonRequest, params: Mapping[str, str]) -> cards.AddonResponse:
    """Take a record out of the conversation's context, in Oro and here."""
    record_type, record_id = _required(params, "type", "id")
    result = services().sidebar.unlink(
        req.session,
        user=req.user,
        oro=screens.oro(req),
        mail=screens.mail_message(req),
        record=RecordRef(record_type, record_id),
    )
    req.commit()
    text = "Unlinked." if result.was_linked else "This conversation was not linked to that record."
    return cards.Navigate(card=screens.root_card(req, fresh=True), root=True, notification=text)


def on_choose(req: AddonRequest, params: Mapping[str, str]) -> cards.AddonResponse:
    """Remember which of several records sharing an address the user means."""
    address, record_type, record_id = _required(params, "address", "type", "id")
    services().sidebar.choose(
        req.session,
        user=req.user,
        address_key=screens.participant_address(address).key,
        record_type=record_type,
        record_id=record_id,
    )
    _changed(req)
    return cards.Navigate(card=screens.root_card(req), root=True, notification="Remembered your choice.")


def on_change_choice(req: AddonRequest, params: Mapping[str, str]) -> cards.AddonResponse:
    address, record_type = _required(params, "address", "type")
    services().sidebar.forget_choice(
        req.session,
        user=req.user,
        address_key=screens.participant_address(address).key,
        record_type=record_type,
    )
    _changed(req)
    return cards.Navigate(card=screens.root_card(req), root=True)


def on_search(req: AddonRequest, params: Mapping[str, str]) -> cards.AddonResponse:
    text = req.form_value("query")
    if not text:
        raise InvalidClick("Type a name, an address or a number to search Oro.")
    return cards.Navigate(card=screens.search_card(req, text=text), verb="push")


def on_search_more(req: AddonRequest, params: Mapping[str, str]) -> cards.AddonResponse:
    (text,) = _required(params, "text")
    pages = int(params.get("pages", "2")) if params.get("pages", "2").isdigit() else 2
    return cards.Navigate(card=screens.search_card(req, text=text, pages=pages))


def on_add_note(req: AddonRequest, params: Mapping[str, str]) -> cards.AddonResponse:
    record_type, record_id = _required(params, "type", "id")
    text = req.form_value("note")
    if not text:
        raise InvalidClick("Write the note first.")
    result = linking.add_note(
        req.session,
        screens.oro(req),
        user=req.user,
        record=LinkTarget(record_type, record_id, params.get("title", "")),
        text=text,
    )
    req.commit()
    message = "This note was already added." if result.reused else "Note added in Oro."
    return cards.Navigate(card=screens.record_card(req, record_type, record_id), notification=message)


def on_create_record(req: AddonRequest, params: Mapping[str, str]) -> cards.AddonResponse:
    """Create a lead or contact from a participant and link the conversation to it; records that look
    like the same person are offered first (``confirm`` creates anyway)."""
    kind, address = _required(params, "kind", "address")
    client = screens.oro(req)
    outcome = linking.create_from_email(
        req.session,
        client,
        user=req.user,
        kind=kind,  # type: ignore[arg-type]  # checked by create_from_email
        message=screens.mail_message(req, bodies=True),
        participant=screens.participant_address(address),
        confirm=params.get("confirm") == "1",
        capabilities=services().sidebar.capabilities(client),
    )
    if outcome.duplicates and outcome.created is None:
        return cards.Navigate(
            card=cards.duplicates_card(
                [
                    cards.Duplicate(d.record.type, d.record.id, d.record.label, d.why, d.url)
                    for d in outcome.duplicates
                ],
                branding=req.branding,
                actions=req,
                kind=kind,
                address=address,
            ),
            verb="push",
        )
    _changed(req)
    created = outcome.created.label if outcome.created else kind
    return cards.Navigate(
        card=screens.root_card(req, fresh=True),
        root=True,
        notification=f"Created {created} in Oro and linked.",
    )


def on_insert_template(req: AddonRequest, params: Mapping[str, str]) -> cards.AddonResponse:
    """Put a template, rendered for the draft's recipient, into the draft at the cursor."""
    (template_id,) = _required(params, "template")
    name, email = screens.rendered_template(req, template_id)
    body = (
        email.body
        if email.format == "html"
        else "<p>" + html.escape(email.body).replace("\n", "<br>") + "</p>"
    )
    text = f"Inserted “{name}”."
    if email.missing:
        text += " Fill in before sending: " + ", ".join(email.missing) + "."
    return cards.DraftInsert(html_body=body, notification=text)


def on_reply_templates(req: AddonRequest, params: Mapping[str, str]) -> cards.AddonResponse:
    """The templates to reply to the open message with."""
    return cards.Navigate(card=reply.templates_card(req), verb="push")


def on_preview_reply(req: AddonRequest, params: Mapping[str, str]) -> cards.AddonResponse:
    """The reply a template makes for this message's recipient, with what is missing named."""
    (template_id,) = _required(params, "template")
    return cards.Navigate(card=reply.preview_card(req, template_id), verb="push")


def on_send_reply(req: AddonRequest, params: Mapping[str, str]) -> cards.AddonResponse:
    """Send the previewed reply in this thread, exactly once for this button's key."""
    template_id, key = _required(params, "template", "key")
    text = reply.send(req, template_id, key)
    services().sidebar.invalidate(req.user)
    return cards.Navigate(card=screens.root_card(req, fresh=True), root=True, notification=text)


def _send_id(params: Mapping[str, str]) -> int:
    (value,) = _required(params, "send")
    if not value.isdigit():
        raise ActionStateInvalid(f"not a reply id: {value!r}")
    return int(value)


def on_retry_send(req: AddonRequest, params: Mapping[str, str]) -> cards.AddonResponse:
    """Send a failed reply of this thread again, now: Gmail is asked first whether it went out."""
    try:
        row = retry_send(req.session, send_id=_send_id(params), user=req.user)
    except OutboxError as exc:  # not the user's, or not failed any more (retried on another screen)
        req.session.rollback()
        return cards.Navigate(
            card=screens.root_card(req), root=True, notification=cards.notice(str(exc), "send_not_retried")
        )
    req.commit()  # pending before anything can send it
    if row.provider == "gmail":
        reply.send_now(req, row_ids=[row.id])
        req.session.refresh(row)
    else:
        current_app.extensions["connector.wakeup"].notify()
    return cards.Navigate(card=screens.root_card(req), root=True, notification=reply.outcome_text(req, row))


def on_dismiss_send(req: AddonRequest, params: Mapping[str, str]) -> cards.AddonResponse:
    """Stop showing a failed reply; it will not be sent."""
    try:
        dismiss_send(req.session, send_id=_send_id(params), user=req.user)
    except OutboxError as exc:
        req.session.rollback()
        return cards.Navigate(
            card=screens.root_card(req), root=True, notification=cards.notice(str(exc), "send_not_dismissed")
        )
    req.commit()
    return cards.Navigate(
        card=screens.root_card(req), root=True, notification="Dismissed: that reply will not be sent."
    )


HANDLERS: Mapping[str, Handler] = MappingProxyType(
    {
        "on_refresh": on_refresh,
        "on_open_record": on_open_record,
        "on_link_record": on_link_record,
        "on_unlink_record": on_unlink_record,
        "on_choose": on_choose,
        "on_change_choice": on_change_choice,
        "on_search": on_search,
        "on_search_more": on_search_more,
        "on_add_note": on_add_note,
        "on_create_record": on_create_record,
        "on_insert_template": on_insert_template,
        "on_reply_templates": on_reply_templates,
        "on_preview_reply": on_preview_reply,
        "on_send_reply": on_send_reply,
        "on_retry_send": on_retry_send,
        "on_dismiss_send": on_dismiss_send,
    }
)
"""Every handler a button can name. A state naming anything else is refused."""


# --- dispatch and failures ----------------------------------------------------------------------------


def dispatch(req: AddonRequest, token: str) -> cards.AddonResponse:
    """Run the handler a click's ``state`` names (the state is verified for ``req``'s user)."""
    try:
        state = req.signer.verify(token, user_sub=req.google_user.sub)
    except ActionStateExpired:
        req.root = req.event_root()
        return cards.Navigate(
            card=screens.root_card(req),
            root=True,
            notification=cards.notice("That card was out of date; here it is again.", "action_state_expired"),
        )
    req.root = state.root
    handler = HANDLERS.get(state.handler)
    if handler is None:
        raise ActionStateInvalid(f"no handler named {state.handler!r}")
    try:
        return handler(req, state.params)
    except Exception as exc:
        response = failure_response(req, exc)
        if response is None:
            raise
        req.session.rollback()
        return response


def failure_response(req: AddonRequest, exc: Exception) -> cards.AddonResponse | None:
    """What a click that failed shows; None for an unexpected error (the app's handler logs it)."""
    if isinstance(exc, OroAuthExpired):
        return cards.Navigate(card=screens.connect_card(req, expired=True), root=True)
    if isinstance(exc, GmailScopeMissing):
        card = cards.scope_card(req.branding, req, scopes=exc.scopes, message=exc.message)
        return cards.Navigate(card=card, verb="push")
    if isinstance(exc, LinkingError):
        return cards.Navigate(notification=cards.notice(exc.message, exc.code))
    if isinstance(exc, GmailError):
        return cards.Navigate(notification=cards.notice(exc.message, exc.code))
    if isinstance(exc, TemplateError):
        return cards.Navigate(notification=cards.notice(exc.message, exc.code))
    if isinstance(exc, InvalidClick):
        return cards.Navigate(notification=cards.notice(str(exc), exc.code))
    if isinstance(exc, OroNotFound | LookupError):
        return cards.Navigate(notification=cards.notice("That record is not in Oro any more.", "not_found"))
    if isinstance(exc, OroUnavailable):
        return cards.Navigate(
            notification=cards.notice("Oro could not be reached; try again in a moment.", "oro_unavailable")
        )
    if isinstance(exc, OroError):
        logger.warning("Oro refused a click: %s", exc)
        return cards.Navigate(notification=cards.notice(f"Oro refused: {exc}", "oro_refused"))
    return None


def failure_card(req: AddonRequest, exc: Exception) -> cards.Card | None:
    """What a trigger that failed shows instead of its card; None for an unexpected error."""
    if isinstance(exc, OroAuthExpired):
        return screens.connect_card(req, expired=True)
    if isinstance(exc, GmailScopeMissing):
        return cards.scope_card(req.branding, req, scopes=exc.scopes, message=exc.message)
    if isinstance(exc, GmailError | LinkingError):
        return cards.error_card(req.branding, req, text=exc.message, code=exc.code)
    if isinstance(exc, OroUnavailable):
        return cards.error_card(
            req.branding, req, text="Oro could not be reached; try again in a moment.", code="oro_unavailable"
        )
    if isinstance(exc, OroError):
        logger.warning("Oro refused the sidebar: %s", exc)
        return cards.error_card(req.branding, req, text=f"Oro refused: {exc}", code="oro_refused")
    return None
