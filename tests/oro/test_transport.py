"""How the client talks HTTP to Oro: media types, query strings, errors, retries, timeouts, sharing."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from connector.oro import (
    Contact,
    OroAccessDenied,
    OroBadRequest,
    OroConflict,
    OroConnection,
    OroNotFound,
    OroUnavailable,
    OroUnexpectedResponse,
    OroValidationFailed,
    Query,
    Range,
    RecordRef,
)
from tests.oro.conftest import (
    JSONAPI,
    FakeOro,
    Reply,
    Seen,
    SleepRecorder,
    closed_port,
    contact,
    jsonapi_list,
    make_config,
)

API = "/admin/api"


def test_reads_send_the_jsonapi_accept_header_and_the_bearer_token(fake_oro: FakeOro, connect) -> None:
    fake_oro.reply("GET", f"{API}/contacts/7", Reply(200, {"data": contact(7)}))
    client = connect().with_token("tok-123")

    found = client.get_record(Contact, id="7")

    assert found.title == "Ada Lovelace"
    request = fake_oro.seen("GET")[0]
    assert request.headers["Accept"] == JSONAPI  # no parameters: Oro answers 406 otherwise
    assert "Content-Type" not in request.headers
    assert request.headers["Authorization"] == "Bearer tok-123"


def test_writes_send_the_jsonapi_content_type_without_parameters(fake_oro: FakeOro, connect) -> None:
    note = {"type": "notes", "id": "3", "attributes": {"message": "<p>hi</p>"},
            "relationships": {"activityTargets": {"data": [{"type": "contacts", "id": "7"}]}}}
    fake_oro.reply("POST", f"{API}/notes", Reply(201, {"data": note}))

    created = connect().with_token("t").create_note(message="<p>hi</p>", targets=[RecordRef("contacts", "7")])

    assert created.id == "3" and created.targets[0].ref == RecordRef("contacts", "7")
    request = fake_oro.seen("POST")[0]
    assert request.headers["Content-Type"] == JSONAPI
    targets = request.json["data"]["relationships"]["activityTargets"]["data"]
    assert targets == [{"type": "contacts", "id": "7"}]


def test_query_parameters_reach_oro_in_its_grammar(fake_oro: FakeOro, connect) -> None:
    fake_oro.reply("GET", f"{API}/contacts", Reply(200, jsonapi_list([contact(1)])))
    since = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    query = (
        Query()
        .where("emails", ["ada+news@example.com", "Ada@Example.com"])
        .where("updatedAt", since, op="gt")
        .where("id", Range(5, 7))
        .where("owner", True, op="exists")
        .including("accounts")
        .only("contacts", "firstName", "accounts")
        .sorted_by("-updatedAt", "id")
        .page(size=25, number=2)
    )

    connect().with_token("t").list_records(Contact, query=query)

    request = fake_oro.seen("GET")[0]
    assert request.query == [
        ("filter[emails]", "ada+news@example.com,Ada@Example.com"),
        ("filter[updatedAt][gt]", "2024-05-01T12:00:00Z"),
        ("filter[id]", "5..7"),
        ("filter[owner][exists]", "true"),
        ("include", "accounts"),
        ("fields[contacts]", "firstName,accounts"),
        ("sort", "-updatedAt,id"),
        ("page[number]", "2"),
        ("page[size]", "25"),
    ]
    # Oro (PHP) reads a literal "+" as a space: a plus address must travel as %2B.
    assert "%2B" in request.raw_query and "+news" not in request.raw_query


def test_an_unknown_filter_is_reported_with_the_parameter_oro_names(fake_oro: FakeOro, connect) -> None:
    fake_oro.reply("GET", f"{API}/contacts", Reply(400, {"errors": [{
        "status": "400", "title": "filter constraint", "detail": 'Filter "filter[nope]" is not supported.',
        "source": {"parameter": "filter[nope]"}}]}))

    with pytest.raises(OroBadRequest) as caught:
        connect().with_token("t").list_records(Contact, query=Query().where("nope", "x"))

    error = caught.value
    assert (error.status, error.title, error.parameter) == (400, "filter constraint", "filter[nope]")
    assert 'Filter "filter[nope]" is not supported.' in str(error)
    assert "?" not in error.url  # the query (which may hold addresses) stays out of messages


@pytest.mark.parametrize(
    ("status", "title", "source", "expected"),
    [
        (403, "access denied exception", {}, OroAccessDenied),
        (404, "not found http exception", {}, OroNotFound),
        (409, "conflict constraint", {"pointer": "/data/id"}, OroConflict),
        (422, "validation exception", {"pointer": "/data/attributes/name"}, OroValidationFailed),
    ],
)
def test_error_documents_become_typed_errors(
    fake_oro: FakeOro, connect, status, title, source, expected
) -> None:
    error = {"status": str(status), "title": title, "detail": "Because.", "source": source}
    fake_oro.reply("GET", f"{API}/contacts/1", Reply(status, {"errors": [error]}))

    with pytest.raises(expected) as caught:
        connect().with_token("t").get_record(Contact, id="1")

    assert caught.value.status == status and caught.value.detail == "Because."
    assert caught.value.pointer == source.get("pointer")


def test_a_missing_resource_type_is_told_apart_from_a_missing_record(fake_oro: FakeOro, connect) -> None:
    fake_oro.reply("GET", f"{API}/contacts/1", Reply(404, {"errors": [{
        "status": "404", "title": "not found http exception",
        "detail": "An entity with the requested identifier does not exist."}]}))
    client = connect().with_token("t")

    with pytest.raises(OroNotFound) as record_missing:
        client.get_record(Contact, id="1")
    with pytest.raises(OroNotFound) as type_missing:
        client.list_records(Contact)  # the scripted Oro answers "resource not accessible" by default

    assert not record_missing.value.resource_missing
    assert type_missing.value.resource_missing


def test_429_and_503_are_retried_with_backoff_and_retry_after(
    fake_oro: FakeOro, connect, sleeps: SleepRecorder
) -> None:
    fake_oro.reply(
        "GET", f"{API}/contacts/1",
        Reply(503, raw=b"busy"), Reply(429, raw=b"slow down", headers={"Retry-After": "3"}),
        Reply(502, raw=b"bad gateway"), Reply(200, {"data": contact(1)}),
    )

    found = connect().with_token("t").get_record(Contact, id="1")

    assert found.id == "1"
    assert len(fake_oro.seen("GET")) == 4
    assert sleeps.waits == [0.5, 3.0, 2.0]  # doubling from 0.5 s, except where Oro said how long


def test_retry_after_as_an_http_date_is_honoured(fake_oro: FakeOro, connect, sleeps: SleepRecorder) -> None:
    now = datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=7), usegmt=True)
    fake_oro.reply("GET", f"{API}/contacts/1",
                   Reply(429, raw=b"", headers={"Retry-After": later}), Reply(200, {"data": contact(1)}))

    connect(clock=now.timestamp).with_token("t").get_record(Contact, id="1")

    assert sleeps.waits == [7.0]


def test_retries_stop_after_the_configured_number_and_name_the_url(
    fake_oro: FakeOro, connect, sleeps: SleepRecorder
) -> None:
    fake_oro.reply("GET", f"{API}/contacts/1", Reply(503, raw=b"down for maintenance"))

    with pytest.raises(OroUnavailable) as caught:
        connect(max_retries=3, backoff_seconds=10).with_token("t").get_record(Contact, id="1")

    assert len(fake_oro.seen("GET")) == 4  # the first try and three retries
    assert sleeps.waits == [10.0, 20.0, 30.0]  # doubling, capped at 30 s
    assert f"{fake_oro.url}{API}/contacts/1" in str(caught.value)
    assert caught.value.status == 503


def test_a_retry_after_beyond_the_cap_is_not_waited_for(
    fake_oro: FakeOro, connect, sleeps: SleepRecorder
) -> None:
    fake_oro.reply("GET", f"{API}/contacts/1", Reply(429, raw=b"", headers={"Retry-After": "600"}))

    with pytest.raises(OroUnavailable) as caught:
        connect().with_token("t").get_record(Contact, id="1")

    assert sleeps.waits == []
    assert "600" in str(caught.value)


def test_a_500_to_a_write_is_not_repeated_because_oro_may_have_done_it(
    fake_oro: FakeOro, connect, sleeps: SleepRecorder
) -> None:
    failure = {"status": "500", "title": "runtime exception", "detail": "Deadlock found"}
    fake_oro.reply("POST", f"{API}/notes", Reply(500, {"errors": [failure]}))

    with pytest.raises(OroUnavailable) as caught:
        connect().with_token("t").create_note(message="x", targets=[RecordRef("contacts", "1")])

    assert len(fake_oro.seen("POST")) == 1
    assert "Deadlock found" in str(caught.value)


def test_a_503_to_a_write_is_retried_because_oro_turned_it_away(fake_oro: FakeOro, connect) -> None:
    note = {"type": "notes", "id": "9", "attributes": {"message": "x"}}
    fake_oro.reply("POST", f"{API}/notes", Reply(503, raw=b""), Reply(201, {"data": note}))

    created = connect().with_token("t").create_note(message="x", targets=[RecordRef("contacts", "1")])

    assert created.id == "9"
    assert len(fake_oro.seen("POST")) == 2


def test_a_closed_port_raises_oro_unavailable_at_once_naming_the_url(connect, sleeps: SleepRecorder) -> None:

    port = closed_port()
    connection = OroConnection(make_config(f"http://127.0.0.1:{port}"), sleep=sleeps)
    try:
        with pytest.raises(OroUnavailable) as caught:
            connection.with_token("t").get_record(Contact, id="1")
    finally:
        connection.close()

    assert f"http://127.0.0.1:{port}/admin/api/contacts/1" in str(caught.value)
    assert sleeps.waits == []  # no retries against a dead Oro


def test_a_hung_oro_raises_oro_unavailable_after_the_read_timeout(fake_oro: FakeOro, connect) -> None:
    fake_oro.reply("GET", f"{API}/contacts/1", Reply(200, {"data": contact(1)}, delay=2.0))
    client = connect(read_timeout=0.3).with_token("t")

    started = time.monotonic()
    with pytest.raises(OroUnavailable) as caught:
        client.get_record(Contact, id="1")
    elapsed = time.monotonic() - started

    assert "did not answer" in str(caught.value)
    assert elapsed < 1.5  # gave up at the read timeout, not when the server finally answered
    assert len(fake_oro.seen("GET")) == 1


def test_an_html_page_instead_of_the_api_says_what_to_check(fake_oro: FakeOro, connect) -> None:
    fake_oro.reply("GET", f"{API}/contacts/1",
                   Reply(200, raw=b"<html>Login</html>", headers={"Content-Type": "text/html"}))

    with pytest.raises(OroUnexpectedResponse) as caught:
        connect().with_token("t").get_record(Contact, id="1")

    assert "text/html" in str(caught.value) and "prefix" in str(caught.value)


def test_a_redirect_is_reported_not_followed(fake_oro: FakeOro, connect) -> None:
    fake_oro.reply("GET", f"{API}/contacts/1", Reply(302, raw=b"", headers={"Location": "https://oro/login"}))

    with pytest.raises(OroUnexpectedResponse) as caught:
        connect().with_token("t").get_record(Contact, id="1")

    assert "https://oro/login" in str(caught.value)
    assert len(fake_oro.requests) == 1


def test_cookies_from_oro_are_never_sent_back(fake_oro: FakeOro, connect) -> None:
    """One session serves every user: a cookie from one user's answer must not ride on the next call."""
    fake_oro.reply("GET", f"{API}/contacts/1",
                   Reply(200, {"data": contact(1)}, headers={"Set-Cookie": "BAPID=alice-session; Path=/"}))
    connection = connect()

    connection.with_token("alice").get_record(Contact, id="1")
    connection.with_token("bob").get_record(Contact, id="1")

    assert all("Cookie" not in r.headers for r in fake_oro.requests)


def test_total_count_is_asked_for_and_read(fake_oro: FakeOro, connect) -> None:
    fake_oro.reply("GET", f"{API}/contacts",
                   Reply(200, jsonapi_list([contact(1)]), headers={"X-Include-Total-Count": "123"}))

    page = connect().with_token("t").list_records(Contact, query=Query().page(size=1).counted())

    assert page.total_count == 123
    assert fake_oro.seen("GET")[0].headers["X-Include"] == "totalCount"


def test_read_all_follows_next_links_against_the_configured_host(fake_oro: FakeOro, connect) -> None:
    """Oro may build links with an internal host name; the client keeps talking to the configured URL."""

    def pages(request: Seen) -> Reply:
        number = int(request.param("page[number]") or 1)
        ids = range((number - 1) * 10 + 1, min(number * 10, 25) + 1)
        more = number * 10 < 25
        link = f"http://oro-internal:8080/admin/api/contacts?page%5Bnumber%5D={number + 1}&page%5Bsize%5D=10"
        return Reply(200, jsonapi_list([contact(i) for i in ids], next_link=link if more else None))

    fake_oro.handle("GET", f"{API}/contacts", pages)

    everyone = connect().with_token("t").read_all(Contact, query=Query().page(size=10))

    assert [c.id for c in everyone] == [str(i) for i in range(1, 26)]
    assert [r.param("page[number]") for r in fake_oro.seen("GET")] == [None, "2", "3"]


def test_parallel_calls_from_a_thread_pool_each_get_their_own_answer(fake_oro: FakeOro, connect) -> None:
    def echo(request: Seen) -> Reply:
        record_id = request.path.rsplit("/", 1)[-1]
        return Reply(200, {"data": contact(int(record_id), first=f"P{record_id}")}, delay=0.01)

    for i in range(1, 33):
        fake_oro.handle("GET", f"{API}/contacts/{i}", echo)
    client = connect().with_token("t")

    with ThreadPoolExecutor(max_workers=8) as pool:
        names = list(pool.map(lambda i: client.get_record(Contact, id=str(i)).first_name, range(1, 33)))

    assert names == [f"P{i}" for i in range(1, 33)]
