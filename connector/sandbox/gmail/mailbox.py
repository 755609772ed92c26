"""The sandbox's Gmail mailboxes: the sample conversations as Gmail API resources, and what the
connector sends or drafts through the API (kept, so tests and the demo can see it).

Resources follow the Gmail API's ``users.messages`` and ``users.threads`` shapes (``payload.headers``
as a list of ``{name, value}``, bodies base64url-encoded), for the formats ``minimal``, ``metadata``
and ``full``. Header values are decoded text, as Gmail gives them.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Literal

from connector.sandbox.conversations import Address, SampleMessage, SampleThread

Format = Literal["minimal", "metadata", "full", "raw"]
FORMATS: tuple[Format, ...] = ("minimal", "metadata", "full", "raw")

_NEEDS_QUOTES = re.compile(r'[()<>@,;:\\".\[\]]')


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def display_address(address: Address) -> str:
    """``Name <address>`` as Gmail shows a decoded header; the name quoted when it must be."""
    if not address.name:
        return address.email
    name = address.name
    if _NEEDS_QUOTES.search(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{address.email}>"


@dataclass(frozen=True)
class StoredMessage:
    """One message of a sandbox mailbox, whether from the samples or sent through the API."""

    id: str
    thread_id: str
    mailbox: str
    headers: tuple[tuple[str, str], ...]
    body_text: str
    date: datetime
    label_ids: tuple[str, ...]

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    @property
    def snippet(self) -> str:
        text = " ".join(self.body_text.split())
        return text if len(text) <= 100 else text[:99].rstrip() + "…"

    def resource(self, fmt: Format = "full", metadata_headers: Sequence[str] = ()) -> dict[str, Any]:
        """The ``users.messages`` resource in ``fmt``; ``metadata_headers`` narrows ``metadata``."""
        body = self.body_text.encode("utf-8")
        resource: dict[str, Any] = {
            "id": self.id,
            "threadId": self.thread_id,
            "labelIds": list(self.label_ids),
            "snippet": self.snippet,
            "historyId": str(int(self.date.timestamp()) % 10_000_000),
            "internalDate": str(int(self.date.timestamp() * 1000)),
            "sizeEstimate": len(body) + sum(len(k) + len(v) + 4 for k, v in self.headers),
        }
        if fmt == "minimal":
            return resource
        if fmt == "raw":
            resource["raw"] = _b64url(self.rfc822())
            return resource
        wanted = {name.lower() for name in metadata_headers}
        headers = [
            {"name": key, "value": value}
            for key, value in self.headers
            if fmt != "metadata" or not wanted or key.lower() in wanted
        ]
        payload: dict[str, Any] = {"partId": "", "mimeType": "text/plain", "filename": "", "headers": headers}
        if fmt == "full":
            payload["body"] = {"size": len(body), "data": _b64url(body)}
        else:
            payload["body"] = {"size": 0}
        resource["payload"] = payload
        return resource

    def rfc822(self) -> bytes:
        message = EmailMessage()
        for key, value in self.headers:
            message[key] = value
        message.set_content(self.body_text)
        return message.as_bytes()


def _from_sample(sample: SampleMessage) -> StoredMessage:
    headers: list[tuple[str, str]] = [
        ("From", display_address(sample.sender)),
        ("To", ", ".join(display_address(a) for a in sample.to)),
    ]
    if sample.cc:
        headers.append(("Cc", ", ".join(display_address(a) for a in sample.cc)))
    headers += [
        ("Subject", sample.subject),
        ("Date", format_datetime(sample.date)),
        ("Message-ID", sample.message_id),
    ]
    if sample.in_reply_to:
        headers.append(("In-Reply-To", sample.in_reply_to))
    if sample.references:
        headers.append(("References", " ".join(sample.references)))
    own = sample.sender.email.lower() == sample.mailbox.lower()
    return StoredMessage(
        id=sample.id,
        thread_id=sample.thread_id,
        mailbox=sample.mailbox,
        headers=tuple(headers),
        body_text=sample.body_text,
        date=sample.date,
        label_ids=("SENT",) if own else ("INBOX", "CATEGORY_PERSONAL"),
    )


@dataclass(frozen=True)
class Draft:
    id: str
    message: StoredMessage


@dataclass
class SandboxGmail:
    """Every sandbox mailbox as the Gmail API serves it. Thread-safe: the world's lock guards changes."""

    threads: Iterable[SampleThread]
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    sent: list[StoredMessage] = field(default_factory=list)
    drafts: list[Draft] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<SandboxGmail sent={len(self.sent)} drafts={len(self.drafts)}>"

    def _messages(self, mailbox: str) -> list[StoredMessage]:
        owner = mailbox.lower()
        found = [_from_sample(m) for t in self.threads if t.mailbox.lower() == owner for m in t.messages]
        with self.lock:
            found += [m for m in self.sent if m.mailbox.lower() == owner]
            found += [d.message for d in self.drafts if d.message.mailbox.lower() == owner]
        return found

    def message(self, mailbox: str, message_id: str) -> StoredMessage | None:
        """The message with Gmail id ``message_id`` in ``mailbox``."""
        return next((m for m in self._messages(mailbox) if m.id == message_id), None)

    def thread(self, mailbox: str, thread_id: str) -> list[StoredMessage]:
        """The messages of a thread, oldest first (drafts included, as Gmail does)."""
        messages = [m for m in self._messages(mailbox) if m.thread_id == thread_id]
        return sorted(messages, key=lambda m: m.date)

    def store_sent(self, mailbox: str, raw: bytes, *, thread_id: str | None) -> StoredMessage:
        """Keep a message sent with ``users.messages.send``; it joins ``thread_id`` when that thread is
        in the mailbox, else starts one."""
        stored = self._stored(mailbox, raw, thread_id=thread_id, labels=("SENT",), kind="sent")
        with self.lock:
            self.sent.append(stored)
        return stored

    def store_draft(self, mailbox: str, raw: bytes, *, thread_id: str | None) -> Draft:
        stored = self._stored(mailbox, raw, thread_id=thread_id, labels=("DRAFT",), kind="draft")
        number = int(hashlib.sha256(stored.id.encode()).hexdigest()[:15], 16)
        draft = Draft(id=f"r-{number}", message=stored)
        with self.lock:
            self.drafts.append(draft)
        return draft

    def _stored(
        self, mailbox: str, raw: bytes, *, thread_id: str | None, labels: tuple[str, ...], kind: str
    ) -> StoredMessage:
        parsed = message_from_bytes(raw, policy=policy.default)
        with self.lock:
            count = len(self.sent) + len(self.drafts)
        message_id = hashlib.sha256(f"{kind}/{mailbox}/{count}/{raw!r}".encode()).hexdigest()[:16]
        known = thread_id is not None and bool(self.thread(mailbox, thread_id))
        headers = tuple((key, str(value)) for key, value in parsed.items())
        if not any(key.lower() == "message-id" for key, _ in headers):
            domain = mailbox.rpartition("@")[2] or "sandbox.example"
            headers += (("Message-ID", f"<{message_id}@{domain}>"),)
        body = parsed.get_body(preferencelist=("plain", "html")) if parsed.is_multipart() else parsed
        text = body.get_content() if body is not None else ""
        return StoredMessage(
            id=message_id,
            thread_id=thread_id if known and thread_id else message_id,
            mailbox=mailbox,
            headers=headers,
            body_text=text if isinstance(text, str) else "",
            date=datetime.now(UTC),
            label_ids=labels,
        )
