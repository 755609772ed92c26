"""Replying with a template from the Outlook pane, in Chromium through the Office.js shim: the templates
that fit the person replied to, a preview for them (the body inside a sandboxed frame), each missing
field named with the reply button disabled, and Outlook's reply form opened with the rendered body."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from connector.sandbox import examples as ex
from tests.api.support import LiveConnector
from tests.conftest import ARTIFACTS
from tests.outlook.pane import open_thread, pane_screenshot, reply_forms, wait_for_sidebar

pytestmark = pytest.mark.browser

TEMPLATES = [
    {
        "name": "Contact follow-up",
        "record_type": "contacts",
        "subject": "Following up, {{ entity.firstName }}",
        "body": "<p>Dear {{ entity.firstName }},</p>"
        "<p>as {{ entity.jobTitle }}, you asked for our prices.</p>"
        '<script>document.documentElement.dataset.ran = "script"</script><p>{{ user.name }}</p>',
    },
    {
        "name": "Lead job title",
        "record_type": "leads",
        "subject": "For the {{ entity.jobTitle }}",
        "body": "<p>Dear {{ entity.firstName }},</p><p>as {{ entity.jobTitle }} at {{ entity.companyName }}, "
        "you will like this. Call {{ entity.primaryPhone }}.</p>",
    },
    {
        "name": "Order shipped",
        "record_type": "orders",
        "subject": "Order {{ entity.identifier }}",
        "body": "<p>Your order {{ entity.identifier }} has shipped.</p>",
    },
    {
        "name": "Thanks",
        "record_type": None,
        "format": "text",
        "subject": "Thanks",
        "body": "Thank you, we are on it <today> & tomorrow.\n\n{{ user.name }}",
    },
]
HOSTILE_JOB_TITLE = '<img src=x onerror="document.documentElement.dataset.ran = 1">Directrice'


def section_screenshot(section: Any, name: str) -> None:
    """The templates section alone (the whole pane is long), under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    section.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_reply_with_a_template_for_the_sender(connector: LiveConnector, page: Any) -> None:
    connector.connect_to_oro("alice")
    ids = {}
    for template in TEMPLATES:
        made = connector.api("POST", "/templates", json=template)
        assert made.status_code == 201, made.text
        ids[template["name"]] = made.json()["id"]
    bobs = connector.api("POST", "/templates", "bob", json={**TEMPLATES[3], "name": "Bob's thanks"})
    assert bobs.status_code == 201
    # Oro data is data: markup in a field is shown as text, never run.
    (contact,) = [
        c
        for c in connector.world.oro.all("contacts")
        if c.attributes.get("primaryEmail") == ex.TRIPLE_PERSON_EMAIL
    ]
    contact.attributes["jobTitle"] = HOSTILE_JOB_TITLE

    pane = open_thread(page, connector, connector.world.named_threads[ex.THREAD_TRIPLE_PERSON])
    wait_for_sidebar(pane)
    section = pane.get_by_role("region", name="Reply with a template")
    expect(section.get_by_text(f"To {ex.TRIPLE_PERSON_NAME} <{ex.TRIPLE_PERSON_EMAIL}>")).to_be_visible()
    choice = section.get_by_label("Template")
    # Inès is a contact, a customer user and a lead: templates for those, and for no record. Not the
    # order template (no order of hers is on this email), not bob's private one.
    options = choice.locator("option").all_inner_texts()
    assert options[0] == "Choose a template…"
    assert options[1] == f"Contact follow-up · Contact: {ex.TRIPLE_PERSON_NAME}"
    assert re.fullmatch(r"Lead job title · Lead: Lumière Optique SARL — .+", options[2]), options[2]
    assert options[3:] == ["Thanks"]
    # Nothing to open before a template is chosen.
    expect(section.get_by_role("button")).to_have_count(0)

    # A field the lead lacks: named, and the reply cannot be opened.
    choice.select_option(label=options[2])
    missing = section.get_by_role("alert")
    expect(missing).to_contain_text("Fill these fields in Oro, or take them out of the template")
    expect(missing.locator("li")).to_have_text(["Job title (entity.jobTitle)", "Phone (entity.primaryPhone)"])
    open_button = section.get_by_role("button", name="Open reply form")
    expect(open_button).to_be_disabled()
    expect(section.locator(".preview-subject")).to_have_text("For the [missing: entity.jobTitle]")
    pane_screenshot(page, "outlook-template-missing")
    section_screenshot(section, "outlook-template-missing-section")

    # A complete one: the preview for Inès, her record's values as text, the template's script inert.
    choice.select_option(label=options[1])
    expect(section.locator(".preview-subject")).to_have_text("Following up, Inès")
    expect(section.get_by_role("alert")).to_have_count(0)
    frame = section.locator("iframe.preview-body")
    assert frame.get_attribute("sandbox") == ""
    body = pane.frame_locator("#templates iframe.preview-body").locator("body")
    expect(body).to_contain_text("Dear Inès,")
    expect(body).to_contain_text(f"as {HOSTILE_JOB_TITLE}, you asked for our prices.")
    expect(body.locator("img")).to_have_count(0)
    expect(open_button).to_be_enabled()
    # The sandboxed frame paints in a renderer of its own, a moment after its text is there: a picture
    # taken at once shows it empty. (A pause for the picture only; nothing is asserted on timing.)
    page.wait_for_timeout(500)
    pane_screenshot(page, "outlook-template-preview")
    section_screenshot(section, "outlook-template-preview-section")

    open_button.click()
    page.locator("#outlook-reply-form").wait_for()
    (form,) = reply_forms(page)
    expected = connector.api(
        "POST",
        f"/templates/{ids['Contact follow-up']}/preview",
        json={
            "record": {"type": "contacts", "id": contact.id},
            "recipients": [{"email": ex.TRIPLE_PERSON_EMAIL, "name": ex.TRIPLE_PERSON_NAME}],
        },
    ).json()["previews"][0]["body"]
    assert form["htmlBody"] == expected
    assert "&lt;img src=x onerror=" in form["htmlBody"] and "<img" not in form["htmlBody"]
    expect(pane.locator("#status")).to_have_text(
        "Outlook opened the reply with “Contact follow-up” for you to review."
    )
    assert body.evaluate("b => b.ownerDocument.documentElement.dataset.ran ?? null") is None

    # A text template: shown as text, sent to Outlook as escaped HTML.
    choice.select_option(label="Thanks")
    expect(section.locator("pre.preview-body")).to_have_text(
        "Thank you, we are on it <today> & tomorrow.\n\nAlice Martin"
    )
    section.get_by_role("button", name="Open reply form").click()
    expect(page.locator("#outlook-reply-text")).to_have_text(re.compile("we are on it <today> & tomorrow"))
    forms = reply_forms(page)
    assert len(forms) == 2
    assert (
        forms[1]["htmlBody"]
        == "<p>Thank you, we are on it &lt;today&gt; &amp; tomorrow.</p><p>Alice Martin</p>"
    )
    pane_screenshot(page, "outlook-template-text")
    section_screenshot(section, "outlook-template-text-section")


def test_without_templates_the_pane_says_so_and_keeps_the_plain_reply(
    connector: LiveConnector, page: Any
) -> None:
    connector.connect_to_oro("alice")
    pane = open_thread(page, connector, connector.world.named_threads[ex.THREAD_TRIPLE_PERSON])
    wait_for_sidebar(pane)
    section = pane.get_by_role("region", name="Reply with a template")
    expect(section.get_by_text(f"No template fits a reply to {ex.TRIPLE_PERSON_NAME} yet.")).to_be_visible()
    expect(pane.get_by_role("button", name="Open reply form")).to_have_count(1)  # the plain reply's
