"""The Gmail API as the add-on uses it: read the open message, its thread, send a reply, create a draft,
and find out whether a message with our Message-ID already went out.

One :class:`GmailReader` serves one add-on request, with that request's tokens: the event's
``userOAuthToken`` as the bearer token and ``gmail.accessToken`` in ``X-Goog-Gmail-Access-Token``
(reference A3). The tokens live in the object for the request and are never stored, logged or shown
in a ``repr`` or an error. The client is google-api-python-client with the bundled discovery document
(no discovery fetch) and the base URL from ``ORO_CONNECTOR_GMAIL_API_URL``, so the sandbox's Gmail
stands in without a code change.

Failures are typed (:class:`GmailError` and its subclasses), each with a stable ``code``. Consent is
granular: when the event says which scopes the user granted and the one a call needs is missing, the
call is not even tried and :class:`GmailScopeMissing` names the scopes to ask for.

A send is never repeated by the client library: google-api-python-client retries a request on a
timeout or a 5xx, and for ``messages.send`` that can mail the same reply twice (Gmail may have
accepted the first). The outbox decides about a resend, after :meth:`GmailReader.find_sent`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httplib2
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from connector.mail.message import MailMessage

logger = logging.getLogger(__name__)

_AUTH = "https://www.googleapis.com/auth/"
READ_SCOPE = _AUTH + "gmail.addons.current.message.readonly"
METADATA_SCOPE = _AUTH + "gmail.addons.current.message.metadata"
ACTION_SCOPE = _AUTH + "gmail.addons.current.message.action"
COMPOSE_SCOPE = _AUTH + "gmail.addons.current.action.compose"
SEND_SCOPE = _AUTH + "gmail.send"

HEADER_SCOPES = (READ_SCOPE, METADATA_SCOPE, ACTION_SCOPE)
"""Any one of these lets the add-on read the open message's headers."""
BODY_SCOPES = (READ_SCOPE, ACTION_SCOPE)
"""Any one of these lets it read the body too (``metadata`` does not)."""
SEND_SCOPES = (SEND_SCOPE, _AUTH + "gmail.compose", _AUTH + "gmail.modify", "https://mail.google.com/")
DRAFT_SCOPES = (COMPOSE_SCOPE, _AUTH + "gmail.compose", _AUTH + "gmail.modify", "https://mail.google.com/")
SEARCH_SCOPES = (_AUTH + "gmail.readonly", _AUTH + "gmail.modify", "https://mail.google.com/")
"""Any one of these lets the connector search the mailbox (``messages.list`` with ``q``); the add-on's
per-message scopes and ``gmail.metadata`` do not."""

METADATA_HEADERS = ("From", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID", "References", "In-Reply-To")
"""The headers the sidebar and linking read (``metadataHeaders`` of a metadata read)."""

_LEGACY_ID = re.compile(r"^(?:msg|thread)-[a-z]:(\d+)$")
_MAX_SEARCH_PAGES = 10

Format = Literal["metadata", "full"]


# --- errors -----------------------------------------------------------------------------------------


class GmailError(Exception):
    """A Gmail API call failed. ``code`` is stable; ``str()`` is a sentence for a person."""

    code = "gmail_error"

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class GmailScopeMissing(GmailError):
    """The user did not grant a scope the call needs (granular consent); ``scopes`` are the candidates,
    any one of which would do, preferred first."""

    code = "gmail_scope_missing"

    def __init__(self, message: str, *, scopes: Sequence[str], status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.scopes = tuple(scopes)


class GmailAuthFailed(GmailError):
    """Gmail refused the event's tokens (expired, or not for this message)."""

    code = "gmail_auth_failed"


class GmailNotFound(GmailError):
    code = "gmail_not_found"


class GmailRejected(GmailError):
    """Gmail refused the request for another reason (a 4xx); its own text is kept."""

    code = "gmail_rejected"


class GmailUnavailable(GmailError):
    """Gmail could not be reached, timed out or answered 5xx."""

    code = "gmail_unavailable"


# --- what comes back --------------------------------------------------------------------------------


@dataclass(frozen=True)
class GmailMessage:
    """One message as the Gmail API returned it: ids, labels and headers (in order, decoded), and the
    bodies when it was read in ``full``."""

    id: str
    thread_id: str
    label_ids: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    snippet: str = ""
    body_text: str | None = field(default=None, repr=False)
    body_html: str | None = field(default=None, repr=False)

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def header_map(self) -> dict[str, str]:
        """Header name -> value; repeated headers (two ``To`` lines) joined with commas."""
        found: dict[str, str] = {}
        for key, value in self.headers:
            lower = key.lower()
            found[lower] = f"{found[lower]}, {value}" if lower in found else value
        return found

    def mail_message(self, *, mailbox: str) -> MailMessage:
        """The neutral message linking takes (bodies only when the message was read in ``full``)."""
        return MailMessage.from_headers(
            thread_id=self.thread_id,
            mailbox=mailbox,
            headers=self.header_map(),
            body_text=self.body_text,
            body_html=self.body_html,
        )

    @classmethod
    def from_resource(cls, resource: Mapping[str, Any]) -> GmailMessage:
        """From a ``users.messages`` resource (``metadata`` or ``full``)."""
        payload = resource.get("payload") or {}
        headers = tuple(
            (str(h.get("name", "")), str(h.get("value", "")))
            for h in payload.get("headers") or ()
            if isinstance(h, Mapping)
        )
        texts: dict[str, str] = {}
        _collect_bodies(payload, texts)
        return cls(
            id=str(resource.get("id", "")),
            thread_id=str(resource.get("threadId", "")),
            label_ids=tuple(resource.get("labelIds") or ()),
            headers=headers,
            snippet=str(resource.get("snippet", "")),
            body_text=texts.get("text/plain"),
            body_html=texts.get("text/html"),
        )


def _collect_bodies(part: Mapping[str, Any], found: dict[str, str]) -> None:
    """The first text/plain and text/html bodies of a payload, depth first (attachments skipped)."""
    mime = str(part.get("mimeType", "")).lower()
    data = (part.get("body") or {}).get("data")
    if mime in ("text/plain", "text/html") and data and not part.get("filename") and mime not in found:
        with contextlib.suppress(binascii.Error, ValueError):
            found[mime] = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode("utf-8", "replace")
    for child in part.get("parts") or ():
        if isinstance(child, Mapping):
            _collect_bodies(child, found)


@dataclass(frozen=True)
class SentMessage:
    id: str
    thread_id: str


@dataclass(frozen=True)
class CreatedDraft:
    """A draft made with ``users.drafts.create``: feed it to ``openCreatedDraftActionMarkup``."""

    id: str
    message_id: str
    thread_id: str


class MailReader(Protocol):
    """Reads the message open in a host, as the neutral model (Gmail's reader here; Graph's elsewhere)."""

    def read_message(self, message_id: str, *, mailbox: str, bodies: bool = False) -> MailMessage: ...


def gmail_id(value: str) -> str:
    """A Gmail API id from an add-on event's id: ``msg-f:<decimal>`` forms (seen in some events,
    reference A3) become the hex id the API takes; other ids pass unchanged."""
    match = _LEGACY_ID.match(value.strip())
    return format(int(match.group(1)), "x") if match else value.strip()


# --- the client ---------------------------------------------------------------------------------------


class GmailReader:
    """The Gmail API for one add-on request, with that request's tokens.

    ``authorized_scopes`` is the event's ``authorizationEventObject.authorizedScopes`` when Google sent
    it (None: unknown, every call is tried and a refusal for scope is mapped the same way).
    """

    def __init__(
        self,
        *,
        api_url: str,
        user_oauth_token: str,
        access_token: str | None = None,
        authorized_scopes: Sequence[str] | None = None,
        timeout: float = 10.0,
        num_retries: int = 1,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._user_oauth_token = user_oauth_token
        self._access_token = access_token
        self.authorized_scopes = None if authorized_scopes is None else frozenset(authorized_scopes)
        self.timeout = timeout
        self.num_retries = num_retries
        self._service: Any = None

    def __repr__(self) -> str:
        return f"GmailReader(api_url={self.api_url!r})"

    @classmethod
    def from_event(cls, event: Mapping[str, Any], *, api_url: str, timeout: float = 10.0) -> GmailReader:
        """The reader for an add-on event (its tokens, its granted scopes); GmailAuthFailed without a
        ``userOAuthToken``."""
        authorization = event.get("authorizationEventObject") or {}
        token = authorization.get("userOAuthToken") if isinstance(authorization, Mapping) else None
        if not isinstance(token, str) or not token:
            raise GmailAuthFailed("Google sent no OAuth token for Gmail with this request.")
        gmail = event.get("gmail") or {}
        access = gmail.get("accessToken") if isinstance(gmail, Mapping) else None
        scopes = authorization.get("authorizedScopes")
        return cls(
            api_url=api_url,
            user_oauth_token=token,
            access_token=access if isinstance(access, str) and access else None,
            authorized_scopes=[str(s) for s in scopes] if isinstance(scopes, list) else None,
            timeout=timeout,
        )

    # --- calls ------------------------------------------------------------------------------------

    def message(self, message_id: str, *, fmt: Format = "metadata") -> GmailMessage:
        """``users.messages.get``: the headers (``metadata``) or the whole message (``full``)."""
        scopes = HEADER_SCOPES if fmt == "metadata" else BODY_SCOPES
        self.require_scope(scopes, "read the open message")
        messages = self._service_handle().users().messages()
        if fmt == "metadata":
            call = messages.get(
                userId="me",
                id=gmail_id(message_id),
                format="metadata",
                metadataHeaders=list(METADATA_HEADERS),
            )
        else:
            call = messages.get(userId="me", id=gmail_id(message_id), format="full")
        return GmailMessage.from_resource(self._execute(call, "read the message", scopes=scopes))

    def thread(self, thread_id: str) -> list[GmailMessage]:
        """``users.threads.get`` in ``metadata``: the thread's messages, oldest first. The per-message
        token may not open the whole thread: callers fall back to the single message."""
        self.require_scope(HEADER_SCOPES, "read the conversation")
        call = (
            self._service_handle()
            .users()
            .threads()
            .get(
                userId="me", id=gmail_id(thread_id), format="metadata", metadataHeaders=list(METADATA_HEADERS)
            )
        )
        found = self._execute(call, "read the conversation", scopes=HEADER_SCOPES)
        return [GmailMessage.from_resource(m) for m in found.get("messages") or () if isinstance(m, Mapping)]

    def thread_message_ids(self, thread_id: str) -> set[str]:
        """The ``Message-ID`` headers of a thread's messages (sent ones included): whether our reply is in
        the thread, for a caller that holds only the add-on's tokens for a message of that thread."""
        return {message_id for m in self.thread(thread_id) if (message_id := m.header("Message-ID"))}

    def find_sent(self, message_id: str) -> list[str]:
        """The Gmail ids of the mailbox's messages whose ``Message-ID`` header is ``message_id``
        (``messages.list``, ``q=rfc822msgid:``), Trash and Spam included: a reply the user has deleted
        since was still sent. Empty when Gmail has none.

        Searching needs a whole-mailbox scope (:data:`SEARCH_SCOPES`); without one this raises
        :class:`GmailScopeMissing` and the caller falls back to :meth:`thread_message_ids`.
        """
        bare = message_id.strip().strip("<>").strip()
        if not bare or any(c.isspace() or c in '<>"' for c in bare):
            raise ValueError(f"Not a Message-ID: {message_id!r}")
        self.require_scope(SEARCH_SCOPES, "search the mailbox")
        messages = self._service_handle().users().messages()
        found: list[str] = []
        page_token: str | None = None
        for _ in range(_MAX_SEARCH_PAGES):
            options: dict[str, Any] = {"pageToken": page_token} if page_token else {}
            call = messages.list(userId="me", q=f"rfc822msgid:{bare}", includeSpamTrash=True, **options)
            page = self._execute(call, "search the mailbox", scopes=SEARCH_SCOPES)
            listed = page.get("messages") or ()
            found += [str(m["id"]) for m in listed if isinstance(m, Mapping) and m.get("id")]
            page_token = page.get("nextPageToken") or None
            if page_token is None:
                break
        return list(dict.fromkeys(found))

    def read_message(self, message_id: str, *, mailbox: str, bodies: bool = False) -> MailMessage:
        return self.message(message_id, fmt="full" if bodies else "metadata").mail_message(mailbox=mailbox)

    def send(self, raw: bytes, *, thread_id: str | None = None) -> SentMessage:
        """``users.messages.send``: an RFC 822 message, in ``thread_id`` when given (its ``In-Reply-To``,
        ``References`` and subject must match the thread, reference A5). Tried once: a timeout or a 5xx
        raises :class:`GmailUnavailable` even though Gmail may have sent it (ask :meth:`find_sent`)."""
        self.require_scope(SEND_SCOPES, "send mail")
        body: dict[str, Any] = {"raw": base64.urlsafe_b64encode(raw).decode("ascii")}
        if thread_id:
            body["threadId"] = gmail_id(thread_id)
        call = self._service_handle().users().messages().send(userId="me", body=body)
        found = self._execute(call, "send", scopes=SEND_SCOPES, retries=0)
        return SentMessage(id=str(found.get("id", "")), thread_id=str(found.get("threadId", "")))

    def create_draft(self, raw: bytes, *, thread_id: str | None = None) -> CreatedDraft:
        """``users.drafts.create``: a draft (a reply when ``thread_id`` is given) for the user to open."""
        self.require_scope(DRAFT_SCOPES, "create a draft")
        message: dict[str, Any] = {"raw": base64.urlsafe_b64encode(raw).decode("ascii")}
        if thread_id:
            message["threadId"] = gmail_id(thread_id)
        call = self._service_handle().users().drafts().create(userId="me", body={"message": message})
        found = self._execute(call, "create the draft", scopes=DRAFT_SCOPES)
        inner = found.get("message") or {}
        return CreatedDraft(
            id=str(found.get("id", "")),
            message_id=str(inner.get("id", "")),
            thread_id=str(inner.get("threadId", "")),
        )

    # --- plumbing ---------------------------------------------------------------------------------

    def require_scope(self, candidates: Sequence[str], what: str) -> None:
        """Raise :class:`GmailScopeMissing` when the event lists the granted scopes and none of
        ``candidates`` is among them."""
        if self.authorized_scopes is None or self.authorized_scopes & set(candidates):
            return
        raise GmailScopeMissing(f"You have not allowed the add-on to {what}.", scopes=candidates)

    def _service_handle(self) -> Any:
        if self._service is None:
            http = AuthorizedHttp(
                Credentials(token=self._user_oauth_token),
                http=httplib2.Http(timeout=self.timeout),
                # The event's token cannot be refreshed: a 401 is an answer, not a cue to refresh.
                refresh_status_codes=(),
            )
            self._service = build(
                "gmail",
                "v1",
                http=http,
                static_discovery=True,
                cache_discovery=False,
                client_options={"api_endpoint": self.api_url},
            )
        return self._service

    def _execute(
        self, call: Any, what: str, *, scopes: Sequence[str], retries: int | None = None
    ) -> dict[str, Any]:
        """Run ``call``; ``scopes`` are the ones to ask for when Gmail refuses for scope, ``retries``
        overrides ``num_retries`` (0 for what must not be repeated)."""
        if self._access_token:
            call.headers["X-Goog-Gmail-Access-Token"] = self._access_token
        try:
            found = call.execute(num_retries=self.num_retries if retries is None else retries)
        except HttpError as exc:
            raise _mapped(exc, what, scopes) from None
        except (httplib2.HttpLib2Error, OSError) as exc:
            logger.warning("Gmail could not be reached to %s: %s", what, type(exc).__name__)
            raise GmailUnavailable(f"Gmail could not be reached to {what}; try again.") from None
        return found if isinstance(found, dict) else {}


def _mapped(exc: HttpError, what: str, scopes: Sequence[str]) -> GmailError:
    status = int(exc.resp.status) if exc.resp is not None else 0
    reason, detail, message = _error_parts(exc.content)
    logger.info("Gmail refused to %s: HTTP %s %s %s", what, status, reason, detail)
    insufficient = reason == "insufficientPermissions" or detail == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    # gmail.metadata may list messages but not search them; Gmail says so in words only.
    metadata_only = "metadata scope" in message.lower()
    if status == 403 and (insufficient or metadata_only):
        return GmailScopeMissing(f"You have not allowed the add-on to {what}.", scopes=scopes, status=status)
    if status == 401:
        return GmailAuthFailed(
            f"Gmail did not accept the add-on's access to {what}: reopen the message and try again.",
            status=status,
        )
    if status == 404:
        return GmailNotFound(f"Gmail does not have this message any more ({what}).", status=status)
    if status >= 500 or status == 429:
        return GmailUnavailable(f"Gmail is not answering right now ({what}); try again.", status=status)
    return GmailRejected(f"Gmail refused to {what}: {message or 'no reason given'}.", status=status)


def _error_parts(content: bytes | None) -> tuple[str, str, str]:
    """(first errors[].reason, first ErrorInfo reason, message) of Google's error document."""
    try:
        error = json.loads(content or b"{}").get("error") or {}
    except (ValueError, AttributeError):
        return "", "", ""
    if not isinstance(error, dict):
        return "", "", ""
    errors = error.get("errors") or [{}]
    details = error.get("details") or [{}]
    reason = str(errors[0].get("reason", "")) if isinstance(errors[0], dict) else ""
    detail = str(details[0].get("reason", "")) if isinstance(details[0], dict) else ""
    return reason, detail, str(error.get("message", ""))[:300]
