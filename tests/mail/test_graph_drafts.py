"""Our Graph client for exactly-once replies, against the sandbox's Graph with tokens from the
on-behalf-of exchange: a draft reply carries our internetMessageId, it is found as a draft and then as
sent, and what sends mail is not repeated after an answer that leaves its fate open."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
import requests

from connector.mail.addresses import EmailAddress
from connector.mail.compose import new_message_id
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

WRITER = ("Mail.Read", "Mail.ReadWrite", "Mail.Send")
HTML = "<p>Bonjour Inès, the coating line ships on the <b>14th</b>.</p>"
NOWHERE = "http://graph.invalid/v1.0"  # never reached: the session answers
MakeClient = Callable[..., GraphClient]


@pytest.fixture
def graph_client(sandbox_server: Any) -> MakeClient:
    world = sandbox_server.world
    entra = create_entra_app(world.entra)
    session = route_to_sandbox(
        requests.Session(), base_url=DEFAULT_AUTHORITY, app=entra, path_prefix="/entra"
    )
    # Scopes are named for Graph's own resource, as the sandbox's Entra issues them; the calls then go to
    # the sandbox's Graph at its loopback URL.
    broker = GraphTokenBroker(
        client_id=SANDBOX_CLIENT_ID,
        client_secret=SANDBOX_CLIENT_SECRET,
        store=InMemoryTokenCacheStore(),
        session=session,
    )

    def make(username: str = "alice", *, scopes: tuple[str, ...] = WRITER, **options: Any) -> GraphClient:
        person = world.entra.user(username)
        user = EntraUser(person.oid, person.tid, person.name, person.email, ("access_as_user",))
        token = broker.token_for(user, assertion=world.entra.mint_access_token(username), scopes=scopes)
        options.setdefault("base_url", f"{sandbox_server.url}/sandbox/graph/v1.0")
        return GraphClient(token=token.value, **options)

    return make


@pytest.fixture
def original(sandbox_server: Any) -> Any:
    return sandbox_server.world.named_threads[ex.THREAD_TRIPLE_PERSON].messages[0]


def address(email: str, name: str = "") -> EmailAddress:
    parsed = EmailAddress.parse(email, name)
    assert parsed is not None
    return parsed


class ForgetfulGraph(requests.Session):
    """A Graph that drops the internetMessageId we send with createReply (and with PATCH, if asked):
    the case the client must notice and mend."""

    def __init__(self, *, on_patch_too: bool = False) -> None:
        super().__init__()
        self.on_patch_too = on_patch_too
        self.patched: list[Any] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        body = kwargs.get("json")
        if str(url).endswith("/createReply") and isinstance(body, dict):
            message = {k: v for k, v in body["message"].items() if k != "internetMessageId"}
            kwargs["json"] = {**body, "message": message}
        if method == "PATCH":
            self.patched.append(body)
            if self.on_patch_too:
                kwargs["json"] = {}
        return super().request(method, url, *args, **kwargs)


class AnswersWith(requests.Session):
    """Answers every request with ``statuses`` in turn (then 200 ``{}``), counting the requests: Graph's
    504 is not something the sandbox plays."""

    def __init__(self, *statuses: int) -> None:
        super().__init__()
        self.statuses = list(statuses)
        self.calls: list[str] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        self.calls.append(f"{method!s} {url!s}")
        response = requests.Response()
        response.status_code = self.statuses.pop(0) if self.statuses else 200
        response.headers["Retry-After"] = "1"
        response._content = b"{}"
        return response


# --- createReply, then send ---------------------------------------------------------------------------------


def test_a_draft_reply_carries_our_id_and_is_found_as_draft_then_as_sent(
    graph_client: MakeClient, sandbox_server: Any, original: Any
) -> None:
    ours = new_message_id("connector.example.com")
    client = graph_client()
    assert client.find_message(ours) is None
    draft = client.create_reply(original.id, html=HTML, internet_message_id=ours)
    assert draft.is_draft and draft.internet_message_id == ours
    assert draft.conversation_id == original.thread_id
    assert [a.address for a in draft.to] == [original.sender.email]
    found = client.find_message(ours)
    assert found is not None and found.is_draft and found.id == draft.id
    client.send_draft(draft.id)
    sent = client.find_message(ours)
    assert sent is not None and not sent.is_draft and sent.id != draft.id
    assert sent.conversation_id == original.thread_id and sent.references[-1] == original.message_id
    (kept,) = sandbox_server.world.graph.sent_with_internet_message_id(ex.ALICE_MAILBOX, ours)
    assert kept.body == {"contentType": "HTML", "content": HTML}
    with pytest.raises(GraphRejected) as gone:
        client.send_draft(draft.id)
    assert gone.value.status == 404 and gone.value.code == "ErrorItemNotFound"


def test_recipients_are_ours_only_when_given(graph_client: MakeClient, original: Any) -> None:
    claire = address("claire@acme.example", "Claire Dubois")
    lukas = address("lukas@example.org", "Lukas Müller")
    ours = new_message_id("connector.example.com")
    client = graph_client()
    draft = client.create_reply(original.id, html=HTML, internet_message_id=ours, to=[claire], cc=[lukas])
    assert [(a.address, a.name) for a in draft.to] == [("claire@acme.example", "Claire Dubois")]
    assert [(a.address, a.name) for a in draft.cc] == [("lukas@example.org", "Lukas Müller")]


def test_an_id_graph_did_not_keep_at_creation_is_set_on_the_draft(
    graph_client: MakeClient, original: Any
) -> None:
    ours = new_message_id("connector.example.com")
    session = ForgetfulGraph()
    client = graph_client(session=session)
    draft = client.create_reply(original.id, html=HTML, internet_message_id=ours)
    assert draft.internet_message_id == ours and draft.is_draft
    assert session.patched == [{"internetMessageId": ours}]
    found = client.find_message(ours)
    assert found is not None and found.id == draft.id


def test_a_draft_that_will_not_take_our_id_is_refused(graph_client: MakeClient, original: Any) -> None:
    client = graph_client(session=ForgetfulGraph(on_patch_too=True))
    ours = new_message_id("connector.example.com")
    with pytest.raises(GraphRejected, match="internetMessageId"):
        client.create_reply(original.id, html=HTML, internet_message_id=ours)


def test_a_draft_reply_needs_the_permission_to_write_drafts(
    graph_client: MakeClient, sandbox_server: Any, original: Any
) -> None:
    with pytest.raises(GraphRejected) as refused:
        graph_client(scopes=("Mail.Read", "Mail.Send")).create_reply(
            original.id, html=HTML, internet_message_id=new_message_id("connector.example.com")
        )
    assert refused.value.status == 403
    assert sandbox_server.world.graph.of(ex.ALICE_MAILBOX) == []


# --- finding ------------------------------------------------------------------------------------------------


def test_a_sent_copy_is_preferred_over_a_draft_with_the_same_id(
    graph_client: MakeClient, original: Any
) -> None:
    """After a crash between createReply and send, a second try may leave a draft beside the sent one."""
    ours = new_message_id("connector.example.com")
    client = graph_client()
    stray = client.create_reply(original.id, html=HTML, internet_message_id=ours)
    second = client.create_reply(original.id, html=HTML, internet_message_id=ours)
    client.send_draft(second.id)
    assert sorted((m.is_draft, m.id == stray.id) for m in client.find_messages(ours)) == [
        (False, False),
        (True, True),
    ]
    found = client.find_message(ours)
    assert found is not None and not found.is_draft


def test_reply_and_new_mail_are_found_by_their_internet_message_id(
    graph_client: MakeClient, sandbox_server: Any, original: Any
) -> None:
    client = graph_client()
    client.reply(original.id, comment="Thanks")
    client.reply_with_html(original.id, html=HTML)
    client.send_mail(subject="Quote", body="<p>Hi</p>", to=[address("ines@example.org")])
    for sent in sandbox_server.world.graph.sent(ex.ALICE_MAILBOX):
        found = client.find_message(sent.internet_message_id)
        assert found is not None and found.id == sent.id and not found.is_draft


# --- what is repeated and what is not -----------------------------------------------------------------------


def test_a_send_whose_answer_is_lost_is_found_sent(
    graph_client: MakeClient, sandbox_server: Any, original: Any
) -> None:
    ours = new_message_id("connector.example.com")
    draft = graph_client().create_reply(original.id, html=HTML, internet_message_id=ours)
    sandbox_server.world.graph.configure(answer_delay=1.0)
    with pytest.raises(GraphUnavailable):
        graph_client(timeout=(1.0, 0.3)).send_draft(draft.id)
    sandbox_server.world.graph.configure()
    found = graph_client().find_message(ours)
    assert found is not None and not found.is_draft
    assert len(sandbox_server.world.graph.sent_with_internet_message_id(ex.ALICE_MAILBOX, ours)) == 1


@pytest.mark.parametrize(
    ("send", "calls"),
    [
        (lambda c: c.send_draft("AAMk1"), 1),
        (lambda c: c.reply("AAMk1", comment="Hi"), 1),
        (lambda c: c.send_mail(subject="s", body="b", to=[address("a@b.example")]), 1),
        (lambda c: c.get_message("AAMk1"), 2),
    ],
)
def test_a_gateway_timeout_is_repeated_for_reads_only(send: Callable[[GraphClient], Any], calls: int) -> None:
    """504: a gateway stopped waiting, and Exchange may have sent the message meanwhile."""
    session = AnswersWith(504)
    client = GraphClient(token="t", base_url=NOWHERE, session=session, sleep=lambda _s: None)
    if calls == 1:
        with pytest.raises(GraphUnavailable) as failed:
            send(client)
        assert failed.value.status == 504
    else:
        send(client)
    assert len(session.calls) == calls


def test_a_send_turned_away_is_tried_again(
    graph_client: MakeClient, sandbox_server: Any, original: Any
) -> None:
    """429 and 503 say the request was not carried out: repeating it sends once."""
    ours = new_message_id("connector.example.com")
    waits: list[float] = []
    client = graph_client(sleep=waits.append)
    draft = client.create_reply(original.id, html=HTML, internet_message_id=ours)
    sandbox_server.world.graph.throttle(2)
    client.send_draft(draft.id)
    assert waits == [2.0]
    assert len(sandbox_server.world.graph.sent_with_internet_message_id(ex.ALICE_MAILBOX, ours)) == 1
    session = AnswersWith(503)
    GraphClient(token="t", base_url=NOWHERE, session=session, sleep=waits.append).send_draft("AAMk1")
    assert len(session.calls) == 2


def test_is_draft_is_read_from_graph() -> None:
    from connector.mail.graph import GraphMessage

    resource: Mapping[str, Any] = {"id": "AAMk1", "isDraft": True}
    assert GraphMessage.from_graph(resource).is_draft
    assert not GraphMessage.from_graph({"id": "AAMk1"}).is_draft
    assert not GraphMessage.from_graph({"id": "AAMk1", "isDraft": "false"}).is_draft
