"""Notes on linked records, and a record's history (its recent emails and notes)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from connector.audit.operations import audit_entries
from connector.db.models import User
from connector.linking.errors import InvalidRequest
from connector.linking.operations import add_note, link_thread, record_history
from connector.sandbox import examples as ex
from tests.linking.conftest import FAST, RecordingClient, Sandbox


def test_a_note_is_added_once_however_often_it_is_sent(db: Session, sandbox: Sandbox, alice: User) -> None:
    ines = sandbox.person(ex.TRIPLE_PERSON_EMAIL)
    before = sandbox.count("notes")
    client = RecordingClient(sandbox.client())

    text = "Called back: <ship> on the 14th\n\nPrices & terms OK"
    first = add_note(db, client, user=alice, record=ines, text=text)
    db.commit()
    again = add_note(db, client, user=alice, record=ines, text=text)  # a double click
    db.commit()

    assert sandbox.count("notes") == before + 1
    assert again.note_id == first.note_id and again.reused and not first.reused
    assert client.calls == ["create_note"]
    note = sandbox.record("notes", first.note_id)
    html = "<p>Called back: &lt;ship&gt; on the 14th</p><p>Prices &amp; terms OK</p>"
    assert note.attributes["message"] == html
    assert note.relationships["activityTargets"] == [("contacts", ines.id)]
    (entry,) = audit_entries(db, action="note")
    assert entry.subject == f"contacts:{ines.id}" and entry.details["note_id"] == first.note_id


def test_an_empty_note_is_refused_before_oro(db: Session, sandbox: Sandbox, alice: User) -> None:
    recording = RecordingClient(sandbox.client())
    with pytest.raises(InvalidRequest):
        add_note(db, recording, user=alice, record=sandbox.person(ex.TRIPLE_PERSON_EMAIL), text="  \n ")
    assert recording.calls == []


def test_the_history_shows_the_linked_emails_and_the_notes_newest_first(
    db: Session, sandbox: Sandbox, alice: User
) -> None:
    first, second, _ = sandbox.thread(ex.THREAD_TRIPLE_PERSON)
    ines = sandbox.person(ex.TRIPLE_PERSON_EMAIL)
    client = sandbox.client()
    link_thread(db, client, user=alice, message=second, records=[ines], earlier=[first], tuning=FAST)
    add_note(db, client, user=alice, record=ines, text="First call")
    add_note(db, client, user=alice, record=ines, text="Second call")
    db.commit()

    history = record_history(client, record=ines.ref)

    assert [e.subject for e in history.emails][:2] == [second.subject, first.subject]
    assert history.emails[0].sender == "Alice Martin"
    assert [n.text for n in history.notes][:2] == ["Second call", "First call"]
