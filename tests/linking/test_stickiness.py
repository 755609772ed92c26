"""Thread stickiness: a later message of a linked thread is linked when it is opened."""

from __future__ import annotations

from sqlalchemy.orm import Session

from connector.audit.operations import audit_entries
from connector.db.models import User
from connector.linking.operations import link_if_thread_linked, link_thread, thread_state
from connector.sandbox import examples as ex
from tests.linking.conftest import FAST, RecordingClient, Sandbox


def test_opening_the_next_message_links_it_to_the_same_records(
    db: Session, sandbox: Sandbox, alice: User
) -> None:
    first, second, _third = sandbox.thread(ex.THREAD_TRIPLE_PERSON)
    ines = sandbox.person(ex.TRIPLE_PERSON_EMAIL)
    client = sandbox.client()
    link_thread(db, client, user=alice, message=first, records=[ines], tuning=FAST)
    db.commit()
    assert sandbox.emails(second.message_id) == []

    outcome = link_if_thread_linked(db, client, user=alice, message=second, tuning=FAST)
    db.commit()

    assert outcome is not None and outcome.changed
    assert outcome.line == "Linked because this thread is linked to Inès Moreau."
    assert sandbox.targets(second.message_id) == [("contacts", ines.id)]
    state = thread_state(db, mailbox=second.mailbox, thread_id=second.thread_id, message_id=second.message_id)
    assert state.note == outcome.line and state.pending == ()
    (_, sticky) = sorted(audit_entries(db, action="link"), key=lambda e: e.id)
    assert sticky.details["via"] == "thread"


def test_an_already_linked_message_costs_no_oro_call(db: Session, sandbox: Sandbox, alice: User) -> None:
    first, second, _ = sandbox.thread(ex.THREAD_TRIPLE_PERSON)
    ines = sandbox.person(ex.TRIPLE_PERSON_EMAIL)
    link_thread(db, sandbox.client(), user=alice, message=first, records=[ines], earlier=[], tuning=FAST)
    link_if_thread_linked(db, sandbox.client(), user=alice, message=second, tuning=FAST)
    db.commit()

    recording = RecordingClient(sandbox.client())
    again = link_if_thread_linked(db, recording, user=alice, message=second, tuning=FAST)

    assert again is not None and again.changed is False
    assert again.line == "Linked because this thread is linked to Inès Moreau."
    assert recording.calls == []
    assert len(sandbox.emails(second.message_id)) == 1


def test_a_message_of_an_unlinked_thread_is_left_alone(db: Session, sandbox: Sandbox, alice: User) -> None:
    (message,) = sandbox.thread(ex.THREAD_UNKNOWN_SENDER)
    recording = RecordingClient(sandbox.client())
    before = sandbox.email_count()

    assert link_if_thread_linked(db, recording, user=alice, message=message, tuning=FAST) is None
    assert recording.calls == [] and sandbox.email_count() == before
