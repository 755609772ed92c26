"""Gmail cards: small builders with ``to_dict()`` for Google's card JSON (``google.apps.card.v1``), the
response envelopes around them, and one function per screen of the add-on.

Widgets used, and nothing else (the demo's renderer draws exactly these): ``textParagraph``,
``decoratedText``, ``buttonList``, ``textInput``, ``divider``; clicks are ``action`` (a POST to the
add-on with a signed state) or ``openLink``. Text is escaped: Google renders a small HTML subset in
card text, and Oro's data must not inject into it.

Google's limits are enforced where cards are serialised: at most 100 sections a card and 100 widgets a
section; what does not fit is summarised in a last line, never dropped silently.

Screens take the host-neutral data (:class:`~connector.sidebar.view.SidebarView`, linking's
:class:`~connector.linking.schemas.ThreadLinkState`...) and an :class:`ActionFactory` that turns a
handler name and its parameters into a signed :class:`Action`; they decide layout only.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, Literal, Protocol

from connector.outbox.operations import SendRecord
from connector.sidebar.cards import type_label as type_word
from connector.sidebar.view import Banner, Choice, Participant, RecordCard, SidebarView, ThreadState

MAX_SECTIONS = 100
MAX_WIDGETS = 100

ERROR_RED = "#b3261e"
WARNING_AMBER = "#8a5a00"
MUTED_GREY = "#5f6368"
LINKED_GREEN = "#137333"

ROLE_LABELS = {"from": "From", "to": "To", "cc": "Cc", "bcc": "Bcc"}


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def coloured(text: str, colour: str) -> str:
    """Escaped ``text`` in ``colour`` (Google's card text knows ``<font color>``)."""
    return f'<font color="{colour}">{escape(text)}</font>'


# --- clicks -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenLink:
    """Open ``url`` in a browser window or overlay; ``reload`` re-runs the card's trigger when it closes
    (the connect flow: Google reloads the add-on, which then finds the user connected)."""

    url: str
    overlay: bool = False
    reload: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "openLink": {
                "url": self.url,
                "openAs": "OVERLAY" if self.overlay else "FULL_SIZE",
                "onClose": "RELOAD" if self.reload else "NOTHING",
            }
        }


@dataclass(frozen=True)
class Action:
    """POST the event to ``function`` (an HTTPS URL of the add-on) with ``parameters``; the values of
    the card's inputs travel along as ``formInputs``."""

    function: str
    parameters: tuple[tuple[str, str], ...] = ()
    spinner: bool = True

    def to_dict(self) -> dict[str, Any]:
        action: dict[str, Any] = {
            "function": self.function,
            "loadIndicator": "SPINNER" if self.spinner else "NONE",
        }
        if self.parameters:
            action["parameters"] = [{"key": key, "value": value} for key, value in self.parameters]
        return {"action": action}


OnClick = OpenLink | Action


class ActionFactory(Protocol):
    """Makes the signed action for a named handler (see :mod:`addons.gmail.actions`)."""

    def action(self, handler: str, **params: str) -> Action: ...


# --- widgets ------------------------------------------------------------------------------------------


class Widget(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Button:
    text: str
    on_click: OnClick
    filled: bool = False
    disabled: bool = False

    def to_dict(self) -> dict[str, Any]:
        button: dict[str, Any] = {
            "text": self.text,
            "onClick": self.on_click.to_dict(),
            "type": "FILLED" if self.filled else "OUTLINED",
        }
        if self.disabled:
            button["disabled"] = True
        return button


@dataclass(frozen=True)
class TextParagraph:
    text: str  # card HTML: escape data before putting it here

    def to_dict(self) -> dict[str, Any]:
        return {"textParagraph": {"text": self.text}}


@dataclass(frozen=True)
class DecoratedText:
    """A line with small labels above and below, an optional button on its right, clickable as a whole."""

    text: str  # card HTML
    top_label: str = ""
    bottom_label: str = ""
    button: Button | None = None
    on_click: OnClick | None = None
    wrap: bool = True

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"text": self.text, "wrapText": self.wrap}
        if self.top_label:
            body["topLabel"] = self.top_label
        if self.bottom_label:
            body["bottomLabel"] = self.bottom_label
        if self.button is not None:
            body["button"] = self.button.to_dict()
        if self.on_click is not None:
            body["onClick"] = self.on_click.to_dict()
        return {"decoratedText": body}


@dataclass(frozen=True)
class ButtonList:
    buttons: tuple[Button, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"buttonList": {"buttons": [b.to_dict() for b in self.buttons]}}


@dataclass(frozen=True)
class TextInput:
    name: str
    label: str
    value: str = ""
    hint: str = ""
    multiline: bool = False

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "type": "MULTIPLE_LINE" if self.multiline else "SINGLE_LINE",
        }
        if self.value:
            body["value"] = self.value
        if self.hint:
            body["hintText"] = self.hint
        return {"textInput": body}


@dataclass(frozen=True)
class Divider:
    def to_dict(self) -> dict[str, Any]:
        return {"divider": {}}


# --- cards --------------------------------------------------------------------------------------------


@dataclass
class Section:
    header: str = ""
    widgets: list[Widget] = field(default_factory=list)
    collapsible: bool = False
    uncollapsible: int = 0

    def add(self, *widgets: Widget) -> Section:
        self.widgets.extend(widgets)
        return self

    def to_dict(self) -> dict[str, Any]:
        widgets = [w.to_dict() for w in self.widgets]
        if len(widgets) > MAX_WIDGETS:
            hidden = len(widgets) - (MAX_WIDGETS - 1)
            widgets = [*widgets[: MAX_WIDGETS - 1], _more_line(hidden, "more not shown here")]
        section: dict[str, Any] = {"widgets": widgets}
        if self.header:
            section["header"] = self.header
        if self.collapsible and len(widgets) > self.uncollapsible:
            section["collapsible"] = True
            section["uncollapsibleWidgetsCount"] = self.uncollapsible
        return section


@dataclass(frozen=True)
class CardHeader:
    title: str
    subtitle: str = ""
    image_url: str = ""

    def to_dict(self) -> dict[str, Any]:
        header: dict[str, Any] = {"title": self.title}
        if self.subtitle:
            header["subtitle"] = self.subtitle
        if self.image_url:
            header["imageUrl"] = self.image_url
            header["imageType"] = "SQUARE"
            header["imageAltText"] = "Oro Connector"
        return header


@dataclass
class Card:
    header: CardHeader | None = None
    sections: list[Section] = field(default_factory=list)
    name: str = ""

    def add(self, *sections: Section) -> Card:
        self.sections.extend(s for s in sections if s.widgets)
        return self

    def to_dict(self) -> dict[str, Any]:
        sections = [s.to_dict() for s in self.sections if s.widgets]
        if len(sections) > MAX_SECTIONS:
            hidden = len(sections) - (MAX_SECTIONS - 1)
            sections = [
                *sections[: MAX_SECTIONS - 1],
                {"widgets": [_more_line(hidden, "more sections not shown: search Oro to find them")]},
            ]
        card: dict[str, Any] = {"sections": sections}
        if self.header is not None:
            card["header"] = self.header.to_dict()
        if self.name:
            card["name"] = self.name
        return card


def _more_line(count: int, what: str) -> dict[str, Any]:
    return TextParagraph(coloured(f"{count} {what}.", MUTED_GREY)).to_dict()


# --- responses ----------------------------------------------------------------------------------------


class AddonResponse(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class TriggerCard:
    """The answer to a trigger (homepage, message, compose): the card to show."""

    card: Card

    def to_dict(self) -> dict[str, Any]:
        return {"action": {"navigations": [{"pushCard": self.card.to_dict()}]}}


@dataclass(frozen=True)
class Navigate:
    """The answer to a click: change the card stack, and maybe show a notification (a toast).

    ``push`` a card on the stack, ``update`` the top card, ``root`` first goes back to the first card
    (then ``card`` replaces it), ``back`` pops the top card (then ``card``, if any, replaces the one
    below)."""

    card: Card | None = None
    verb: Literal["push", "update"] = "update"
    root: bool = False
    back: bool = False
    notification: str = ""

    def to_dict(self) -> dict[str, Any]:
        navigations: list[dict[str, Any]] = []
        if self.root:
            navigations.append({"popToRoot": True})
        if self.back:
            navigations.append({"popCard": True})
        if self.card is not None:
            key = "pushCard" if self.verb == "push" else "updateCard"
            navigations.append({key: self.card.to_dict()})
        action: dict[str, Any] = {}
        if navigations:
            action["navigations"] = navigations
        if self.notification:
            action["notification"] = {"text": self.notification}
        return {"renderActions": {"action": action}}


@dataclass(frozen=True)
class DraftInsert:
    """Put ``html_body`` into the draft the user is writing, at the cursor (compose trigger only)."""

    html_body: str
    subject: str = ""
    notification: str = ""

    def to_dict(self) -> dict[str, Any]:
        markup: dict[str, Any] = {
            "updateBody": {
                "type": "IN_PLACE_INSERT",
                "insertContents": [{"content": self.html_body, "contentType": "MUTABLE_HTML"}],
            }
        }
        if self.subject:
            markup["updateSubject"] = {"subject": self.subject}
        render: dict[str, Any] = {"hostAppAction": {"gmailAction": {"updateDraftActionMarkup": markup}}}
        if self.notification:
            render["action"] = {"notification": {"text": self.notification}}
        return {"renderActions": render}


def notice(text: str, code: str = "") -> str:
    """A notification line; failures carry their stable code, so support can tell them apart."""
    return f"{text} [{code}]" if code else text


# --- screens: shared pieces ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Branding:
    """What every card header shows: the logo URL (served by the add-on)."""

    logo_url: str


def _header(branding: Branding, title: str, subtitle: str = "") -> CardHeader:
    return CardHeader(title=title, subtitle=subtitle, image_url=branding.logo_url)


def search_section(actions: ActionFactory, *, text: str = "", header: str = "Find in Oro") -> Section:
    return Section(header=header).add(
        TextInput("query", "Name, email, company or number", value=text),
        ButtonList((Button("Search", actions.action("on_search")),)),
    )


def _open_button(record: RecordCard) -> Button | None:
    return Button("Open in Oro", OpenLink(record.url)) if record.url else None


def _link_button(record: RecordCard, actions: ActionFactory, *, linked: bool) -> Button | None:
    if linked and ("unlink" in record.actions or "link" in record.actions):
        return Button("Unlink", actions.action("on_unlink_record", type=record.type, id=record.id))
    if not linked and ("link" in record.actions or "unlink" in record.actions):
        return Button(
            "Link",
            actions.action("on_link_record", type=record.type, id=record.id, title=record.title),
            filled=True,
        )
    return None


def _facts_line(record: RecordCard, limit: int = 3) -> str:
    return " · ".join(f"{f.label} {f.value}" for f in record.facts[:limit])


def record_line(
    record: RecordCard,
    actions: ActionFactory,
    *,
    can_link: bool = True,
    why: bool = True,
    facts: bool = False,
) -> DecoratedText:
    """One record as a line: its type above, its name, why it is shown (or its facts) below; a click
    opens its detail, the button links or unlinks it (or, away from a message, opens it in Oro)."""
    linked = record.in_context
    top = record.type_label + (" · linked to this conversation" if linked else "")
    title = f"<b>{escape(record.title)}</b>"
    if record.subtitle:
        title += f" {coloured(record.subtitle, MUTED_GREY)}"
    below = ""
    if facts:
        below = _facts_line(record)
    elif why and record.why is not None:
        below = record.why.text
    button = _link_button(record, actions, linked=linked) if can_link else _open_button(record)
    return DecoratedText(
        text=title,
        top_label=top,
        bottom_label=below,
        button=button,
        on_click=actions.action("on_open_record", type=record.type, id=record.id),
    )


def _banner_widget(banner: Banner) -> TextParagraph:
    colour = {"error": ERROR_RED, "warning": WARNING_AMBER}.get(banner.level, MUTED_GREY)
    return TextParagraph(coloured(banner.text, colour))


# --- screens ------------------------------------------------------------------------------------------


def connect_card(branding: Branding, *, connect_url: str, oro_url: str, expired: bool = False) -> Card:
    """Ask the user to connect to Oro; the link opens Oro's sign-in and the add-on reloads on close."""
    intro = (
        "Your Oro sign-in has expired or was revoked. Connect again to see your Oro records."
        if expired
        else "See the Oro customers, contacts, orders and cases behind each email, and link "
        "conversations to them. Sign in to Oro once; Oro decides what you may see."
    )
    return Card(header=_header(branding, "Connect to Oro", oro_url), name="connect").add(
        Section().add(
            TextParagraph(escape(intro)),
            ButtonList(
                (Button("Connect to Oro", OpenLink(connect_url, overlay=True, reload=True), filled=True),)
            ),
            TextParagraph(
                coloured(
                    "A window opens on Oro's sign-in page; close it when it says you are connected.",
                    MUTED_GREY,
                )
            ),
        )
    )


SCOPE_PURPOSES = {
    "gmail.addons.current.message.readonly": "read the open email's addresses and subject",
    "gmail.addons.current.message.metadata": "read the open email's addresses and subject",
    "gmail.addons.current.message.action": "read the open email when you click a button",
    "gmail.addons.current.action.compose": "insert text into the draft you are writing",
    "gmail.send": "send a reply for you",
}


def scope_card(branding: Branding, actions: ActionFactory, *, scopes: Sequence[str], message: str) -> Card:
    """A permission the user did not grant (granular consent) is needed: say which, why, and how."""
    names = [s.rsplit("/", 1)[-1] for s in scopes]
    purpose = next((SCOPE_PURPOSES[n] for n in names if n in SCOPE_PURPOSES), "do this")
    section = Section().add(
        TextParagraph(escape(message)),
        TextParagraph(
            escape(
                f"Oro Connector needs your permission to {purpose}. Allow it when Gmail asks, or in "
                "Gmail's add-on settings (the add-on's menu, then Manage access), then try again."
            )
        ),
        TextParagraph(coloured("Permission: " + " or ".join(names), MUTED_GREY)),
        ButtonList((Button("Try again", actions.action("on_refresh"), filled=True),)),
    )
    return Card(header=_header(branding, "Permission needed"), name="scope").add(section)


def error_card(branding: Branding, actions: ActionFactory, *, text: str, code: str) -> Card:
    return Card(header=_header(branding, "Something went wrong"), name="error").add(
        Section().add(
            TextParagraph(coloured(text, ERROR_RED)),
            TextParagraph(coloured(f"Error code: {code}", MUTED_GREY)),
            ButtonList((Button("Try again", actions.action("on_refresh"), filled=True),)),
        )
    )


def message_card(
    view: SidebarView,
    *,
    branding: Branding,
    actions: ActionFactory,
    sends: Sequence[SendRecord] = (),
    zone: tzinfo = UTC,
) -> Card:
    """The sidebar of one email: banners, the user's replies in this thread (a failed one stays until
    retried or dismissed), the conversation's link state, each participant with the records that match
    and why, ambiguous matches to resolve, commerce context, and search."""
    known = sum(1 for p in view.participants if p.is_known)
    subtitle = f"{known} of {len(view.participants)} people found in Oro" if view.participants else ""
    card = Card(header=_header(branding, view.subject or "(no subject)", subtitle), name="message")

    banners = Section().add(*(_banner_widget(b) for b in view.banners))
    if view.stale or any(b.code in ("oro_unreachable", "partial") for b in view.banners):
        banners.add(ButtonList((Button("Refresh", actions.action("on_refresh")),)))
    card.add(banners)
    card.add(sends_section(sends, actions, zone=zone))
    card.add(_thread_section(view.thread, actions))
    for participant in view.participants:
        card.add(_participant_section(participant, actions))
    card.add(*_commerce_sections(view, actions))
    card.add(search_section(actions))
    return card


SEND_COLOURS = {"sent": LINKED_GREEN, "failed": ERROR_RED}


def sends_section(sends: Sequence[SendRecord], actions: ActionFactory, *, zone: tzinfo = UTC) -> Section:
    """The user's replies in this thread, newest first, each with its state; a failed one with why, and
    Retry and Dismiss. Empty (so left out of the card) when there are none."""
    section = Section(header="Replies in this thread")
    for send in sends:
        state = coloured(send.label, SEND_COLOURS.get(send.state, WARNING_AMBER))
        what = escape(send.template_name or send.subject or "Reply")
        section.add(
            DecoratedText(
                text=f"<b>{state}</b> · {what}",
                top_label="To " + ", ".join(send.to),
                bottom_label=_send_when(send, zone),
            )
        )
        if send.state == "failed":
            section.add(
                TextParagraph(coloured(send.last_error or "The reply could not be sent.", ERROR_RED)),
                ButtonList(
                    (
                        Button("Retry", actions.action("on_retry_send", send=str(send.id)), filled=True),
                        Button("Dismiss", actions.action("on_dismiss_send", send=str(send.id))),
                    )
                ),
            )
        elif send.state == "pending" and send.attempts:
            why = f"{send.last_error} " if send.last_error else ""
            section.add(
                TextParagraph(coloured(why + "Tried again when you next open this conversation.", MUTED_GREY))
            )
    return section


def _send_when(send: SendRecord, zone: tzinfo) -> str:
    """When, in the user's time zone (Google sends it with each event)."""
    sent = send.state == "sent" and send.sent_at is not None
    moment = send.sent_at if sent and send.sent_at is not None else send.created_at
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone)
    return f"{'Sent' if sent else 'Written'} {local:%Y-%m-%d %H:%M} {local.tzname() or ''}".rstrip()


def _thread_section(thread: ThreadState, actions: ActionFactory) -> Section:
    section = Section(header="This conversation in Oro")
    for linked in thread.linked:
        record = linked.record
        when = f" on {linked.linked_at.date().isoformat()}" if linked.linked_at else ""
        by = f" by {linked.linked_by}" if linked.linked_by else ""
        section.add(
            DecoratedText(
                text=f"<b>{escape(record.title)}</b>",
                top_label=f"{record.type_label} · linked{by}{when}",
                button=_link_button(record, actions, linked=True),
                on_click=actions.action("on_open_record", type=record.type, id=record.id),
            )
        )
    if thread.note:
        section.add(TextParagraph(coloured(thread.note, LINKED_GREEN)))
    if not thread.linked:
        section.add(
            TextParagraph(
                coloured("Not linked to any Oro record yet: link it to a record below.", MUTED_GREY)
            )
        )
    return section


def _participant_section(participant: Participant, actions: ActionFactory) -> Section:
    name = participant.name or participant.address
    section = Section(header=f"{ROLE_LABELS.get(participant.role, participant.role)}: {name}")
    if participant.name:
        section.add(TextParagraph(coloured(participant.address, MUTED_GREY)))
    if participant.excluded:
        return section.add(TextParagraph(coloured(participant.excluded, MUTED_GREY)))
    for group in participant.matches:
        for record in group.records:
            section.add(record_line(record, actions))
    for choice in participant.choices:
        _choice_widgets(section, choice, actions)
    if not participant.is_known:
        section.add(TextParagraph(escape("Not found in Oro.")))
        if participant.domain_matches:
            section.add(TextParagraph(coloured("Companies named like the domain:", MUTED_GREY)))
            for company in participant.domain_matches:
                section.add(record_line(company, actions))
        create = tuple(
            Button(
                s.label,
                actions.action(
                    "on_create_record", kind=s.action.removeprefix("create_"), address=participant.address
                ),
            )
            for s in participant.suggestions
        )
        if create:
            section.add(ButtonList(create))
    return section


def _choice_widgets(section: Section, choice: Choice, actions: ActionFactory) -> None:
    if choice.chosen is not None:
        section.add(
            ButtonList(
                (
                    Button(
                        f"Not this {choice.label.lower()}? Choose again",
                        actions.action("on_change_choice", address=choice.address, type=choice.type),
                    ),
                )
            )
        )
        return
    count = len(choice.options)
    section.add(
        TextParagraph(
            f"<b>{count} {escape(choice.label.lower())}s</b> use this address. "
            + coloured("Which one is it? Your answer is remembered.", WARNING_AMBER)
        )
    )
    for option in choice.options:
        facts = [f"{f.label} {f.value}" for f in option.facts if f.value.lower() != choice.address.lower()]
        below = " · ".join(x for x in (option.subtitle, *facts[:2]) if x)
        section.add(
            DecoratedText(
                text=f"<b>{escape(option.title)}</b>",
                top_label=option.type_label,
                bottom_label=below,
                button=Button(
                    "This one",
                    actions.action("on_choose", address=choice.address, type=option.type, id=option.id),
                ),
                on_click=actions.action("on_open_record", type=option.type, id=option.id),
            )
        )


COMMERCE_HEADERS = (
    ("open_orders", "Open orders"),
    ("recent_rfqs", "Requests for quote"),
    ("open_opportunities", "Open opportunities"),
    ("open_cases", "Open cases"),
)


def _commerce_sections(view: SidebarView, actions: ActionFactory) -> list[Section]:
    sections = []
    for attribute, header in COMMERCE_HEADERS:
        records: tuple[RecordCard, ...] = getattr(view.commerce, attribute)
        if not records:
            continue
        section = Section(header=f"{header} ({len(records)})", collapsible=True, uncollapsible=3)
        for record in records:
            section.add(record_line(record, actions, facts=True))
        sections.append(section)
    return sections


def record_card(
    record: RecordCard,
    *,
    branding: Branding,
    actions: ActionFactory,
    can_link: bool,
    notes: Sequence[tuple[str, datetime | None]] = (),
    can_note: bool = False,
    emails: Sequence[tuple[str, str, datetime | None]] = (),
) -> Card:
    """One record in detail: its facts, why it matched, its page in Oro, link or unlink, its recent
    emails and notes, and a note to add."""
    linked = record.in_context
    card = Card(header=_header(branding, record.title, record.type_label), name="record")
    facts = Section()
    if record.subtitle:
        facts.add(TextParagraph(escape(record.subtitle)))
    for fact in record.facts:
        facts.add(DecoratedText(text=escape(fact.value), top_label=fact.label))
    if record.why is not None:
        facts.add(DecoratedText(text=escape(record.why.text), top_label="Why it is shown"))
    if linked:
        facts.add(TextParagraph(coloured("Linked to this conversation.", LINKED_GREEN)))
    buttons = [
        b
        for b in (_open_button(record), _link_button(record, actions, linked=linked) if can_link else None)
        if b is not None
    ]
    if buttons:
        facts.add(ButtonList(tuple(buttons)))
    card.add(facts)
    if emails:
        section = Section(header="Recent emails", collapsible=True, uncollapsible=3)
        for subject, sender, sent_at in emails:
            when = sent_at.date().isoformat() if sent_at else ""
            section.add(
                DecoratedText(
                    text=escape(subject or "(no subject)"),
                    bottom_label=" · ".join(x for x in (sender, when) if x),
                )
            )
        card.add(section)
    if notes:
        section = Section(header="Notes", collapsible=True, uncollapsible=2)
        for text, created_at in notes:
            section.add(
                DecoratedText(
                    text=escape(text), top_label=created_at.date().isoformat() if created_at else ""
                )
            )
        card.add(section)
    if can_note:
        card.add(
            Section(header="Add a note").add(
                TextInput("note", "Note", multiline=True, hint="Saved on this record in Oro"),
                ButtonList(
                    (
                        Button(
                            "Add note",
                            actions.action("on_add_note", type=record.type, id=record.id, title=record.title),
                        ),
                    )
                ),
            )
        )
    return card


@dataclass(frozen=True)
class SearchPage:
    text: str
    records: tuple[RecordCard, ...]
    has_more: bool
    pages: int


def search_card(
    results: SearchPage,
    *,
    branding: Branding,
    actions: ActionFactory,
    can_link: bool,
) -> Card:
    """Search results, with "Load more" while Oro has more."""
    card = Card(header=_header(branding, "Search Oro", f"“{results.text}”"), name="search")
    card.add(search_section(actions, text=results.text, header="Search again"))
    section = Section(header=f"Results ({len(results.records)}{'+' if results.has_more else ''})")
    if not results.records:
        section.add(TextParagraph(escape(f"Nothing in Oro matches “{results.text}”.")))
    for record in results.records:
        section.add(record_line(record, actions, can_link=can_link, why=False, facts=True))
    if results.has_more:
        section.add(
            ButtonList(
                (
                    Button(
                        "Load more",
                        actions.action("on_search_more", text=results.text, pages=str(results.pages + 1)),
                    ),
                )
            )
        )
    return card.add(section)


@dataclass(frozen=True)
class RecentLink:
    type: str
    id: str
    title: str
    type_label: str
    linked_at: datetime | None


def homepage_card(
    *,
    branding: Branding,
    actions: ActionFactory,
    user_email: str,
    oro_url: str,
    recent: Sequence[RecentLink],
) -> Card:
    card = Card(header=_header(branding, "Oro Connector", f"Connected as {user_email}"), name="home")
    card.add(
        Section().add(
            TextParagraph(
                escape("Open an email to see who its people are in Oro, and link the conversation to them.")
            ),
            TextParagraph(coloured(f"Oro: {oro_url}", MUTED_GREY)),
        )
    )
    card.add(search_section(actions))
    recent_section = Section(header="Recently linked conversations")
    for link in recent:
        when = link.linked_at.date().isoformat() if link.linked_at else ""
        recent_section.add(
            DecoratedText(
                text=f"<b>{escape(link.title)}</b>",
                top_label=link.type_label,
                bottom_label=f"Linked {when}".strip(),
                on_click=actions.action("on_open_record", type=link.type, id=link.id),
            )
        )
    if not recent:
        recent_section.add(TextParagraph(coloured("No conversation linked yet.", MUTED_GREY)))
    return card.add(recent_section)


@dataclass(frozen=True)
class TemplateChoice:
    id: str
    name: str
    description: str = ""


def compose_card(
    *,
    branding: Branding,
    actions: ActionFactory,
    recipients: Sequence[Participant],
    templates: Sequence[TemplateChoice],
) -> Card:
    """The compose window's add-on: who the recipients are in Oro, and templates to insert."""
    card = Card(header=_header(branding, "Reply with Oro", "Recipients and templates"), name="compose")
    people = Section(header="Recipients in Oro")
    for participant in recipients:
        records = [r for g in participant.matches for r in g.records]
        if records:
            first = records[0]
            more = f" and {len(records) - 1} more" if len(records) > 1 else ""
            kind = f"{first.type_label} · {first.subtitle}" if first.subtitle else first.type_label
            people.add(
                DecoratedText(
                    text=f"<b>{escape(participant.name or first.title)}</b>",
                    top_label=participant.address,
                    bottom_label=kind + more,
                    on_click=actions.action("on_open_record", type=first.type, id=first.id),
                )
            )
        else:
            people.add(
                DecoratedText(
                    text=escape(participant.name or participant.address),
                    top_label=participant.address if participant.name else "",
                    bottom_label=participant.excluded or "Not found in Oro",
                )
            )
    if not recipients:
        people.add(TextParagraph(coloured("Add recipients to see who they are in Oro.", MUTED_GREY)))
    card.add(people)
    section = Section(header="Templates")
    if not templates:
        section.add(TextParagraph(coloured("No templates yet: create them on the admin page.", MUTED_GREY)))
    for template in templates:
        section.add(
            DecoratedText(
                text=f"<b>{escape(template.name)}</b>",
                bottom_label=template.description,
                button=Button("Insert", actions.action("on_insert_template", template=template.id)),
            )
        )
    return card.add(section)


@dataclass(frozen=True)
class Duplicate:
    """An existing record the user may mean instead of creating one."""

    type: str
    id: str
    title: str
    why: str
    url: str | None = None


def duplicates_card(
    duplicates: Sequence[Duplicate], *, branding: Branding, actions: ActionFactory, kind: str, address: str
) -> Card:
    """Before creating a {kind}: records that look like the same one, to link instead, or create anyway."""
    card = Card(header=_header(branding, f"Create a {kind}?", address), name="duplicates")
    section = Section(header="Already in Oro?").add(
        TextParagraph(escape(f"These records look like the {kind} you want to create. Link one instead?"))
    )
    for duplicate in duplicates:
        section.add(
            DecoratedText(
                text=f"<b>{escape(duplicate.title)}</b>",
                top_label=type_word(duplicate.type),
                bottom_label=duplicate.why,
                button=Button(
                    "Link this one",
                    actions.action(
                        "on_link_record", type=duplicate.type, id=duplicate.id, title=duplicate.title
                    ),
                ),
                on_click=actions.action("on_open_record", type=duplicate.type, id=duplicate.id),
            )
        )
    section.add(
        ButtonList(
            (
                Button(
                    f"Create the {kind} anyway",
                    actions.action("on_create_record", kind=kind, address=address, confirm="1"),
                ),
            )
        )
    )
    return card.add(section)
