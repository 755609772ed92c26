"""Unlinking: the record leaves the thread's context in Oro and the thread is no longer linked here."""

from __future__ import annotations

from sqlalchemy.orm import Session

from connector.audit.operations import audit_entries
from connector.db.models import User
from connector.linking.operations import link_if_thread_linked, link_thread, unlink_record
from connector.sandbox import examples as ex
from tests.linking.conftest import FAST, RecordingClient, Sandbox


def test_unlink_removes_the_record_from_every_email_of_the_thread(
    db: Session, sandbox: Sandbox, alice: User
) -> None:
    first, second, third = sandbox.thread(ex.THREAD_TRIPLE_PERSON)
    ines = sandbox.person(ex.TRIPLE_PERSON_EMAIL)
    lead = sandbox.person(ex.TRIPLE_PERSON_EMAIL, "leads")
    client = sandbox.client()
    link_thread(db, client, user=alice, message=second, records=[ines, lead], earlier=[first], tuning=FAST)
    db.commit()

    result = unlink_record(db, client, user=alice, message=second, record=ines.ref)
    db.commit()

    for message in (first, second):
        assert sandbox.targets(message.message_id) == [("leads", lead.id)]
    assert result.was_linked and result.removed_from
    assert [r.type for r in result.state.records] == ["leads"]
    assert result.state.message_records == (lead.ref,)
    # The thread stays linked to the lead only: the next message follows that.
    sticky = link_if_thread_linked(db, client, user=alice, message=third, tuning=FAST)
    db.commit()
    assert sticky is not None and [r.ref for r in sticky.records] == [lead.ref]
    assert sandbox.targets(third.message_id) == [("leads", lead.id)]
    (entry,) = audit_entries(db, action="unlink")
    assert entry.details["records"] == [f"contacts:{ines.id}"] and entry.actor == ex.ALICE_MAILBOX


def test_unlinking_a_thread_oro_linked_by_itself_clears_its_context_there(
    db: Session, sandbox: Sandbox, alice: User
) -> None:
    messages = sandbox.thread(ex.THREAD_LINKED_IN_ORO)
    sophie = sandbox.person("sophie.wagner@nordlicht-logistik.example")
    assert all(("contacts", sophie.id) in sandbox.targets(m.message_id) for m in messages)

    result = unlink_record(db, sandbox.client(), user=alice, message=messages[-1], record=sophie.ref)
    db.commit()

    assert not result.was_linked and result.removed_from  # not linked here, but it was in Oro
    account = sandbox.account(ex.UNKNOWN_SENDER_COMPANY)
    for message in messages:
        assert ("contacts", sophie.id) not in sandbox.targets(message.message_id)
        assert ("accounts", account.id) in sandbox.targets(message.message_id)


def test_unlinking_twice_changes_nothing_the_second_time(db: Session, sandbox: Sandbox, alice: User) -> None:
    first, *_ = sandbox.thread(ex.THREAD_TRIPLE_PERSON)
    ines = sandbox.person(ex.TRIPLE_PERSON_EMAIL)
    link_thread(db, sandbox.client(), user=alice, message=first, records=[ines], tuning=FAST)
    unlink_record(db, sandbox.client(), user=alice, message=first, record=ines.ref)
    db.commit()

    recording = RecordingClient(sandbox.client())
    again = unlink_record(db, recording, user=alice, message=first, record=ines.ref)
    db.commit()

    assert not again.was_linked and again.removed_from == ()
    assert recording.calls == ["remove_from_thread_context"]  # Oro says: not in the context (404)
    assert sandbox.targets(first.message_id) == []
    assert len(audit_entries(db, action="unlink")) == 1
