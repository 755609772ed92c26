"""Microsoft Graph mail, for the Outlook side: read a message, reply in its thread, send new mail.

:class:`GraphClient` acts as one user with a Graph access token from the on-behalf-of exchange
(:class:`connector.security.microsoft.GraphTokenBroker`); the token never leaves the server. Every
call has a timeout. Graph's throttling answer (429, and 503/504 when it says so) is honoured: the
client waits the ``Retry-After`` seconds Graph names (exponential backoff when it names none) and
tries again, up to ``max_retries`` times; a wait longer than ``max_wait`` is not slept but raised,
so a request never hangs for minutes.

What sends mail is not repeated after an answer that leaves its fate open: a 504 (a gateway gave up
waiting; Exchange may have sent the message) or a timeout raises :class:`GraphUnavailable`, and the
outbox asks :meth:`GraphClient.find_message` before it sends again. A 429 or 503 means the request was
turned away, so those are retried as for any call. For the outbox, a reply is
:meth:`GraphClient.create_reply` (a draft with our ``internetMessageId``), then
:meth:`GraphClient.send_draft`.

Errors::

    GraphError            base; ``status``, Graph's ``code`` and ``message`` (its own words)
     +-- GraphRejected    4xx: the request, the token or the permissions are wrong; retrying won't help
     +-- GraphUnavailable Graph could not be reached, kept throttling, or failed (5xx)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import requests

from connector.mail.addresses import EmailAddress
from connector.mail.message import MailMessage, referenced_ids

logger = logging.getLogger(__name__)

DEFAULT_GRAPH_API_URL = "https://graph.microsoft.com/v1.0"
MESSAGE_FIELDS = (
    "id,conversationId,internetMessageId,subject,from,toRecipients,ccRecipients,"
    "receivedDateTime,sentDateTime,body,internetMessageHeaders,isDraft"
)
Timeout = float | tuple[float, float]
_RETRIED_STATUSES = frozenset({429, 503, 504})
_REFUSED_STATUSES = frozenset({429, 503})
"""Answers that say the request was not carried out: safe to repeat even a send."""
_FIND_TOP = 10


class GraphError(Exception):
    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class GraphRejected(GraphError):
    """Graph refused the request (4xx)."""


class GraphUnavailable(GraphError):
    """Graph could not be reached, kept throttling, or failed on its side."""


@dataclass(frozen=True)
class GraphMessage:
    """A message as Graph describes it, mapped to our types at the boundary."""

    id: str
    conversation_id: str
    internet_message_id: str
    subject: str
    sender: EmailAddress | None
    to: tuple[EmailAddress, ...]
    cc: tuple[EmailAddress, ...]
    received_at: datetime | None
    references: tuple[str, ...] = ()
    body_text: str | None = field(default=None, repr=False)
    is_draft: bool = False

    @classmethod
    def from_graph(cls, resource: Mapping[str, Any]) -> GraphMessage:
        headers = {
            str(h.get("name", "")).lower(): str(h.get("value", ""))
            for h in resource.get("internetMessageHeaders") or []
            if isinstance(h, Mapping)
        }
        body = resource.get("body") or {}
        text = body.get("content") if str(body.get("contentType", "")).lower() == "text" else None
        return cls(
            id=str(resource.get("id", "")),
            conversation_id=str(resource.get("conversationId") or ""),
            internet_message_id=str(resource.get("internetMessageId") or ""),
            subject=str(resource.get("subject") or ""),
            sender=_recipient(resource.get("from")),
            to=tuple(a for r in resource.get("toRecipients") or [] if (a := _recipient(r))),
            cc=tuple(a for r in resource.get("ccRecipients") or [] if (a := _recipient(r))),
            received_at=_moment(resource.get("receivedDateTime")),
            references=referenced_ids(headers.get("references"), headers.get("in-reply-to")),
            body_text=text if isinstance(text, str) else None,
            is_draft=resource.get("isDraft") is True,
        )

    def mail_message(self, *, mailbox: str) -> MailMessage:
        return MailMessage(
            message_id=self.internet_message_id,
            thread_id=self.conversation_id,
            mailbox=mailbox,
            subject=self.subject,
            sender=self.sender,
            to=self.to,
            cc=self.cc,
            date=self.received_at,
            received_at=self.received_at,
            references=self.references,
            body_text=self.body_text,
        )


def _recipient(value: Any) -> EmailAddress | None:
    if not isinstance(value, Mapping):
        return None
    address = value.get("emailAddress") or {}
    return EmailAddress.parse(str(address.get("address") or ""), str(address.get("name") or ""))


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _graph_recipients(addresses: Sequence[EmailAddress]) -> list[dict[str, Any]]:
    return [{"emailAddress": {"address": a.address, "name": a.name}} for a in addresses]


class GraphClient:
    """Graph's mail API as one user. Build one per request from a fresh token; share ``session``."""

    def __init__(
        self,
        *,
        token: str,
        base_url: str = DEFAULT_GRAPH_API_URL,
        session: requests.Session | None = None,
        timeout: Timeout = (5.0, 20.0),
        max_retries: int = 3,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._token = token
        self._base = base_url.rstrip("/")
        self._session = session if session is not None else requests.Session()
        self._timeout = timeout
        self._max_retries = max_retries
        self._max_wait = max_wait
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"GraphClient(base_url={self._base!r})"

    # --- reading ----------------------------------------------------------------------------------

    def get_message(self, rest_id: str) -> GraphMessage:
        """The message with REST id ``rest_id`` (Office.js ``convertToRestId(itemId, v2_0)``)."""
        resource = self._call(
            "GET",
            f"/me/messages/{quote(rest_id, safe='')}",
            params={"$select": MESSAGE_FIELDS},
            headers={"Prefer": 'outlook.body-content-type="text"'},
        )
        return GraphMessage.from_graph(resource)

    def find_message(self, internet_message_id: str) -> GraphMessage | None:
        """The user's message with this RFC 5322 Message-ID, if the mailbox has one: received, sent or
        a draft (``is_draft``). When there are several, a sent one comes first: if any copy went out,
        the message was sent."""
        found = self.find_messages(internet_message_id)
        return min(found, key=lambda m: m.is_draft) if found else None

    def find_messages(self, internet_message_id: str) -> list[GraphMessage]:
        """Every message of the user's mailbox (all folders, drafts too) with this Message-ID."""
        literal = internet_message_id.replace("'", "''")
        found = self._call(
            "GET",
            "/me/messages",
            params={
                "$filter": f"internetMessageId eq '{literal}'",
                "$select": MESSAGE_FIELDS,
                "$top": str(_FIND_TOP),
            },
            headers={"Prefer": 'outlook.body-content-type="text"'},
        )
        return [GraphMessage.from_graph(m) for m in found.get("value") or [] if isinstance(m, Mapping)]

    # --- sending ----------------------------------------------------------------------------------

    def reply(self, message_id: str, *, comment: str) -> None:
        """Reply to the sender in the message's thread (``POST /reply``; Mail.Send). Saved to Sent Items."""
        path = f"/me/messages/{quote(message_id, safe='')}/reply"
        self._call("POST", path, json={"comment": comment}, sends=True)

    def create_reply(
        self,
        message_id: str,
        *,
        html: str,
        internet_message_id: str,
        to: Sequence[EmailAddress] = (),
        cc: Sequence[EmailAddress] = (),
    ) -> GraphMessage:
        """A draft reply to ``message_id`` with an HTML body and our ``internet_message_id``
        (``createReply``; Mail.ReadWrite), in the message's conversation. ``to``/``cc`` replace the
        recipients Outlook picks (the sender, or its Reply-To) only when given.

        Graph allows ``internetMessageId`` to be set only while a message is a draft; should the draft
        come back with another one, it is set again with PATCH. A draft that still does not carry ours
        raises :class:`GraphRejected`: without it, nobody could tell later whether it was sent.
        """
        message: dict[str, Any] = {
            "body": {"contentType": "HTML", "content": html},
            "internetMessageId": internet_message_id,
        }
        if to:
            message["toRecipients"] = _graph_recipients(to)
        if cc:
            message["ccRecipients"] = _graph_recipients(cc)
        path = f"/me/messages/{quote(message_id, safe='')}/createReply"
        draft = GraphMessage.from_graph(self._call("POST", path, json={"message": message}, sends=True))
        if not draft.id:
            raise GraphUnavailable("Graph created a reply without an id", status=None)
        if draft.internet_message_id != internet_message_id:
            logger.info("Graph gave the draft reply its own internetMessageId; setting ours")
            changed = self._call(
                "PATCH",
                f"/me/messages/{quote(draft.id, safe='')}",
                json={"internetMessageId": internet_message_id},
            )
            draft = GraphMessage.from_graph({**changed, "id": changed.get("id") or draft.id})
            if draft.internet_message_id != internet_message_id:
                raise GraphRejected(
                    "Graph did not keep the reply's internetMessageId", status=None, code="InternetMessageId"
                )
        return draft

    def send_draft(self, draft_id: str) -> None:
        """Send a draft (``POST /send``; Mail.Send). Exchange moves it to Sent Items under a new id: the
        draft id is gone afterwards. 202 means accepted, not yet delivered."""
        self._call("POST", f"/me/messages/{quote(draft_id, safe='')}/send", sends=True)

    def reply_with_html(self, message_id: str, *, html: str) -> str:
        """Reply with an HTML body: ``createReply``, set the body, ``send`` (Mail.ReadWrite and
        Mail.Send). Returns the id the draft had."""
        draft = self._call("POST", f"/me/messages/{quote(message_id, safe='')}/createReply")
        draft_id = str(draft.get("id") or "")
        if not draft_id:
            raise GraphUnavailable("Graph created a reply without an id", status=None)
        path = f"/me/messages/{quote(draft_id, safe='')}"
        self._call("PATCH", path, json={"body": {"contentType": "HTML", "content": html}})
        self.send_draft(draft_id)
        return draft_id

    def send_mail(
        self,
        *,
        subject: str,
        body: str,
        to: Sequence[EmailAddress],
        cc: Sequence[EmailAddress] = (),
        html: bool = True,
        headers: Mapping[str, str] | None = None,
        save_to_sent_items: bool = True,
    ) -> None:
        """A new message (``POST /me/sendMail``). Custom ``headers`` must be named ``x-...``."""
        message: dict[str, Any] = {
            "subject": subject,
            "body": {"contentType": "HTML" if html else "Text", "content": body},
            "toRecipients": _graph_recipients(to),
            "ccRecipients": _graph_recipients(cc),
        }
        if headers:
            for name in headers:
                if not name.lower().startswith("x-"):
                    raise ValueError(f"Graph only sends custom headers named x-...: {name!r}")
            message["internetMessageHeaders"] = [{"name": n, "value": v} for n, v in headers.items()]
        request = {"message": message, "saveToSentItems": save_to_sent_items}
        self._call("POST", "/me/sendMail", json=request, sends=True)

    # --- transport --------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        sends: bool = False,
    ) -> dict[str, Any]:
        """One call, repeated while Graph asks to wait; ``sends``: only a refusal (429, 503) is repeated."""
        url = self._base + path
        retried = _REFUSED_STATUSES if sends else _RETRIED_STATUSES
        sent_headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/json",
            **(headers or {}),
        }
        attempt = 0
        while True:
            try:
                response = self._session.request(
                    method, url, params=params, json=json, headers=sent_headers, timeout=self._timeout
                )
            except requests.RequestException as exc:
                raise GraphUnavailable(f"Graph could not be reached: {type(exc).__name__}") from None
            if response.status_code in retried and attempt < self._max_retries:
                wait = self._retry_after(response, attempt)
                if wait is not None:
                    logger.info(
                        "Graph answered %s to %s; retrying in %.1f s", response.status_code, path, wait
                    )
                    self._sleep(wait)
                    attempt += 1
                    continue
            return self._result(response)

    def _retry_after(self, response: requests.Response, attempt: int) -> float | None:
        """Seconds to wait before the next try, or None when waiting that long is not worth it."""
        header = response.headers.get("Retry-After", "").strip()
        if header.isdigit():
            wait = float(header)
        elif response.status_code == 429 or header:
            wait = min(2.0**attempt, self._max_wait)  # "back off exponentially" without a header
        else:
            return None  # a 503/504 without Retry-After: not Graph asking us to wait
        return wait if wait <= self._max_wait else None

    @staticmethod
    def _result(response: requests.Response) -> dict[str, Any]:
        if response.status_code < 400:
            if not response.content:
                return {}
            try:
                document = response.json()
            except ValueError:
                raise GraphUnavailable(
                    "Graph answered something that is not JSON", status=response.status_code
                ) from None
            return document if isinstance(document, dict) else {}
        code, message = "", response.reason or "error"
        try:
            error = response.json().get("error") or {}
            code, message = str(error.get("code") or ""), str(error.get("message") or message)
        except (ValueError, AttributeError):
            pass
        kind = (
            GraphRejected if response.status_code < 500 and response.status_code != 429 else GraphUnavailable
        )
        raise kind(
            f"Graph answered {response.status_code} {code}: {message}", status=response.status_code, code=code
        )
