"""Our Gmail client for exactly-once replies, against the sandbox's Gmail: a reply built by compose joins
the open thread, a sent Message-ID is found again (even in the Trash), the add-on's own scopes cannot
search but can see the reply in the thread, and a send whose answer is lost is not repeated."""

from __future__ import annotations

from typing import Any

import pytest

from connector.mail.addresses import EmailAddress
from connector.mail.compose import build_mime, html_to_text, new_message_id, reply_subject
from connector.mail.gmail import SEARCH_SCOPES, GmailReader, GmailScopeMissing, GmailUnavailable
from connector.manifests.gmail import GMAIL_SCOPES
from connector.sandbox import examples as ex
from tests.gmail.conftest import free_port

AUTH = "https://www.googleapis.com/auth/"
MAILBOX = (AUTH + "gmail.readonly", AUTH + "gmail.send")


def reader(server: Any, message: Any, *, scopes: Any = MAILBOX, **options: Any) -> GmailReader:
    google = server.world.google
    values: dict[str, Any] = {
        "api_url": f"{server.url}/sandbox/gmail",
        "user_oauth_token": google.mint_user_oauth_token(message.mailbox, scopes=scopes),
        "access_token": google.mint_gmail_access_token(message.mailbox, message.id),
    }
    values.update(options)
    return GmailReader(**values)


def address(email: str, name: str = "") -> EmailAddress:
    parsed = EmailAddress.parse(email, name)
    assert parsed is not None
    return parsed


def reply_mime(original: Any, message_id: str) -> bytes:
    """The reply the outbox sends: built by compose from the open message's headers."""
    html = "<p>Bonjour Inès,</p><p>The coating line ships on the <b>14th</b>.</p>"
    return build_mime(
        sender=address(original.mailbox, "Alice Martin"),
        to=[address(original.sender.email, original.sender.name)],
        cc=[],
        subject=reply_subject(original.subject),
        html=html,
        text=html_to_text(html),
        message_id=message_id,
        in_reply_to=original.message_id,
        references=original.references,
    )


@pytest.fixture
def last(sandbox_server: Any) -> Any:
    return sandbox_server.world.named_threads[ex.THREAD_TRIPLE_PERSON].messages[-1]


def test_a_composed_reply_joins_the_thread_and_is_found_by_its_message_id(
    sandbox_server: Any, last: Any
) -> None:
    ours = new_message_id("connector.example.com")
    gmail = reader(sandbox_server, last)
    assert gmail.find_sent(ours) == []
    sent = gmail.send(reply_mime(last, ours), thread_id=last.thread_id)
    assert sent.thread_id == last.thread_id, "Gmail's three threading rules hold for a composed reply"
    assert gmail.find_sent(ours) == [sent.id]
    assert gmail.find_sent(ours.strip("<>")) == [sent.id]
    (stored,) = sandbox_server.world.gmail.sent_with_message_id(ex.ALICE_MAILBOX, ours)
    assert stored.header("In-Reply-To") == last.message_id
    assert "14th" in stored.body_text


def test_a_reply_the_user_deleted_was_still_sent(sandbox_server: Any, last: Any) -> None:
    ours = new_message_id("connector.example.com")
    gmail = reader(sandbox_server, last)
    sent = gmail.send(reply_mime(last, ours), thread_id=last.thread_id)
    assert sandbox_server.world.gmail.trash(ex.ALICE_MAILBOX, sent.id) is not None
    assert gmail.find_sent(ours) == [sent.id]


def test_every_copy_with_the_message_id_is_found(sandbox_server: Any, last: Any) -> None:
    ours = new_message_id("connector.example.com")
    gmail = reader(sandbox_server, last)
    first = gmail.send(reply_mime(last, ours), thread_id=last.thread_id)
    second = gmail.send(reply_mime(last, ours), thread_id=last.thread_id)
    assert sorted(gmail.find_sent(ours)) == sorted([first.id, second.id])


def test_the_add_ons_scopes_cannot_search_and_say_so(sandbox_server: Any, last: Any) -> None:
    ours = new_message_id("connector.example.com")
    with pytest.raises(GmailScopeMissing) as refused:
        reader(sandbox_server, last, scopes=tuple(GMAIL_SCOPES)).find_sent(ours)
    assert refused.value.status == 403 and refused.value.scopes == SEARCH_SCOPES
    with pytest.raises(GmailScopeMissing) as metadata:
        reader(sandbox_server, last, scopes=[AUTH + "gmail.metadata"]).find_sent(ours)
    assert metadata.value.status == 403 and metadata.value.scopes == SEARCH_SCOPES
    # Known from the event's authorizedScopes: not even tried.
    offline = reader(
        sandbox_server,
        last,
        api_url=f"http://127.0.0.1:{free_port()}",
        authorized_scopes=list(GMAIL_SCOPES),
    )
    with pytest.raises(GmailScopeMissing) as known:
        offline.find_sent(ours)
    assert known.value.status is None


def test_with_only_the_add_ons_tokens_the_thread_shows_the_reply(sandbox_server: Any, last: Any) -> None:
    ours = new_message_id("connector.example.com")
    thread = sandbox_server.world.named_threads[ex.THREAD_TRIPLE_PERSON]
    first = thread.messages[0]  # the token of any message of the thread opens the thread
    addon = reader(sandbox_server, first, scopes=tuple(GMAIL_SCOPES))
    before = addon.thread_message_ids(first.thread_id)
    assert before == {m.message_id for m in thread.messages}
    addon.send(reply_mime(last, ours), thread_id=last.thread_id)
    assert addon.thread_message_ids(first.thread_id) == before | {ours}


def test_a_send_whose_answer_is_lost_is_not_repeated(sandbox_server: Any, last: Any) -> None:
    """google-api-python-client would repeat a timed-out POST; Gmail may have sent the first one."""
    ours = new_message_id("connector.example.com")
    gmail = reader(sandbox_server, last, timeout=0.3, num_retries=3)
    sandbox_server.world.gmail.configure(answer_delay=1.0)
    with pytest.raises(GmailUnavailable):
        gmail.send(reply_mime(last, ours), thread_id=last.thread_id)
    sandbox_server.world.gmail.configure()
    (kept,) = sandbox_server.world.gmail.sent_with_message_id(ex.ALICE_MAILBOX, ours)
    assert reader(sandbox_server, last).find_sent(ours) == [kept.id]


def test_a_message_id_that_is_no_message_id_is_refused(sandbox_server: Any, last: Any) -> None:
    gmail = reader(sandbox_server, last)
    for bad in ("", "<>", "a b@x.example", "<a@b> OR in:inbox"):
        with pytest.raises(ValueError):
            gmail.find_sent(bad)
