"""The Outlook task pane in Chromium, hosted by the Office.js shim in the preview, against the sandbox.

Each test drives the unmodified pane the way a person would (clicks, keyboard) and keeps screenshots
under test-artifacts/.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from connector.sandbox import examples as ex
from tests.api.support import LiveConnector
from tests.outlook.pane import open_thread, pane_screenshot, reply_forms, wait_for_sidebar

pytestmark = pytest.mark.browser


def test_connect_link_unlink_search_and_reply(connector: LiveConnector, page: Any) -> None:
    thread = connector.world.named_threads[ex.THREAD_TRIPLE_PERSON]
    pane = open_thread(page, connector, thread)

    # First use: the pane asks to connect to Oro; the sign-in happens in a dialog window.
    pane.get_by_role("heading", name="Connect to Oro").wait_for(timeout=15_000)
    pane_screenshot(page, "outlook-connect")
    with page.expect_popup() as opened:
        pane.get_by_role("button", name="Connect to Oro").click()
    dialog = opened.value
    dialog.get_by_label("Username").fill("alice")
    dialog.get_by_label("Password").fill("demo")
    dialog.get_by_role("button", name="Sign in and allow").click()
    dialog.get_by_role("heading", name="Connected to Oro").wait_for(timeout=15_000)
    wait_for_sidebar(pane)  # the dialog closed itself and the pane looked again

    people = pane.locator("#people")
    ines = people.get_by_role("article", name=re.compile(ex.TRIPLE_PERSON_NAME))
    for label in ("Customer user", "Contact", "Lead"):
        expect(ines.locator(".type", has_text=label).first).to_be_visible()
    expect(pane.get_by_text("Not linked to any Oro record yet")).to_be_visible()
    pane_screenshot(page, "outlook-sidebar")

    # Link the conversation to Inès's contact record.
    pane.get_by_role("button", name=f"Link this conversation to {ex.TRIPLE_PERSON_NAME} (Contact)").click()
    thread_section = pane.locator("#thread")
    unlink = thread_section.get_by_role(
        "button", name=f"Unlink {ex.TRIPLE_PERSON_NAME} (Contact) from this conversation"
    )
    unlink.wait_for()
    expect(
        pane.get_by_role("status").filter(has_text=f"Linked this conversation to {ex.TRIPLE_PERSON_NAME}")
    ).not_to_have_count(0)
    expect(thread_section.get_by_text("Linked by alice@acme.example")).to_be_visible()
    pane_screenshot(page, "outlook-linked")

    # Unlink it again.
    unlink.click()
    pane.get_by_text("Not linked to any Oro record yet").wait_for()
    expect(pane.locator("#status")).to_have_text(re.compile(r"is no longer linked to this conversation\.$"))

    # Search Oro with the keyboard only, and link a result.
    pane.get_by_label("Find a record in Oro").focus()
    page.keyboard.type("Lumière")
    page.keyboard.press("Enter")
    results = pane.locator("#search-results")
    results.get_by_text("Results for “Lumière”").wait_for()
    first_link = results.get_by_role("button", name=re.compile(r"^Link this conversation to ")).first
    title = first_link.get_attribute("aria-label").removeprefix("Link this conversation to ")
    for _ in range(6):  # tab from the search button to the first result's Link button
        page.keyboard.press("Tab")
        if pane.locator(":focus").get_attribute("aria-label") == first_link.get_attribute("aria-label"):
            break
    assert pane.locator(":focus").get_attribute("aria-label") == f"Link this conversation to {title}"
    pane_screenshot(page, "outlook-search")
    page.keyboard.press("Enter")
    thread_section.get_by_role("button", name=f"Unlink {title} from this conversation").wait_for()
    assert pane.locator("#thread-title").evaluate("node => node === document.activeElement")

    # Reply: Outlook's reply form opens with the text, as HTML that shows the text as typed.
    reply = pane.get_by_label("Reply text")
    assert reply.input_value().startswith("Hello Inès,")
    reply.fill("Hello Inès,\n\nThe lenses ship on the 14th <with tracking> & insurance.\n\nAlice")
    pane.get_by_role("button", name="Open reply form").click()
    page.locator("#outlook-reply-form").wait_for()
    (form,) = reply_forms(page)
    assert form["htmlBody"] == (
        "<p>Hello Inès,</p>"
        "<p>The lenses ship on the 14th &lt;with tracking&gt; &amp; insurance.</p>"
        "<p>Alice</p>"
    )
    assert "ship on the 14th <with tracking> & insurance" in page.locator("#outlook-reply-text").inner_text()
    screenshot_reply = page.locator("#outlook-pane")
    screenshot_reply.scroll_into_view_if_needed()
    pane_screenshot(page, "outlook-reply")


def test_choosing_between_two_contacts_on_one_address(connector: LiveConnector, page: Any) -> None:
    connector.connect_to_oro("alice")
    pane = open_thread(page, connector, connector.world.named_threads[ex.THREAD_SHARED_ADDRESS])
    wait_for_sidebar(pane)
    choice = pane.get_by_role("group", name=re.compile(f"use {re.escape(ex.SHARED_ADDRESS)}"))
    options = [choice.get_by_role("radio", name=re.compile(name)) for name in ex.SHARED_ADDRESS_NAMES]
    assert all(o.count() == 1 for o in options)
    pane_screenshot(page, "outlook-choice")

    options[1].check()
    choice.get_by_role("button", name="Use this contact").click()
    chosen = pane.get_by_text(f"You chose {ex.SHARED_ADDRESS_NAMES[1]} for {ex.SHARED_ADDRESS}.")
    chosen.wait_for()
    card = pane.locator("#people li.card", has_text=ex.SHARED_ADDRESS_NAMES[1])
    expect(card.get_by_text(re.compile("You chose this contact on"))).to_be_visible()
    pane_screenshot(page, "outlook-chosen")

    # The choice is remembered when the message is opened again, and can be changed.
    page.reload()
    pane = page.frame_locator("#outlook-frame")
    chosen = pane.get_by_text(f"You chose {ex.SHARED_ADDRESS_NAMES[1]} for {ex.SHARED_ADDRESS}.")
    chosen.wait_for(timeout=15_000)
    pane.get_by_role("button", name=f"Change which contact {ex.SHARED_ADDRESS} is").click()
    pane.get_by_role("group", name=re.compile(f"use {re.escape(ex.SHARED_ADDRESS)}")).wait_for()


def test_the_pinned_pane_follows_the_selected_message(connector: LiveConnector, page: Any) -> None:
    connector.connect_to_oro("alice")
    thread = connector.world.named_threads[ex.THREAD_TRIPLE_PERSON]
    pane = open_thread(page, connector, thread)
    wait_for_sidebar(pane)
    person = pane.locator("#people h3.person").first
    assert person.locator(".role").inner_text() == "From"

    # Alice's own reply in the middle of the thread: Inès is now a recipient.
    page.get_by_label("Open in Outlook").select_option(index=1)
    pane.locator("#people h3.person .role", has_text="To").wait_for()
    assert ex.TRIPLE_PERSON_NAME in pane.locator("#people h3.person").first.inner_text()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_readable_at_320_pixels_in_light_and_dark(
    connector: LiveConnector, browser: Any, scheme: str
) -> None:
    connector.connect_to_oro("alice")
    context = browser.new_context(viewport={"width": 1400, "height": 900}, color_scheme=scheme)
    try:
        page = context.new_page()
        pane = open_thread(page, connector, connector.world.named_threads[ex.THREAD_MULTI_PARTY])
        wait_for_sidebar(pane)
        page.evaluate("() => { document.getElementById('outlook-frame').style.width = '320px'; }")
        body = pane.locator("body")
        overflow = body.evaluate(
            "b => b.ownerDocument.documentElement.scrollWidth - b.ownerDocument.documentElement.clientWidth"
        )
        assert overflow <= 0, "nothing sticks out sideways at 320 px"
        background = body.evaluate("b => getComputedStyle(b).backgroundColor")
        text = body.evaluate("b => getComputedStyle(b).color")
        dark_background = background == "rgb(27, 31, 36)"
        assert dark_background == (scheme == "dark"), background
        assert text != background
        # Every control has a name a screen reader can read out.
        unnamed = pane.locator("button, input, textarea, select, a").evaluate_all(
            "nodes => nodes.filter(n => "
            "!(n.getAttribute('aria-label') || n.labels?.length || n.textContent.trim())).length"
        )
        assert unnamed == 0
        pane_screenshot(page, f"outlook-320-{scheme}", width=320)
    finally:
        context.close()


def test_add_a_note_and_create_a_lead_for_an_unknown_sender(connector: LiveConnector, page: Any) -> None:
    connector.connect_to_oro("alice")
    oro = connector.world.oro

    # A note on Inès's contact record, with the keyboard.
    pane = open_thread(page, connector, connector.world.named_threads[ex.THREAD_TRIPLE_PERSON])
    wait_for_sidebar(pane)
    contact_type = pane.locator(".type", has_text=re.compile("^Contact$"))
    card = pane.locator("#people li.card").filter(has=contact_type).first
    notes_before = len(list(oro.all("notes")))
    card.locator("summary", has_text="Add a note").focus()
    page.keyboard.press("Enter")
    text = card.get_by_label(f"Note on {ex.TRIPLE_PERSON_NAME}")
    text.focus()
    page.keyboard.type("Called Inès: <the lenses> ship on the 14th & she agrees.")
    page.keyboard.press("Tab")
    focused = pane.locator(":focus").get_attribute("aria-label")
    assert focused == f"Add note to {ex.TRIPLE_PERSON_NAME} (Contact)"
    page.keyboard.press("Enter")
    card.get_by_role("status").filter(has_text="Note added").wait_for()
    assert text.input_value() == ""
    expect(pane.locator("#status")).to_have_text(f"Note added to {ex.TRIPLE_PERSON_NAME}.")
    notes = list(oro.all("notes"))
    assert len(notes) == notes_before + 1
    # Oro keeps notes as HTML: the text arrives escaped, as typed.
    assert notes[-1].attributes["message"] == (
        "<p>Called Inès: &lt;the lenses&gt; ship on the 14th &amp; she agrees.</p>"
    )
    pane_screenshot(page, "outlook-note-added")

    # The unknown sender: offered as a lead, prefilled from the email.
    pane = open_thread(page, connector, connector.world.named_threads[ex.THREAD_UNKNOWN_SENDER])
    wait_for_sidebar(pane)
    person = pane.get_by_role("article", name=re.compile("Einkauf Nordlicht"))
    assert person.get_by_text("Not found in Oro.").count() + person.get_by_text("Nobody in Oro uses").count()
    person.get_by_role("button", name=f"Create a lead for {ex.UNKNOWN_SENDER}").click()
    form = person.get_by_role("form", name=f"New record for {ex.UNKNOWN_SENDER}")
    assert form.get_by_label("Record type").input_value() == "lead"
    assert form.get_by_label("First name").input_value() == "Einkauf"
    assert form.get_by_label("Last name").input_value() == "Nordlicht"
    assert form.get_by_label("Email").input_value() == ex.UNKNOWN_SENDER
    assert form.get_by_label("Record type").evaluate("node => node === document.activeElement")
    # The purchasing mailbox is Sophie Wagner's, whom Oro knows as a contact: she is offered before
    # anything is written.
    form.get_by_label("First name").fill("Sophie")
    form.get_by_label("Last name").fill("Wagner")
    pane_screenshot(page, "outlook-create-form")
    leads_before = len(list(oro.all("leads")))
    form.get_by_role("button", name="Create", exact=True).click()
    duplicates = form.get_by_role("group", name="Oro may already have this person")
    duplicates.wait_for()
    assert duplicates.get_by_text("named Sophie Wagner exists").count()
    instead = re.compile(r"^Link this conversation to Sophie Wagner \(Contact\) instead$")
    assert duplicates.get_by_role("button", name=instead).count() == 1
    heading = duplicates.get_by_role("heading", name="Oro may already have this person")
    assert heading.evaluate("node => node === document.activeElement")
    assert len(list(oro.all("leads"))) == leads_before
    pane_screenshot(page, "outlook-create-duplicates")

    # Create it anyway: the new lead is linked to the conversation.
    duplicates.get_by_role("button", name="Create the lead anyway").click()
    thread_section = pane.locator("#thread")
    created = thread_section.get_by_role("button", name="Unlink Sophie Wagner (Lead) from this conversation")
    created.wait_for()
    leads = [
        lead for lead in oro.all("leads") if (lead.attributes.get("primaryEmail") or "") == ex.UNKNOWN_SENDER
    ]
    assert len(leads) == 1
    assert leads[0].attributes["firstName"] == "Sophie" and leads[0].attributes["lastName"] == "Wagner"
    expect(pane.locator("#status")).to_have_text(re.compile(r"and linked this conversation to it\.$"))
    expect(thread_section.get_by_text("Linked by alice@acme.example")).to_be_visible()
    pane_screenshot(page, "outlook-created-lead")
