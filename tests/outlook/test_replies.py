"""Replies the connector sends from the Outlook pane, in Chromium through the Office.js shim: "Send now"
with a template (once per click, even when the network fails the first try), and "Replies in this
conversation" with each reply's state, watched while one is underway, a failed one with Retry and
Dismiss. Screenshots under test-artifacts/outlook-replies-*.png."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from connector.db import db
from connector.db.models import User
from connector.jobs import LocalWakeup
from connector.outbox.delivery import DeliveryPolicy
from connector.outbox.models import OutboxMessage
from connector.outbox.runner import OutboxWorker
from connector.sandbox import examples as ex
from tests.admin.outbox import recorded_reply
from tests.api.support import LiveConnector
from tests.conftest import ARTIFACTS
from tests.outbox.support import outbox_rows
from tests.outlook.pane import open_thread, pane_screenshot, wait_for_sidebar

pytestmark = pytest.mark.browser


def _alice(connector: LiveConnector) -> tuple[Any, Any]:
    """Alice connected to Oro, and her conversation with Inès (who is a contact and a lead)."""
    connector.connect_to_oro("alice")
    thread = connector.world.named_threads[ex.THREAD_TRIPLE_PERSON]
    assert thread.mailbox == ex.ALICE_MAILBOX
    return thread, thread.messages[-1]


def _set(connector: LiveConnector, send_id: int, **values: Any) -> None:
    with db.session_scope(connector.app) as session:
        row = session.get(OutboxMessage, send_id)
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)


def _region_screenshot(region: Any, name: str) -> None:
    """The replies alone (the whole pane is long), under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    region.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _count_listings(page: Any) -> list[float]:
    times: list[float] = []

    def seen(request: Any) -> None:
        if request.method == "GET" and "/api/v1/replies?" in request.url:
            times.append(time.monotonic())

    page.on("request", seen)
    return times


def test_the_replies_of_the_conversation_with_retry_and_dismiss(connector: LiveConnector, page: Any) -> None:
    thread, _message = _alice(connector)
    with db.session_scope(connector.app) as session:
        alice = session.query(User).filter_by(email=ex.ALICE_MAILBOX).one()
        refused = recorded_reply(
            session,
            alice,
            thread_id=thread.id,
            to=ex.TRIPLE_PERSON_EMAIL,
            template_name="Contact <follow-up>",
            error="Outlook refused the reply: the recipient's mailbox does not exist.",
        ).id
        older = recorded_reply(
            session,
            alice,
            thread_id=thread.id,
            to="achats@lumiere-optique.example",
            template_name="Price list",
        ).id
        sent = recorded_reply(session, alice, state="sent", thread_id=thread.id, template_name="Thanks").id
        recorded_reply(session, alice, thread_id="another-conversation", template_name="Elsewhere")
    listings = _count_listings(page)

    pane = open_thread(page, connector, thread)
    wait_for_sidebar(pane)
    replies = pane.get_by_role("region", name="Replies in this conversation")
    items = replies.locator("li.send")
    expect(items).to_have_count(3)  # newest first, this conversation's only
    expect(items.locator(".send-label")).to_have_text(["Sent", "Not sent", "Not sent"])
    failed = replies.locator(f'li[data-send="{refused}"]')
    expect(failed.locator(".send-what")).to_have_text("Contact <follow-up>")  # text, never markup
    expect(failed.locator(".send-to")).to_have_text(f"To {ex.TRIPLE_PERSON_EMAIL}")
    expect(failed.locator(".send-error")).to_have_text(
        "Outlook refused the reply: the recipient's mailbox does not exist."
    )
    expect(replies.locator(f'li[data-send="{sent}"]').get_by_role("button")).to_have_count(0)
    pane_screenshot(page, "outlook-replies-failed")
    _region_screenshot(replies, "outlook-replies-failed-section")
    # Nothing underway: the pane asked once and does not keep asking.
    page.wait_for_timeout(2500)
    assert len(listings) == 1, listings

    # Retry: waiting to be sent again, and watched every 2 s until it is sent.
    failed.get_by_role("button", name=f"Retry the reply to {ex.TRIPLE_PERSON_EMAIL}").click()
    expect(failed.locator(".send-label")).to_have_text("Will try again")
    expect(failed.get_by_role("button")).to_have_count(0)
    expect(pane.locator("#status")).to_have_text(f"The reply to {ex.TRIPLE_PERSON_EMAIL} will be sent again.")
    assert pane.locator("#replies-title").evaluate("node => node === document.activeElement")
    row = next(r for r in outbox_rows(connector.app) if r.id == refused)
    assert row.state == "pending"
    asked = len(listings)
    page.wait_for_timeout(4500)
    assert len(listings) >= asked + 2, "a reply underway is looked at again every 2 seconds"
    _set(connector, refused, state="sent", sent_at=row.created_at, last_error="")
    expect(failed.locator(".send-label")).to_have_text("Sent")
    expect(pane.locator("#status")).to_have_text(f"Your reply to {ex.TRIPLE_PERSON_EMAIL} was sent.")
    settled = len(listings)
    page.wait_for_timeout(2500)
    assert len(listings) == settled, "nothing underway any more: the pane stops asking"

    # Dismiss: the reply leaves the list and is never sent.
    replies.get_by_role("button", name="Dismiss the reply to achats@lumiere-optique.example").click()
    expect(replies.locator(f'li[data-send="{older}"]')).to_have_count(0)
    expect(items).to_have_count(2)
    dismissed = next(r for r in outbox_rows(connector.app) if r.id == older)
    assert dismissed.state == "failed" and dismissed.resolved_at is not None
    pane_screenshot(page, "outlook-replies-dismissed")


def _templates(connector: LiveConnector) -> None:
    for template in (
        {
            "name": "Thanks",
            "record_type": None,
            "format": "text",
            "subject": "-",
            "body": "Thank you, {{ user.name }}.",
        },
        {
            "name": "Lead job title",
            "record_type": "leads",
            "subject": "-",
            "body": "<p>Dear {{ entity.firstName }}, call {{ entity.primaryPhone }}.</p>",
        },
    ):
        made = connector.api("POST", "/templates", json=template)
        assert made.status_code == 201, made.text


def test_send_now_sends_a_template_reply_once_per_click(connector: LiveConnector, page: Any) -> None:
    thread, message = _alice(connector)
    _templates(connector)
    posted: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda r: (
            posted.append(json.loads(r.post_data))
            if r.method == "POST" and r.url.endswith("/api/v1/replies")
            else None
        ),
    )

    pane = open_thread(page, connector, thread)
    wait_for_sidebar(pane)
    section = pane.get_by_role("region", name="Reply with a template")
    choice = section.get_by_label("Template")
    send_now = section.get_by_role("button", name="Send now")

    # A field missing: named, and nothing can be sent.
    (lead,) = [o for o in choice.locator("option").all_inner_texts() if o.startswith("Lead job title")]
    choice.select_option(label=lead)
    expect(section.get_by_role("alert")).to_contain_text("Fill these fields in Oro")
    expect(send_now).to_be_disabled()

    # Complete: the first click's answer is lost on the way back (the reply was recorded all the same).
    choice.select_option(label="Thanks")
    expect(send_now).to_be_enabled()

    def lose_the_answer(route: Any) -> None:
        route.fetch()  # the connector records the reply...
        route.abort("connectionreset")  # ...and the pane never hears of it

    page.route("**/api/v1/replies", lose_the_answer, times=1)
    send_now.click()
    expect(pane.locator("#status")).to_contain_text("Press Send now again to send this reply.")
    assert len(outbox_rows(connector.app)) == 1
    # Again: the same click's key, so the connector answers with the reply it has, and nothing more.
    send_now.click()
    replies = pane.get_by_role("region", name="Replies in this conversation")
    expect(replies.locator("li.send")).to_have_count(1)
    expect(pane.locator("#status")).to_have_text(
        f"Your reply to {ex.TRIPLE_PERSON_EMAIL} is recorded: waiting to send."
    )
    assert pane.locator("#replies-title").evaluate("node => node === document.activeElement")
    assert len(posted) == 2 and posted[0]["key"] == posted[1]["key"]
    assert posted[0]["template_id"] and posted[0]["to"] == [ex.TRIPLE_PERSON_EMAIL]
    assert posted[0]["message"]["conversation_id"] == thread.id
    (row,) = outbox_rows(connector.app)
    assert row.idempotency_key == posted[0]["key"] and row.template_name == "Thanks"
    assert row.reply_to == message.id  # the open message is the one answered
    expect(replies.locator(".send-label")).to_have_text(["Waiting to send"])
    pane_screenshot(page, "outlook-replies-waiting")
    _region_screenshot(replies, "outlook-replies-waiting-section")

    # The runner sends it through Graph; the pane, watching, shows it sent without a reload.
    worker = OutboxWorker(
        connector.app,
        sessions=lambda: db.session_scope(connector.app),
        policy=DeliveryPolicy(),
        poll_seconds=1,
        wakeup=LocalWakeup(),
    )
    assert worker.run_once()["sent"] == 1
    expect(replies.locator(".send-label")).to_have_text(["Sent"])
    expect(pane.locator("#status")).to_have_text(f"Your reply to {ex.TRIPLE_PERSON_EMAIL} was sent.")
    pane_screenshot(page, "outlook-replies-sent")
    _region_screenshot(section.locator(".template-actions"), "outlook-replies-send-now")
    _region_screenshot(replies, "outlook-replies-sent-section")

    # A new click is a new reply (a new key).
    send_now.click()
    expect(replies.locator("li.send")).to_have_count(2)
    assert len(posted) == 3 and posted[2]["key"] != posted[0]["key"]
