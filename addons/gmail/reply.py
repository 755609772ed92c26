"""Replying with a template from the open message: choose, preview, send (through the outbox).

The preview is rendered for the person the reply goes to (the message's Reply-To or From, or on
one's own message the first other recipient) about their record of the template's type; a template
with a missing field shows which and offers no Send button. "Send reply" carries a click key made
when the preview was drawn, so pressing it twice, or Google retrying the request, sends one email.

Gmail's tokens exist only inside this request, so the reply is recorded and committed, then sent at
once here (:func:`connector.outbox.runner.send_gmail_now`); an attempt that dies is finished by the
next add-on request in this thread, after asking Gmail whether it went out.
"""

from __future__ import annotations

import logging
import uuid

from addons.gmail import cards, screens
from addons.gmail.context import AddonRequest
from connector.app_services import services
from connector.mail.addresses import EmailAddress, parse_address_list
from connector.mail.compose import html_to_text, message_id_domain, reply_recipients, reply_subject
from connector.mail.gmail import GmailMessage
from connector.oro import OroRecord
from connector.outbox.delivery import DeliveryPolicy
from connector.outbox.models import OutboxMessage
from connector.outbox.operations import Reply, ReplyBody, enqueue_reply
from connector.outbox.runner import link_sent_replies, send_gmail_now
from connector.outbox.transports import GmailTransport, sender_address
from connector.sidebar.context import MessageContext
from connector.templates.errors import TemplateFieldsMissing, TemplateNotFound
from connector.templates.models import EmailTemplate
from connector.templates.operations import get_template, list_templates, render_template
from connector.templates.rendering import RenderContext, RenderedEmail, Sender
from connector.templates.variables import catalog

PREVIEW_CHARS = 1500
logger = logging.getLogger(__name__)


def recipients(req: AddonRequest, message: GmailMessage) -> tuple[EmailAddress, ...]:
    """Whom a reply to ``message`` goes to."""
    senders = parse_address_list(message.header("From"))
    return reply_recipients(
        req.mailbox,
        sender=senders[0] if senders else None,
        reply_to=parse_address_list(message.header("Reply-To")),
        to=parse_address_list(message.header("To")),
    )


def _record_for(req: AddonRequest, message: GmailMessage, record_type: str | None) -> OroRecord | None:
    """The first record of ``record_type`` matched to the reply's recipients (then anyone on the email)."""
    if not record_type:
        return None
    context = MessageContext.from_headers(
        thread_id=message.thread_id or req.thread_id, mailbox=req.mailbox, headers=message.header_map()
    )
    view = services().sidebar.view(req.session, user=req.user, oro=screens.oro(req), message=context)
    wanted = {a.key for a in recipients(req, message)}
    ordered = sorted(view.participants, key=lambda p: _key(p.address) not in wanted)
    for participant in ordered:
        for group in participant.matches:
            for record in group.records:
                if record.type == record_type:
                    return screens.record_of(req, record.type, record.id)
    return None


def _key(address: str) -> str:
    parsed = EmailAddress.parse(address)
    return parsed.key if parsed is not None else address.lower()


def rendered(
    req: AddonRequest, message: GmailMessage, template_id: str
) -> tuple[EmailTemplate, RenderedEmail]:
    if not template_id.isdigit():
        raise TemplateNotFound(f"no template {template_id!r}")
    template = get_template(req.session, user=req.user, template_id=int(template_id))
    record = _record_for(req, message, template.record_type)
    sender = Sender(name=req.user.display_name or req.mailbox, email=req.mailbox)
    context = RenderContext(record=record, sender=sender, app_url=req.base_url)
    return template, render_template(template, context=context, locale=req.locale)


def template_type(req: AddonRequest, template_id: str) -> str | None:
    return get_template(req.session, user=req.user, template_id=int(template_id)).record_type


def templates_card(req: AddonRequest) -> cards.Card:
    """The user's templates, each with a Preview button."""
    card = cards.Card(
        header=cards.CardHeader("Reply with a template", image_url=req.branding.logo_url),
        name="reply_templates",
    )
    section = cards.Section(header="Templates")
    templates = list_templates(req.session, user=req.user)
    if not templates:
        section.add(
            cards.TextParagraph("You have no templates yet. An admin can add them on the setup page.")
        )
    for template in templates[:50]:
        kind = f" · for {template.record_type.replace('_', ' ')}" if template.record_type else ""
        section.add(
            cards.DecoratedText(
                text=cards.escape(template.name),
                bottom_label=f"{template.format.upper()}{kind}",
                button=cards.Button("Preview", req.action("on_preview_reply", template=str(template.id))),
            )
        )
    return card.add(section)


def preview_card(req: AddonRequest, template_id: str) -> cards.Card:
    """What the reply would be, for its recipient; Send only when nothing is missing."""
    message = screens.open_message(req)
    template, email = rendered(req, message, template_id)
    name = template.name
    to = recipients(req, message)
    card = cards.Card(
        header=cards.CardHeader(f"Reply: {name}", image_url=req.branding.logo_url), name="reply_preview"
    )
    section = cards.Section()
    section.add(
        cards.DecoratedText(top_label="To", text=cards.escape(", ".join(str(a) for a in to) or "nobody"))
    )
    section.add(
        cards.DecoratedText(
            top_label="Subject", text=cards.escape(reply_subject(message.header("Subject") or ""))
        )
    )
    body = html_to_text(email.body) if email.format == "html" else email.body
    shown = body if len(body) <= PREVIEW_CHARS else body[:PREVIEW_CHARS] + "…"
    section.add(cards.TextParagraph(cards.escape(shown).replace("\n", "<br>")))
    if email.missing:
        known = catalog(template_type(req, template_id))
        labels = {v.path: v.label for v in (*known.entity, *known.system, *known.user)}
        named = ", ".join(f"{labels[p]} ({p})" if p in labels else p for p in email.missing)
        section.add(
            cards.TextParagraph(
                cards.notice("Not sent until these are filled in Oro or taken out of the template: ")
                + cards.escape(named)
            )
        )
    elif to:
        key = uuid.uuid4().hex
        section.add(
            cards.ButtonList(
                (cards.Button("Send reply", req.action("on_send_reply", template=template_id, key=key)),)
            )
        )
    return card.add(section)


def send(req: AddonRequest, template_id: str, key: str) -> str:
    """Record the reply, commit, send it now; returns the notification for the user."""
    message = screens.open_message(req)
    template, email = rendered(req, message, template_id)
    try:
        body = ReplyBody.rendered(email, template)
    except TemplateFieldsMissing as exc:
        return "Not sent: fill in " + ", ".join(exc.missing) + " first."
    to = recipients(req, message)
    if not to:
        return "Not sent: there is nobody to reply to."
    original_id = (message.header("Message-ID") or "").strip()
    references = tuple((message.header("References") or "").split())
    reply = Reply(
        provider="gmail",
        mailbox=req.mailbox,
        account=req.google_user.sub,
        reply_to=req.message_id,
        thread_id=message.thread_id or req.thread_id,
        subject=reply_subject(message.header("Subject") or ""),
        to=to,
        text=body.text,
        html=body.html,
        in_reply_to=original_id,
        references=tuple(dict.fromkeys((*references, original_id))) if original_id else references,
        template_id=body.template_id,
        template_name=body.template_name,
    )
    domain = message_id_domain(req.base_url)
    row = enqueue_reply(req.session, user=req.user, key=key, reply=reply, domain=domain)
    req.commit()  # recorded before anything can send it
    outcome = send_now(req, row_ids=[row.id]).get(row.id)
    req.session.refresh(row)
    return outcome_text(req, row, fresh=outcome in ("sent", "found_sent"))


def outcome_text(req: AddonRequest, row: OutboxMessage, *, fresh: bool = True) -> str:
    """What became of a send, in words for the notification (``fresh``: sent by this request)."""
    if row.state == "sent":
        _link_now(req)
        return "Reply sent." if fresh else "This reply was already sent."
    if row.state == "failed":
        return f"Not sent: {row.last_error}"
    waiting = "Not sent yet; the connector will try again when you next open this conversation."
    return f"{waiting} {row.last_error}".strip()


def _link_now(req: AddonRequest) -> None:
    """A linked thread's new reply joins its records in Oro now (a runner would later, else)."""
    from connector.db import db

    app = services().app
    try:
        link_sent_replies(app, lambda: db.session_scope(app), user=req.user, limit=5)
    except Exception:
        logger.exception("could not link %s's sent replies now; a runner will", req.user)


def send_now(req: AddonRequest, *, row_ids: list[int] | None = None) -> dict[int, str]:
    """Attempt ``row_ids``, or the user's Gmail replies due now that this request can settle."""
    from connector.db import db

    transport = GmailTransport(
        screens.reader(req),
        sender=sender_address(req.mailbox, req.user.display_name),
        open_thread=req.thread_id,
    )
    app = services().app
    return dict(
        send_gmail_now(
            lambda: db.session_scope(app),
            user=req.user,
            transport=transport,
            policy=DeliveryPolicy.from_settings(req.settings),
            row_ids=row_ids,
        )
    )
