"""The open email as the sidebar needs it: identifiers, addresses and who owns the mailbox."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

from connector.mail.addresses import EmailAddress, Role, by_role, parse_address_list


@dataclass(frozen=True)
class MessageContext:
    message_id: str
    thread_id: str
    mailbox: str  # the address of the mailbox the email is open in
    subject: str = ""
    sender: EmailAddress | None = None
    to: tuple[EmailAddress, ...] = ()
    cc: tuple[EmailAddress, ...] = ()
    bcc: tuple[EmailAddress, ...] = ()
    date: datetime | None = None
    references: tuple[str, ...] = ()

    @classmethod
    def from_headers(cls, *, thread_id: str, mailbox: str, headers: Mapping[str, str]) -> MessageContext:
        """From RFC 5322 header values (names compared case-insensitively)."""
        h = {k.lower(): v for k, v in headers.items()}
        senders = parse_address_list(h.get("from"))
        date = None
        if h.get("date"):
            try:
                date = parsedate_to_datetime(h["date"])
            except (TypeError, ValueError):
                date = None
        refs = tuple((h.get("references") or "").split()) + tuple((h.get("in-reply-to") or "").split())
        return cls(
            message_id=(h.get("message-id") or "").strip(),
            thread_id=thread_id,
            mailbox=mailbox,
            subject=h.get("subject", ""),
            sender=senders[0] if senders else None,
            to=tuple(parse_address_list(h.get("to"))),
            cc=tuple(parse_address_list(h.get("cc"))),
            bcc=tuple(parse_address_list(h.get("bcc"))),
            date=date,
            references=tuple(dict.fromkeys(refs)),
        )

    def participants(self) -> list[tuple[EmailAddress, Role]]:
        """Everyone on the email except the mailbox owner, once each, in header order."""
        return by_role(self.sender, self.to, self.cc, self.bcc, leave_out=self.mailbox)
