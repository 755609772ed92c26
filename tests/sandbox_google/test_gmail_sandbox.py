"""The sandbox's Gmail API as Google's behaves: a sent message keeps the client's Message-ID, joins the
thread only by Google's three rules, is found again by ``rfc822msgid:`` search with the scopes Gmail
asks for, and can be accepted while its answer is lost (the case an exactly-once sender must survive)."""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Sequence
from email.message import EmailMessage
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from connector.sandbox import examples as ex
from connector.sandbox.app import create_sandbox_app
from connector.sandbox.gmail.search import parse_query

AUTH = "https://www.googleapis.com/auth/"
READONLY = AUTH + "gmail.readonly"
METADATA = AUTH + "gmail.metadata"
SEND = AUTH + "gmail.send"
ADDON_READ = AUTH + "gmail.addons.current.message.readonly"
API = "/gmail/gmail/v1/users/me"


class Gmail:
    """Raw HTTP against the sandbox's Gmail as one user, through Flask's test client."""

    def __init__(self, client: FlaskClient, world: Any, mailbox: str = ex.ALICE_MAILBOX) -> None:
        self.client = client
        self.world = world
        self.mailbox = mailbox

    def token(self, *scopes: str) -> str:
        token: str = self.world.google.mint_user_oauth_token(self.mailbox, scopes=scopes or (READONLY, SEND))
        return token

    def send(self, raw: bytes, *, thread_id: str | None = None, scopes: Sequence[str] = ()) -> TestResponse:
        body: dict[str, str] = {"raw": base64.urlsafe_b64encode(raw).decode()}
        if thread_id:
            body["threadId"] = thread_id
        return self.client.post(
            f"{API}/messages/send", json=body, headers={"Authorization": f"Bearer {self.token(*scopes)}"}
        )

    def sent(self, raw: bytes, *, thread_id: str | None = None) -> dict[str, Any]:
        answer = self.send(raw, thread_id=thread_id)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.get_json()
        return body

    def list(self, scopes: Sequence[str] = (), **params: Any) -> TestResponse:
        return self.client.get(
            f"{API}/messages", query_string=params, headers={"Authorization": f"Bearer {self.token(*scopes)}"}
        )

    def found(self, **params: Any) -> dict[str, Any]:
        answer = self.list(**params)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.get_json()
        return body


@pytest.fixture
def gmail(sandbox_world: Any) -> Gmail:
    return Gmail(create_sandbox_app(sandbox_world).test_client(), sandbox_world)


@pytest.fixture
def triple(sandbox_world: Any) -> Any:
    return sandbox_world.named_threads[ex.THREAD_TRIPLE_PERSON]


def reply_to(
    message: Any,
    *,
    message_id: str | None = "<reply-1@connector.example.com>",
    subject: str | None = None,
    threaded: bool = True,
) -> bytes:
    mail = EmailMessage()
    mail["From"] = message.mailbox
    mail["To"] = message.sender.email
    mail["Subject"] = f"Re: {message.subject}" if subject is None else subject
    if message_id:
        mail["Message-ID"] = message_id
    if threaded:
        mail["In-Reply-To"] = message.message_id
        mail["References"] = " ".join((*message.references, message.message_id))
    mail.set_content("The price list follows.")
    return mail.as_bytes()


# --- messages.send ------------------------------------------------------------------------------------------


def test_a_sent_message_keeps_the_clients_message_id(gmail: Gmail, triple: Any) -> None:
    last = triple.messages[-1]
    answer = gmail.sent(reply_to(last), thread_id=last.thread_id)
    assert set(answer) == {"id", "threadId", "labelIds"} and answer["labelIds"] == ["SENT"]
    (stored,) = gmail.world.gmail.sent_with_message_id(ex.ALICE_MAILBOX, "<reply-1@connector.example.com>")
    assert stored.id == answer["id"]
    assert stored.header("Date"), "Gmail dates what it sends"


def test_gmail_makes_a_message_id_only_when_there_is_none(gmail: Gmail, triple: Any) -> None:
    last = triple.messages[-1]
    first = gmail.sent(reply_to(last, message_id=None))
    second = gmail.sent(reply_to(last, message_id=None))
    ids = [gmail.world.gmail.message(ex.ALICE_MAILBOX, a["id"]).header("Message-ID") for a in (first, second)]
    assert all(re.fullmatch(r"<CA\+[A-Za-z0-9+/=]+@mail\.gmail\.com>", i) for i in ids), ids
    assert ids[0] != ids[1]


def test_a_reply_by_the_three_rules_joins_the_thread(gmail: Gmail, triple: Any) -> None:
    last = triple.messages[-1]
    answer = gmail.sent(reply_to(last), thread_id=last.thread_id)
    assert answer["threadId"] == last.thread_id and answer["id"] != last.thread_id
    # A reply to an earlier message of the thread, with the subject in another case, joins too.
    first = triple.messages[0]
    earlier = reply_to(first, message_id="<reply-2@x.example>", subject=f"RE: fwd: {first.subject.upper()}")
    assert gmail.sent(earlier, thread_id=first.thread_id)["threadId"] == first.thread_id


@pytest.mark.parametrize(
    "broken",
    ["no threadId", "no In-Reply-To or References", "another subject", "unknown thread", "another thread"],
)
def test_a_message_that_breaks_a_rule_starts_a_thread_of_its_own(
    gmail: Gmail, triple: Any, sandbox_world: Any, broken: str
) -> None:
    last = triple.messages[-1]
    thread_id: str | None = last.thread_id
    raw = reply_to(last)
    if broken == "no threadId":
        thread_id = None
    elif broken == "no In-Reply-To or References":
        raw = reply_to(last, threaded=False)
    elif broken == "another subject":
        raw = reply_to(last, subject="Re: Price list")
    elif broken == "unknown thread":
        thread_id = "0123456789abcdef"
    else:
        thread_id = sandbox_world.named_threads[ex.THREAD_SHARED_ADDRESS].messages[0].thread_id
    answer = gmail.sent(raw, thread_id=thread_id)
    assert answer["threadId"] == answer["id"], "a new thread is named after its first message"
    assert answer["threadId"] != last.thread_id


def test_the_thread_shows_the_reply_to_the_add_ons_per_message_token(gmail: Gmail, triple: Any) -> None:
    """The fallback check after a crash: with only the open message's tokens, the thread is readable
    and holds our reply."""
    first, last = triple.messages[0], triple.messages[-1]
    gmail.sent(reply_to(last), thread_id=last.thread_id)
    google = gmail.world.google
    headers = {
        "Authorization": f"Bearer {gmail.token(ADDON_READ)}",
        "X-Goog-Gmail-Access-Token": google.mint_gmail_access_token(ex.ALICE_MAILBOX, first.id),
    }
    answer = gmail.client.get(
        f"{API}/threads/{first.thread_id}",
        query_string={"format": "metadata", "metadataHeaders": "Message-ID"},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    ids = [h["value"] for m in answer.get_json()["messages"] for h in m["payload"]["headers"]]
    assert ids == [*(m.message_id for m in triple.messages), "<reply-1@connector.example.com>"]


def test_sending_answers_late_after_keeping_the_message(sandbox_server: Any) -> None:
    """configure(answer_delay=...): Gmail has the message, the client hears nothing in time."""
    world = sandbox_server.world
    last = world.named_threads[ex.THREAD_TRIPLE_PERSON].messages[-1]
    token = world.google.mint_user_oauth_token(ex.ALICE_MAILBOX, scopes=[SEND])
    body = {"raw": base64.urlsafe_b64encode(reply_to(last)).decode(), "threadId": last.thread_id}
    url = f"{sandbox_server.url}/sandbox/gmail/gmail/v1/users/me/messages/send"
    world.gmail.configure(answer_delay=1.0)
    with pytest.raises(requests.Timeout):
        requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=0.3)
    (kept,) = world.gmail.sent_with_message_id(ex.ALICE_MAILBOX, "<reply-1@connector.example.com>")
    assert kept.thread_id == last.thread_id
    world.gmail.configure()
    assert world.gmail.answer_delay == 0.0
    answer = requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert answer.status_code == 200
    assert len(world.gmail.sent_with_message_id(ex.ALICE_MAILBOX, "<reply-1@connector.example.com>")) == 2
    with pytest.raises(ValueError):
        world.gmail.configure(answer_delay=-1)


def test_concurrent_sends_are_all_kept_apart(gmail: Gmail, triple: Any, sandbox_world: Any) -> None:
    last = triple.messages[-1]
    raw = reply_to(last)
    answers: list[str] = []

    def send() -> None:
        answers.append(sandbox_world.gmail.store_sent(ex.ALICE_MAILBOX, raw, thread_id=last.thread_id).id)

    workers = [threading.Thread(target=send) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(set(answers)) == 8
    kept = sandbox_world.gmail.sent_with_message_id(ex.ALICE_MAILBOX, "<reply-1@connector.example.com>")
    assert sorted(m.id for m in kept) == sorted(answers)


# --- messages.list ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "form", ["rfc822msgid:<reply-1@connector.example.com>", "rfc822msgid:reply-1@connector.example.com"]
)
def test_a_sent_message_is_found_by_its_message_id(gmail: Gmail, triple: Any, form: str) -> None:
    last = triple.messages[-1]
    sent = gmail.sent(reply_to(last), thread_id=last.thread_id)
    assert gmail.found(q=form) == {
        "messages": [{"id": sent["id"], "threadId": last.thread_id}],
        "resultSizeEstimate": 1,
    }


def test_no_match_is_an_estimate_of_zero_and_no_messages_key(gmail: Gmail) -> None:
    assert gmail.found(q="rfc822msgid:<never-sent@connector.example.com>") == {"resultSizeEstimate": 0}


def test_a_received_message_is_found_by_its_message_id_too(gmail: Gmail, triple: Any) -> None:
    first = triple.messages[0]
    assert gmail.found(q=f"rfc822msgid:{first.message_id}")["messages"] == [
        {"id": first.id, "threadId": first.thread_id}
    ]


def test_a_message_in_the_trash_is_found_only_when_asked_for(gmail: Gmail, triple: Any) -> None:
    last = triple.messages[-1]
    sent = gmail.sent(reply_to(last), thread_id=last.thread_id)
    trashed = gmail.world.gmail.trash(ex.ALICE_MAILBOX, sent["id"])
    assert trashed is not None and "TRASH" in trashed.label_ids
    query = "rfc822msgid:<reply-1@connector.example.com>"
    assert gmail.found(q=query) == {"resultSizeEstimate": 0}
    assert gmail.found(q=query, includeSpamTrash="true")["messages"] == [
        {"id": sent["id"], "threadId": last.thread_id}
    ]
    assert gmail.found(q=f"{query} in:trash")["resultSizeEstimate"] == 1
    assert gmail.world.gmail.trash(ex.ALICE_MAILBOX, "0123456789abcdef") is None


def test_folders_and_subjects_narrow_a_search(gmail: Gmail, triple: Any, sandbox_world: Any) -> None:
    last = triple.messages[-1]
    sent = gmail.sent(reply_to(last), thread_id=last.thread_id)
    in_sent = [m["id"] for m in gmail.found(q="in:sent")["messages"]]
    in_inbox = [m["id"] for m in gmail.found(q="in:inbox")["messages"]]
    assert in_sent[0] == sent["id"], "newest first"
    assert sent["id"] not in in_inbox and not set(in_sent) & set(in_inbox)
    alice = [m for t in sandbox_world.threads_of(ex.ALICE_MAILBOX) for m in t.messages]
    assert len(in_sent) + len(in_inbox) == len(alice) + 1
    found = gmail.found(q='in:sent subject:"delivery date"')["messages"]
    assert sent["id"] in [m["id"] for m in found]
    assert all(m["threadId"] == last.thread_id for m in found)
    assert gmail.found(q="subject:(lens coating)", labelIds="SENT")["resultSizeEstimate"] == len(found)
    assert gmail.found(q="-in:inbox")["resultSizeEstimate"] == len(in_sent)


def test_results_come_in_pages(gmail: Gmail, sandbox_world: Any) -> None:
    everything = gmail.found()
    total = everything["resultSizeEstimate"]
    assert total == len(everything["messages"]) > 5 and "nextPageToken" not in everything
    seen: list[str] = []
    token = None
    while True:
        page = gmail.found(maxResults=2, **({"pageToken": token} if token else {}))
        assert page["resultSizeEstimate"] == total
        seen += [m["id"] for m in page["messages"]]
        token = page.get("nextPageToken")
        if token is None:
            break
    assert seen == [m["id"] for m in everything["messages"]]
    assert gmail.list(pageToken="not-a-token").status_code == 400
    assert gmail.list(maxResults="many").status_code == 400
    assert gmail.list(includeSpamTrash="maybe").status_code == 400


def test_listing_needs_a_mailbox_scope_and_searching_more_than_metadata(gmail: Gmail) -> None:
    query = "rfc822msgid:<x@y.example>"
    assert gmail.list(scopes=[READONLY], q=query).status_code == 200
    assert gmail.list(scopes=["https://mail.google.com/"], q=query).status_code == 200
    assert gmail.list(scopes=[AUTH + "gmail.modify"], q=query).status_code == 200
    assert gmail.list(scopes=[METADATA]).status_code == 200
    refused = gmail.list(scopes=[METADATA], q=query)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["message"] == "Metadata scope does not support 'q' parameter"
    for scopes in ([ADDON_READ, SEND], [SEND], [AUTH + "gmail.addons.current.message.metadata"]):
        refused = gmail.list(scopes=scopes, q=query)
        assert refused.status_code == 403
        error = refused.get_json()["error"]
        assert error["errors"][0]["reason"] == "insufficientPermissions"
        assert error["details"][0]["reason"] == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    assert gmail.client.get(f"{API}/messages").status_code == 401


def test_a_query_is_read_as_gmails_search_box_reads_it() -> None:
    terms = parse_query('rfc822msgid:<a@b> -in:inbox subject:"two words" subject:(x y) hello AND foo:bar')
    assert [(t.operator, t.value, t.negated) for t in terms] == [
        ("rfc822msgid", "<a@b>", False),
        ("in", "inbox", True),
        ("subject", "two words", False),
        ("subject", "x y", False),
        ("text", "hello", False),
        ("text", "foo:bar", False),
    ]
