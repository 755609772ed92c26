"""The message card's "Replies in this thread": each reply's state, a failed one with why until the user
retries it (sent at once, in the thread) or dismisses it. Every card is checked by tests.gmail.cardcheck
(Google's own card messages)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import expect

from addons.gmail import cards
from addons.gmail.routes import signer
from connector.db import db
from connector.db.models import Identity, User
from connector.manifests.gmail import ACTION_PATH
from connector.outbox.models import OutboxMessage
from connector.outbox.operations import SendRecord
from connector.sandbox import examples as ex
from connector.sidebar.view import SidebarView
from tests.admin.outbox import State, recorded_reply
from tests.conftest import screenshot
from tests.gmail.cardcheck import check_response
from tests.gmail.conftest import Gmail, buttons, notification, texts, top_card
from tests.gmail.test_preview import settle, toast
from tests.outbox.support import incoming

LOGO = "https://connector.example.com/logo.png"
ACTION_URL = "https://connector.example.com" + ACTION_PATH


class StubActions:
    def action(self, handler: str, **params: str) -> cards.Action:
        return cards.Action(function=ACTION_URL, parameters=(("state", f"{handler}:{params}"),))


def _send(send_id: int, state: str, **changes: Any) -> SendRecord:
    values: dict[str, Any] = {
        "id": send_id,
        "state": state,
        "subject": "Re: Lens order",
        "to": ("ines@lumiere-optique.example", "achats@lumiere-optique.example"),
        "mailbox": "alice@acme.example",
        "thread_id": "t",
        "template_name": "Order <follow-up>",
        "attempts": 1,
        "last_error": "",
        "created_at": datetime(2026, 11, 27, 8, 0, tzinfo=UTC),
        "sent_at": None,
        "next_attempt_at": None,
        "linked": False,
    }
    values.update(changes)
    return SendRecord(**values)


def _section(card: dict[str, Any], header: str) -> dict[str, Any] | None:
    return next((s for s in card["sections"] if s.get("header") == header), None)


def test_every_state_of_a_reply_reads_right_on_a_card_google_accepts() -> None:
    sends = [
        _send(4, "failed", attempts=8, last_error="Gmail refused the reply: <b>bad</b> recipient"),
        _send(3, "pending", attempts=2, last_error="Gmail is not answering now."),
        _send(2, "sending"),
        _send(1, "sent", sent_at=datetime(2026, 11, 27, 8, 1, tzinfo=UTC)),
        _send(5, "pending", attempts=0),
    ]
    view = SidebarView(message_id="<m@x>", thread_id="t", subject="Lens order", participants=())
    card = cards.message_card(view, branding=cards.Branding(LOGO), actions=StubActions(), sends=sends)
    (data,) = check_response(
        cards.TriggerCard(card).to_dict(),
        link_prefixes=["https://connector.example.com/"],
        action_url=ACTION_URL,
    )
    assert data["sections"][0]["header"] == "Replies in this thread", (
        "replies come first, where they are seen"
    )
    section = data["sections"][0]
    shown = texts({"sections": [section]})
    for label in ("Not sent", "Will try again", "Sending", "Sent", "Waiting to send"):
        assert f">{label}</font>" in shown
    assert "Order &lt;follow-up&gt;" in shown and "Order <follow-up>" not in shown
    assert "To ines@lumiere-optique.example, achats@lumiere-optique.example" in shown
    assert "Gmail refused the reply: &lt;b&gt;bad&lt;/b&gt; recipient" in shown
    assert "Gmail is not answering now. Tried again when you next open this conversation." in shown
    assert "Sent 2026-11-27 08:01 UTC" in shown
    # Retry and Dismiss for the failed one only.
    states = [b["onClick"]["action"]["parameters"][0]["value"] for b in buttons({"sections": [section]})]
    assert states == ["on_retry_send:{'send': '4'}", "on_dismiss_send:{'send': '4'}"]

    without = cards.message_card(view, branding=cards.Branding(LOGO), actions=StubActions())
    assert _section(without.to_dict(), "Replies in this thread") is None


def _reply(gmail: Gmail, message: Any, state: State, subject: str) -> int:
    with db.session_scope(gmail.app) as session:
        alice = session.query(User).filter_by(email=ex.ALICE_MAILBOX).one()
        return recorded_reply(
            session,
            alice,
            state=state,
            provider="gmail",
            thread_id=message.thread_id,
            subject=subject,
            to=message.sender.email,
            reply_to=message.id,
            in_reply_to=message.message_id,
            error="Gmail refused the reply: the recipient does not exist.",
            template_name="",  # the card names it by its subject then
        ).id


def _row(gmail: Gmail, send_id: int) -> OutboxMessage:
    with db.session_scope(gmail.app) as session:
        row = session.get(OutboxMessage, send_id)
        assert row is not None
        session.expunge(row)
        return row


def _checked(gmail: Gmail, response: dict[str, Any]) -> dict[str, Any]:
    prefixes = [gmail.base + "/", gmail.app.extensions["connector.settings"].oro_url + "/"]
    (card,) = check_response(response, link_prefixes=prefixes, action_url=gmail.base + ACTION_PATH)
    return card


def _button(section: dict[str, Any] | None, text: str, *, of: str) -> dict[str, Any]:
    """The button ``text`` of the reply whose line shows ``of``."""
    assert section is not None
    current = ""
    for widget in section["widgets"]:
        if "decoratedText" in widget:
            current = widget["decoratedText"]["text"]
        for button in widget.get("buttonList", {}).get("buttons", []):
            if button["text"] == text and of in current:
                return dict(button)
    raise AssertionError(f"no {text} button for {of!r}")


def test_a_failed_reply_stays_on_the_card_until_retried_or_dismissed(connected: Gmail) -> None:
    gmail = connected
    message = incoming(gmail.world)[0]
    subject = f"Re: {message.subject}"
    failed = _reply(gmail, message, "failed", subject)
    other = _reply(gmail, message, "failed", "Re: an older answer")

    card = _checked(gmail, gmail.open(message))
    section = _section(card, "Replies in this thread")
    assert section is not None
    assert "Not sent" in texts(section) and "the recipient does not exist" in texts(section)
    retry = _button(section, "Retry", of=subject)
    # The same, every time the message is opened: a failure is not shown once and forgotten.
    assert _section(_checked(gmail, gmail.open(message)), "Replies in this thread") == section

    # Retry: sent at once, in the conversation, with the Message-ID recorded for it.
    answer = gmail.click(retry, message=message)
    assert notification(answer) == "Reply sent."
    after = _section(_checked(gmail, answer), "Replies in this thread")
    assert after is not None and ">Sent</font>" in texts(after)
    row = _row(gmail, failed)
    assert row.state == "sent"
    (sent,) = [m for m in gmail.world.gmail.sent if (m.header("Message-ID") or "") == row.message_id]
    assert sent.thread_id == message.thread_id and sent.header("In-Reply-To") == message.message_id

    # The old button again (a stale card): nothing is sent twice, and the card says why.
    again = gmail.click(retry, message=message)
    assert "is sent, not failed: there is nothing to retry. [send_not_retried]" in notification(again)
    assert len([m for m in gmail.world.gmail.sent if (m.header("Message-ID") or "") == row.message_id]) == 1

    # Dismiss the other: it leaves the card and is never sent.
    dismissed = gmail.click(_button(after, "Dismiss", of="an older answer"), message=message)
    assert notification(dismissed) == "Dismissed: that reply will not be sent."
    remaining = _section(_checked(gmail, dismissed), "Replies in this thread")
    assert remaining is not None and "an older answer" not in texts(remaining)
    assert not [b for b in buttons({"sections": [remaining]}) if b["text"] in ("Retry", "Dismiss")]
    assert _row(gmail, other).resolved_at is not None and _row(gmail, other).state == "failed"


def test_another_persons_replies_are_not_shown_nor_retried(connected: Gmail) -> None:
    gmail = connected
    message = incoming(gmail.world)[0]
    gmail.connect(top_card(gmail.home(mailbox=ex.BOB_MAILBOX)), username="bob")  # type: ignore[arg-type]
    with db.session_scope(gmail.app) as session:
        bob = session.query(User).filter_by(email=ex.BOB_MAILBOX).one()
        bobs = recorded_reply(session, bob, provider="gmail", thread_id=message.thread_id).id
    card = _checked(gmail, gmail.open(message))
    assert _section(card, "Replies in this thread") is None

    # A Retry of bob's reply in a state signed for alice (as if she had guessed its id): refused.
    with db.session_scope(gmail.app) as session:
        sub = session.query(Identity).filter_by(provider="google", user_id=_alice_id(gmail)).one().subject
    state = signer(gmail.app).sign("on_retry_send", {"send": str(bobs)}, root="message", user_sub=sub)
    forged = {
        "onClick": {
            "action": {"function": gmail.base + ACTION_PATH, "parameters": [{"key": "state", "value": state}]}
        }
    }
    answer = gmail.click(forged, message=message)
    assert notification(answer) == f"There is no reply {bobs} of yours. [send_not_retried]"
    assert _row(gmail, bobs).state == "failed"


def _alice_id(gmail: Gmail) -> int:
    with db.session_scope(gmail.app) as session:
        return session.query(User).filter_by(email=ex.ALICE_MAILBOX).one().id


@pytest.mark.browser
def test_a_failed_reply_in_the_demo_card_is_retried_by_clicking(connected: Gmail, page: Any) -> None:
    gmail = connected
    message = incoming(gmail.world)[0]
    thread = next(t for t in gmail.world.threads_of(ex.ALICE_MAILBOX) if t.id == message.thread_id)
    failed = _reply(gmail, message, "failed", f"Re: {message.subject}")

    page.goto(f"{gmail.base}/?mailbox={thread.mailbox}&thread={thread.id}")
    page.select_option("#gx-message", message.id)
    card = settle(page)
    replies = card.locator(".gx-section", has_text="Replies in this thread")
    expect(replies).to_contain_text("Not sent")
    expect(replies).to_contain_text("Gmail refused the reply: the recipient does not exist.")
    screenshot(page, "gmail-replies-failed")

    replies.get_by_role("button", name="Retry", exact=True).click()
    card = settle(page)
    assert toast(page) == "Reply sent."
    replies = card.locator(".gx-section", has_text="Replies in this thread")
    expect(replies).to_contain_text("Sent")
    expect(replies.get_by_role("button")).to_have_count(0)
    screenshot(page, "gmail-replies-retried")
    assert _row(gmail, failed).state == "sent"


def test_reply_times_read_in_the_users_time_zone() -> None:
    from zoneinfo import ZoneInfo

    sent = _send(1, "sent", sent_at=datetime(2026, 11, 27, 8, 1, tzinfo=UTC))
    waiting = _send(2, "pending", created_at=datetime(2026, 7, 1, 22, 30))  # naive, as SQLite gives it
    shown = texts(
        cards.sends_section([sent, waiting], StubActions(), zone=ZoneInfo("Europe/Paris")).to_dict()
    )
    assert "Sent 2026-11-27 09:01 CET" in shown and "Written 2026-07-02 00:30 CEST" in shown


def test_the_time_zone_comes_from_the_event_and_falls_back_to_utc() -> None:
    from zoneinfo import ZoneInfo

    from addons.gmail.context import AddonRequest

    def zone_of(common: dict[str, Any]) -> Any:
        req = AddonRequest.__new__(AddonRequest)
        object.__setattr__(req, "event", {"commonEventObject": common})
        return req.time_zone

    assert zone_of({"timeZone": {"id": "Asia/Tokyo", "offset": 32400000}}) == ZoneInfo("Asia/Tokyo")
    assert zone_of({"timeZone": {"id": "Not/AZone"}}) is UTC
    assert zone_of({}) is UTC
