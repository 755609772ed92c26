"""Replying with a template from the Gmail card: preview names what is missing, Send sends once, in the
thread, with our Message-ID; a reply whose attempt died is finished when the thread is opened again."""

from __future__ import annotations

from typing import Any

from connector.db import db
from connector.db.models import User
from connector.outbox.models import OutboxMessage
from connector.sandbox import examples as ex
from connector.templates.operations import create_template
from tests.gmail.conftest import Gmail, buttons, notification, texts, top_card
from tests.outbox.support import incoming, outbox_rows


def _template(gmail: Gmail, body: str, *, name: str = "Thanks") -> int:
    with db.session_scope(gmail.app) as session:
        owner = session.query(User).filter_by(email=ex.ALICE_MAILBOX).one()
        template = create_template(
            session, owner=owner, name=name, record_type=None, subject="ignored for replies", body=body
        )
        session.flush()
        return template.id


def _button(card: dict[str, Any], text: str) -> dict[str, Any]:
    return next(b for b in buttons(card) if b["text"] == text)


def _preview(gmail: Gmail, message: Any, *, listing_shows: str = "") -> dict[str, Any]:
    """Open the message, press Reply with a template, then Preview on the (only) template."""
    card = top_card(gmail.open(message))
    assert card is not None
    listing = top_card(gmail.click(_button(card, "Reply with a template"), message=message))
    assert listing is not None and listing_shows in texts(listing)
    preview = top_card(gmail.click(_button(listing, "Preview"), message=message))
    assert preview is not None
    return preview


def _sent_with(gmail: Gmail, message_id: str) -> list[Any]:
    return [m for m in gmail.world.gmail.sent if (m.header("Message-ID") or "") == message_id]


def test_a_template_reply_is_previewed_then_sent_once_in_the_thread(connected: Gmail) -> None:
    gmail = connected
    _template(gmail, "<p>Thanks, we are on it.</p><p>{{ user.email }}</p>")
    message = incoming(gmail.world)[0]

    preview = _preview(gmail, message, listing_shows="Thanks")
    assert "Thanks, we are on it." in texts(preview) and ex.ALICE_MAILBOX in texts(preview)
    send = _button(preview, "Send reply")

    answer = gmail.click(send, message=message)
    assert notification(answer) == "Reply sent."
    again = gmail.click(send, message=message)  # the same button twice: one email
    assert notification(again) == "This reply was already sent."

    (row,) = outbox_rows(gmail.app)
    assert row.state == "sent" and row.provider == "gmail" and row.template_name == "Thanks"
    (sent,) = _sent_with(gmail, row.message_id)
    assert sent.thread_id == message.thread_id  # joined the conversation
    assert sent.header("In-Reply-To") == message.message_id
    assert message.message_id in (sent.header("References") or "")
    assert (sent.header("Subject") or "").lower().startswith("re:")
    assert message.sender.email in (sent.header("To") or "")


def test_a_template_with_a_missing_field_offers_no_send(connected: Gmail) -> None:
    gmail = connected
    _template(gmail, "<p>Your order {{ order.poNumber }} ships.</p>")
    message = incoming(gmail.world)[0]
    preview = _preview(gmail, message)
    assert "order.poNumber" in texts(preview)
    assert not [b for b in buttons(preview) if b["text"] == "Send reply"]


def test_a_reply_whose_sending_died_is_finished_once_when_the_thread_is_opened(connected: Gmail) -> None:
    """The request died after Gmail took the reply and before we recorded it: opening the thread
    again asks Gmail (our Message-ID is there) and records it sent, without a second email."""
    gmail = connected
    _template(gmail, "<p>On its way.</p>")
    message = incoming(gmail.world)[0]
    preview = _preview(gmail, message)
    gmail.click(_button(preview, "Send reply"), message=message)
    (row,) = outbox_rows(gmail.app)
    with db.session_scope(gmail.app) as session:  # as if the sender had died holding the row
        found = session.get(OutboxMessage, row.id)
        assert found is not None
        found.state, found.lease_until, found.sent_at, found.provider_message_id = "sending", None, None, ""
        found.lease_until = found.created_at

    gmail.open(message)

    (row,) = outbox_rows(gmail.app)
    assert row.state == "sent" and row.attempts == 2
    assert len(_sent_with(gmail, row.message_id)) == 1
