"""What the sandbox's Graph remembers beyond the sample conversations: drafts, sent mail, throttling."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass
class SentMessage:
    """A message a sandbox user sent (or drafted) through Graph."""

    id: str
    mailbox: str
    subject: str
    body: dict[str, str]
    to: list[dict[str, Any]]
    cc: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    in_reply_to: str | None = None  # the Graph id of the message replied to
    conversation_id: str = ""
    is_draft: bool = False
    sent_at: datetime | None = None


class GraphMailboxes:
    """Drafts and Sent Items per mailbox, and a throttling switch for tests. Thread-safe."""

    def __init__(self, lock: threading.RLock) -> None:
        self.lock = lock
        self.messages: dict[str, SentMessage] = {}
        self._throttle: list[int] = []  # Retry-After seconds of the next throttled answers, in order

    def throttle(self, *retry_after: int) -> None:
        """Answer the next ``len(retry_after)`` requests with 429 and these ``Retry-After`` values."""
        with self.lock:
            self._throttle.extend(retry_after)

    def next_throttle(self) -> int | None:
        with self.lock:
            return self._throttle.pop(0) if self._throttle else None

    def add(self, message: SentMessage) -> SentMessage:
        with self.lock:
            self.messages[message.id] = message
        return message

    def new_id(self) -> str:
        return "AAMk" + secrets.token_urlsafe(24)

    def sent(self, mailbox: str) -> list[SentMessage]:
        with self.lock:
            return [m for m in self.messages.values() if m.mailbox == mailbox and not m.is_draft]

    def mark_sent(self, message: SentMessage) -> None:
        with self.lock:
            message.is_draft = False
            message.sent_at = datetime.now(UTC)
