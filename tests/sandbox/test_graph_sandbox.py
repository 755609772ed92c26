"""The sandbox's Graph as Exchange Online behaves for a server-side reply: createReply makes a draft
with an internetMessageId (ours when we give one), a draft can be changed until it is sent, sending
moves it to Sent Items under a new id, and a search by internetMessageId sees received mail, drafts and
sent mail alike. A send can also be done while its answer is lost (the crash case of the outbox)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from connector.sandbox import examples as ex
from connector.sandbox.app import create_sandbox_app

GRAPH = "https://graph.microsoft.com"
API = "/graph/v1.0/me"
OURS = "<0f8e2c4a9b7d4e1f@connector.example.com>"
EXCHANGE_ID = re.compile(r"<[A-Z0-9]+@[A-Z0-9]+\.EURPRD01\.PROD\.OUTLOOK\.COM>")
ALL = ("Mail.ReadWrite", "Mail.Send")


class Graph:
    """Raw HTTP against the sandbox's Graph as alice, through Flask's test client."""

    def __init__(self, client: FlaskClient, world: Any) -> None:
        self.client = client
        self.world = world

    def headers(self, scopes: tuple[str, ...], extra: dict[str, str] | None = None) -> dict[str, str]:
        token = self.world.entra.mint_access_token("alice", audience=GRAPH, scopes=scopes)
        return {"Authorization": f"Bearer {token}", **(extra or {})}

    def call(
        self,
        method: str,
        path: str,
        *,
        scopes: tuple[str, ...] = ALL,
        json: Any = None,
        params: dict[str, str] | None = None,
        prefer: str | None = None,
    ) -> TestResponse:
        extra = {"Prefer": prefer} if prefer else None
        return self.client.open(
            API + path, method=method, json=json, query_string=params, headers=self.headers(scopes, extra)
        )

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> dict[str, Any]:
        answer = self.call(method, path, **kwargs)
        assert answer.status_code == status, answer.text
        body: dict[str, Any] = answer.get_json(silent=True) or {}
        return body

    def by_internet_id(
        self, internet_message_id: str, select: str = "id,isDraft,internetMessageId"
    ) -> list[Any]:
        literal = internet_message_id.replace("'", "''")
        params = {"$filter": f"internetMessageId eq '{literal}'", "$select": select}
        found: list[Any] = self.ok("GET", "/messages", params=params)["value"]
        return found


@pytest.fixture
def graph(sandbox_world: Any) -> Graph:
    return Graph(create_sandbox_app(sandbox_world).test_client(), sandbox_world)


@pytest.fixture
def original(sandbox_world: Any) -> Any:
    return sandbox_world.named_threads[ex.THREAD_TRIPLE_PERSON].messages[0]


def html_reply(**extra: Any) -> dict[str, Any]:
    return {"message": {"body": {"contentType": "HTML", "content": "<p>Done, <b>Inès</b>.</p>"}, **extra}}


# --- createReply --------------------------------------------------------------------------------------------


def test_create_reply_makes_a_draft_with_our_internet_message_id(graph: Graph, original: Any) -> None:
    to = [{"emailAddress": {"name": "Claire", "address": "claire@acme.example"}}]
    draft = graph.ok(
        "POST",
        f"/messages/{original.id}/createReply",
        201,
        json=html_reply(
            internetMessageId=OURS,
            toRecipients=to,
            ccRecipients=to,
            internetMessageHeaders=[{"name": "x-oro-outbox", "value": "7"}],
        ),
    )
    assert draft["isDraft"] is True and draft["id"].startswith("AAMk")
    assert draft["internetMessageId"] == OURS
    assert draft["conversationId"] == original.thread_id
    assert draft["subject"] == f"RE: {original.subject}"
    assert draft["body"] == {"contentType": "HTML", "content": "<p>Done, <b>Inès</b>.</p>"}
    assert draft["toRecipients"] == to and draft["ccRecipients"] == to
    assert draft["from"]["emailAddress"] == {"name": "Alice Martin", "address": ex.ALICE_MAILBOX}
    assert draft["sentDateTime"] is None
    again = graph.ok("GET", f"/messages/{draft['id']}", params={"$select": "internetMessageHeaders,isDraft"})
    assert again == {
        "id": draft["id"],
        "isDraft": True,
        "internetMessageHeaders": [{"name": "x-oro-outbox", "value": "7"}],
    }


def test_a_draft_without_our_id_gets_one_from_exchange(graph: Graph, original: Any) -> None:
    draft = graph.ok("POST", f"/messages/{original.id}/createReply", 201)
    assert EXCHANGE_ID.fullmatch(draft["internetMessageId"]), draft["internetMessageId"]
    assert draft["toRecipients"][0]["emailAddress"]["address"] == original.sender.email
    other = graph.ok("POST", f"/messages/{original.id}/createReply", 201, json={"comment": "Thanks"})
    assert other["internetMessageId"] != draft["internetMessageId"]
    assert other["body"]["content"] == "Thanks"


def test_create_reply_refuses_what_graph_refuses(graph: Graph, original: Any) -> None:
    path = f"/messages/{original.id}/createReply"
    both = graph.call("POST", path, json={"comment": "Hi", **html_reply()})
    assert both.status_code == 400 and both.get_json()["error"]["code"] == "ErrorInvalidRequest"
    standard = [{"name": "Message-ID", "value": OURS}]
    header = graph.call("POST", path, json=html_reply(internetMessageHeaders=standard))
    assert header.status_code == 400 and header.get_json()["error"]["code"] == "InvalidInternetMessageHeader"
    denied = graph.call("POST", path, scopes=("Mail.Read", "Mail.Send"), json=html_reply())
    assert denied.status_code == 403 and denied.get_json()["error"]["code"] == "ErrorAccessDenied"
    missing = graph.call("POST", "/messages/AAMkunknown/createReply", json=html_reply())
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "ErrorItemNotFound"
    assert graph.world.graph.of(ex.ALICE_MAILBOX) == []


# --- PATCH and send -----------------------------------------------------------------------------------------


def test_a_draft_is_changed_then_sent_under_a_new_id(graph: Graph, original: Any) -> None:
    draft = graph.ok("POST", f"/messages/{original.id}/createReply", 201, json={})
    changed = graph.ok(
        "PATCH",
        f"/messages/{draft['id']}",
        json={
            "internetMessageId": OURS,
            "subject": "RE: Lens coating — dates",
            "body": {"contentType": "HTML", "content": "<p>Shipping on the 14th.</p>"},
            "toRecipients": [{"emailAddress": {"address": "ines@example.org"}}],
            "ccRecipients": [{"emailAddress": {"address": "claire@acme.example"}}],
        },
    )
    assert changed["internetMessageId"] == OURS and changed["subject"] == "RE: Lens coating — dates"
    assert changed["toRecipients"] == [{"emailAddress": {"address": "ines@example.org"}}]
    assert graph.by_internet_id(OURS) == [{"id": draft["id"], "isDraft": True, "internetMessageId": OURS}]
    send = graph.call("POST", f"/messages/{draft['id']}/send")
    assert send.status_code == 202 and send.data == b""
    gone = graph.call("GET", f"/messages/{draft['id']}")
    assert gone.status_code == 404 and gone.get_json()["error"]["code"] == "ErrorItemNotFound"
    (found,) = graph.by_internet_id(OURS, select="id,isDraft,sentDateTime,internetMessageHeaders,subject")
    assert found["id"] != draft["id"] and found["isDraft"] is False and found["sentDateTime"]
    assert found["subject"] == "RE: Lens coating — dates"
    headers = {h["name"]: h["value"] for h in found["internetMessageHeaders"]}
    assert headers["Message-ID"] == OURS and headers["In-Reply-To"] == original.message_id
    assert headers["References"].split()[-1] == original.message_id
    (kept,) = graph.world.graph.sent_with_internet_message_id(ex.ALICE_MAILBOX, OURS)
    assert kept.id == found["id"]
    sent_items = graph.ok("GET", "/mailFolders/sentitems/messages", params={"$select": "internetMessageId"})
    assert sent_items["value"] == [{"id": found["id"], "internetMessageId": OURS}]
    # A sent message is no draft any more: it cannot be changed or sent again.
    late = graph.call("PATCH", f"/messages/{found['id']}", json={"internetMessageId": "<other@x.example>"})
    assert late.status_code == 400 and late.get_json()["error"]["code"] == "ErrorInvalidRequest"
    assert graph.call("POST", f"/messages/{found['id']}/send").status_code == 400
    assert graph.call("POST", f"/messages/{draft['id']}/send").status_code == 404


def test_sending_a_draft_needs_mail_send(graph: Graph, original: Any) -> None:
    draft = graph.ok("POST", f"/messages/{original.id}/createReply", 201, json=html_reply())
    denied = graph.call("POST", f"/messages/{draft['id']}/send", scopes=("Mail.ReadWrite",))
    assert denied.status_code == 403
    assert graph.world.graph.sent(ex.ALICE_MAILBOX) == []
    assert graph.call("PATCH", f"/messages/{draft['id']}", scopes=("Mail.Read",), json={}).status_code == 403


def test_another_users_draft_is_not_there(graph: Graph, original: Any, sandbox_world: Any) -> None:
    draft = graph.ok("POST", f"/messages/{original.id}/createReply", 201, json=html_reply())
    token = sandbox_world.entra.mint_access_token("bob", audience=GRAPH, scopes=ALL)
    answer = graph.client.post(
        f"{API}/messages/{draft['id']}/send", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 404


# --- reply and sendMail -------------------------------------------------------------------------------------


def test_reply_and_send_mail_get_an_internet_message_id_and_are_found_by_it(
    graph: Graph, original: Any
) -> None:
    reply_answer = graph.call("POST", f"/messages/{original.id}/reply", json={"comment": "Thanks"})
    assert reply_answer.status_code == 202
    to = [{"emailAddress": {"address": "ines@example.org"}}]
    body = {"contentType": "Text", "content": "Hi"}
    mail = {"message": {"subject": "Quote", "body": body, "toRecipients": to}}
    assert graph.call("POST", "/sendMail", json=mail).status_code == 202
    reply, new = graph.world.graph.sent(ex.ALICE_MAILBOX)
    for sent in (reply, new):
        assert EXCHANGE_ID.fullmatch(sent.internet_message_id)
        assert graph.by_internet_id(sent.internet_message_id) == [
            {"id": sent.id, "isDraft": False, "internetMessageId": sent.internet_message_id}
        ]
    assert reply.conversation_id == original.thread_id
    assert new.conversation_id and new.conversation_id != original.thread_id


# --- reading ------------------------------------------------------------------------------------------------


def test_a_conversation_lists_the_received_messages_and_our_reply(graph: Graph, original: Any) -> None:
    thread = graph.world.named_threads[ex.THREAD_TRIPLE_PERSON]
    created = html_reply(internetMessageId=OURS)
    draft = graph.ok("POST", f"/messages/{original.id}/createReply", 201, json=created)
    graph.ok("POST", f"/messages/{draft['id']}/send", 202)
    conversation = f"conversationId eq '{original.thread_id}'"
    params = {"$filter": conversation, "$select": "internetMessageId", "$top": "50"}
    listed = graph.ok("GET", "/messages", params=params)["value"]
    assert [m["internetMessageId"] for m in listed] == [*(m.message_id for m in thread.messages), OURS]


def test_select_names_what_comes_back(graph: Graph, original: Any) -> None:
    plain = graph.ok("GET", f"/messages/{original.id}")
    assert "internetMessageHeaders" not in plain and plain["isDraft"] is False
    assert {"id", "subject", "body", "conversationId", "internetMessageId"} <= set(plain)
    picked = graph.ok("GET", f"/messages/{original.id}", params={"$select": "subject, isDraft"})
    assert picked == {"id": original.id, "subject": original.subject, "isDraft": False}
    unknown = graph.call("GET", f"/messages/{original.id}", params={"$select": "subject,messageId"})
    assert unknown.status_code == 400
    assert "messageId" in unknown.get_json()["error"]["message"]


def test_a_drafts_html_body_reads_as_text_when_asked(graph: Graph, original: Any) -> None:
    draft = graph.ok("POST", f"/messages/{original.id}/createReply", 201, json=html_reply())
    text = graph.ok("GET", f"/messages/{draft['id']}", prefer='outlook.body-content-type="text"')
    assert text["body"] == {"contentType": "text", "content": "Done, Inès."}


# --- a lost answer ------------------------------------------------------------------------------------------


def test_a_send_is_done_before_a_late_answer(sandbox_server: Any) -> None:
    world = sandbox_server.world
    original = world.named_threads[ex.THREAD_TRIPLE_PERSON].messages[0]
    token = world.entra.mint_access_token("alice", audience=GRAPH, scopes=ALL)
    base = f"{sandbox_server.url}/sandbox/graph/v1.0/me/messages"
    headers = {"Authorization": f"Bearer {token}"}
    created = html_reply(internetMessageId=OURS)
    answer = requests.post(f"{base}/{original.id}/createReply", json=created, headers=headers, timeout=5)
    draft = answer.json()
    world.graph.configure(answer_delay=1.0)
    assert world.graph.answer_delay == 1.0
    with pytest.raises(requests.Timeout):
        requests.post(f"{base}/{draft['id']}/send", headers=headers, timeout=0.3)
    (sent,) = world.graph.sent_with_internet_message_id(ex.ALICE_MAILBOX, OURS)
    assert sent.id != draft["id"] and not sent.is_draft
    world.graph.configure()
    assert requests.post(f"{base}/{draft['id']}/send", headers=headers, timeout=5).status_code == 404
    with pytest.raises(ValueError):
        world.graph.configure(answer_delay=-0.5)
