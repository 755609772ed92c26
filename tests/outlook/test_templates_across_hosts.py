"""A template reads the same whichever host renders it: the Gmail add-on (inserted into a draft, or
previewed and sent as a reply) and the Outlook pane's preview (``/api/v1/templates/{id}/preview``), for
the same person, record and sender; and a template using a field the record lacks is refused on both
hosts with that field named."""

from __future__ import annotations

from typing import Any

import pytest

from connector.manifests.gmail import COMPOSE_PATH
from connector.sandbox import examples as ex
from tests.api.support import LiveConnector
from tests.gmail.conftest import Gmail, buttons, notification, texts, top_card

COMPLETE = {
    "name": "Lens coating follow-up",
    "record_type": "contacts",
    "subject": "Following up, {{ entity.firstName }}",
    "body": "<p>Dear {{ entity.firstName }} {{ entity.lastName }},</p>"
    "<p>as {{ entity.jobTitle|default('buyer') }} you asked for the coating prices &amp; terms:"
    " <b>{{ 'see below'|upper }}</b>.</p>"
    "<ul>{% for phone in entity.phones %}<li>{{ phone }}</li>{% endfor %}</ul>"
    "<p>{{ user.name }} · {{ user.email }}<br>{{ system.appURL }}</p>",
}
INCOMPLETE = {
    "name": "Lead job title",
    "record_type": "leads",
    "subject": "For the {{ entity.jobTitle }}",
    "body": "<p>Dear {{ entity.firstName }},</p><p>as {{ entity.jobTitle }} you will like this.</p>",
}


@pytest.fixture
def gmail(connector: LiveConnector) -> Gmail:
    """Google's side of the same connector (one app serves both hosts; alice is one user in both)."""
    return Gmail(connector.app, connector.url, connector.world, connector.server, [])


def incoming(connector: LiveConnector) -> Any:
    """Inès's first message to alice: Inès is a contact, a customer user and a lead in Oro."""
    return connector.world.named_threads[ex.THREAD_TRIPLE_PERSON].messages[0]


def outlook_preview(connector: LiveConnector, template_id: int, record_type: str) -> dict[str, Any]:
    """What the pane does: the sidebar of the open message, the sender's record of the template's type,
    then the preview for the sender."""
    message = incoming(connector)
    body = {
        "internet_message_id": message.message_id,
        "conversation_id": message.thread_id,
        "subject": message.subject,
        "from": {"name": message.sender.name, "email": message.sender.email},
        "to": [{"name": a.name, "email": a.email} for a in message.to],
    }
    view = connector.api("POST", "/sidebar", json={"message": body}).json()
    (ines,) = [p for p in view["participants"] if p["role"] == "from"]
    (group,) = [g for g in ines["matches"] if g["type"] == record_type]
    record = {"type": record_type, "id": group["records"][0]["id"]}
    answer = connector.api(
        "POST",
        f"/templates/{template_id}/preview",
        json={"record": record, "recipients": [{"email": ines["address"], "name": ines["name"]}]},
    )
    assert answer.status_code == 200, answer.text
    (preview,) = answer.json()["previews"]
    assert preview["record"] == {**record, "title": group["records"][0]["title"]}
    result: dict[str, Any] = preview
    return result


def button_of(card: dict[str, Any] | None, text: str, *, near: str = "") -> dict[str, Any]:
    """The button ``text``; with ``near``, the one on the line whose text holds ``near``."""
    assert card is not None
    for section in card["sections"]:
        for widget in section["widgets"]:
            line = widget.get("decoratedText")
            if near and line and near in line["text"] and line.get("button", {}).get("text") == text:
                return dict(line["button"])
    found = [b for b in buttons(card) if b["text"] == text]
    assert found and not near, f"no button {text!r} near {near!r} on the {card.get('name')} card"
    return found[0]


def test_a_complete_template_renders_the_same_for_gmail_and_outlook(
    connector: LiveConnector, gmail: Gmail
) -> None:
    connector.connect_to_oro("alice")
    made = connector.api("POST", "/templates", json=COMPLETE)
    assert made.status_code == 201, made.text
    template = made.json()
    outlook = outlook_preview(connector, template["id"], "contacts")
    assert outlook["ready"] is True and outlook["missing"] == []
    assert outlook["body"] == (
        "<p>Dear Inès Moreau,</p>"
        "<p>as Directrice des achats you asked for the coating prices &amp; terms: <b>SEE BELOW</b>.</p>"
        "<ul><li>+33 1 55 55 01 23</li></ul>"
        f"<p>Alice Martin · {ex.ALICE_MAILBOX}<br>{connector.url}</p>"
    )

    # Gmail, composing to Inès: the template inserted into the draft is the same HTML.
    compose = top_card(gmail.call(COMPOSE_PATH, to_recipients=[ex.TRIPLE_PERSON_EMAIL], cc_recipients=[]))
    inserted = gmail.click(
        button_of(compose, "Insert", near=COMPLETE["name"]), to_recipients=[ex.TRIPLE_PERSON_EMAIL]
    )
    draft = inserted["renderActions"]["hostAppAction"]["gmailAction"]["updateDraftActionMarkup"]
    assert draft["updateBody"]["insertContents"][0]["content"] == outlook["body"]
    assert notification(inserted) == f"Inserted “{COMPLETE['name']}”."

    # Gmail, replying to Inès's message: the reply sent carries the same text as Outlook's text part.
    message = incoming(connector)
    listing = top_card(
        gmail.click(button_of(top_card(gmail.open(message)), "Reply with a template"), message=message)
    )
    preview = top_card(gmail.click(button_of(listing, "Preview", near=COMPLETE["name"]), message=message))
    sent = gmail.click(button_of(preview, "Send reply"), message=message)
    assert notification(sent) == "Reply sent."
    (reply,) = [m for m in connector.world.gmail.sent if m.thread_id == message.thread_id]
    assert reply.body_text.replace("\r\n", "\n").rstrip("\n") == outlook["text"]  # MIME ends lines in CRLF
    assert "Dear Inès Moreau," in outlook["text"] and "prices & terms: SEE BELOW." in outlook["text"]


def test_a_template_with_a_missing_field_is_refused_with_the_field_named_on_both_hosts(
    connector: LiveConnector, gmail: Gmail
) -> None:
    connector.connect_to_oro("alice")
    made = connector.api("POST", "/templates", json=INCOMPLETE)
    assert made.status_code == 201, made.text
    template = made.json()

    # Outlook: the preview names the field and is not ready (the pane keeps its button disabled: see
    # test_template_reply.py).
    outlook = outlook_preview(connector, template["id"], "leads")
    assert outlook["missing"] == ["entity.jobTitle"] and outlook["ready"] is False
    assert outlook["missing_fields"] == [{"path": "entity.jobTitle", "label": "Job title"}]
    message = incoming(connector)

    # Gmail: the preview names the field and offers no Send.
    listing = top_card(
        gmail.click(button_of(top_card(gmail.open(message)), "Reply with a template"), message=message)
    )
    preview = top_card(gmail.click(button_of(listing, "Preview", near=INCOMPLETE["name"]), message=message))
    assert preview is not None
    assert (
        "Not sent until these are filled in Oro or taken out of the template: Job title (entity.jobTitle)"
        in texts(preview)
    )
    assert not [b for b in buttons(preview) if b["text"] == "Send reply"]
    assert not [m for m in connector.world.gmail.sent if m.thread_id == message.thread_id]
