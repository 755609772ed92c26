"""Fixtures for linking: connector users, Oro clients acting as sandbox users against the sandbox Oro
served over real HTTP, the sandbox's sample conversations as MailMessages, and a client that records
every call it makes to Oro (to prove that some paths make none)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from connector.db.models import User
from connector.linking.claims import ClaimTuning
from connector.linking.schemas import LinkTarget
from connector.mail.addresses import EmailAddress
from connector.mail.message import MailMessage, referenced_ids
from connector.oro import HttpOroClient, OroConfig, OroConnection
from connector.sandbox import examples as ex
from connector.sandbox.world import Address, SampleMessage, SandboxWorld

FAST = ClaimTuning(lease_seconds=10.0, settle_seconds=1.0, wait_seconds=10.0, poll_seconds=0.02)
"""Claims as in production, with waits short enough for tests."""


def address(value: Address) -> EmailAddress:
    parsed = EmailAddress.parse(value.email, value.name)
    assert parsed is not None
    return parsed


def mail(sample: SampleMessage, **changes: Any) -> MailMessage:
    """A sandbox sample message as a host would hand it over (headers and the text body)."""
    values: dict[str, Any] = {
        "message_id": sample.message_id,
        "thread_id": sample.thread_id,
        "mailbox": sample.mailbox,
        "subject": sample.subject,
        "sender": address(sample.sender),
        "to": tuple(address(a) for a in sample.to),
        "cc": tuple(address(a) for a in sample.cc),
        "date": sample.date,
        "references": referenced_ids(" ".join(sample.references), sample.in_reply_to),
        "body_text": sample.body_text,
    }
    values.update(changes)
    return MailMessage(**values)


@dataclass
class Sandbox:
    """The sandbox Oro over HTTP, and what tests read straight from its state."""

    url: str
    world: SandboxWorld
    connections: list[OroConnection] = field(default_factory=list)

    def client(self, username: str = "alice", *, read_timeout: float = 10.0) -> HttpOroClient:
        user = self.world.oro.user_by_username(username)
        assert user is not None
        connection = OroConnection(
            OroConfig(oro_url=self.url, connect_timeout=2.0, read_timeout=read_timeout, backoff_seconds=0.01)
        )
        self.connections.append(connection)
        return connection.with_token(self.world.oro.oauth.issue_for_user(user.id))

    def thread(self, name: str) -> list[MailMessage]:
        return [mail(m) for m in self.world.named_threads[name].messages]

    def emails(self, message_id: str) -> list[Any]:
        with self.world.lock:
            return [e for e in self.world.oro.all("emails") if e.attributes["messageId"] == message_id]

    def email_count(self) -> int:
        with self.world.lock:
            return len(list(self.world.oro.all("emails")))

    def targets(self, message_id: str) -> list[tuple[str, str]]:
        (email,) = self.emails(message_id)
        with self.world.lock:
            return list(email.relationships.get("activityTargets") or [])

    def count(self, record_type: str) -> int:
        with self.world.lock:
            return len(list(self.world.oro.all(record_type)))

    def record(self, record_type: str, record_id: str) -> Any:
        with self.world.lock:
            return self.world.oro.get((record_type, record_id))

    def person(self, email: str, record_type: str = "contacts") -> LinkTarget:
        with self.world.lock:
            for ref in self.world.oro.owners_of_address(email):
                if ref[0] == record_type:
                    record = self.world.oro.get(ref)
                    assert record is not None
                    first, last = record.attributes.get("firstName"), record.attributes.get("lastName")
                    title = " ".join(p for p in (first, last) if p) or record.attributes.get("name") or ""
                    return LinkTarget(ref[0], ref[1], title)
        raise AssertionError(f"no {record_type} with {email}")

    def account(self, name: str) -> LinkTarget:
        with self.world.lock:
            found = next(a for a in self.world.oro.all("accounts") if a.attributes["name"] == name)
        return LinkTarget("accounts", found.id, name)


@pytest.fixture
def sandbox(sandbox_server: Any) -> Iterator[Sandbox]:
    box = Sandbox(sandbox_server.oro_url, sandbox_server.world)
    yield box
    for connection in box.connections:
        connection.close()


def make_user(session: Session, email: str, name: str = "") -> User:
    user = User(email=email, display_name=name)
    session.add(user)
    session.flush()
    return user


@pytest.fixture
def alice(db: Session) -> User:
    user = make_user(db, ex.ALICE_MAILBOX, "Alice Martin")
    db.commit()
    return user


class RecordingClient:
    """An OroClient that passes every call through and remembers its name; ``before`` runs first."""

    def __init__(self, inner: HttpOroClient, before: Callable[[str], None] | None = None) -> None:
        self._inner = inner
        self._before = before
        self._lock = threading.Lock()
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.calls.append(name)
            if self._before is not None:
                self._before(name)
            return target(*args, **kwargs)

        return call


@pytest.fixture
def linking_app(app: Flask) -> Flask:
    """The app whose database the ``db`` fixture's session uses (for sessions in other threads)."""
    return app
