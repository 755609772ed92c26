"""One attempt at a recorded reply: claimed once, asked about before any resend, never sent twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from connector.db import db as database
from connector.db.models import utcnow
from connector.outbox.delivery import DeliveryPolicy, claim, deliver, due_ids
from connector.outbox.models import OutboxMessage
from connector.outbox.operations import enqueue_reply
from tests.outbox.support import DeliveryDeferred, DeliveryRefused, RecordingTransport, a_reply, a_user

POLICY = DeliveryPolicy(max_attempts=3, retry_seconds=60.0, lease_seconds=30.0)


@pytest.fixture
def sessions(app: Any) -> Any:
    return lambda: database.session_scope(app)


def _recorded(db: Session, key: str = "click-1") -> OutboxMessage:
    row = enqueue_reply(db, user=a_user(db), key=key, reply=a_reply(), domain="c.example")
    db.commit()
    return row


def _fresh(db: Session, row: OutboxMessage) -> OutboxMessage:
    db.expire_all()
    found = db.get(OutboxMessage, row.id)
    assert found is not None
    return found


def test_a_new_reply_is_sent_without_asking_first(db: Session, sessions: Any) -> None:
    row = _recorded(db)
    transport = RecordingTransport()

    assert deliver(sessions, row.id, transport, worker="w1", policy=POLICY) == "sent"

    row = _fresh(db, row)
    assert transport.calls == ["send"]
    assert (row.state, row.attempts, row.provider_message_id, row.link_state) == (
        "sent",
        1,
        "sent-1",
        "pending",
    )
    assert row.lease_until is None and row.sent_at is not None
    assert deliver(sessions, row.id, transport, worker="w1", policy=POLICY) == "skipped"
    assert transport.sent == {row.message_id: ["sent-1"]}


def test_after_a_crash_the_provider_is_asked_and_a_sent_reply_is_not_sent_again(
    db: Session, sessions: Any
) -> None:
    row = _recorded(db)
    transport = RecordingTransport()
    with sessions() as session:  # the first sender claimed it, sent, and died before recording it
        assert claim(session, row.id, worker="dead", lease_seconds=30)
    transport.sent[row.message_id] = ["sent-by-the-dead"]
    assert deliver(sessions, row.id, transport, worker="w2", policy=POLICY) == "skipped"  # lease still held

    with sessions() as session:
        session.get(OutboxMessage, row.id).lease_until = utcnow() - timedelta(seconds=1)
    assert deliver(sessions, row.id, transport, worker="w2", policy=POLICY) == "found_sent"

    row = _fresh(db, row)
    assert transport.calls == ["find"]
    assert (row.state, row.attempts, row.provider_message_id) == ("sent", 2, "sent-by-the-dead")


def test_after_a_crash_with_nothing_at_the_provider_the_reply_is_sent(db: Session, sessions: Any) -> None:
    row = _recorded(db)
    with sessions() as session:
        claim(session, row.id, worker="dead", lease_seconds=-1)  # claimed, lease already over
    transport = RecordingTransport()
    assert deliver(sessions, row.id, transport, worker="w2", policy=POLICY) == "sent"
    assert transport.calls == ["find", "send"]


def test_our_draft_left_by_a_crash_is_sent_not_made_again(db: Session, sessions: Any) -> None:
    row = _recorded(db)
    with sessions() as session:
        claim(session, row.id, worker="dead", lease_seconds=-1)
    transport = RecordingTransport(drafts={row.message_id: "draft-7"})
    assert deliver(sessions, row.id, transport, worker="w2", policy=POLICY) == "sent"
    assert transport.calls == ["find", "send_draft"]
    assert transport.sent == {row.message_id: ["draft-7"]}


def test_a_lost_answer_is_retried_later_and_then_found_sent(db: Session, sessions: Any) -> None:
    row = _recorded(db)
    transport = RecordingTransport(lose_answer=True)
    assert deliver(sessions, row.id, transport, worker="w1", policy=POLICY) == "retry"
    row = _fresh(db, row)
    assert row.state == "pending" and row.last_error == "the answer was lost"
    assert (
        48 <= (row.next_attempt_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None)).total_seconds() <= 72
    )
    assert due_ids(db, provider="graph") == []  # not before its time

    row.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.commit()
    assert deliver(sessions, row.id, transport, worker="w1", policy=POLICY) == "found_sent"
    assert transport.sent == {row.message_id: ["sent-1"]}


def test_a_refusal_fails_at_once_and_deferrals_fail_after_the_last_attempt(
    db: Session, sessions: Any
) -> None:
    refused = _recorded(db, "k1")
    transport = RecordingTransport(fail_with=DeliveryRefused("Outlook refused: bad recipient"))
    assert deliver(sessions, refused.id, transport, worker="w", policy=POLICY) == "failed"
    assert _fresh(db, refused).last_error == "Outlook refused: bad recipient"

    deferred = _recorded(db, "k2")
    transport = RecordingTransport(fail_with=DeliveryDeferred("Graph is down", wait=0))
    outcomes = [deliver(sessions, deferred.id, transport, worker="w", policy=POLICY) for _ in range(3)]
    assert outcomes == ["retry", "retry", "failed"]
    row = _fresh(db, deferred)
    assert row.state == "failed" and "gave up after 3 attempts" in row.last_error


def test_two_senders_racing_for_a_row_one_claims_it(db: Session, sessions: Any) -> None:
    row = _recorded(db)
    with sessions() as first, sessions() as second:
        won = [claim(first, row.id, worker="a", lease_seconds=30)]
        first.commit()
        won.append(claim(second, row.id, worker="b", lease_seconds=30))
    assert won == [True, False]


def test_a_sender_whose_lease_was_taken_over_records_nothing(db: Session, sessions: Any) -> None:
    row = _recorded(db)

    class SlowTransport(RecordingTransport):
        def send(self, row: OutboxMessage) -> str:
            with sessions() as session:  # meanwhile another sender took the row over
                taken = session.get(OutboxMessage, row.id)
                assert taken is not None
                taken.leased_by, taken.attempts = "other", 2
            return super().send(row)

    assert deliver(sessions, row.id, SlowTransport(), worker="w1", policy=POLICY) == "lost_lease"
    row = _fresh(db, row)
    assert (row.state, row.leased_by) == ("sending", "other")


def test_the_lease_is_renewed_while_an_attempt_runs(db: Session, sessions: Any) -> None:
    import time

    row = _recorded(db)
    seen: list[Any] = []

    class Slow(RecordingTransport):
        def send(self, row: OutboxMessage) -> str:
            with sessions() as session:
                seen.append(session.get(OutboxMessage, row.id).lease_until)
            time.sleep(0.5)
            with sessions() as session:
                seen.append(session.get(OutboxMessage, row.id).lease_until)
            return super().send(row)

    short = DeliveryPolicy(lease_seconds=0.3)
    assert deliver(sessions, row.id, Slow(), worker="w", policy=short) == "sent"
    assert seen[1] > seen[0]


def test_a_request_that_cannot_settle_a_row_does_not_use_up_its_attempts(db: Session, sessions: Any) -> None:
    row = _recorded(db)
    with sessions() as session:
        claim(session, row.id, worker="dead", lease_seconds=-1)
    not_here = RecordingTransport(fail_with=None)
    not_here.find = lambda row: (_ for _ in ()).throw(  # type: ignore[method-assign]
        DeliveryDeferred("Open the conversation to finish", attempted=False)
    )
    for _ in range(5):
        assert deliver(sessions, row.id, not_here, worker="w", policy=POLICY) == "retry"
    row = _fresh(db, row)
    assert (row.state, row.attempts) == ("pending", 1)  # the dead sender's claim still counts

    transport = RecordingTransport()
    assert deliver(sessions, row.id, transport, worker="w", policy=POLICY) == "sent"
    assert transport.calls == ["find", "send"]  # asked first, because of that claim


def test_a_bug_while_sending_is_retried_and_ends_as_failed_not_stuck(db: Session, sessions: Any) -> None:
    row = _recorded(db)
    broken = RecordingTransport(fail_with=KeyError("oops"))
    outcomes = []
    for _ in range(POLICY.max_attempts):
        outcomes.append(deliver(sessions, row.id, broken, worker="w", policy=POLICY))
        with sessions() as session:  # the backoff waits are long: make the next attempt due now
            session.get(OutboxMessage, row.id).next_attempt_at = utcnow()
    assert outcomes == ["retry", "retry", "failed"]
    row = _fresh(db, row)
    assert row.state == "failed" and "The connector failed while sending (KeyError)" in row.last_error
    assert row.lease_until is None  # never left claimed until a lease ran out
    assert broken.calls == ["send", "find", "send", "find", "send"]  # asked first after the first


def test_a_transport_that_cannot_be_built_costs_no_attempt_and_waits_as_told(
    db: Session, sessions: Any
) -> None:
    row = _recorded(db)

    def no_token(_row: OutboxMessage) -> RecordingTransport:
        raise DeliveryDeferred("Open the add-in again", wait=600)

    assert deliver(sessions, row.id, no_token, worker="w", policy=POLICY) == "retry"
    row = _fresh(db, row)
    assert (row.state, row.attempts, row.last_error) == ("pending", 0, "Open the add-in again")
    waits = (row.next_attempt_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None)).total_seconds()
    assert 590 <= waits <= 600
