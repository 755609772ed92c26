"""Every card the add-on answers is one Google accepts: a walk through every endpoint, handler and state
(not connected, connected, matches, choices, unknown people, Oro down and stale, a partial view, errors,
search with "load more", record detail, compose), each response checked by :mod:`tests.gmail.cardcheck`."""

from __future__ import annotations

import struct
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from addons.gmail import cards
from connector.accounts.tokens import token_key
from connector.app_services import services
from connector.db import db
from connector.db.models import Identity
from connector.mail.gmail import HEADER_SCOPES
from connector.manifests.gmail import (
    ACTION_PATH,
    COMPOSE_PATH,
    DISCONNECT_PATH,
    REFRESH_PATH,
    render_gmail_deployment,
)
from connector.oro.auth import OroTokens
from connector.sandbox import examples as ex
from connector.sidebar.view import Banner, Participant, RecordCard, RecordGroup, SidebarView
from connector.templates.operations import create_template
from tests.gmail.cardcheck import check_response
from tests.gmail.conftest import Gmail, buttons, notification, texts, top_card


class Walk:
    """Checks each response and remembers which screens were seen."""

    def __init__(self, gmail: Gmail) -> None:
        self.gmail = gmail
        self.prefixes = [gmail.base + "/", gmail.app.extensions["connector.settings"].oro_url + "/"]
        self.seen: dict[str, int] = {}

    def __call__(self, response: dict[str, Any]) -> dict[str, Any]:
        for card in check_response(
            response, link_prefixes=self.prefixes, action_url=self.gmail.base + ACTION_PATH
        ):
            self.seen[card.get("name", "")] = self.seen.get(card.get("name", ""), 0) + 1
        return response


def button(card: dict[str, Any] | None, text: str) -> dict[str, Any]:
    assert card is not None
    found = [b for b in buttons(card) if b["text"] == text]
    assert found, f"no button {text!r} on the {card.get('name')} card"
    return found[0]


def line_click(card: dict[str, Any] | None, title: str) -> dict[str, Any]:
    """The click of the decorated text whose text shows ``title`` (a record's line)."""
    assert card is not None
    for section in card["sections"]:
        for widget in section["widgets"]:
            line = widget.get("decoratedText")
            if line and title in line["text"] and "onClick" in line:
                return {"onClick": line["onClick"]}
    raise AssertionError(f"no line for {title!r}")


def test_the_link_prefixes_checked_here_are_the_deployments() -> None:
    deployment = render_gmail_deployment("https://connector.example.com", oro_url="https://oro.example.com")
    assert deployment["addOns"]["common"]["openLinkUrlPrefixes"] == [
        "https://connector.example.com/",
        "https://oro.example.com/",
    ]


def test_every_card_of_every_handler_and_state_is_one_google_accepts(gmail: Gmail) -> None:
    walk = Walk(gmail)
    world = gmail.world
    triple = world.named_threads[ex.THREAD_TRIPLE_PERSON].messages[-1]

    # Not connected: every trigger and menu action asks to connect.
    for response in (
        gmail.home(),
        gmail.open(triple),
        gmail.call(COMPOSE_PATH, to_recipients=[ex.TRIPLE_PERSON_EMAIL]),
        gmail.call(REFRESH_PATH, message=triple),
        gmail.call(DISCONNECT_PATH),
    ):
        assert top_card(walk(response))["name"] == "connect"  # type: ignore[index]
    gmail.connect(top_card(gmail.home()))  # type: ignore[arg-type]
    gmail.connect(top_card(gmail.home(mailbox=ex.BOB_MAILBOX)), username="bob")  # type: ignore[arg-type]

    # Connected: the homepage, and every sample message of both mailboxes.
    assert top_card(walk(gmail.home()))["name"] == "home"  # type: ignore[index]
    for thread in world.threads:
        for message in thread.messages:
            card = top_card(walk(gmail.open(message, mailbox=thread.mailbox)))
            assert card is not None and card["name"] == "message"
            assert card["header"]["title"] == message.subject

    # Choices among duplicates: choose one, then choose again.
    shared = world.named_threads[ex.THREAD_SHARED_ADDRESS].messages[0]
    card = top_card(gmail.open(shared))
    chosen = top_card(walk(gmail.click(button(card, "This one"), message=shared)))
    again = button(chosen, "Not this contact? Choose again")
    assert "This one" in texts(top_card(walk(gmail.click(again, message=shared))))  # type: ignore[arg-type]

    # Record detail, a note, link and unlink.
    card = top_card(gmail.open(triple))
    detail = top_card(walk(gmail.click(line_click(card, ex.TRIPLE_PERSON_NAME), message=triple)))
    assert detail is not None and detail["name"] == "record"
    noted = walk(gmail.click(button(detail, "Add note"), message=triple, form={"note": ["Called back."]}))
    assert "Note added" in notification(noted)
    linked = walk(gmail.click(button(detail, "Link"), message=triple))
    assert "Linked this conversation" in notification(linked)
    unlinked = walk(gmail.click(button(top_card(linked), "Unlink"), message=triple))
    assert notification(unlinked) == "Unlinked."

    # Search, with "load more".
    home = top_card(gmail.home())
    results = top_card(walk(gmail.click(button(home, "Search"), form={"query": ["a"]})))
    assert results is not None and results["name"] == "search"
    more = top_card(walk(gmail.click(button(results, "Load more"))))
    assert len(buttons(more)) > len(buttons(results))  # type: ignore[arg-type]
    empty = top_card(walk(gmail.click(button(home, "Search"), form={"query": ["zzqqxx-nothing"]})))
    assert "Nothing in Oro matches" in texts(empty)  # type: ignore[arg-type]
    assert "Type a name" in notification(walk(gmail.click(button(home, "Search"))))

    # An unknown sender: create a lead (existing look-alikes are offered first when there are any).
    unknown = world.named_threads[ex.THREAD_UNKNOWN_SENDER].messages[0]
    before = top_card(gmail.open(unknown))
    created = walk(gmail.click(button(before, "Create a lead"), message=unknown))
    assert "Created" in notification(created) and "linked to this conversation" in texts(top_card(created))  # type: ignore[arg-type]
    # The same person again, from the card as it was: the new lead is offered instead of a duplicate.
    offer = top_card(walk(gmail.click(button(before, "Create a contact"), message=unknown)))
    assert offer is not None and offer["name"] == "duplicates"
    anyway = walk(gmail.click(button(offer, "Create the contact anyway"), message=unknown))
    assert "Created" in notification(anyway)

    # Compose: the draft's recipients in Oro, and a template put into the draft.
    with db.session_scope(gmail.app) as session:
        alice = session.query(Identity).filter_by(provider="google").first().user  # type: ignore[union-attr]
        create_template(
            session,
            owner=alice,
            name="Contact follow-up",
            record_type="contacts",
            subject="Following up",
            body="<p>Dear {{ entity.firstName }},</p><p>as promised, the 2027 price list.</p>",
        )
    compose = top_card(
        walk(gmail.call(COMPOSE_PATH, to_recipients=[ex.TRIPLE_PERSON_EMAIL], cc_recipients=[]))
    )
    assert compose is not None and compose["name"] == "compose" and ex.TRIPLE_PERSON_EMAIL in texts(compose)
    inserted = walk(gmail.click(button(compose, "Insert"), to_recipients=[ex.TRIPLE_PERSON_EMAIL]))
    draft = inserted["renderActions"]["hostAppAction"]["gmailAction"]["updateDraftActionMarkup"]
    assert draft["updateBody"]["insertContents"][0]["content"].startswith("<p>Dear Inès,</p>")
    assert notification(inserted) == "Inserted “Contact follow-up”."

    # The menu: refresh a message, then the homepage.
    assert top_card(walk(gmail.call(REFRESH_PATH, message=triple)))["name"] == "message"  # type: ignore[index]
    assert top_card(walk(gmail.call(REFRESH_PATH)))["name"] == "home"  # type: ignore[index]

    # Oro down: the last view, marked stale; a message never seen says Oro could not be reached.
    gmail.open(triple)
    world.oro.configure(down=True, down_hold_seconds=1)
    try:
        stale = top_card(walk(gmail.call(REFRESH_PATH, message=triple)))
        never = world.named_threads[ex.THREAD_PLUS_ADDRESS].messages[0]
        down = top_card(walk(gmail.open(never)))
    finally:
        world.oro.configure(down=False)
    assert "showing what it said" in texts(stale)  # type: ignore[arg-type]
    assert "could not be reached" in texts(down)  # type: ignore[arg-type]

    # Errors: a permission not granted, a message Gmail does not have, an Oro sign-in gone.
    scope = top_card(
        walk(gmail.open(triple, authorized_scopes=["https://www.googleapis.com/auth/userinfo.email"]))
    )
    assert scope is not None and scope["name"] == "scope"
    assert HEADER_SCOPES[0].rsplit("/", 1)[1] in texts(scope)
    gone = replace(triple, id="0123456789abcdef")
    error = top_card(walk(gmail.open(gone)))
    assert error is not None and error["name"] == "error" and "gmail_not_found" in texts(error)
    with gmail.app.app_context():
        with db.session_scope(gmail.app) as session:
            user_id = session.query(Identity).filter_by(provider="google").first().user_id  # type: ignore[union-attr]
        services().token_store.save(
            token_key(user_id),
            OroTokens(
                access_token="revoked", refresh_token="revoked", expires_at=datetime(2020, 1, 1, tzinfo=UTC)
            ),
        )
        services().sidebar.cache.bump(f"user:{user_id}")  # as when the cached sidebar runs out
    expired = top_card(walk(gmail.open(triple)))
    assert expired is not None and expired["name"] == "connect" and "expired" in texts(expired)

    # Disconnect (bob is still connected).
    bye = walk(gmail.call(DISCONNECT_PATH, mailbox=ex.BOB_MAILBOX))
    assert notification(bye) == "Disconnected from Oro." and top_card(bye)["name"] == "connect"  # type: ignore[index]

    assert set(walk.seen) >= {
        "connect",
        "home",
        "message",
        "record",
        "search",
        "compose",
        "scope",
        "error",
        "duplicates",
    }


class StubActions:
    def __init__(self, url: str) -> None:
        self.url = url

    def action(self, handler: str, **params: str) -> cards.Action:
        return cards.Action(function=self.url, parameters=(("state", handler),))


@pytest.mark.parametrize("banner", ["partial", "oro_unreachable_stale", "not_allowed"])
def test_partial_and_stale_views_and_huge_threads_stay_within_googles_limits(banner: str) -> None:
    url = "https://connector.example.com" + ACTION_PATH
    record = RecordCard(
        type="contacts",
        id="1",
        title="Jane <script>",
        type_label="Contact",
        url="https://oro.example.com/admin/contact/view/1",
        actions=("open", "link", "note"),
    )
    people = tuple(
        Participant(
            address=f"p{i}@x.example",
            name=f"P {i}",
            role="cc",
            matches=(RecordGroup("contacts", "Contact", (record,) * 150),),
        )
        for i in range(150)
    )
    view = SidebarView(
        message_id="<m@x>",
        thread_id="t",
        subject="Big",
        participants=people,
        banners=(Banner("warning", banner, "Some of Oro's answers did not come in time"),),
        unavailable=("open orders",),
        stale=banner.endswith("stale"),
    )
    card = cards.message_card(
        view, branding=cards.Branding("https://connector.example.com/logo.png"), actions=StubActions(url)
    )
    found = check_response(
        cards.TriggerCard(card).to_dict(),
        link_prefixes=["https://connector.example.com/", "https://oro.example.com/"],
        action_url=url,
    )
    (data,) = found
    assert len(data["sections"]) == 100
    assert "more sections not shown" in texts(data)
    assert "&lt;script&gt;" in texts(data) and "<script>" not in texts(data)
    refresh = "Refresh" in [b["text"] for b in buttons(data)]
    assert refresh == (banner != "not_allowed"), "a view missing answers offers to try again"


def test_the_logo_every_card_shows_is_served(gmail: Gmail) -> None:
    card = top_card(gmail.home())
    assert card is not None
    logo = requests.get(card["header"]["imageUrl"], timeout=10)
    assert logo.status_code == 200 and logo.headers["Content-Type"] == "image/png"
    width, height = struct.unpack(">II", logo.content[16:24])
    assert width >= 48 and height >= 48, "Google asks for a logo of at least 48x48 pixels"
