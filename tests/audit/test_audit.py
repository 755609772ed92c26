"""The audit log: who did what to which records and when, kept with the change it describes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from connector.audit.operations import audit_entries, record_audit
from connector.db.models import User
from connector.linking.operations import add_note, create_from_email, link_thread, unlink_record
from connector.sandbox import examples as ex
from tests.linking.conftest import FAST, Sandbox, make_user


def test_entries_name_the_actor_and_are_listed_newest_first(db: Session) -> None:
    alice = make_user(db, ex.ALICE_MAILBOX)
    record_audit(db, actor=alice, action="link", subject="thread:a:1", details={"records": ["contacts:3"]})
    record_audit(db, actor=None, action="link", subject="thread:a:2", details={"records": ["leads:1"]})
    record_audit(db, actor=alice, action="note", subject="contacts:3", details={"note_id": "9"})
    db.commit()

    assert [(e.action, e.subject, e.actor) for e in audit_entries(db)] == [
        ("note", "contacts:3", ex.ALICE_MAILBOX),
        ("link", "thread:a:2", "system"),
        ("link", "thread:a:1", ex.ALICE_MAILBOX),
    ]
    assert [e.subject for e in audit_entries(db, actor=alice, action="link")] == ["thread:a:1"]
    assert audit_entries(db, subject="contacts:3")[0].details == {"note_id": "9"}


def test_an_entry_outlives_its_user_and_disappears_with_a_rolled_back_change(db: Session) -> None:
    bob = make_user(db, ex.BOB_MAILBOX)
    record_audit(db, actor=bob, action="unlink", subject="thread:b:1", details={"records": ["contacts:1"]})
    db.commit()
    record_audit(db, actor=bob, action="link", subject="thread:b:2", details={})
    db.rollback()  # the request failed: its entry goes with it

    db.delete(db.get(User, bob.id))
    db.commit()
    db.expire_all()

    (entry,) = audit_entries(db)
    assert (entry.action, entry.actor, entry.actor_id) == ("unlink", ex.BOB_MAILBOX, None)


def test_link_note_unlink_and_create_each_leave_an_entry(
    db: Session, sandbox_server: Any, backend: str
) -> None:
    sandbox = Sandbox(sandbox_server.oro_url, sandbox_server.world)
    alice = make_user(db, ex.ALICE_MAILBOX)
    db.commit()
    client = sandbox.client()
    first, *_ = sandbox.thread(ex.THREAD_TRIPLE_PERSON)
    (unknown,) = sandbox.thread(ex.THREAD_UNKNOWN_SENDER)
    ines = sandbox.person(ex.TRIPLE_PERSON_EMAIL)
    assert unknown.sender is not None

    link_thread(db, client, user=alice, message=first, records=[ines], tuning=FAST)
    note = add_note(db, client, user=alice, record=ines, text="Prefers calls after 10:00")
    unlink_record(db, client, user=alice, message=first, record=ines.ref)
    lead = create_from_email(db, client, user=alice, kind="lead", message=unknown, participant=unknown.sender,
                             link=False)
    db.commit()
    for connection in sandbox.connections:
        connection.close()

    assert lead.created is not None
    entries = list(reversed(audit_entries(db)))
    assert [(e.action, e.subject, e.details["records"]) for e in entries] == [
        ("link", f"thread:{first.mailbox}:{first.thread_id}", [f"contacts:{ines.id}"]),
        ("note", f"contacts:{ines.id}", [f"contacts:{ines.id}"]),
        ("unlink", f"thread:{first.mailbox}:{first.thread_id}", [f"contacts:{ines.id}"]),
        ("create", f"leads:{lead.created.id}", [f"leads:{lead.created.id}"]),
    ]
    assert all(e.actor == ex.ALICE_MAILBOX and e.at is not None for e in entries)
    assert entries[1].details["note_id"] == note.note_id
