"""Settings saved on the admin page. They override the environment's (``ORO_CONNECTOR_*``) values.

One row per setting, keyed by the setting's field name (``oro_url``). A plain value is kept in
``value``; a secret (``oro_client_secret``) only in ``secret``, encrypted with the connector's
encryption keys, so ``oro-connector keys rotate`` re-encrypts it with everything else.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from connector.db.models import ENCRYPTED, utcnow
from connector.db.session import Base


class StoredSetting(Base):
    """A setting saved on the admin page, who saved it (the address is kept if the user goes) and when."""

    __tablename__ = "admin_settings"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    secret: Mapped[str | None] = mapped_column(Text, info=ENCRYPTED)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by: Mapped[str] = mapped_column(String(320), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        shown = "***" if self.secret is not None else repr(self.value)
        return f"<StoredSetting {self.key}={shown} by {self.updated_by}>"
