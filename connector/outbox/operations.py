"""Recording replies to send, and what users and admins see of them.

These operations flush and never commit, like every request operation: a route records a reply with
:func:`enqueue_reply`, commits, and only then is anything sent (:mod:`connector.outbox.delivery`).
The idempotency key comes from the click (the card or the pane makes one per "Send" press), so a
double click, a retried request or a reload sends one email.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connector.db.models import User, utcnow
from connector.mail.addresses import EmailAddress
from connector.mail.compose import html_to_text, new_message_id
from connector.oro import OroClient, OroRecord, RecordRef
from connector.oro.records import RECORD_TYPES
from connector.outbox.models import OutboxMessage
from connector.templates.models import EmailTemplate
from connector.templates.operations import get_template, render_template
from connector.templates.rendering import RenderContext, RenderedEmail, Sender

logger = logging.getLogger(__name__)

Provider = Literal["gmail", "graph"]
MAX_KEY = 200
SENT_SHOWN_FOR = timedelta(days=1)


class OutboxError(Exception):
    """A request about the outbox that cannot be carried out; the message says what to do."""


class SendNotFound(OutboxError):
    pass


class SendConflict(OutboxError):
    pass


@dataclass(frozen=True)
class Reply:
    """A reply to one message, complete: whom to, what, and where it belongs."""

    provider: Provider
    mailbox: str
    reply_to: str  # the provider's id of the message answered (Gmail id, Graph REST id)
    thread_id: str  # Gmail threadId, Graph conversationId
    subject: str
    to: tuple[EmailAddress, ...]
    text: str
    html: str | None = None
    cc: tuple[EmailAddress, ...] = ()
    in_reply_to: str = ""  # the answered message's Message-ID
    references: tuple[str, ...] = ()
    account: str = ""  # Entra "<oid>.<tid>" for Graph; Google "sub" for Gmail
    template_id: int | None = None
    template_name: str = ""


@dataclass(frozen=True)
class ReplyBody:
    """What a reply says: HTML with its plain-text alternative, or text alone; and the template used."""

    text: str
    html: str | None = None
    template_id: int | None = None
    template_name: str = ""

    @classmethod
    def rendered(cls, email: RenderedEmail, template: EmailTemplate) -> ReplyBody:
        """A rendered template as a reply carries it; refused (:class:`TemplateFieldsMissing`, each
        field named) while a field it uses has no value."""
        email.require_complete()
        if email.format == "html":
            return cls(html_to_text(email.body), email.body, template.id, template.name)
        return cls(email.body, None, template.id, template.name)


def templated_reply_body(
    session: Session,
    oro: OroClient,
    *,
    user: User,
    template_id: int,
    record: RecordRef | None,
    sender: Sender,
    app_url: str,
    locale: str | None = None,
) -> ReplyBody:
    """The user's template rendered about ``record`` (read from Oro as the user). Raises
    :class:`TemplateNotFound`, :class:`TemplateFieldsMissing` and the other template errors, and
    ``LookupError`` for a record type that does not exist."""
    template = get_template(session, user=user, template_id=template_id)
    about: OroRecord | None = None
    if record is not None:
        kind = RECORD_TYPES.get(record.type)
        if kind is None:
            raise LookupError(f"{record.type!r} is not a record type")
        about = oro.get_record(kind, id=record.id)
    context = RenderContext(record=about, sender=sender, app_url=app_url.rstrip("/"))
    return ReplyBody.rendered(render_template(template, context=context, locale=locale), template)


def _addresses(values: Sequence[EmailAddress]) -> list[list[str]]:
    return [[a.name, a.address] for a in values]


def recipients_of(row: OutboxMessage) -> tuple[tuple[EmailAddress, ...], tuple[EmailAddress, ...]]:
    """(to, cc) of a recorded reply."""
    data: dict[str, Any] = json.loads(row.recipients or "{}")

    def parsed(key: str) -> tuple[EmailAddress, ...]:
        found = (EmailAddress.parse(str(email), str(name)) for name, email in data.get(key) or [])
        return tuple(a for a in found if a is not None)

    return parsed("to"), parsed("cc")


def enqueue_reply(session: Session, *, user: User, key: str, reply: Reply, domain: str) -> OutboxMessage:
    """Record ``reply`` to be sent once for this click (``key``); the same key again returns the row
    recorded first, unchanged, whatever it holds now. ``domain`` names our Message-IDs."""
    key = key.strip()
    if not key or len(key) > MAX_KEY:
        raise OutboxError(f"A send needs a click key of 1 to {MAX_KEY} characters.")
    if not reply.to:
        raise OutboxError("The reply has no recipient.")
    found = _by_key(session, user, key)
    if found is not None:
        return found
    row = OutboxMessage(
        user=user,
        idempotency_key=key,
        provider=reply.provider,
        mailbox=reply.mailbox.strip().lower(),
        account=reply.account,
        message_id=new_message_id(domain),
        reply_to=reply.reply_to,
        thread_id=reply.thread_id,
        in_reply_to=reply.in_reply_to,
        references=" ".join(reply.references),
        subject=reply.subject,
        recipients=json.dumps({"to": _addresses(reply.to), "cc": _addresses(reply.cc)}),
        body_html=reply.html,
        body_text=reply.text,
        template_id=reply.template_id,
        template_name=reply.template_name,
        state="pending",
        attempts=0,
        next_attempt_at=utcnow(),
        leased_by="",
        last_error="",
        provider_message_id="",
        link_state="",
        link_error="",
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        found = _by_key(session, user, key)  # the same click, recorded a moment ago by a twin request
        if found is None:
            raise
        return found
    logger.info("reply %s recorded for %s (%s)", row.id, user, reply.provider)
    return row


def _by_key(session: Session, user: User, key: str) -> OutboxMessage | None:
    return session.scalar(
        select(OutboxMessage).where(OutboxMessage.user_id == user.id, OutboxMessage.idempotency_key == key)
    )


# --- what people see ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendRecord:
    """One reply as the sidebars and the admin page show it."""

    id: int
    state: str
    subject: str
    to: tuple[str, ...]
    mailbox: str
    thread_id: str
    template_name: str
    attempts: int
    last_error: str
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None
    linked: bool

    @property
    def label(self) -> str:
        """The state in words for a person."""
        if self.state == "sent":
            return "Sent"
        if self.state == "failed":
            return "Not sent"
        if self.state == "sending":
            return "Sending"
        return "Waiting to send" if self.attempts == 0 else "Will try again"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "label": self.label,
            "subject": self.subject,
            "to": list(self.to),
            "template": self.template_name,
            "attempts": self.attempts,
            "error": self.last_error,
            "created_at": _iso(self.created_at),
            "sent_at": _iso(self.sent_at),
            "next_attempt_at": _iso(self.next_attempt_at) if self.state == "pending" else None,
            "linked": self.linked,
        }


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def record_of(row: OutboxMessage) -> SendRecord:
    to, cc = recipients_of(row)
    return SendRecord(
        id=row.id,
        state=row.state,
        subject=row.subject,
        to=tuple(a.address for a in to + cc),
        mailbox=row.mailbox,
        thread_id=row.thread_id,
        template_name=row.template_name,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
        next_attempt_at=row.next_attempt_at,
        linked=row.link_state == "done",
    )


def sends_in_thread(session: Session, *, user: User, thread_id: str, limit: int = 10) -> list[SendRecord]:
    """The user's replies in this thread, newest first, that still matter: anything not yet sent or
    failed and not dismissed, and the sent ones of the last day."""
    rows = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.user_id == user.id,
            OutboxMessage.thread_id == thread_id,
            OutboxMessage.resolved_at.is_(None),
            or_(OutboxMessage.state != "sent", OutboxMessage.sent_at >= utcnow() - SENT_SHOWN_FOR),
        )
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    )
    return [record_of(r) for r in rows]


def unresolved_sends(session: Session, *, user: User | None = None, limit: int = 50) -> list[SendRecord]:
    """Replies not sent yet or failed and not dismissed, oldest first (one user's, or everyone's)."""
    query = select(OutboxMessage).where(OutboxMessage.state != "sent", OutboxMessage.resolved_at.is_(None))
    if user is not None:
        query = query.where(OutboxMessage.user_id == user.id)
    rows = session.scalars(query.order_by(OutboxMessage.created_at, OutboxMessage.id).limit(limit))
    return [record_of(r) for r in rows]


def _own(session: Session, send_id: int, user: User | None) -> OutboxMessage:
    row = session.get(OutboxMessage, send_id)
    if row is None or (user is not None and row.user_id != user.id):
        raise SendNotFound(f"There is no reply {send_id} of yours.")
    return row


def retry_send(session: Session, *, send_id: int, user: User | None = None) -> OutboxMessage:
    """Give a failed reply another attempt now (``user`` None: an admin acting for anyone). The provider
    is asked first whether it went out, as on every attempt after the first."""
    row = _own(session, send_id, user)
    if row.state != "failed":
        raise SendConflict(f"Reply {send_id} is {row.state}, not failed: there is nothing to retry.")
    row.state = "pending"
    row.next_attempt_at = utcnow()
    row.resolved_at = None
    # A fresh run of attempts, but still counted as tried: the next attempt asks the provider first.
    row.attempts = min(row.attempts, 1)
    session.flush()
    return row


def dismiss_send(session: Session, *, send_id: int, user: User | None = None) -> OutboxMessage:
    """Stop showing a failed reply; it will not be sent."""
    row = _own(session, send_id, user)
    if row.state != "failed":
        raise SendConflict(f"Reply {send_id} is {row.state}: only a failed reply can be dismissed.")
    row.resolved_at = utcnow()
    session.flush()
    return row


@dataclass(frozen=True)
class OutboxHealth:
    """The outbox at a glance, for the admin Status page."""

    counts: dict[str, int]
    failed_unresolved: int
    oldest_waiting: datetime | None
    stuck: int  # claimed by a sender whose lease ran out: it died mid-send

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts,
            "failed_unresolved": self.failed_unresolved,
            "oldest_waiting": _iso(self.oldest_waiting),
            "stuck": self.stuck,
        }


def outbox_health(session: Session, *, now: datetime | None = None) -> OutboxHealth:
    now = now or utcnow()
    counts = {state: 0 for state in ("pending", "sending", "sent", "failed")}
    for state, count in session.execute(
        select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
    ):
        counts[state] = int(count)
    failed = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.state == "failed", OutboxMessage.resolved_at.is_(None))
    )
    oldest = session.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.state.in_(("pending", "sending")))
    )
    stuck = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.state == "sending", OutboxMessage.lease_until < now)
    )
    return OutboxHealth(counts, int(failed or 0), oldest, int(stuck or 0))
