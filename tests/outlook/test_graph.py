"""The Graph client against the sandbox's Graph, with tokens from the on-behalf-of exchange."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from connector.mail.addresses import EmailAddress
from connector.mail.graph import GraphClient, GraphRejected, GraphUnavailable
from connector.sandbox import examples as ex
from connector.sandbox.entra import (
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    create_entra_app,
    route_to_sandbox,
)
from connector.security.microsoft import (
    DEFAULT_AUTHORITY,
    EntraUser,
    GraphTokenBroker,
    InMemoryTokenCacheStore,
)

MakeClient = Callable[..., GraphClient]


@pytest.fixture
def graph_client(sandbox_server: Any) -> MakeClient:
    world = sandbox_server.world
    session = route_to_sandbox(
        requests.Session(),
        base_url=DEFAULT_AUTHORITY,
        app=create_entra_app(world.entra),
        path_prefix="/entra",
    )
    graph_url = f"{sandbox_server.url}/sandbox/graph/v1.0"
    # Scopes are named for Graph's own resource (the broker's default), as the sandbox's Entra issues
    # them; the calls then go to the sandbox's Graph at its loopback URL.
    broker = GraphTokenBroker(
        client_id=SANDBOX_CLIENT_ID,
        client_secret=SANDBOX_CLIENT_SECRET,
        store=InMemoryTokenCacheStore(),
        session=session,
    )

    def make(
        username: str = "alice", *, scopes: tuple[str, ...] | None = None, **options: Any
    ) -> GraphClient:
        person = world.entra.user(username)
        user = EntraUser(person.oid, person.tid, person.name, person.email, ("access_as_user",))
        token = broker.token_for(user, assertion=world.entra.mint_access_token(username), scopes=scopes)
        return GraphClient(token=token.value, base_url=graph_url, **options)

    return make


def _sample(sandbox_server: Any, thread: str = ex.THREAD_TRIPLE_PERSON, index: int = 2) -> Any:
    return sandbox_server.world.named_threads[thread].messages[index]


def _sent(sandbox_server: Any, mailbox: str = ex.ALICE_MAILBOX) -> list[Any]:
    sent: list[Any] = sandbox_server.world.graph.sent(mailbox)
    return sent


def test_a_message_is_read_by_its_rest_id_with_its_thread_headers(
    graph_client: MakeClient, sandbox_server: Any
) -> None:
    sample = _sample(sandbox_server)
    message = graph_client().get_message(sample.id)
    assert message.subject == sample.subject
    assert message.sender is not None and message.sender.address == ex.TRIPLE_PERSON_EMAIL
    assert message.internet_message_id == sample.message_id
    assert message.references == tuple(sample.references)
    assert message.body_text == sample.body_text
    as_mail = message.mail_message(mailbox=ex.ALICE_MAILBOX)
    assert as_mail.thread_id == sample.thread_id and as_mail.references == tuple(sample.references)


def test_a_message_is_found_by_its_internet_message_id(graph_client: MakeClient, sandbox_server: Any) -> None:
    sample = _sample(sandbox_server)
    client = graph_client()
    found = client.find_message(sample.message_id)
    assert found is not None and found.id == sample.id
    assert client.find_message("<never-sent@nowhere.example>") is None


def test_another_users_message_is_not_found(graph_client: MakeClient, sandbox_server: Any) -> None:
    with pytest.raises(GraphRejected) as refused:
        graph_client("bob").get_message(_sample(sandbox_server).id)
    assert refused.value.status == 404 and refused.value.code == "ErrorItemNotFound"


def test_a_reply_goes_to_the_sender_in_the_same_conversation(
    graph_client: MakeClient, sandbox_server: Any
) -> None:
    sample = _sample(sandbox_server)
    graph_client().reply(sample.id, comment="The price list is attached.")
    (sent,) = _sent(sandbox_server)
    assert sent.subject == f"Re: {sample.subject}" and sent.conversation_id == sample.thread_id
    assert sent.to[0]["emailAddress"]["address"] == ex.TRIPLE_PERSON_EMAIL
    assert sent.body["content"] == "The price list is attached."


def test_an_html_reply_needs_the_permission_to_write_drafts(
    graph_client: MakeClient, sandbox_server: Any
) -> None:
    sample = _sample(sandbox_server)
    with pytest.raises(GraphRejected) as refused:  # read and send, but no right to write a draft
        graph_client(scopes=("Mail.Read", "Mail.Send")).reply_with_html(sample.id, html="<p>Hello</p>")
    assert refused.value.status == 403
    assert _sent(sandbox_server) == []

    writer = graph_client(scopes=("Mail.Read", "Mail.ReadWrite", "Mail.Send"))
    writer.reply_with_html(sample.id, html="<p>Hello Inès, <b>done</b>.</p>")
    (sent,) = _sent(sandbox_server)
    assert sent.body == {"contentType": "HTML", "content": "<p>Hello Inès, <b>done</b>.</p>"}
    assert not sent.is_draft


def test_new_mail_carries_custom_x_headers_only(graph_client: MakeClient, sandbox_server: Any) -> None:
    client = graph_client()
    ines = EmailAddress.parse(ex.TRIPLE_PERSON_EMAIL, ex.TRIPLE_PERSON_NAME)
    assert ines is not None
    to = [ines]
    with pytest.raises(ValueError, match="x-"):
        client.send_mail(subject="Quote", body="<p>Hi</p>", to=to, headers={"Message-ID": "<x@y>"})
    client.send_mail(subject="Quote", body="<p>Hi</p>", to=to, headers={"x-oro-record": "contacts:3"})
    (sent,) = _sent(sandbox_server)
    assert sent.subject == "Quote" and sent.headers == [{"name": "x-oro-record", "value": "contacts:3"}]


def test_throttling_waits_as_long_as_graph_asks(graph_client: MakeClient, sandbox_server: Any) -> None:
    waits: list[float] = []
    client = graph_client(sleep=waits.append)
    sandbox_server.world.graph.throttle(2, 3)
    assert client.get_message(_sample(sandbox_server).id).subject
    assert waits == [2.0, 3.0]


def test_a_wait_longer_than_allowed_is_reported_not_slept(
    graph_client: MakeClient, sandbox_server: Any
) -> None:
    waits: list[float] = []
    client = graph_client(sleep=waits.append, max_wait=30.0)
    sandbox_server.world.graph.throttle(120)
    with pytest.raises(GraphUnavailable) as busy:
        client.get_message(_sample(sandbox_server).id)
    assert busy.value.status == 429 and waits == []


def test_graph_out_of_reach_is_unavailable() -> None:
    client = GraphClient(token="t", base_url="http://127.0.0.1:9/v1.0", timeout=0.5)
    with pytest.raises(GraphUnavailable):
        client.get_message("AAMk")
