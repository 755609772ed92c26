"""What linking takes and gives back: plain frozen dataclasses, the same for both hosts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from connector.oro.records import OroRecord, RecordRef

Via = Literal["link", "thread", "create"]
"""Why a message was linked: a person's link, the thread's stickiness, or a record made from it."""
CreateKind = Literal["lead", "contact", "case", "opportunity", "task"]
CREATE_KINDS: tuple[CreateKind, ...] = ("lead", "contact", "case", "opportunity", "task")
CREATED_TYPES: dict[CreateKind, str] = {
    "lead": "leads", "contact": "contacts", "case": "cases", "opportunity": "opportunities", "task": "tasks",
}


@dataclass(frozen=True)
class LinkTarget:
    """An Oro record to link to; ``title`` is kept locally so the sidebar can name it without Oro."""

    type: str
    id: str
    title: str = ""

    @property
    def ref(self) -> RecordRef:
        return RecordRef(self.type, self.id)

    @property
    def label(self) -> str:
        return self.title or f"{self.type} #{self.id}"

    @classmethod
    def of(cls, record: OroRecord) -> LinkTarget:
        return cls(record.type, record.id, record.title)


@dataclass(frozen=True)
class LinkedRecord:
    """A record the thread is linked to: who linked it, and when."""

    type: str
    id: str
    title: str
    linked_by: str
    linked_at: datetime

    @property
    def ref(self) -> RecordRef:
        return RecordRef(self.type, self.id)


@dataclass(frozen=True)
class ThreadLinkState:
    """Link state of one thread and one of its messages, from the local mirror (no Oro round trip).

    ``records``: what the thread is linked to. ``oro_email_id``: the message as an Oro email, when it
    was logged. ``message_records``: the records this message was added to in Oro. ``note``: set when
    the message was linked because its thread is ("Linked because this thread is linked to ...").
    """

    mailbox: str
    thread_id: str
    message_id: str
    records: tuple[LinkedRecord, ...] = ()
    oro_email_id: str | None = None
    message_records: tuple[RecordRef, ...] = ()
    note: str = ""

    @property
    def is_linked(self) -> bool:
        return bool(self.records)

    @property
    def pending(self) -> tuple[LinkedRecord, ...]:
        """Records of the thread this message is not linked to yet (stickiness will add them)."""
        done = set(self.message_records)
        return tuple(r for r in self.records if r.ref not in done)


@dataclass(frozen=True)
class MessageOutcome:
    """What happened to one message: its Oro email, whether the connector created it, the records added
    now, or why it was skipped (privacy policy) or failed (``error`` is a linking error code)."""

    message_id: str
    oro_email_id: str | None = None
    created: bool = False
    added: tuple[RecordRef, ...] = ()
    skipped: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class LinkResult:
    state: ThreadLinkState
    messages: tuple[MessageOutcome, ...]
    added: tuple[LinkTarget, ...] = ()  # records newly linked to the thread by this request


@dataclass(frozen=True)
class StickyOutcome:
    """A message of a linked thread was opened. ``line`` is the sentence for the sidebar; ``changed``
    is False when the message was already linked or the policy kept it out (``refused`` says why)."""

    line: str
    records: tuple[LinkedRecord, ...]
    changed: bool
    oro_email_id: str | None = None
    refused: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnlinkResult:
    record: RecordRef
    was_linked: bool
    removed_from: tuple[str, ...]  # Oro email ids whose thread context lost the record
    state: ThreadLinkState


@dataclass(frozen=True)
class NoteResult:
    note_id: str
    record: LinkTarget
    reused: bool = False  # a repeat of a note just added (double click, retry): no second note


@dataclass(frozen=True)
class HistoryEmail:
    id: str
    subject: str
    sender: str
    sent_at: datetime | None
    snippet: str
    url: str | None


@dataclass(frozen=True)
class HistoryNote:
    id: str
    text: str
    html: str
    created_at: datetime | None


@dataclass(frozen=True)
class RecordHistory:
    record: RecordRef
    emails: tuple[HistoryEmail, ...] = ()
    notes: tuple[HistoryNote, ...] = ()
    emails_available: bool = True  # False on an Oro before 6.0


@dataclass(frozen=True)
class Prefill:
    """A new record's fields as taken from the email; the user sees and may change them."""

    kind: CreateKind
    email: str
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    subject: str = ""

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


@dataclass(frozen=True)
class CreateFields:
    """What the user changed or added in the create form (None: keep the prefill)."""

    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None  # a lead's or an opportunity's name, a case's or a task's subject
    company: str | None = None
    job_title: str | None = None
    phone: str | None = None
    description: str | None = None
    contact_id: str | None = None
    account_id: str | None = None
    b2b_customer_id: str | None = None
    due_date: datetime | None = None
    close_date: date | None = None


@dataclass(frozen=True)
class DuplicateOffer:
    """An existing record that may be the one the user means, and why it is offered."""

    record: LinkTarget
    why: str
    url: str | None = None


@dataclass(frozen=True)
class CreateOutcome:
    """Either ``duplicates`` to offer (nothing was written) or the ``created`` record (``reused`` when a
    repeat of the same request found the record it had made) and the thread's ``link``."""

    prefill: Prefill
    created: LinkTarget | None = None
    duplicates: tuple[DuplicateOffer, ...] = ()
    reused: bool = False
    link: LinkResult | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)
