"""What the sandbox's Graph remembers beyond the sample conversations: drafts, sent mail, throttling,
and a late answer to a send.

Like Exchange, every message gets an ``internetMessageId`` when it is created (a draft has one; a
client may set its own while the message is a draft), and sending a draft moves it to Sent Items
under a new id: the draft's id is gone afterwards.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class SentMessage:
    """A message a sandbox user sent (or drafted) through Graph."""

    id: str
    mailbox: str
    subject: str
    body: dict[str, str]
    to: list[dict[str, Any]]
    cc: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)  # the custom x- headers
    in_reply_to: str | None = None  # the Graph id of the message replied to
    conversation_id: str = ""
    is_draft: bool = False
    sent_at: datetime | None = None
    internet_message_id: str = ""
    references: tuple[str, ...] = ()  # the Message-IDs it answers, the parent last (its References)
    created_at: datetime = field(default_factory=_now)


class GraphMailboxes:
    """Drafts and Sent Items per mailbox, and switches for tests (throttling, a late answer).
    Thread-safe."""

    def __init__(self, lock: threading.RLock) -> None:
        self.lock = lock
        self.messages: dict[str, SentMessage] = {}
        self._throttle: list[int] = []  # Retry-After seconds of the next throttled answers, in order
        self._answer_delay = 0.0

    def __repr__(self) -> str:
        return f"<GraphMailboxes messages={len(self.messages)}>"

    # --- test controls -----------------------------------------------------------------------------

    def throttle(self, *retry_after: int) -> None:
        """Answer the next ``len(retry_after)`` requests with 429 and these ``Retry-After`` values."""
        with self.lock:
            self._throttle.extend(retry_after)

    def next_throttle(self) -> int | None:
        with self.lock:
            return self._throttle.pop(0) if self._throttle else None

    def configure(self, *, answer_delay: float = 0.0) -> None:
        """``answer_delay``: a send (``/send`` of a draft, ``/reply``, ``/sendMail``) is done first, then
        the answer waits this many seconds. A client that gives up sooner has sent a message without
        learning so, the case an exactly-once sender must survive. 0 (the default) to stop."""
        if answer_delay < 0:
            raise ValueError("answer_delay must not be negative")
        with self.lock:
            self._answer_delay = answer_delay

    @property
    def answer_delay(self) -> float:
        with self.lock:
            return self._answer_delay

    # --- what is there -----------------------------------------------------------------------------

    def of(self, mailbox: str) -> list[SentMessage]:
        """Every draft and sent message of ``mailbox``, oldest first."""
        owner = mailbox.lower()
        with self.lock:
            return [m for m in self.messages.values() if m.mailbox.lower() == owner]

    def sent(self, mailbox: str) -> list[SentMessage]:
        return [m for m in self.of(mailbox) if not m.is_draft]

    def drafts(self, mailbox: str) -> list[SentMessage]:
        return [m for m in self.of(mailbox) if m.is_draft]

    def sent_with_internet_message_id(self, mailbox: str, internet_message_id: str) -> list[SentMessage]:
        """What ``mailbox`` sent with this ``internetMessageId``, oldest first (more than one when a
        client sent the same message twice)."""
        return [m for m in self.sent(mailbox) if m.internet_message_id == internet_message_id]

    # --- changes -----------------------------------------------------------------------------------

    def add(self, message: SentMessage) -> SentMessage:
        with self.lock:
            if not message.internet_message_id:
                message.internet_message_id = self.new_internet_message_id()
            if not message.conversation_id:
                message.conversation_id = "AAQk" + secrets.token_urlsafe(30)
            self.messages[message.id] = message
        return message

    def send(self, draft: SentMessage) -> SentMessage:
        """Send a draft: it moves to Sent Items under a new id, and its draft id is gone."""
        with self.lock:
            self.messages.pop(draft.id, None)
            draft.id = self.new_id()
            draft.is_draft = False
            draft.sent_at = _now()
            self.messages[draft.id] = draft
        return draft

    def new_id(self) -> str:
        return "AAMk" + secrets.token_urlsafe(24)

    @staticmethod
    def new_internet_message_id() -> str:
        """A Message-ID in the form Exchange Online gives the messages it creates."""
        server = "SANDBOXPR01MB" + str(secrets.randbelow(9000) + 1000)
        return f"<{server}{secrets.token_hex(16).upper()}@{server}.EURPRD01.PROD.OUTLOOK.COM>"
