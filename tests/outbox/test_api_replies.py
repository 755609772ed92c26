"""The Outlook pane's replies: /api/v1/replies records, a runner sends through Graph, the pane sees it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from connector.db import db
from connector.db.models import User
from connector.outbox.delivery import DeliveryPolicy
from connector.outbox.runner import OutboxWorker
from connector.sandbox import examples as ex
from connector.templates.operations import create_template
from tests.api.support import LiveConnector, start_connector
from tests.outbox.support import incoming


@pytest.fixture
def live(app_factory: Any) -> Iterator[LiveConnector]:
    connector = start_connector(app_factory, job_runner="worker")
    connector.connect_to_oro("alice")
    try:
        yield connector
    finally:
        connector.server.stop()


def _message(sample: Any) -> dict[str, Any]:
    return {
        "internet_message_id": sample.message_id,
        "conversation_id": sample.thread_id,
        "item_id": sample.id,
        "subject": sample.subject,
        "from": {"email": sample.sender.email, "name": sample.sender.name},
    }


def _worker(live: LiveConnector) -> OutboxWorker:
    from connector.jobs import LocalWakeup

    return OutboxWorker(
        live.app,
        sessions=lambda: db.session_scope(live.app),
        policy=DeliveryPolicy(),
        poll_seconds=1,
        wakeup=LocalWakeup(),
    )


def _template(live: LiveConnector, body: str) -> int:
    with db.session_scope(live.app) as session:
        owner = session.query(User).filter_by(email=ex.ALICE_MAILBOX).one()
        template = create_template(session, owner=owner, name="Ack", record_type=None, subject="-", body=body)
        session.flush()
        return template.id


def test_a_template_reply_is_recorded_then_sent_once_through_graph(live: LiveConnector) -> None:
    sample = incoming(live.world)[0]
    template = _template(live, "<p>Thanks for writing.</p><p>{{ user.email }}</p>")
    body = {"key": "click-1", "message": _message(sample), "template_id": template}

    first = live.api("POST", "/replies", json=body)
    again = live.api("POST", "/replies", json=body)
    assert first.status_code == again.status_code == 202, first.text
    send = first.json()["send"]
    assert again.json()["send"]["id"] == send["id"]
    assert (send["state"], send["label"], send["to"]) == ("pending", "Waiting to send", [sample.sender.email])

    assert _worker(live).run_once()["sent"] == 1

    listed = live.api("GET", "/replies", params={"conversationId": sample.thread_id}).json()["sends"]
    assert [(s["id"], s["state"], s["template"]) for s in listed] == [(send["id"], "sent", "Ack")]
    (sent,) = live.world.graph.sent(ex.ALICE_MAILBOX)
    assert sent.conversation_id == sample.thread_id
    assert "Thanks for writing." in sent.body["content"] and ex.ALICE_MAILBOX in sent.body["content"]
    assert sent.to[0]["emailAddress"]["address"] == sample.sender.email
    assert _worker(live).run_once()["sent"] == 0  # nothing twice


def test_a_template_with_a_missing_field_is_refused_with_the_field_named(live: LiveConnector) -> None:
    sample = incoming(live.world)[0]
    template = _template(live, "<p>Order {{ order.poNumber }} ships.</p>")
    answer = live.api(
        "POST", "/replies", json={"key": "k", "message": _message(sample), "template_id": template}
    )
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["code"] == "template_fields_missing" and problem["missing"] == ["order.poNumber"]
    assert "order.poNumber" in problem["detail"]
    assert live.world.graph.sent(ex.ALICE_MAILBOX) == []


def test_only_a_failed_reply_can_be_retried_and_only_its_owner_sees_it(live: LiveConnector) -> None:
    sample = incoming(live.world)[0]
    answer = live.api("POST", "/replies", json={"key": "k", "message": _message(sample), "text": "Hi"})
    send_id = answer.json()["send"]["id"]
    assert live.api("POST", f"/replies/{send_id}/retry").status_code == 409
    assert live.api("POST", f"/replies/{send_id}/dismiss", username="bob").status_code == 404


def test_a_sent_reply_joins_the_records_its_thread_is_linked_to(live: LiveConnector) -> None:
    sample = live.world.named_threads[ex.THREAD_TRIPLE_PERSON].messages[0]
    with live.world.lock:
        contact = next(
            r for r in live.world.oro.owners_of_address(ex.TRIPLE_PERSON_EMAIL) if r[0] == "contacts"
        )
    linked = live.api(
        "POST", "/links", json={"message": _message(sample), "record": {"type": "contacts", "id": contact[1]}}
    )
    assert linked.status_code == 200, linked.text

    answer = live.api("POST", "/replies", json={"key": "k", "message": _message(sample), "text": "Merci !"})
    assert answer.status_code == 202, answer.text
    assert _worker(live).run_once()["sent"] == 1

    (row,) = live.api("GET", "/replies", params={"conversationId": sample.thread_id}).json()["sends"]
    assert row["linked"] is True
    with db.session_scope(live.app) as session:
        from connector.outbox.models import OutboxMessage

        message_id = session.get(OutboxMessage, row["id"]).message_id  # type: ignore[union-attr]
    with live.world.lock:
        (email,) = [e for e in live.world.oro.all("emails") if e.attributes["messageId"] == message_id]
        assert contact in list(email.relationships.get("activityTargets") or [])


def test_a_nul_character_is_refused_as_bad_input_not_a_server_error(
    backend: str, live: LiveConnector
) -> None:
    sample = incoming(live.world)[0]
    for body in (
        {"key": "k\x00", "message": _message(sample), "text": "Hi"},
        {"key": "k", "message": _message(sample), "text": "Hi\x00there"},
        {"key": "k", "message": _message(sample), "text": "Hi", "to": ["a\x00@b.example"]},
    ):
        answer = live.api("POST", "/replies", json=body)
        assert answer.status_code == 400, answer.text
        assert answer.json()["code"] == "invalid_request"


def test_the_embedded_runner_sends_a_reply_without_a_worker_process(app_factory: Any) -> None:
    """What `make demo` does: JOB_RUNNER=thread starts a runner with the first request; the request that
    records a reply wakes it, and the reply goes out through Graph with the user's cached token."""
    live = start_connector(app_factory, mode="demo", job_runner="thread", outbox_poll_seconds=30.0)
    try:
        live.connect_to_oro("alice")
        sample = incoming(live.world)[0]
        answer = live.api(
            "POST", "/replies", json={"key": "k", "message": _message(sample), "text": "On it."}
        )
        assert answer.status_code == 202, answer.text
        deadline = time.monotonic() + 15  # far less than the poll: the request's wake-up did it
        states: list[str] = []
        while time.monotonic() < deadline:
            listed = live.api("GET", "/replies", params={"conversationId": sample.thread_id})
            states = [s["state"] for s in listed.json()["sends"]]
            if states == ["sent"]:
                break
            time.sleep(0.1)
        assert states == ["sent"]
        (sent,) = live.world.graph.sent(ex.ALICE_MAILBOX)
        assert "On it." in sent.body["content"]
    finally:
        stop = live.app.extensions.get("connector.runner_stop")
        if stop is not None:
            stop.set()
            live.app.extensions["connector.wakeup"].notify()
        live.server.stop()
