"""The sandbox's Gmail mailboxes: the sample conversations as Gmail API resources, and what the
connector sends or drafts through the API (kept, so tests and the demo can see it).

Resources follow the Gmail API's ``users.messages`` and ``users.threads`` shapes (``payload.headers``
as a list of ``{name, value}``, bodies base64url-encoded), for the formats ``minimal``, ``metadata``
and ``full``. Header values are decoded text, as Gmail gives them.

What is sent or drafted is kept as Gmail keeps it: the client's ``Message-ID`` unchanged (Gmail makes
one, ``<CA+...@mail.gmail.com>``, only when there is none), and in the requested thread only when
Google's three rules hold (reference A5): the ``threadId`` is given, ``In-Reply-To`` or ``References``
name a message of that thread, and the subjects match once ``Re:``/``Fwd:`` are set aside. Otherwise
the message starts a thread of its own, as Gmail silently does.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Literal

from connector.sandbox.conversations import Address, SampleMessage, SampleThread
from connector.sandbox.gmail.search import search

Format = Literal["minimal", "metadata", "full", "raw"]
FORMATS: tuple[Format, ...] = ("minimal", "metadata", "full", "raw")

_NEEDS_QUOTES = re.compile(r'[()<>@,;:\\".\[\]]')
_MSG_ID = re.compile(r"<[^<>\s]+>")
_SUBJECT_PREFIXES = re.compile(r"^\s*((re|fwd?)\s*:\s*)+", re.IGNORECASE)


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


def thread_subject(subject: str) -> str:
    """The subject Gmail compares when it threads: without ``Re:``/``Fwd:`` prefixes, case or extra spaces."""
    return " ".join(_SUBJECT_PREFIXES.sub("", subject).split()).casefold()


def _gmail_message_id(digest: bytes) -> str:
    """A Message-ID in the form Gmail gives the mail it sends without one."""
    return "<CA+" + base64.b64encode(digest[:33]).decode("ascii") + "@mail.gmail.com>"


@dataclass
class SandboxGmail:
    """Every sandbox mailbox as the Gmail API serves it. Thread-safe: the world's lock guards changes."""

    threads: Iterable[SampleThread]
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    sent: list[StoredMessage] = field(default_factory=list)
    drafts: list[Draft] = field(default_factory=list)
    trashed: set[tuple[str, str]] = field(default_factory=set)
    """(mailbox, Gmail id) of the messages in the Trash."""
    _answer_delay: float = field(default=0.0, repr=False)
    _sequence: Iterator[int] = field(default_factory=itertools.count, repr=False)

    def __repr__(self) -> str:
        return f"<SandboxGmail sent={len(self.sent)} drafts={len(self.drafts)}>"

    # --- test controls -----------------------------------------------------------------------------

    def configure(self, *, answer_delay: float = 0.0) -> None:
        """``answer_delay``: ``messages.send`` keeps the message, then waits this many seconds before it
        answers. A client that gives up sooner has sent a message without learning so: Gmail accepted it
        and the answer was lost, the case an exactly-once sender must survive. 0 (the default) to stop."""
        if answer_delay < 0:
            raise ValueError("answer_delay must not be negative")
        with self.lock:
            self._answer_delay = answer_delay

    @property
    def answer_delay(self) -> float:
        with self.lock:
            return self._answer_delay

    def sent_with_message_id(self, mailbox: str, message_id: str) -> list[StoredMessage]:
        """What ``mailbox`` sent through ``messages.send`` with this ``Message-ID`` header, oldest first
        (more than one when a client sent the same message twice)."""
        owner = mailbox.lower()
        with self.lock:
            return [
                m for m in self.sent if m.mailbox.lower() == owner and m.header("Message-ID") == message_id
            ]

    def trash(self, mailbox: str, message_id: str) -> StoredMessage | None:
        """Move a message to the Trash (as the user's ``Delete``): kept, but hidden from searches that do
        not ask for ``includeSpamTrash``. None when the mailbox has no such message."""
        if self.message(mailbox, message_id) is None:
            return None
        with self.lock:
            self.trashed.add((mailbox.lower(), message_id))
        return self.message(mailbox, message_id)

    # --- reading -----------------------------------------------------------------------------------

    def _messages(self, mailbox: str) -> list[StoredMessage]:
        owner = mailbox.lower()
        found = [_from_sample(m) for t in self.threads if t.mailbox.lower() == owner for m in t.messages]
        with self.lock:
            found += [m for m in self.sent if m.mailbox.lower() == owner]
            found += [d.message for d in self.drafts if d.message.mailbox.lower() == owner]
            trashed = {gmail_id for box, gmail_id in self.trashed if box == owner}
        return [
            replace(m, label_ids=(*m.label_ids, "TRASH")) if m.id in trashed else m for m in found
        ]

    def message(self, mailbox: str, message_id: str) -> StoredMessage | None:
        """The message with Gmail id ``message_id`` in ``mailbox``."""
        return next((m for m in self._messages(mailbox) if m.id == message_id), None)

    def thread(self, mailbox: str, thread_id: str) -> list[StoredMessage]:
        """The messages of a thread, oldest first (drafts included, as Gmail does)."""
        messages = [m for m in self._messages(mailbox) if m.thread_id == thread_id]
        return sorted(messages, key=lambda m: m.date)

    def search(
        self,
        mailbox: str,
        *,
        query: str = "",
        label_ids: Sequence[str] = (),
        include_spam_trash: bool = False,
    ) -> list[StoredMessage]:
        """What ``users.messages.list`` finds: newest first, as Gmail lists (see ``search.py`` for ``q``)."""
        newest_first = sorted(self._messages(mailbox), key=lambda m: (m.date, m.id), reverse=True)
        return search(newest_first, query=query, label_ids=label_ids, include_spam_trash=include_spam_trash)

    # --- writing -----------------------------------------------------------------------------------

    def store_sent(self, mailbox: str, raw: bytes, *, thread_id: str | None) -> StoredMessage:
        """Keep a message sent with ``users.messages.send``, in ``thread_id`` when it qualifies."""
        with self.lock:
            stored = self._stored(mailbox, raw, thread_id=thread_id, labels=("SENT",), kind="sent")
            self.sent.append(stored)
        return stored

    def store_draft(self, mailbox: str, raw: bytes, *, thread_id: str | None) -> Draft:
        """Keep a draft made with ``users.drafts.create`` (the same threading rules as a send)."""
        with self.lock:
            stored = self._stored(mailbox, raw, thread_id=thread_id, labels=("DRAFT",), kind="draft")
            number = int(hashlib.sha256(stored.id.encode()).hexdigest()[:15], 16)
            draft = Draft(id=f"r-{number}", message=stored)
            self.drafts.append(draft)
        return draft

    def joins_thread(self, mailbox: str, thread_id: str | None, headers: Sequence[tuple[str, str]]) -> bool:
        """Whether a message with ``headers`` sent with ``thread_id`` lands in that thread (reference A5):
        the thread is in the mailbox, ``In-Reply-To``/``References`` name one of its messages, and the
        subject is the thread's once ``Re:``/``Fwd:`` are set aside."""
        if not thread_id:
            return False
        thread = self.thread(mailbox, thread_id)
        if not thread:
            return False

        def header(name: str) -> str:
            return " ".join(value for key, value in headers if key.lower() == name)

        named = set(_MSG_ID.findall(header("in-reply-to") + " " + header("references")))
        if not named & {m.header("Message-ID") for m in thread}:
            return False
        return thread_subject(header("subject")) == thread_subject(thread[0].header("Subject") or "")

    def _stored(
        self, mailbox: str, raw: bytes, *, thread_id: str | None, labels: tuple[str, ...], kind: str
    ) -> StoredMessage:
        parsed = message_from_bytes(raw, policy=policy.default)
        number = next(self._sequence)
        digest = hashlib.sha256(f"{kind}/{mailbox}/{number}/{raw!r}".encode()).digest()
        gmail_id = digest.hex()[:16]
        headers = [(key, str(value)) for key, value in parsed.items()]
        now = datetime.now(UTC)
        if not any(key.lower() == "message-id" for key, _ in headers):
            headers.append(("Message-ID", _gmail_message_id(digest)))
        if not any(key.lower() == "date" for key, _ in headers):
            headers.append(("Date", format_datetime(now)))
        body = parsed.get_body(preferencelist=("plain", "html")) if parsed.is_multipart() else parsed
        text = body.get_content() if body is not None else ""
        joins = self.joins_thread(mailbox, thread_id, headers)
        return StoredMessage(
            id=gmail_id,
            thread_id=thread_id if joins and thread_id else gmail_id,
            mailbox=mailbox,
            headers=tuple(headers),
            body_text=text if isinstance(text, str) else "",
            date=now,
            label_ids=labels,
        )
