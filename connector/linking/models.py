"""Linking's tables: the local mirror of what is linked in Oro, the write claims that keep every Oro
write single, and the privacy policy.

- ``synced_messages``: one row per RFC 5322 Message-ID the connector logged or found in Oro, with
  the Oro email id. Message-IDs are global (the same message in alice's and bob's mailbox is one Oro
  email), so the row is keyed by the Message-ID alone. It is also the claim that makes "create this
  email in Oro" happen once (see :mod:`connector.linking.claims`).
- ``thread_links``: a mailbox's thread linked to an Oro record, by whom and when. The sidebar reads
  it to show link state without asking Oro, and opening a later message of the thread links it too.
- ``message_links``: which records each logged message was added to in Oro (its ``activityTargets``),
  so stickiness knows without a round trip whether there is anything left to do.
- ``write_claims``: claims for writes that have no natural key in Oro (notes, records created from an
  email), keyed by a hash of the request.
- ``privacy_settings`` (one row) and ``privacy_rules``: the admin's body and attachment modes, and the
  never-log and internal-domain lists of the admin (scope ``org``) and of each user (``user:<id>``).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from connector.db.models import utcnow
from connector.db.session import Base

CLAIM_PENDING = "pending"
CLAIM_DONE = "done"


class ClaimColumns:
    """Columns of a row that stands for one Oro write.

    ``state`` is ``pending`` while someone holds the claim (``claim_token``) until ``lease_until``,
    and ``done`` once the Oro record exists (``oro_id``).
    """

    KEY: ClassVar[str] = ""

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(10), default=CLAIM_PENDING)
    oro_id: Mapped[str | None] = mapped_column(String(64))
    claim_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @declared_attr
    def claimed_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class SyncedMessage(ClaimColumns, Base):
    """A message logged into Oro (or found there): Message-ID -> Oro email id (``oro_id``)."""

    __tablename__ = "synced_messages"

    KEY: ClassVar[str] = "message_id"

    message_id: Mapped[str] = mapped_column(String(512), unique=True)

    def __repr__(self) -> str:
        return f"<SyncedMessage {self.id} {self.message_id} oro={self.oro_id} {self.state}>"


class WriteClaim(ClaimColumns, Base):
    """A note or a record created from an email, claimed under a hash of the request."""

    __tablename__ = "write_claims"

    KEY: ClassVar[str] = "key"

    key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    oro_type: Mapped[str | None] = mapped_column(String(40))

    def __repr__(self) -> str:
        return f"<WriteClaim {self.id} {self.kind} oro={self.oro_type}/{self.oro_id} {self.state}>"


class ThreadLink(Base):
    """A mailbox thread linked to an Oro record."""

    __tablename__ = "thread_links"
    __table_args__ = (UniqueConstraint("mailbox", "thread_id", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(320))
    thread_id: Mapped[str] = mapped_column(String(255))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(40))
    record_title: Mapped[str] = mapped_column(String(300), default="")
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    linked_by: Mapped[str] = mapped_column(String(320), default="")  # the address, kept if the user goes
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<ThreadLink {self.mailbox} {self.thread_id} -> {self.record_type}/{self.record_id}>"


class MessageLink(Base):
    """One logged message added to one record's context in Oro."""

    __tablename__ = "message_links"
    __table_args__ = (
        UniqueConstraint("synced_message_id", "record_type", "record_id"),
        Index("ix_message_links_thread", "mailbox", "thread_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    synced_message_id: Mapped[int] = mapped_column(ForeignKey("synced_messages.id", ondelete="CASCADE"))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(40))
    mailbox: Mapped[str] = mapped_column(String(320))
    thread_id: Mapped[str] = mapped_column(String(255))
    via: Mapped[str] = mapped_column(String(10))  # "link", "thread" (stickiness) or "create"
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<MessageLink {self.synced_message_id} -> {self.record_type}/{self.record_id} via {self.via}>"


class PrivacySettings(Base):
    """The admin's policy for what of an email goes to Oro. One row (id 1); absent means the defaults."""

    __tablename__ = "privacy_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    body_mode: Mapped[str] = mapped_column(String(10))
    attachment_mode: Mapped[str] = mapped_column(String(10))
    attachment_max_bytes: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    def __repr__(self) -> str:
        return f"<PrivacySettings body={self.body_mode} attachments={self.attachment_mode}>"


class PrivacyRule(Base):
    """One entry of a never-log or internal-domain list. ``scope`` is ``org`` (the admin's) or
    ``user:<id>`` (that user's own never-log list); ``value`` is an address key or a domain."""

    __tablename__ = "privacy_rules"
    __table_args__ = (UniqueConstraint("scope", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # "address", "domain" or "internal_domain"
    value: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    def __repr__(self) -> str:
        return f"<PrivacyRule {self.scope} {self.kind} {self.value}>"
