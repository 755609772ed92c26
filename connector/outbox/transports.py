"""The providers an outbox row is sent through: the Gmail API (as the add-on's user, inside the
request that has the event's tokens) and Microsoft Graph (as the Outlook user, from any process,
with a token from their encrypted on-behalf-of cache).

Each maps its provider's errors onto the outbox's two kinds: try again later
(:class:`~connector.outbox.delivery.DeliveryDeferred`) or refused for good
(:class:`~connector.outbox.delivery.DeliveryRefused`), with words a person can act on.
"""

from __future__ import annotations

import logging
from email.utils import parseaddr

from connector.mail.addresses import EmailAddress
from connector.mail.compose import build_mime
from connector.mail.gmail import (
    GmailAuthFailed,
    GmailError,
    GmailNotFound,
    GmailReader,
    GmailScopeMissing,
    GmailUnavailable,
)
from connector.mail.graph import GraphClient, GraphError, GraphUnavailable
from connector.outbox.delivery import DeliveryDeferred, DeliveryRefused, Found
from connector.outbox.models import OutboxMessage
from connector.outbox.operations import recipients_of

logger = logging.getLogger(__name__)


def _text_as_html(text: str) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "<div>" + escaped.replace("\n", "<br>") + "</div>"


class GmailTransport:
    """Sends with ``users.messages.send`` in the answered thread (``threadId``, ``In-Reply-To``,
    ``References``, ``Re:`` subject).

    Asking Gmail whether our Message-ID went out: a search (``rfc822msgid:``) when the user's token
    may search the mailbox; otherwise by reading the thread, which the add-on's per-message token
    allows only for the thread open now. :meth:`can_check` says whether this transport can settle
    a row that an earlier attempt may have sent.
    """

    def __init__(self, reader: GmailReader, *, sender: EmailAddress, open_thread: str) -> None:
        self._reader = reader
        self._sender = sender
        self._open_thread = open_thread
        self._can_search: bool | None = None

    def can_check(self, row: OutboxMessage) -> bool:
        return row.attempts == 0 or row.thread_id == self._open_thread or self._can_search is not False

    def find(self, row: OutboxMessage) -> Found | None:
        if self._can_search is not False:
            try:
                ids = self._reader.find_sent(row.message_id)
                self._can_search = True
                return Found(ids[0]) if ids else None
            except GmailScopeMissing:
                self._can_search = False
            except GmailError as exc:
                raise _gmail_failure(exc) from None
        if row.thread_id != self._open_thread:
            raise DeliveryDeferred(
                "Open the email's conversation in Gmail to finish sending this reply.", attempted=False
            )
        try:
            for message in self._reader.thread(row.thread_id):
                if (message.header("Message-ID") or "").strip() == row.message_id:
                    return Found(message.id)
        except GmailError as exc:
            raise _gmail_failure(exc) from None
        return None

    def send(self, row: OutboxMessage) -> str:
        to, cc = recipients_of(row)
        raw = build_mime(
            sender=self._sender,
            to=to,
            cc=cc,
            subject=row.subject,
            html=row.body_html,
            text=row.body_text,
            message_id=row.message_id,
            in_reply_to=row.in_reply_to or None,
            references=tuple(row.references.split()),
        )
        try:
            return self._reader.send(raw, thread_id=row.thread_id or None).id
        except GmailError as exc:
            raise _gmail_failure(exc) from None

    def send_draft(self, row: OutboxMessage, draft_id: str) -> str:  # pragma: no cover - Gmail has none
        raise DeliveryRefused("Gmail replies are never left as drafts by the connector.")


def _gmail_failure(exc: GmailError) -> Exception:
    if isinstance(exc, GmailUnavailable):
        return DeliveryDeferred(f"Gmail is not answering now ({exc.message}).")
    if isinstance(exc, GmailAuthFailed):
        return DeliveryDeferred("Gmail's permission for this request ran out: open the add-on again.")
    if isinstance(exc, GmailScopeMissing):
        return DeliveryRefused("The add-on may not send email for you: grant it that permission, then retry.")
    if isinstance(exc, GmailNotFound):
        return DeliveryRefused("Gmail no longer has the email this replies to.")
    return DeliveryRefused(f"Gmail refused the reply: {exc.message}")


class GraphTransport:
    """Sends as a reply with ``createReply`` (our Message-ID and body set on the draft, which Graph
    allows while it is a draft) and ``send``; asks with ``$filter=internetMessageId eq``."""

    def __init__(self, client: GraphClient) -> None:
        self._client = client

    def find(self, row: OutboxMessage) -> Found | None:
        try:
            found = self._client.find_message(row.message_id)
        except GraphError as exc:
            raise _graph_failure(exc) from None
        return Found(found.id, is_draft=found.is_draft) if found is not None else None

    def send(self, row: OutboxMessage) -> str:
        to, cc = recipients_of(row)
        try:
            draft = self._client.create_reply(
                row.reply_to,
                html=row.body_html if row.body_html is not None else _text_as_html(row.body_text),
                internet_message_id=row.message_id,
                to=to,
                cc=cc,
            )
            self._client.send_draft(draft.id)
        except GraphError as exc:
            raise _graph_failure(exc) from None
        return draft.id

    def send_draft(self, row: OutboxMessage, draft_id: str) -> str:
        try:
            self._client.send_draft(draft_id)
        except GraphError as exc:
            raise _graph_failure(exc) from None
        return draft_id


def _graph_failure(exc: GraphError) -> Exception:
    status = exc.status or 0
    if isinstance(exc, GraphUnavailable) or status in (401, 408, 409, 412, 429):
        return DeliveryDeferred(f"Outlook's server did not take the reply now ({exc}).")
    if status == 403:
        return DeliveryRefused("Outlook refused: the connector may not send mail for you (Mail.Send).")
    if status == 404:
        return DeliveryRefused("Outlook no longer has the email this replies to.")
    return DeliveryRefused(f"Outlook refused the reply: {exc}")


def sender_address(mailbox: str, name: str = "") -> EmailAddress:
    """The From of a reply sent from ``mailbox``."""
    found = EmailAddress.parse(parseaddr(mailbox)[1] or mailbox, name)
    if found is None:
        raise DeliveryRefused(f"{mailbox!r} is not an email address to send from.")
    return found
