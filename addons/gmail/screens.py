"""The add-on's root screens (home, message, compose) and the detail screens pushed on top of them.

Each function gathers what its card shows (the open message through the Gmail API, the sidebar from
:mod:`connector.sidebar`, link state from :mod:`connector.linking`) and hands it to a builder of
:mod:`addons.gmail.cards`. Failures propagate as typed errors; :mod:`addons.gmail.actions` turns them
into cards or notifications in one place.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import select

from addons.gmail import cards
from addons.gmail.context import AddonRequest
from connector.accounts.operations import connect_ticket
from connector.accounts.tokens import token_key
from connector.app_services import services
from connector.linking import operations as linking
from connector.linking.errors import LinkingError
from connector.linking.models import ThreadLink
from connector.mail.addresses import EmailAddress
from connector.mail.gmail import GmailMessage, GmailReader, GmailScopeMissing
from connector.mail.message import MailMessage
from connector.oro import HttpOroClient, OroRecord, RecordRef
from connector.oro.records import RECORD_TYPES
from connector.outbox.operations import sends_in_thread
from connector.sidebar.cards import LINKABLE, card_for, type_label
from connector.sidebar.context import MessageContext
from connector.sidebar.view import RecordCard, SidebarView
from connector.templates.errors import TemplateNotFound
from connector.templates.operations import get_template, list_templates, render_template
from connector.templates.rendering import RenderContext, RenderedEmail, Sender

logger = logging.getLogger(__name__)

SEARCH_PAGE_SIZE = 10
MAX_SEARCH_PAGES = 5
RECENT_LINKS = 8
SEARCHED = tuple(sorted(LINKABLE))
"""What the sidebar's search looks in: the records an email can be linked to (not users, business units)."""


# --- the pieces ---------------------------------------------------------------------------------------


def is_connected(req: AddonRequest) -> bool:
    return services().token_store.load(token_key(req.user.id)) is not None


def oro(req: AddonRequest) -> HttpOroClient:
    return services().oro_for(req.user)


def reader(req: AddonRequest) -> GmailReader:
    return GmailReader.from_event(req.event, api_url=req.settings.gmail_api_url)


def open_message(req: AddonRequest, *, bodies: bool = False) -> GmailMessage:
    """The open message's headers; with ``bodies``, the whole message when the user allowed it (else
    the headers: linking then sends Oro no body)."""
    gmail = reader(req)
    if bodies:
        try:
            return gmail.message(req.message_id, fmt="full")
        except GmailScopeMissing:
            logger.info("no permission to read the body; linking with the headers only")
    return gmail.message(req.message_id, fmt="metadata")


def mail_message(req: AddonRequest, *, bodies: bool = False) -> MailMessage:
    return open_message(req, bodies=bodies).mail_message(mailbox=req.mailbox)


def connect_url(req: AddonRequest) -> str:
    ticket = connect_ticket(req.settings.secret_key, req.user)
    return f"{req.base_url}/oauth/oro/start?{urlencode({'ticket': ticket})}"


def connect_card(req: AddonRequest, *, expired: bool = False) -> cards.Card:
    return cards.connect_card(
        req.branding, connect_url=connect_url(req), oro_url=req.settings.oro_url, expired=expired
    )


def linked_refs(req: AddonRequest) -> frozenset[tuple[str, str]]:
    """Records the open conversation is linked to (local mirror; empty outside a message)."""
    if req.root != "message" or not req.thread_id:
        return frozenset()
    state = linking.thread_state(req.session, mailbox=req.mailbox, thread_id=req.thread_id, message_id="")
    return frozenset((r.type, r.id) for r in state.records)


def _marked(card: RecordCard, refs: frozenset[tuple[str, str]]) -> RecordCard:
    """``card`` shown as linked when the conversation is linked to it."""
    if (card.type, card.id) not in refs or card.in_context:
        return card
    return replace(card, in_context=True, actions=tuple("unlink" if a == "link" else a for a in card.actions))


# --- root screens -------------------------------------------------------------------------------------


def root_card(req: AddonRequest, *, fresh: bool = False) -> cards.Card:
    if not is_connected(req):
        return connect_card(req)
    if req.root == "message" and req.message_id:
        return message_card(req, fresh=fresh)
    if req.root == "compose":
        return compose_card(req)
    return home_card(req)


def message_card(req: AddonRequest, *, fresh: bool = False) -> cards.Card:
    """The sidebar of the open message. A later message of a linked conversation is linked on the way
    (the sidebar's ``open_message``); its body is read for that only."""
    client = oro(req)
    message = open_message(req)
    context = MessageContext.from_headers(
        thread_id=message.thread_id or req.thread_id, mailbox=req.mailbox, headers=message.header_map()
    )
    state = linking.thread_state(
        req.session, mailbox=req.mailbox, thread_id=context.thread_id, message_id=context.message_id
    )
    mail = mail_message(req, bodies=True) if state.is_linked and state.pending else None
    view: SidebarView = services().sidebar.open_message(
        req.session, user=req.user, oro=client, message=context, mail=mail, fresh=fresh
    )
    sends = sends_in_thread(req.session, user=req.user, thread_id=context.thread_id)
    card = cards.message_card(view, branding=req.branding, actions=req, sends=sends, zone=req.time_zone)
    reply = cards.Button("Reply with a template", req.action("on_reply_templates"))
    return card.add(cards.Section(header="Reply").add(cards.ButtonList((reply,))))


def home_card(req: AddonRequest) -> cards.Card:
    rows = req.session.scalars(
        select(ThreadLink)
        .where(ThreadLink.mailbox == req.mailbox)
        .order_by(ThreadLink.linked_at.desc(), ThreadLink.id.desc())
        .limit(RECENT_LINKS * 3)
    )
    recent: list[cards.RecentLink] = []
    seen: set[tuple[str, str]] = set()
    for row in rows:
        if (row.record_type, row.record_id) in seen:
            continue
        seen.add((row.record_type, row.record_id))
        recent.append(
            cards.RecentLink(
                type=row.record_type,
                id=row.record_id,
                title=row.record_title or f"{type_label(row.record_type)} #{row.record_id}",
                type_label=type_label(row.record_type),
                linked_at=row.linked_at,
            )
        )
    return cards.homepage_card(
        branding=req.branding,
        actions=req,
        user_email=req.mailbox,
        oro_url=req.settings.oro_url,
        recent=recent[:RECENT_LINKS],
    )


def compose_view(req: AddonRequest) -> SidebarView | None:
    """Who the draft's recipients are in Oro (the draft's metadata: ``draftAccess: METADATA``)."""
    recipients = req.recipients()
    headers = {
        "to": ", ".join(recipients.get("toRecipients", [])),
        "cc": ", ".join(recipients.get("ccRecipients", [])),
        "bcc": ", ".join(recipients.get("bccRecipients", [])),
    }
    if not any(headers.values()):
        return None
    context = MessageContext.from_headers(thread_id=req.thread_id, mailbox=req.mailbox, headers=headers)
    return services().sidebar.view(req.session, user=req.user, oro=oro(req), message=context)


def compose_card(req: AddonRequest) -> cards.Card:
    view = compose_view(req)
    templates = [
        cards.TemplateChoice(
            id=str(t.id), name=t.name, description=f"For {type_label(t.record_type)}" if t.record_type else ""
        )
        for t in list_templates(req.session, user=req.user)
    ]
    return cards.compose_card(
        branding=req.branding,
        actions=req,
        recipients=view.participants if view is not None else (),
        templates=templates,
    )


def rendered_template(req: AddonRequest, template_id: str) -> tuple[str, RenderedEmail]:
    """(name, rendered email) of a template for the draft: about the first recipient's record of the
    template's type, signed by the user."""
    if not template_id.isdigit():
        raise TemplateNotFound(f"no template {template_id!r}")
    template = get_template(req.session, user=req.user, template_id=int(template_id))
    record: OroRecord | None = None
    view = compose_view(req) if template.record_type else None
    if view is not None:
        match = next(
            (
                r
                for p in view.participants
                for g in p.matches
                for r in g.records
                if r.type == template.record_type
            ),
            None,
        )
        if match is not None:
            record = record_of(req, match.type, match.id)
    sender = Sender(name=req.user.display_name or req.mailbox, email=req.mailbox)
    context = RenderContext(record=record, sender=sender, app_url=req.base_url)
    return template.name, render_template(template, context=context, locale=req.locale)


# --- pushed screens -----------------------------------------------------------------------------------


def record_of(req: AddonRequest, record_type: str, record_id: str) -> OroRecord:
    kind = RECORD_TYPES.get(record_type)
    if kind is None:
        raise LookupError(f"unknown record type {record_type!r}")
    return oro(req).get_record(kind, id=record_id)


def record_card(req: AddonRequest, record_type: str, record_id: str) -> cards.Card:
    record = record_of(req, record_type, record_id)
    shown = _marked(card_for(record, companies={}), linked_refs(req))
    notes: list[tuple[str, datetime | None]] = []
    emails: list[tuple[str, str, datetime | None]] = []
    try:
        history = linking.record_history(oro(req), record=RecordRef(record.type, record.id), limit=5)
        notes = [(n.text, n.created_at) for n in history.notes]
        emails = [(e.subject, e.sender, e.sent_at) for e in history.emails]
    except LinkingError as exc:
        logger.info("no history for %s %s: %s", record.type, record.id, exc.code)
    return cards.record_card(
        shown,
        branding=req.branding,
        actions=req,
        can_link=req.root == "message" and record.type in LINKABLE,
        notes=notes,
        emails=emails,
        can_note="note" in shown.actions,
    )


def search_card(req: AddonRequest, *, text: str, pages: int = 1) -> cards.Card:
    """Results of ``text``; "load more" asks again for one more page's worth (one request to Oro, the
    list growing in place)."""
    pages = max(1, min(pages, MAX_SEARCH_PAGES))
    found = services().sidebar.search(
        oro=oro(req), text=text, entities=SEARCHED, page=1, page_size=SEARCH_PAGE_SIZE * pages
    )
    refs = linked_refs(req)
    page = cards.SearchPage(
        text=text,
        records=tuple(_marked(card, refs) for card in found.records),
        has_more=found.has_more and pages < MAX_SEARCH_PAGES,
        pages=pages,
    )
    return cards.search_card(page, branding=req.branding, actions=req, can_link=req.root == "message")


def participant_address(value: str) -> EmailAddress:
    parsed = EmailAddress.parse(value)
    if parsed is None:
        raise LookupError(f"not an address: {value!r}")
    return parsed
