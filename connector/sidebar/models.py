"""What the sidebar remembers: each user's answers to ambiguous matches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from connector.db.models import utcnow
from connector.db.session import Base


class MatchChoice(Base):
    """ "For this address, I mean this contact": one per user, address and record type."""

    __tablename__ = "match_choices"
    __table_args__ = (UniqueConstraint("user_id", "address_key", "record_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    address_key: Mapped[str] = mapped_column(String(320))
    record_type: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[str] = mapped_column(String(60))
    chosen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<MatchChoice user={self.user_id} {self.record_type}:{self.record_id}>"
