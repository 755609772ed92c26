"""Outgoing mail as RFC 5322 bytes: our own Message-ID, the reply subject, a plain-text alternative of
an HTML body, and the MIME message the Gmail API sends (``users.messages.send`` takes it base64url).

The Message-ID is ours, made before the first try, so that after a crash the outbox can ask the
provider whether this very message already went out (Gmail ``rfc822msgid:``, Graph
``internetMessageId``). A reply joins the Gmail thread only when ``In-Reply-To``/``References`` name a
message of that thread and the subjects match (reference A5), so :func:`build_mime` writes those
headers with care: msg-ids are never folded into RFC 2047 encoded words (which the standard library
does to any header token longer than a line, and which no mail system decodes in ``References``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from email.headerregistry import Address, BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import SMTP, EmailPolicy
from email.utils import format_datetime
from html.parser import HTMLParser
from typing import Any, cast
from urllib.parse import urlsplit

from connector.mail.addresses import EmailAddress

_REPLY_PREFIX = re.compile(r"^\s*re\s*:", re.IGNORECASE)
_LINE_BREAKS = re.compile(r"[\r\n\t\f\v]+")
_DOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")


# --- identifiers and subjects -------------------------------------------------------------------------


def new_message_id(domain: str) -> str:
    """A new RFC 5322 Message-ID, ``<uuid4@domain>``: unique without coordination between processes.

    ``domain`` is the host of our PUBLIC_URL (``connector.example.com``; a port is not allowed). An
    internationalised host is written in IDNA, as a msg-id must be ASCII.
    """
    host = domain.strip().rstrip(".").lower()
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"Not a host name for a Message-ID: {domain!r}") from None
    if not _DOMAIN.match(host):
        raise ValueError(f"Not a host name for a Message-ID: {domain!r}")
    return f"<{uuid.uuid4().hex}@{host}>"


def reply_subject(subject: str) -> str:
    """``Re: <subject>``, unless the subject already starts with ``Re:`` in any case (no ``Re: Re:``)."""
    subject = _LINE_BREAKS.sub(" ", subject or "").strip()
    if not subject:
        return "Re:"
    return subject if _REPLY_PREFIX.match(subject) else f"Re: {subject}"


def message_id_domain(public_url: str) -> str:
    """The host our Message-IDs are named after: the host of PUBLIC_URL (without its port)."""
    return urlsplit(public_url).hostname or "oro-connector.invalid"


def reply_recipients(
    mailbox: str,
    *,
    sender: EmailAddress | None,
    reply_to: Sequence[EmailAddress] = (),
    to: Sequence[EmailAddress] = (),
) -> tuple[EmailAddress, ...]:
    """Whom a reply goes to: the message's Reply-To addresses, else its sender; on one's own message
    (sent from ``mailbox``), the people it went to, less oneself."""
    own = EmailAddress.parse(mailbox)

    def is_own(address: EmailAddress) -> bool:
        return own is not None and address.key == own.key

    answer = tuple(reply_to) or ((sender,) if sender is not None else ())
    if answer and not any(is_own(a) for a in answer):
        return answer
    return tuple(a for a in to if not is_own(a))


def _msg_id(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("An empty Message-ID")
    return value if value.startswith("<") and value.endswith(">") else f"<{value.strip('<>')}>"


# --- the MIME message ----------------------------------------------------------------------------------


class _MessageIdListHeader(UnstructuredHeader):
    """``In-Reply-To`` / ``References``: msg-ids folded between ids only, never as encoded words."""

    def fold(self, *, policy: Any) -> str:
        name: str = self.name  # type: ignore[attr-defined]  # BaseHeader is mixed in by the registry
        limit = policy.max_line_length or 998
        head = f"{name}:"
        lines: list[str] = []
        line = head
        for msg_id in str(self).split():
            if line != head and len(line) + 1 + len(msg_id) > limit:
                lines.append(line)
                line = ""
            line += f" {msg_id}"
        lines.append(line)
        linesep: str = policy.linesep
        return linesep.join(lines) + linesep


def _policy() -> EmailPolicy[EmailMessage]:
    registry = HeaderRegistry()
    header = cast("type[BaseHeader]", _MessageIdListHeader)  # the registry mixes BaseHeader in
    registry.map_to_type("in-reply-to", header)
    registry.map_to_type("references", header)
    return SMTP.clone(header_factory=registry)


_POLICY = _policy()


def _address(address: EmailAddress) -> Address:
    return Address(display_name=_LINE_BREAKS.sub(" ", address.name).strip(), addr_spec=address.address)


def build_mime(
    *,
    sender: EmailAddress,
    to: Sequence[EmailAddress],
    cc: Sequence[EmailAddress],
    subject: str,
    html: str | None,
    text: str,
    message_id: str,
    in_reply_to: str | None,
    references: Sequence[str],
    date: datetime | None = None,
) -> bytes:
    """An RFC 5322 message: ``multipart/alternative`` (text, then HTML) when ``html`` is given, else
    ``text/plain``; CRLF line ends, non-ASCII names and subjects as RFC 2047 encoded words.

    ``References`` is ``references`` in order (each once, in angle brackets) with ``in_reply_to``
    appended when it is missing, as RFC 5322 3.6.4 builds it from the parent's. ``date`` defaults to now.
    """
    if not to:
        raise ValueError("A message needs at least one To recipient")
    message = EmailMessage(policy=_POLICY)
    message["From"] = _address(sender)
    message["To"] = [_address(a) for a in to]
    if cc:
        message["Cc"] = [_address(a) for a in cc]
    message["Subject"] = _LINE_BREAKS.sub(" ", subject).strip()
    message["Date"] = format_datetime(date or datetime.now(UTC))
    message["Message-ID"] = _msg_id(message_id)
    chain = list(dict.fromkeys(_msg_id(r) for r in references if r.strip()))
    if in_reply_to and in_reply_to.strip():
        parent = _msg_id(in_reply_to)
        message["In-Reply-To"] = parent
        if parent not in chain:
            chain.append(parent)
    if chain:
        message["References"] = " ".join(chain)
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message.as_bytes()


# --- HTML to plain text ------------------------------------------------------------------------------------

_PARAGRAPHS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "pre", "ul", "ol", "dl", "hr"}
)
"""Blocks set off by a blank line."""
_LINES = frozenset(
    {
        "div", "li", "tr", "dt", "dd", "section", "article", "header", "footer", "address", "nav",
        "main", "aside", "figure", "figcaption", "form", "fieldset", "caption", "center",
    }
)
"""Blocks that start on a line of their own."""
_SKIPPED = frozenset({"script", "style", "head", "title", "template", "noscript"})
_VOID = frozenset(
    {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed", "source", "wbr"}
)
_SPACE = re.compile(r"\s+")


class _TextRenderer(HTMLParser):
    """Renders an HTML body line by line. Each line carries the prefix of where it stands: ``> `` per
    enclosing blockquote, indentation per list level, the item's bullet on its first line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._line: str | None = None  # the line being written (with its prefix), None between lines
        self._bare = ""  # that line's prefix: text written so far is what follows it
        self._gap = False  # a blank line is wanted before the next text
        self._skip = 0
        self._pre = 0
        self._quote = 0
        self._lists: list[list[Any]] = []  # [kind, next number] per open list
        self._bullet: str | None = None  # the marker the next line starts with (a new list item)
        self._link: tuple[str, list[str]] | None = None  # href and the text written inside <a>

    # --- lines ---------------------------------------------------------------------------------------

    def _prefix(self, *, first: bool) -> str:
        depth = len(self._lists)
        quote = "> " * self._quote
        if first and self._bullet is not None:
            return quote + "  " * max(0, depth - 1) + self._bullet
        return quote + "  " * depth

    def _close_line(self) -> None:
        if self._line is not None:
            if self._line != self._bare:
                self.lines.append(self._line.rstrip())
            self._line = None

    def _block(self, *, blank: bool) -> None:
        self._close_line()
        self._gap = self._gap or blank

    def _blank_line(self) -> None:
        quote = "> " * self._quote
        # Inside a quote the blank line is quoted too, unless it separates the quote from what precedes.
        self.lines.append(quote.rstrip() if self.lines and self.lines[-1].startswith(quote) else "")

    def _open_line(self) -> None:
        if self._gap and self.lines:
            self._blank_line()
        self._gap = False
        self._bare = self._prefix(first=True)
        self._bullet = None
        self._line = self._bare

    def _write(self, text: str) -> None:
        if not text:
            return
        if self._line is None:
            text = text.lstrip()
            if not text:
                return
            self._open_line()
        assert self._line is not None
        if self._line == self._bare:
            text = text.lstrip()
        elif self._line.endswith(" ") and text.startswith(" "):
            text = text[1:]
        self._line += text
        if self._link is not None:
            self._link[1].append(text)

    def _break(self) -> None:
        """``<br>``: end the line; a ``<br>`` on an empty line makes an empty line."""
        if self._line is None or self._line == self._bare:
            self._line = None
            if self.lines:
                self._blank_line()
            return
        self._close_line()
        # The line after a <br> in a list item is indented under the item, without a bullet.
        self._bullet = None

    # --- parser callbacks ----------------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skip += 1
            return
        if self._skip:
            return
        if tag == "br":
            self._break()
        elif tag == "hr":
            self._block(blank=True)
            self._write("---")
            self._block(blank=True)
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self._write(alt)
        elif tag == "a":
            self._link = (dict(attrs).get("href") or "", [])
        elif tag in ("ul", "ol"):
            self._block(blank=not self._lists)
            self._lists.append([tag, 1])
        elif tag == "li":
            self._block(blank=False)
            if self._lists and self._lists[-1][0] == "ol":
                self._bullet = f"{self._lists[-1][1]}. "
                self._lists[-1][1] += 1
            else:
                self._bullet = "- "
        elif tag == "blockquote":
            self._block(blank=True)
            self._quote += 1
        elif tag in ("td", "th"):
            if self._line is not None and self._line != self._bare:
                self._write(" ")
        elif tag in _PARAGRAPHS:
            self._block(blank=True)
            self._pre += tag == "pre"
        elif tag in _LINES:
            self._block(blank=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip = max(0, self._skip - 1)
            return
        if self._skip:
            return
        if tag == "a" and self._link is not None:
            href, written = self._link
            self._link = None
            self._write_link(href, "".join(written).strip())
        elif tag in ("ul", "ol"):
            self._block(blank=len(self._lists) == 1)
            if self._lists:
                self._lists.pop()
        elif tag == "blockquote":
            self._block(blank=True)
            self._quote = max(0, self._quote - 1)
        elif tag in _PARAGRAPHS:
            self._block(blank=True)
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
        elif tag in _LINES:
            self._block(blank=False)

    def _write_link(self, href: str, label: str) -> None:
        href = href.strip()
        if not href or href.startswith(("#", "javascript:")):
            return
        target = href[7:] if href.lower().startswith("mailto:") else href
        if label in (href, target):
            return
        self._write(f" ({target})" if label else target)

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._pre:
            first, *rest = data.replace("\r\n", "\n").split("\n")
            self._write_verbatim(first)
            for piece in rest:
                self._break_verbatim()
                self._write_verbatim(piece)
            return
        self._write(_SPACE.sub(" ", data))

    def _write_verbatim(self, text: str) -> None:
        if not text:
            return
        if self._line is None:
            self._open_line()
        assert self._line is not None
        self._line += text

    def _break_verbatim(self) -> None:
        if self._line is None:
            self._blank_line()
        else:
            self.lines.append(self._line.rstrip())
            self._line = None

    def text(self) -> str:
        self._close_line()
        lines: list[str] = []
        for line in self.lines:
            blank = not line.strip("> ")
            if blank and (not lines or not lines[-1].strip("> ")):
                continue  # no two blank lines in a row, none at the start
            lines.append(line)
        while lines and not lines[-1].strip("> "):
            lines.pop()
        return "\n".join(lines)


def html_to_text(html: str) -> str:
    """The plain-text alternative of an HTML body: paragraphs and headings set off by blank lines,
    ``<br>`` a line break, links as ``text (url)``, list items as ``- item`` (``1. item`` in ordered
    lists, nested lists indented), quotes as ``> ``, entities decoded, runs of white space one space
    (``<pre>`` kept as written). Scripts, styles and the head are left out."""
    renderer = _TextRenderer()
    renderer.feed(html)
    renderer.close()
    return renderer.text()
