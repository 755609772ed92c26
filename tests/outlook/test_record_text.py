"""Record fields and email text reach the pane as text: markup in Oro data never becomes HTML."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from connector.oro import OroConfig, OroConnection
from connector.sandbox import examples as ex
from connector.sandbox.conversations import Address, SampleMessage, SampleThread
from tests.api.support import LiveConnector
from tests.outlook.pane import open_thread, pane_screenshot, wait_for_sidebar

pytestmark = pytest.mark.browser

PAYLOAD = "<img src=x onerror=alert(1)>"
ADDRESS = "mallet@hostile-markup.example"


def _contact_named_with_markup(connector: LiveConnector) -> str:
    """Alice creates, through Oro's API, a contact whose first name is an HTML payload."""
    world = connector.world
    token = world.oro.oauth.issue_for_user(world.oro.user_by_username("alice").id)
    oro = OroConnection(OroConfig(oro_url=f"{connector.url}/sandbox/oro", max_retries=0)).with_token(token)
    contact = oro.create_contact(
        first_name=PAYLOAD, last_name="Mallet", email=ADDRESS, job_title="<b>Buyer</b>"
    )
    return contact.id


def _message_from(connector: LiveConnector, sender: Address, subject: str) -> SampleThread:
    world = connector.world
    model = world.named_threads[ex.THREAD_UNKNOWN_SENDER].messages[0]
    message = SampleMessage(
        id="feedfacefeedface",
        message_id="<markup-1@hostile-markup.example>",
        thread_id="feedfacefeed0001",
        mailbox=ex.ALICE_MAILBOX,
        sender=sender,
        to=(Address("Alice Martin", ex.ALICE_MAILBOX),),
        cc=(),
        subject=subject,
        date=model.date + timedelta(hours=1),
        in_reply_to=None,
        references=(),
        body_text=f"Hello {PAYLOAD}",
    )
    thread = SampleThread(
        id="feedfacefeed0001", mailbox=ex.ALICE_MAILBOX, subject=subject, messages=(message,)
    )
    with world.lock:
        world.threads.append(thread)
    return thread


def test_a_record_named_with_html_shows_as_text(connector: LiveConnector, page: Any) -> None:
    connector.connect_to_oro("alice")
    _contact_named_with_markup(connector)
    thread = _message_from(connector, Address(f"{PAYLOAD} Mallet", ADDRESS), f"Quote {PAYLOAD}")
    alerts: list[str] = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))

    pane = open_thread(page, connector, thread)
    wait_for_sidebar(pane)
    card = pane.locator("#people li.card", has_text="Mallet")
    card.wait_for()
    assert f"{PAYLOAD} Mallet" in card.locator(".title").inner_text()
    assert card.get_by_text("<b>Buyer</b>").is_visible(), "the job title is shown as typed, not bold"
    assert pane.locator("#people h3.person").first.inner_text().startswith(f"{PAYLOAD} Mallet")
    assert pane.locator("main img, main b").count() == 0
    assert pane.locator("img").count() == 1  # the pane's own icon in its header
    assert pane.get_by_role(
        "button", name=f"Link this conversation to {PAYLOAD} Mallet (Contact)"
    ).is_visible()
    page.wait_for_timeout(300)  # an onerror handler would have fired by now
    assert alerts == []
    pane_screenshot(page, "outlook-record-markup-as-text")
