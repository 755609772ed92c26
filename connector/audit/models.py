"""The ``audit_log`` table: one row per action a person (or the connector on their behalf) took."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from connector.db.models import utcnow
from connector.db.session import Base


class AuditEntry(Base):
    """Who (``actor``, the address kept even when the user is deleted), when (``at``), what (``action``,
    e.g. ``link``), on what (``subject``, e.g. ``thread:alice@acme.example:18c2...`` or ``contacts:12``),
    and the details (which records, which Oro ids). Never an email body or a token."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_subject", "subject", "at"),
        Index("ix_audit_log_actor_id", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(600))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action} {self.subject} by {self.actor}>"
