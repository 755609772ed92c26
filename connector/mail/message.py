"""One email as the connector handles it, whichever host it came from (Gmail API, Graph, Office.js).

:class:`MailMessage` carries what linking needs: the identifiers (RFC 5322 ``Message-ID``, the host's
thread id, the mailbox it is open in), the addresses, the date, the Message-IDs it refers to (so Oro
can thread it), and, when the host read them, the bodies and attachments. Hosts that have only the
headers leave the bodies out; the privacy policy then has nothing to send anyway.

:func:`strip_quoted_history` cuts a plain-text reply down to what its author wrote: the quoted
earlier messages that mail clients append are already in Oro as messages of their own.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

from connector.mail.addresses import EmailAddress, Role, by_role, parse_address_list

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True)
class Attachment:
    """A file attached to a message. ``content`` is only present when the host downloaded it."""

    filename: str
    content_type: str = "application/octet-stream"
    size: int = 0
    content: bytes | None = field(default=None, repr=False)


class MessageHeaders(Protocol):
    """What a host already parsed from the headers (``connector.sidebar.context.MessageContext`` fits)."""

    @property
    def message_id(self) -> str: ...
    @property
    def thread_id(self) -> str: ...
    @property
    def mailbox(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def sender(self) -> EmailAddress | None: ...
    @property
    def to(self) -> tuple[EmailAddress, ...]: ...
    @property
    def cc(self) -> tuple[EmailAddress, ...]: ...
    @property
    def bcc(self) -> tuple[EmailAddress, ...]: ...
    @property
    def date(self) -> datetime | None: ...
    @property
    def references(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class MailMessage:
    """An email in one mailbox. ``references`` holds the Message-IDs of its ``References`` and
    ``In-Reply-To`` headers, in that order, without repeats."""

    message_id: str
    thread_id: str
    mailbox: str
    subject: str = ""
    sender: EmailAddress | None = None
    to: tuple[EmailAddress, ...] = ()
    cc: tuple[EmailAddress, ...] = ()
    bcc: tuple[EmailAddress, ...] = ()
    date: datetime | None = None
    received_at: datetime | None = None
    references: tuple[str, ...] = ()
    body_text: str | None = field(default=None, repr=False)
    body_html: str | None = field(default=None, repr=False)
    attachments: tuple[Attachment, ...] = ()

    @classmethod
    def from_headers(
        cls,
        *,
        thread_id: str,
        mailbox: str,
        headers: Mapping[str, str],
        body_text: str | None = None,
        body_html: str | None = None,
        attachments: tuple[Attachment, ...] = (),
        received_at: datetime | None = None,
    ) -> MailMessage:
        """From RFC 5322 header values (names compared case-insensitively)."""
        h = {k.lower(): v for k, v in headers.items()}
        senders = parse_address_list(h.get("from"))
        date = None
        if h.get("date"):
            try:
                date = parsedate_to_datetime(h["date"])
            except (TypeError, ValueError):
                date = None
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
            received_at=received_at,
            references=referenced_ids(h.get("references"), h.get("in-reply-to")),
            body_text=body_text,
            body_html=body_html,
            attachments=attachments,
        )

    @classmethod
    def from_context(
        cls,
        context: MessageHeaders,
        *,
        body_text: str | None = None,
        body_html: str | None = None,
        attachments: tuple[Attachment, ...] = (),
        received_at: datetime | None = None,
    ) -> MailMessage:
        """From headers a host already parsed, plus the bodies when it read them."""
        return cls(
            message_id=context.message_id,
            thread_id=context.thread_id,
            mailbox=context.mailbox,
            subject=context.subject,
            sender=context.sender,
            to=context.to,
            cc=context.cc,
            bcc=context.bcc,
            date=context.date,
            received_at=received_at,
            references=tuple(dict.fromkeys(context.references)),
            body_text=body_text,
            body_html=body_html,
            attachments=attachments,
        )

    def addresses(self) -> list[tuple[EmailAddress, Role]]:
        """Every address on the message, the mailbox owner included, once each, in header order."""
        return by_role(self.sender, self.to, self.cc, self.bcc)

    def participants(self) -> list[tuple[EmailAddress, Role]]:
        """Everyone on the message except the mailbox owner."""
        return by_role(self.sender, self.to, self.cc, self.bcc, leave_out=self.mailbox)


def referenced_ids(*header_values: str | None) -> tuple[str, ...]:
    """The ``<id@host>`` Message-IDs in ``References`` / ``In-Reply-To`` values, in order, once each."""
    found: list[str] = []
    for value in header_values:
        if value:
            found += _MESSAGE_ID.findall(value)
    return tuple(dict.fromkeys(found))


# --- quoted history -----------------------------------------------------------------------------------

_ATTRIBUTION = re.compile(
    r"^\s*("
    r"On\s.{0,200}\bwrote:"  # English clients, Gmail ("On Mon, 2 Nov 2026 at 09:00, X <x@y> wrote:")
    r"|Am\s.{0,200}\bschrieb.{0,80}:"  # German
    r"|Le\s.{0,200}\ba\s+écrit\s*:"  # French
    r"|El\s.{0,200}\bescribió\s*:"  # Spanish
    r"|Il\s.{0,200}\bha\s+scritto\s*:"  # Italian
    r"|Op\s.{0,200}\bschreef.{0,80}:"  # Dutch
    r")\s*$",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(
    r"^\s*(-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Forwarded message)\s*-{2,}"
    r"|_{10,})\s*$",
    re.IGNORECASE,
)
_OUTLOOK_HEADER = re.compile(r"^\s*\*?(From|Von|De|Van)\s*:\*?\s+\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(Sent|Gesendet|Envoyé|Date|Verzonden|To|An|À)\s*:", re.IGNORECASE)


def strip_quoted_history(text: str) -> str:
    """``text`` without the earlier messages a reply quotes.

    Cuts at the first attribution line ("On ... wrote:", also wrapped over two lines as Gmail does),
    an "Original Message" separator or an Outlook header block (From: followed by Sent:/Date:), and
    drops ``>``-quoted lines anywhere. Assumes top-posting, as nearly all business mail is; a reply
    written inline between quotes keeps its own lines.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        two = f"{line} {lines[i + 1]}" if i + 1 < len(lines) else line
        if _SEPARATORS.match(line) or _ATTRIBUTION.match(line):
            break
        wrapped = i + 1 < len(lines) and lines[i + 1].strip() and not lines[i + 1].lstrip().startswith(">")
        if wrapped and not line.lstrip().startswith(">") and _ATTRIBUTION.match(two):
            break
        if _OUTLOOK_HEADER.match(line) and i + 1 < len(lines) and _OUTLOOK_NEXT.match(lines[i + 1]):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


_TAG = re.compile(r"<[^>]+>")
_BLOCK_END = re.compile(r"</(p|div|li|tr|h[1-6])\s*>|<br\s*/?>", re.IGNORECASE)
_DROPPED = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_QUOTE_BLOCK = re.compile(
    r"<blockquote\b.*?</blockquote\s*>|<div[^>]*class=\"?gmail_quote\"?[^>]*>.*\Z",
    re.IGNORECASE | re.DOTALL,
)


def html_to_text(markup: str, *, drop_quotes: bool = False) -> str:
    """Readable text from an HTML body: block ends become line breaks, tags go, entities are decoded.
    ``drop_quotes`` also removes ``<blockquote>`` and Gmail's quoted part."""
    text = _DROPPED.sub("", markup)
    if drop_quotes:
        text = _QUOTE_BLOCK.sub("", text)
    text = _BLOCK_END.sub("\n", text)
    text = html.unescape(_TAG.sub("", text))
    text = re.sub(r"[ \t\f\v]+", " ", text)
    return re.sub(r"\n\s*\n\s*\n+", "\n\n", text).strip()
