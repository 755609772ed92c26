"""The connector's tables. Columns holding ciphertext carry ``info={"encrypted": True}`` so that
``oro-connector keys rotate`` finds every one of them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from connector.db.session import Base

ENCRYPTED = {"encrypted": True}


def utcnow() -> datetime:
    return datetime.now(UTC)


class User(Base):
    """A person using a sidebar, known by the address of their mailbox."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    credentials: Mapped[list[Credential]] = relationship(back_populates="user", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class Credential(Base):
    """A user's secret for one provider (Oro tokens, a Graph token cache), encrypted at rest."""

    __tablename__ = "credentials"
    __table_args__ = (UniqueConstraint("user_id", "provider"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(40))
    secret: Mapped[str] = mapped_column(Text, info=ENCRYPTED)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(back_populates="credentials")

    def __repr__(self) -> str:
        return f"<Credential {self.id} user={self.user_id} provider={self.provider}>"



class Identity(Base):
    """How a host knows the user: a Google account (``sub``) or an Entra account (``tid:oid``)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(20))  # "google" or "microsoft"
    subject: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Identity {self.provider}:{self.subject} user={self.user_id}>"


class OAuthState(Base):
    """One pending "connect to Oro": the state (hashed) names the user, the PKCE verifier is encrypted.

    Single use: ``used_at`` is set when the callback arrives; a state older than its lifetime is refused.
    """

    __tablename__ = "oauth_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_verifier: Mapped[str] = mapped_column(Text, info=ENCRYPTED)
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<OAuthState user={self.user_id} used={self.used_at is not None}>"
