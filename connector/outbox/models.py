"""The outbox table: one row per reply the connector sends for a user, written before anything leaves.

A row is the promise to send one email exactly once. It carries the whole message (so a worker can
send it without the request that asked), our own RFC 5322 ``Message-ID`` chosen at insert (so the
provider can be asked afterwards whether it went out), and the state of its delivery:

- ``pending``: waiting for its next attempt at ``next_attempt_at``;
- ``sending``: claimed by ``leased_by`` until ``lease_until`` (renewed while the attempt runs); a lease
  that ran out means the attempt died, and the next one first asks the provider;
- ``sent``: the provider has it (``provider_message_id``);
- ``failed``: refused by the provider or out of attempts; shown until someone retries or dismisses it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from connector.db.models import User, utcnow
from connector.db.session import Base

STATES = ("pending", "sending", "sent", "failed")
PROVIDERS = ("gmail", "graph")
LINK_STATES = ("", "pending", "done", "failed")


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key"),
        UniqueConstraint("message_id"),
        CheckConstraint(f"state IN {STATES!r}", name="state"),
        CheckConstraint(f"provider IN {PROVIDERS!r}", name="provider"),
        Index("ix_outbox_due", "state", "next_attempt_at"),
        Index("ix_outbox_thread", "user_id", "thread_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(10))
    mailbox: Mapped[str] = mapped_column(String(320))
    account: Mapped[str] = mapped_column(String(200), default="")  # Entra "<oid>.<tid>", Google "sub"

    message_id: Mapped[str] = mapped_column(String(400))
    reply_to: Mapped[str] = mapped_column(String(400))  # the provider's id of the message answered
    thread_id: Mapped[str] = mapped_column(String(400))  # Gmail threadId, Graph conversationId
    in_reply_to: Mapped[str] = mapped_column(String(998), default="")
    references: Mapped[str] = mapped_column(Text, default="")  # Message-IDs, space-separated
    subject: Mapped[str] = mapped_column(Text, default="")
    recipients: Mapped[str] = mapped_column(Text, default="{}")  # JSON {"to": [[name, email]], "cc": [...]}
    body_html: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text, default="")
    template_id: Mapped[int | None] = mapped_column(Integer)  # kept when the template is deleted
    template_name: Mapped[str] = mapped_column(String(200), default="")

    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    leased_by: Mapped[str] = mapped_column(String(120), default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    provider_message_id: Mapped[str] = mapped_column(String(400), default="")
    link_state: Mapped[str] = mapped_column(String(10), default="")
    link_error: Mapped[str] = mapped_column(Text, default="")

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.provider} {self.state} attempts={self.attempts}>"
