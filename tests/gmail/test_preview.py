"""The demo preview, clicked through in Chromium: the Gmail slot draws the add-on's real card JSON, and
every click goes to the add-on with an event signed by the sandbox's Google, as Google's would.

Screenshots go to test-artifacts/gmail-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from connector.db import db
from connector.db.models import User
from connector.sandbox import examples as ex
from connector.templates.operations import create_template
from tests.conftest import LiveServer, screenshot, serve_wsgi
from tests.gmail.conftest import addon_settings, free_port

pytestmark = pytest.mark.browser


@dataclass
class Demo:
    base: str
    world: Any
    app: Flask


@pytest.fixture
def demo(app_factory: Any) -> Iterator[Demo]:
    """The demo as ``oro-connector demo`` runs it, on a loopback port."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = app_factory(**addon_settings(base))
    live: LiveServer = serve_wsgi(app, port=port)
    try:
        yield Demo(base, app.extensions["sandbox_world"], app)
    finally:
        live.stop()


def settle(page: Any) -> Any:
    """Wait until the add-on has answered and its card is drawn; return the card region."""
    page.wait_for_function(
        "() => { const r = document.getElementById('gmail-addon');"
        " return r && !r.dataset.busy && r.dataset.card; }",
        timeout=20000,
    )
    return page.get_by_role("region", name="Gmail card")


def press(page: Any, name: str, *, within: Any = None, nth: int = 0) -> Any:
    (within or page.get_by_role("region", name="Gmail card")).get_by_role(
        "button", name=name, exact=True
    ).nth(nth).click()
    return settle(page)


def toast(page: Any) -> str:
    text: str = page.locator("#gmail-addon .gx-toast").inner_text()
    return text


def card_name(page: Any) -> str:
    name: str = page.locator("#gmail-addon").get_attribute("data-card")
    return name


def connect(page: Any, username: str) -> None:
    """Connect through Oro's sign-in window, as a person does; the card reloads when it closes."""
    assert card_name(page) == "connect"
    with page.expect_popup() as opened:
        page.get_by_role("button", name="Connect to Oro").click()
    login = opened.value
    login.wait_for_load_state()
    assert "Sign in to Oro" in login.content()
    login.fill("#username", username)
    login.fill("#password", ex.SANDBOX_PASSWORD)
    login.get_by_role("button", name="Sign in and allow").click()
    login.wait_for_event("close", timeout=15000)  # the result page closes itself
    page.wait_for_function(
        "() => document.getElementById('gmail-addon').dataset.card !== 'connect'", timeout=20000
    )
    settle(page)


def open_thread(page: Any, base: str, thread: Any) -> Any:
    page.goto(f"{base}/?mailbox={thread.mailbox}&thread={thread.id}")
    return settle(page)


def test_the_gmail_card_in_the_demo_works_by_clicking(demo: Demo, page: Any) -> None:
    base, world = demo.base, demo.world
    page.goto(base + "/")
    settle(page)
    assert "Connect to Oro" in page.get_by_role("region", name="Gmail card").inner_text()
    screenshot(page, "gmail-1-connect")
    connect(page, "alice")
    assert card_name(page) == "message"

    # Every sample message of alice's mailbox shows its card.
    for thread in world.threads_of(ex.ALICE_MAILBOX):
        card = open_thread(page, base, thread)
        for message in thread.messages:
            page.select_option("#gx-message", message.id)
            card = settle(page)
            assert card.locator(".gx-head .t").inner_text() == message.subject
            assert "Find in Oro" in card.inner_text()

    # The person who is a customer user, a contact and a lead; link the conversation to the contact.
    triple = world.named_threads[ex.THREAD_TRIPLE_PERSON]
    card = open_thread(page, base, triple)
    assert card.get_by_text("Exact address of this contact").count() == 1
    screenshot(page, "gmail-2-message")
    contact = card.locator(".gx-dt", has_text="Exact address of this contact")
    card = press(page, "Link", within=contact)
    assert toast(page).startswith("Linked this conversation to Inès Moreau")
    thread_section = card.locator(".gx-section", has_text="This conversation in Oro")
    assert "linked by alice@acme.example" in thread_section.inner_text()
    screenshot(page, "gmail-3-linked")
    card = press(page, "Unlink", within=thread_section)
    assert toast(page) == "Unlinked."
    assert "Not linked to any Oro record yet" in card.inner_text()

    # Open a record, then its page in Oro.
    card.locator(".gx-dt", has_text="Exact address of this contact").locator(".body").click()
    card = settle(page)
    expect(card_name(page) == "record" and page.locator(".gx-back")).to_be_visible()
    screenshot(page, "gmail-4-record")
    with page.expect_popup() as opened:
        card.get_by_role("button", name="Open in Oro").click()
    oro_page = opened.value
    oro_page.wait_for_load_state()
    assert oro_page.url.startswith(f"{base}/sandbox/oro/")
    expect(oro_page.get_by_role("heading", name=ex.TRIPLE_PERSON_NAME)).to_be_visible()
    screenshot(oro_page, "gmail-5-open-in-oro")
    oro_page.close()
    page.locator(".gx-back").click()
    assert card_name(page) == "message"

    # Two contacts share an address: choose one, then change the answer.
    card = open_thread(page, base, world.named_threads[ex.THREAD_SHARED_ADDRESS])
    assert "use this address" in card.inner_text()
    screenshot(page, "gmail-6-choice")
    first = card.locator(".gx-dt", has_text="This one").first
    chosen_name = first.locator(".text").inner_text()
    card = press(page, "This one", within=first)
    assert toast(page) == "Remembered your choice."
    assert card.get_by_text("You chose this contact", exact=False).count() == 1
    assert chosen_name in card.inner_text() and "use this address" not in card.inner_text()
    screenshot(page, "gmail-7-chosen")
    card = press(page, "Not this contact? Choose again")
    assert "use this address" in card.inner_text()

    # Search, with "load more".
    card.get_by_label("Name, email, company or number").fill("a")
    card = press(page, "Search")
    assert card_name(page) == "search"
    shown = card.locator(".gx-dt").count()
    card = press(page, "Load more")
    assert card.locator(".gx-dt").count() > shown
    card.locator(".gx-head").scroll_into_view_if_needed()
    screenshot(page, "gmail-8-search")

    # Disconnect from the add-on's menu: the card asks to connect again.
    page.get_by_role("button", name="Add-on menu").click()
    page.get_by_role("menuitem", name="Disconnect from Oro").click()
    settle(page)
    assert toast(page) == "Disconnected from Oro." and card_name(page) == "connect"
    screenshot(page, "gmail-9-disconnected")


def test_every_sample_message_of_bobs_mailbox_shows_its_card_and_a_template_fills_a_reply(
    demo: Demo, page: Any
) -> None:
    base, world, app = demo.base, demo.world, demo.app
    page.goto(f"{base}/?mailbox={ex.BOB_MAILBOX}")
    settle(page)
    connect(page, "bob")
    for thread in world.threads_of(ex.BOB_MAILBOX):
        open_thread(page, base, thread)
        for message in thread.messages:
            page.select_option("#gx-message", message.id)
            card = settle(page)
            assert card.locator(".gx-head .t").inner_text() == message.subject
    with db.session_scope(app) as session:
        bob = session.scalars(select(User).where(User.email == ex.BOB_MAILBOX)).one()
        create_template(
            session,
            owner=bob,
            name="Audit dates",
            record_type="contacts",
            subject="Audit",
            body="<p>Dear {{ entity.firstName }},</p><p>the audit is confirmed for December 2nd.</p>",
        )
    page.get_by_role("button", name="Compose trigger").click()
    card = settle(page)
    assert card_name(page) == "compose" and "Recipients in Oro" in card.inner_text()
    card = press(page, "Insert")
    assert toast(page) == "Inserted “Audit dates”."
    draft = card.locator(".gx-draft p")
    assert draft.all_inner_texts() == ["Dear Amelia,", "the audit is confirmed for December 2nd."]
    screenshot(page, "gmail-10-compose")


def test_a_template_reply_is_previewed_and_sent_from_the_card_in_the_demo(demo: Demo, page: Any) -> None:
    base, world, app = demo.base, demo.world, demo.app
    thread = world.named_threads[ex.THREAD_TRIPLE_PERSON]
    page.goto(f"{base}/?mailbox={thread.mailbox}&thread={thread.id}")
    settle(page)
    connect(page, "alice")
    with db.session_scope(app) as session:
        alice = session.scalars(select(User).where(User.email == thread.mailbox)).one()
        create_template(
            session,
            owner=alice,
            name="Coating update",
            record_type="contacts",
            subject="-",
            body="<p>Dear {{ entity.firstName }},</p><p>your lenses leave the lab on Friday.</p>",
        )
        create_template(
            session,
            owner=alice,
            name="Needs a job title",
            record_type="leads",
            subject="-",
            body="<p>As {{ entity.jobTitle }} you will like this.</p>",
        )
    open_thread(page, base, thread)
    press(page, "Reply with a template")
    card = press(page, "Preview", nth=1)  # "Needs a job title": Inès's lead has none in Oro
    assert "Job title (entity.jobTitle)" in card.inner_text()
    assert card.get_by_role("button", name="Send reply").count() == 0
    screenshot(page, "gmail-11-reply-missing")

    open_thread(page, base, thread)
    press(page, "Reply with a template")
    card = press(page, "Preview", nth=0)
    assert "your lenses leave the lab on Friday." in card.inner_text()
    assert "Dear Inès," in card.inner_text()
    screenshot(page, "gmail-12-reply-preview")
    card = press(page, "Send reply")
    assert toast(page) == "Reply sent."
    assert "Replies in this thread" in card.inner_text() and "Sent" in card.inner_text()
    screenshot(page, "gmail-13-reply-sent")
    (sent,) = [m for m in world.gmail.sent if m.thread_id == thread.messages[-1].thread_id]
    assert "lenses leave the lab" in sent.body_text
