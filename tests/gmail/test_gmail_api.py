"""The Gmail API client against the sandbox's Gmail: the add-on's token pair opens the open message and
nothing else, missing permissions are named, and replies and drafts land in the thread."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import pytest

from connector.mail.gmail import (
    BODY_SCOPES,
    GmailAuthFailed,
    GmailNotFound,
    GmailReader,
    GmailScopeMissing,
    GmailUnavailable,
    gmail_id,
)
from connector.manifests.gmail import GMAIL_SCOPES
from connector.sandbox import examples as ex
from tests.gmail.conftest import free_port

EXECUTE = "https://www.googleapis.com/auth/gmail.addons.execute"


def reader(server: Any, message: Any, *, scopes: Any = tuple(GMAIL_SCOPES), **options: Any) -> GmailReader:
    google = server.world.google
    values: dict[str, Any] = {
        "api_url": f"{server.url}/sandbox/gmail",
        "user_oauth_token": google.mint_user_oauth_token(message.mailbox, scopes=scopes),
        "access_token": google.mint_gmail_access_token(message.mailbox, message.id),
    }
    values.update(options)
    return GmailReader(**values)


@pytest.fixture
def triple(sandbox_server: Any) -> Any:
    return sandbox_server.world.named_threads[ex.THREAD_TRIPLE_PERSON]


def test_the_open_messages_headers_are_read_with_the_events_token_pair(
    sandbox_server: Any, triple: Any
) -> None:
    message = triple.messages[1]
    found = reader(sandbox_server, message).message(message.id)
    assert found.id == message.id and found.thread_id == message.thread_id
    assert found.header("Message-ID") == message.message_id
    assert found.header("In-Reply-To") == message.in_reply_to
    assert found.body_text is None, "a metadata read has no body"
    mail = found.mail_message(mailbox=message.mailbox)
    assert mail.sender is not None and mail.sender.address == message.sender.email
    assert [a.address for a in mail.to] == [a.email for a in message.to]
    assert mail.references == message.references


def test_a_full_read_brings_the_body(sandbox_server: Any, triple: Any) -> None:
    message = triple.messages[0]
    mail = reader(sandbox_server, message).read_message(message.id, mailbox=message.mailbox, bodies=True)
    assert mail.body_text == message.body_text
    assert mail.subject == message.subject


def test_the_per_message_token_opens_that_message_only(sandbox_server: Any, triple: Any) -> None:
    first, second = triple.messages[0], triple.messages[1]
    with pytest.raises(GmailAuthFailed):
        reader(sandbox_server, first).message(second.id)
    with pytest.raises(GmailAuthFailed):
        reader(sandbox_server, first, access_token=None).message(first.id)


def test_a_permission_the_user_did_not_grant_is_named(sandbox_server: Any, triple: Any) -> None:
    message = triple.messages[0]
    granted = [EXECUTE, "https://www.googleapis.com/auth/userinfo.email"]
    # Known from the event's authorizedScopes: not even tried.
    offline = reader(
        sandbox_server, message, api_url=f"http://127.0.0.1:{free_port()}", authorized_scopes=granted
    )
    with pytest.raises(GmailScopeMissing) as known:
        offline.message(message.id)
    assert "read the open message" in known.value.message
    # Not known: Gmail refuses for scope, and the answer says the same.
    with pytest.raises(GmailScopeMissing) as refused:
        reader(sandbox_server, message, scopes=granted).message(message.id)
    assert refused.value.status == 403


def test_a_metadata_only_grant_reads_headers_but_not_the_body(sandbox_server: Any, triple: Any) -> None:
    message = triple.messages[0]
    metadata = ["https://www.googleapis.com/auth/gmail.addons.current.message.metadata"]
    gmail = reader(sandbox_server, message, scopes=metadata, authorized_scopes=metadata)
    assert gmail.message(message.id).header("Subject") == message.subject
    with pytest.raises(GmailScopeMissing) as missing:
        gmail.message(message.id, fmt="full")
    assert missing.value.scopes == BODY_SCOPES


def test_the_thread_comes_oldest_first(sandbox_server: Any, triple: Any) -> None:
    last = triple.messages[-1]
    found = reader(sandbox_server, last).thread(last.thread_id)
    assert [m.header("Message-ID") for m in found] == [m.message_id for m in triple.messages]


def test_unknown_messages_and_an_unreachable_gmail_are_told_apart(sandbox_server: Any, triple: Any) -> None:
    message = triple.messages[0]
    with pytest.raises(GmailNotFound):
        reader(sandbox_server, message).message("0123456789abcdef")
    with pytest.raises(GmailUnavailable):
        reader(sandbox_server, message, api_url=f"http://127.0.0.1:{free_port()}", timeout=2).message(
            message.id
        )


def test_event_ids_in_the_legacy_form_become_api_ids() -> None:
    assert gmail_id("msg-f:1234567890123") == format(1234567890123, "x")
    assert gmail_id("thread-f:42") == "2a"
    assert gmail_id("18f1a2b3c4d5e6f7") == "18f1a2b3c4d5e6f7"


def _reply(message: Any) -> bytes:
    reply = EmailMessage()
    reply["From"] = message.mailbox
    reply["To"] = message.sender.email
    reply["Subject"] = f"Re: {message.subject}"
    reply["In-Reply-To"] = message.message_id
    reply["References"] = " ".join((*message.references, message.message_id))
    reply.set_content("Thanks, the price list follows.")
    return reply.as_bytes()


def test_a_reply_sent_and_a_draft_created_join_the_thread(sandbox_server: Any, triple: Any) -> None:
    message = triple.messages[-1]
    gmail = reader(sandbox_server, message)
    sent = gmail.send(_reply(message), thread_id=message.thread_id)
    draft = gmail.create_draft(_reply(message), thread_id=message.thread_id)
    assert sent.thread_id == message.thread_id and draft.thread_id == message.thread_id
    assert draft.id.startswith("r-")
    mailbox = sandbox_server.world.gmail
    (stored,) = mailbox.sent
    assert stored.header("In-Reply-To") == message.message_id
    assert stored.body_text.strip() == "Thanks, the price list follows."
    assert [d.id for d in mailbox.drafts] == [draft.id]


def test_sending_needs_the_send_permission(sandbox_server: Any, triple: Any) -> None:
    message = triple.messages[-1]
    without = [s for s in GMAIL_SCOPES if not s.endswith("gmail.send")]
    with pytest.raises(GmailScopeMissing):
        reader(sandbox_server, message, scopes=without).send(_reply(message), thread_id=message.thread_id)
    assert sandbox_server.world.gmail.sent == []
