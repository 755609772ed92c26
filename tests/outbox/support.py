"""Shared pieces of the outbox tests: a user, a reply, and a transport that records what it is asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from connector.accounts.operations import user_for_identity
from connector.db.models import User
from connector.mail.addresses import EmailAddress
from connector.outbox.delivery import DeliveryDeferred, DeliveryRefused, Found
from connector.outbox.models import OutboxMessage
from connector.outbox.operations import Reply


def a_user(session: Session, email: str = "alice@acme.example") -> User:
    return user_for_identity(session, provider="microsoft", subject=f"oid-{email}.tid", email=email)


def a_reply(provider: str = "graph", thread: str = "conv-1", **changes: object) -> Reply:
    customer = EmailAddress.parse("bob@customer.example", "Bob Buyer")
    assert customer is not None
    values: dict[str, object] = {
        "provider": provider,
        "mailbox": "alice@acme.example",
        "reply_to": "AAMk-original",
        "thread_id": thread,
        "subject": "Re: Order 42",
        "to": (customer,),
        "text": "Your order ships tomorrow.",
        "html": "<p>Your order ships tomorrow.</p>",
        "in_reply_to": "<original@customer.example>",
        "references": ("<original@customer.example>",),
        "account": "oid-alice.tid",
    }
    values.update(changes)
    return Reply(**values)  # type: ignore[arg-type]


@dataclass
class RecordingTransport:
    """Keeps what it "sent" by Message-ID; can be told to fail or to hold a draft."""

    sent: dict[str, list[str]] = field(default_factory=dict)
    drafts: dict[str, str] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    fail_with: Exception | None = None
    lose_answer: bool = False  # send, then fail as if the answer was lost

    def find(self, row: OutboxMessage) -> Found | None:
        self.calls.append("find")
        if row.message_id in self.sent:
            return Found(self.sent[row.message_id][0])
        if row.message_id in self.drafts:
            return Found(self.drafts[row.message_id], is_draft=True)
        return None

    def send(self, row: OutboxMessage) -> str:
        self.calls.append("send")
        if self.fail_with is not None:
            raise self.fail_with
        provider_id = f"sent-{len(self.sent) + 1}"
        self.sent.setdefault(row.message_id, []).append(provider_id)
        if self.lose_answer:
            raise DeliveryDeferred("the answer was lost")
        return provider_id

    def send_draft(self, row: OutboxMessage, draft_id: str) -> str:
        self.calls.append("send_draft")
        self.drafts.pop(row.message_id, None)
        self.sent.setdefault(row.message_id, []).append(draft_id)
        return draft_id


__all__ = ["DeliveryDeferred", "DeliveryRefused", "RecordingTransport", "a_reply", "a_user"]


def incoming(world: Any, mailbox: str = "alice@acme.example") -> list[Any]:
    """The sample messages of ``mailbox`` that someone else sent to it, in thread order."""
    return [m for t in world.threads_of(mailbox) for m in t.messages if m.sender.email != mailbox]


def outbox_rows(app: Any) -> list[OutboxMessage]:
    """Every outbox row, oldest first, detached (read after the request that wrote them)."""
    from connector.db import db

    with db.session_scope(app) as session:
        rows = list(session.query(OutboxMessage).order_by(OutboxMessage.id))
        for row in rows:
            session.expunge(row)
        return rows
