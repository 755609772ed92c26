"""Email templates: one row per template, its texts per locale (``""`` is the default text).

``version`` grows with every change of a template or its texts: the compiled-template cache is keyed
by (id, version, locale), so an edit is never rendered from a stale compiled form.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from connector.db.models import User, utcnow
from connector.db.session import Base

VISIBILITIES = ("private", "shared")
FORMATS = ("html", "text")


class EmailTemplate(Base):
    """A template: what it is for (``record_type``: an Oro resource type, or None), who owns it and
    who else sees it (``shared``: every user; ``private``: the owner only)."""

    __tablename__ = "templates"
    __table_args__ = (
        CheckConstraint("visibility IN ('private', 'shared')", name="visibility"),
        CheckConstraint("format IN ('html', 'text')", name="format"),
        UniqueConstraint("owner_id", "oro_template_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    record_type: Mapped[str | None] = mapped_column(String(40), index=True)
    format: Mapped[str] = mapped_column(String(10), default="html")
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    visibility: Mapped[str] = mapped_column(String(10), default="private")
    version: Mapped[int] = mapped_column(Integer, default=1)
    oro_template_id: Mapped[str | None] = mapped_column(String(40))  # set when imported from Oro
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    owner: Mapped[User] = relationship()
    variants: Mapped[list[TemplateVariant]] = relationship(
        back_populates="template", cascade="all, delete-orphan", order_by="TemplateVariant.locale"
    )

    def __repr__(self) -> str:
        return f"<EmailTemplate {self.id} {self.name!r} v{self.version} {self.record_type or 'no record'}>"

    def variant(self, locale: str) -> TemplateVariant | None:
        """The text for exactly ``locale`` (``""``: the default)."""
        return next((v for v in self.variants if v.locale == locale), None)

    @property
    def locales(self) -> list[str]:
        return [v.locale for v in self.variants if v.locale]


class TemplateVariant(Base):
    """A template's subject and body in one locale (``de``, ``de_AT``; ``""`` is the default)."""

    __tablename__ = "template_variants"
    __table_args__ = (UniqueConstraint("template_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("templates.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(20), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")

    template: Mapped[EmailTemplate] = relationship(back_populates="variants")

    def __repr__(self) -> str:
        return f"<TemplateVariant template={self.template_id} locale={self.locale or 'default'}>"
