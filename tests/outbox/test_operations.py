"""Recording replies: once per click, the states people see, retry and dismiss."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from connector.db import db as database
from connector.outbox.models import OutboxMessage
from connector.outbox.operations import (
    OutboxError,
    SendConflict,
    SendNotFound,
    dismiss_send,
    enqueue_reply,
    outbox_health,
    retry_send,
    sends_in_thread,
    unresolved_sends,
)
from tests.outbox.support import a_reply, a_user


def test_a_reply_is_recorded_once_per_click(db: Session) -> None:
    alice = a_user(db)
    first = enqueue_reply(db, user=alice, key="click-1", reply=a_reply(), domain="connector.example")
    again = enqueue_reply(db, user=alice, key="click-1", reply=a_reply(text="changed"), domain="x.example")
    other = enqueue_reply(db, user=alice, key="click-2", reply=a_reply(), domain="connector.example")
    db.commit()

    assert again.id == first.id and again.body_text == "Your order ships tomorrow."
    assert other.id != first.id
    assert first.message_id.startswith("<") and first.message_id.endswith("@connector.example>")
    assert first.message_id != other.message_id
    assert first.state == "pending" and first.attempts == 0


def test_a_twin_request_with_the_same_click_gets_the_first_row(app: Any, db: Session) -> None:
    alice = a_user(db)
    db.commit()
    raced = {"done": False}

    def twin_commits_first(session: Session, _context: Any, _instances: Any) -> None:
        if raced["done"] or not any(isinstance(o, OutboxMessage) for o in session.new):
            return
        raced["done"] = True
        with database.session_scope(app) as other:
            twin_user = a_user(other)
            enqueue_reply(other, user=twin_user, key="click-1", reply=a_reply(), domain="c.example")

    event.listen(db, "before_flush", twin_commits_first)
    try:
        row = enqueue_reply(db, user=alice, key="click-1", reply=a_reply(), domain="c.example")
    finally:
        event.remove(db, "before_flush", twin_commits_first)
    db.commit()

    assert raced["done"]
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    assert row.idempotency_key == "click-1"


def test_a_reply_without_recipient_or_key_is_refused(db: Session) -> None:
    alice = a_user(db)
    with pytest.raises(OutboxError, match="no recipient"):
        enqueue_reply(db, user=alice, key="k", reply=a_reply(to=()), domain="c.example")
    with pytest.raises(OutboxError, match="click key"):
        enqueue_reply(db, user=alice, key=" ", reply=a_reply(), domain="c.example")


def test_only_a_failed_reply_can_be_retried_or_dismissed_and_only_by_its_owner(db: Session) -> None:
    alice, bob = a_user(db), a_user(db, "bob@acme.example")
    row = enqueue_reply(db, user=alice, key="k", reply=a_reply(), domain="c.example")
    with pytest.raises(SendConflict):
        retry_send(db, send_id=row.id, user=alice)
    row.state, row.last_error = "failed", "Outlook refused the reply"
    with pytest.raises(SendNotFound):
        retry_send(db, send_id=row.id, user=bob)
    [shown] = unresolved_sends(db, user=alice)
    assert (shown.label, shown.last_error) == ("Not sent", "Outlook refused the reply")

    retry_send(db, send_id=row.id, user=alice)
    assert row.state == "pending"
    row.state = "failed"
    dismiss_send(db, send_id=row.id)  # an admin, for anyone
    assert row.resolved_at is not None
    assert unresolved_sends(db) == []
    assert sends_in_thread(db, user=alice, thread_id="conv-1") == []


def test_health_counts_states_and_stuck_sends(db: Session) -> None:
    from datetime import timedelta

    from connector.db.models import utcnow

    alice = a_user(db)
    rows = [enqueue_reply(db, user=alice, key=f"k{i}", reply=a_reply(), domain="c.example") for i in range(4)]
    rows[0].state = "sent"
    rows[1].state = "failed"
    rows[2].state, rows[2].lease_until = "sending", utcnow() - timedelta(seconds=5)
    db.flush()

    health = outbox_health(db)
    assert health.counts == {"pending": 1, "sending": 1, "sent": 1, "failed": 1}
    assert (health.failed_unresolved, health.stuck) == (1, 1)
    assert health.oldest_waiting is not None


def test_a_retried_reply_gets_a_fresh_run_of_attempts_and_is_still_checked_first(db: Session) -> None:
    alice = a_user(db)
    row = enqueue_reply(db, user=alice, key="k", reply=a_reply(), domain="c.example")
    row.state, row.attempts = "failed", 8
    retry_send(db, send_id=row.id, user=alice)
    assert (row.state, row.attempts) == ("pending", 1)


def test_the_thread_shows_sent_replies_of_the_last_day_and_everything_unsent(db: Session) -> None:
    from datetime import timedelta

    from connector.db.models import utcnow

    alice = a_user(db)
    old, recent, waiting = (
        enqueue_reply(db, user=alice, key=k, reply=a_reply(), domain="c.example") for k in ("a", "b", "c")
    )
    old.state, old.sent_at = "sent", utcnow() - timedelta(days=2)
    recent.state, recent.sent_at = "sent", utcnow() - timedelta(hours=2)
    db.flush()
    shown = {s.id for s in sends_in_thread(db, user=alice, thread_id="conv-1")}
    assert shown == {recent.id, waiting.id}
