"""Linking a thread to Oro records: one Oro email per message, one target per record, whatever happens."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.audit.operations import audit_entries
from connector.db import db as database
from connector.db.models import User
from connector.linking.errors import LinkInProgress, OroTooOld, OroWriteUncertain
from connector.linking.models import MessageLink, SyncedMessage, ThreadLink
from connector.linking.operations import link_thread, thread_state
from connector.linking.schemas import LinkTarget
from connector.mail.message import MailMessage
from connector.sandbox import examples as ex
from tests.linking.conftest import FAST, RecordingClient, Sandbox, make_user


def test_a_link_logs_the_email_into_oro_with_the_chosen_record(
    db: Session, sandbox: Sandbox, alice: User
) -> None:
    first, *_ = sandbox.thread(ex.THREAD_TRIPLE_PERSON)
    ines = sandbox.person(ex.TRIPLE_PERSON_EMAIL)
    before = sandbox.email_count()

    result = link_thread(db, sandbox.client(), user=alice, message=first, records=[ines], tuning=FAST)
    db.commit()

    (email,) = sandbox.emails(first.message_id)
    assert sandbox.email_count() == before + 1
    # Exactly the chosen record: Oro does not add the other owners of the addresses (lead, customer user).
    assert sandbox.targets(first.message_id) == [("contacts", ines.id)]
    assert email.attributes["subject"] == first.subject
    assert email.attributes["from"]["email"] == ex.TRIPLE_PERSON_EMAIL
    assert email.attributes["body"]["content"].startswith("Bonjour Alice")
    assert result.messages[0].created and result.messages[0].oro_email_id == email.id
    linked = result.state.records
    assert [(r.type, r.id, r.title, r.linked_by) for r in linked] == [
        ("contacts", ines.id, "Inès Moreau", ex.ALICE_MAILBOX)
    ]
    assert result.state.oro_email_id == email.id and result.state.message_records == (ines.ref,)


def test_the_link_state_is_read_without_oro(db: Session, sandbox: Sandbox, alice: User) -> None:
    first, second, _third = sandbox.thread(ex.THREAD_TRIPLE_PERSON)
    ines = sandbox.person(ex.TRIPLE_PERSON_EMAIL)
    link_thread(db, sandbox.client(), user=alice, message=first, records=[ines], tuning=FAST)
    db.commit()
    sandbox.world.oro.configure(down=True, down_hold_seconds=2)  # Oro hangs: a round trip would show
    try:
        started = time.monotonic()
        state = thread_state(
            db, mailbox=first.mailbox, thread_id=first.thread_id, message_id=second.message_id
        )
        elapsed = time.monotonic() - started
    finally:
        sandbox.world.oro.configure(down=False)
    assert elapsed < 1.0
    assert state.is_linked and [r.title for r in state.records] == ["Inès Moreau"]
    assert state.oro_email_id is None  # the second message is not in Oro yet
    assert [r.title for r in state.pending] == ["Inès Moreau"]


def test_repeated_link_requests_give_one_email_and_one_target(
    db: Session, sandbox: Sandbox, alice: User
) -> None:
    first, *_ = sandbox.thread(ex.THREAD_TRIPLE_PERSON)
    ines = sandbox.person(ex.TRIPLE_PERSON_EMAIL)
    client = RecordingClient(sandbox.client())

    outcomes = []
    for _ in range(3):  # a double click and a retry
        outcomes.append(link_thread(db, client, user=alice, message=first, records=[ines], tuning=FAST))
        db.commit()

    assert len(sandbox.emails(first.message_id)) == 1
    assert sandbox.targets(first.message_id) == [("contacts", ines.id)]
    assert [o.messages[0].created for o in outcomes] == [True, False, False]
    assert [len(o.added) for o in outcomes] == [1, 0, 0]
    # One write; each repeat only reads the email's context (which is a set in Oro anyway).
    assert client.calls == ["find_email", "create_email", "email_targets", "email_targets"]
    assert db.scalar(select(func.count()).select_from(ThreadLink)) == 1
    assert db.scalar(select(func.count()).select_from(MessageLink)) == 1
    assert len(audit_entries(db, action="link")) == 1  # the repeats changed nothing


def test_several_records_per_thread_and_the_earlier_messages_too(
    db: Session, sandbox: Sandbox, alice: User
) -> None:
    first, second, third = sandbox.thread(ex.THREAD_TRIPLE_PERSON)
    ines = sandbox.person(ex.TRIPLE_PERSON_EMAIL)
    lead = sandbox.person(ex.TRIPLE_PERSON_EMAIL, "leads")
    client = sandbox.client()

    link_thread(db, client, user=alice, message=third, records=[ines], earlier=[first, second], tuning=FAST)
    db.commit()
    result = link_thread(db, client, user=alice, message=third, records=[lead], earlier=[first], tuning=FAST)
    db.commit()

    for message in (first, second, third):
        assert len(sandbox.emails(message.message_id)) == 1
    assert sorted(sandbox.targets(third.message_id)) == [("contacts", ines.id), ("leads", lead.id)]
    assert sorted(sandbox.targets(first.message_id)) == [("contacts", ines.id), ("leads", lead.id)]
    assert sandbox.targets(second.message_id) == [("contacts", ines.id)]  # not passed the second time
    assert {r.type for r in result.state.records} == {"contacts", "leads"}
    # Oro threads them as one conversation, from the references the connector sent.
    ids = [sandbox.emails(m.message_id)[0].id for m in (first, second, third)]
    with sandbox.world.lock:
        assert len({sandbox.world.oro.email_threads[i] for i in ids}) == 1


def test_parallel_links_by_two_users_give_one_email_and_one_target(
    db: Session, linking_app: Flask, sandbox: Sandbox, alice: User
) -> None:
    first, *_ = sandbox.thread(ex.THREAD_TRIPLE_PERSON)
    ines = sandbox.person(ex.TRIPLE_PERSON_EMAIL)
    admin = make_user(db, ex.ADMIN_EMAIL, "Admin")
    db.commit()
    # The same message is in both mailboxes (alice forwarded nothing: admin was Bcc'd, say).
    in_admin_box = MailMessage(**{**first.__dict__, "mailbox": ex.ADMIN_EMAIL, "thread_id": "admin-thread"})
    jobs = [(alice.id, "alice", first)] * 4 + [(admin.id, "admin", in_admin_box)] * 4
    clients = {name: RecordingClient(sandbox.client(name)) for name in ("alice", "admin")}
    start = threading.Barrier(len(jobs))
    errors: list[BaseException] = []
    created: list[bool] = []

    def run(user_id: int, oro_user: str, message: MailMessage) -> None:
        try:
            with linking_app.app_context(), database.session_scope(linking_app) as session:
                user = session.get(User, user_id)
                assert user is not None
                start.wait()
                result = link_thread(
                    session, clients[oro_user], user=user, message=message, records=[ines], tuning=FAST
                )
                created.append(result.messages[0].created)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(sandbox.emails(first.message_id)) == 1
    assert sandbox.targets(first.message_id) == [("contacts", ines.id)]
    assert sorted(created) == [False] * 7 + [True]
    # One request wrote; the others waited for its claim and then only read, so no second POST reached
    # Oro at all (whether or not Oro itself would refuse a duplicate Message-ID).
    calls = clients["alice"].calls + clients["admin"].calls
    assert calls.count("create_email") == 1 and calls.count("add_email_targets") == 0
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(SyncedMessage)) == 1
    links = db.scalars(select(ThreadLink).order_by(ThreadLink.mailbox)).all()
    assert [(link.mailbox, link.linked_by) for link in links] == [
        (ex.ADMIN_EMAIL, ex.ADMIN_EMAIL), (ex.ALICE_MAILBOX, ex.ALICE_MAILBOX)
    ]


def test_a_retry_after_a_timeout_finds_the_email_instead_of_writing_another(
    db: Session, sandbox: Sandbox, alice: User
) -> None:
    first, *_ = sandbox.thread(ex.THREAD_TRIPLE_PERSON)
    ines = sandbox.person(ex.TRIPLE_PERSON_EMAIL)
    oro = sandbox.world.oro

    def slow_create(name: str) -> None:
        # Oro takes longer to store the email than the client waits; reads stay fast.
        oro.configure(latency_ms=800 if name == "create_email" else 0)

    slow = RecordingClient(sandbox.client(read_timeout=0.3), before=slow_create)
    with pytest.raises(OroWriteUncertain) as uncertain:
        link_thread(db, slow, user=alice, message=first, records=[ines], tuning=FAST)
    oro.configure(latency_ms=0)
    assert uncertain.value.code == "oro_write_uncertain" and uncertain.value.retryable

    # Retrying at once is held off while Oro may still be storing the first attempt.
    impatient = FAST.__class__(**{**FAST.__dict__, "wait_seconds": 0.0})
    with pytest.raises(LinkInProgress):
        link_thread(db, sandbox.client(), user=alice, message=first, records=[ines], tuning=impatient)

    time.sleep(FAST.settle_seconds + 0.3)
    retry = RecordingClient(sandbox.client())
    result = link_thread(db, retry, user=alice, message=first, records=[ines], tuning=FAST)
    db.commit()

    assert len(sandbox.emails(first.message_id)) == 1  # the slow write's email, not a second one
    assert result.messages[0].created is False
    assert "create_email" not in retry.calls and retry.calls[0] == "find_email"
    assert sandbox.targets(first.message_id) == [("contacts", ines.id)]
    assert thread_state(
        db, mailbox=first.mailbox, thread_id=first.thread_id, message_id=first.message_id
    ).oro_email_id == sandbox.emails(first.message_id)[0].id


def test_oro_answering_409_for_a_known_message_id_adopts_the_stored_email(
    db: Session, sandbox: Sandbox, alice: User
) -> None:
    # The linked-in-oro thread is in Oro already (stored by Oro's own mailbox sync). Make the first
    # look-up miss it, as if Oro stored it between our look and our write: Oro answers 409.
    first, *_ = sandbox.thread(ex.THREAD_LINKED_IN_ORO)
    stored = sandbox.emails(first.message_id)[0]
    inner = sandbox.client()
    looks = []

    class MissOnce(RecordingClient):
        def find_email(self, *, message_id: str) -> Any:
            looks.append(message_id)
            return None if len(looks) == 1 else inner.find_email(message_id=message_id)

    lead = sandbox.person(ex.TRIPLE_PERSON_EMAIL, "leads")
    result = link_thread(db, MissOnce(inner), user=alice, message=first, records=[lead], tuning=FAST)
    db.commit()

    assert len(sandbox.emails(first.message_id)) == 1
    assert result.messages[0].oro_email_id == stored.id and not result.messages[0].created
    assert ("leads", lead.id) in sandbox.targets(first.message_id)


def test_an_oro_before_6_is_told_apart_and_nothing_is_claimed(
    db: Session, sandbox: Sandbox, alice: User
) -> None:
    first, *_ = sandbox.thread(ex.THREAD_TRIPLE_PERSON)
    ines = sandbox.person(ex.TRIPLE_PERSON_EMAIL)
    sandbox.world.oro.configure(disabled_resources={"emails", "emailcontext", "emailthreadcontext"})
    client = sandbox.client()
    capabilities = client.capabilities()
    assert capabilities.emails_api is False

    with pytest.raises(OroTooOld, match=r"Oro 6\.0 or later"):
        link_thread(db, client, user=alice, message=first, records=[ines], capabilities=capabilities)
    # Without the capabilities at hand, Oro's 404 for the emails resource says the same.
    with pytest.raises(OroTooOld) as refused:
        link_thread(db, client, user=alice, message=first, records=[ines], tuning=FAST)
    db.commit()

    assert refused.value.code == "oro_too_old"
    assert db.scalar(select(func.count()).select_from(SyncedMessage)) == 0
    assert db.scalar(select(func.count()).select_from(ThreadLink)) == 0


def test_every_link_is_audited_with_who_and_which_records(
    db: Session, sandbox: Sandbox, alice: User
) -> None:
    first, *_ = sandbox.thread(ex.THREAD_TRIPLE_PERSON)
    ines = sandbox.person(ex.TRIPLE_PERSON_EMAIL)
    account = LinkTarget("accounts", "2", "Lumière Optique SARL")

    link_thread(db, sandbox.client(), user=alice, message=first, records=[ines, account], tuning=FAST)
    db.commit()

    (entry,) = audit_entries(db, action="link")
    assert entry.actor == ex.ALICE_MAILBOX and entry.actor_id == alice.id
    assert entry.subject == f"thread:{first.mailbox}:{first.thread_id}"
    assert entry.details["records"] == ["accounts:2", f"contacts:{ines.id}"]
    email_id = sandbox.emails(first.message_id)[0].id
    assert entry.details["messages"][0]["oro_email_id"] == email_id


def test_a_context_removed_in_oro_is_put_back_when_the_thread_is_linked_again(
    db: Session, sandbox: Sandbox, alice: User
) -> None:
    first, *_ = sandbox.thread(ex.THREAD_TRIPLE_PERSON)
    ines = sandbox.person(ex.TRIPLE_PERSON_EMAIL)
    link_thread(db, sandbox.client(), user=alice, message=first, records=[ines], tuning=FAST)
    db.commit()
    (email,) = sandbox.emails(first.message_id)
    with sandbox.world.lock:  # someone removes the context in Oro's own back office
        sandbox.world.oro.set_relationship(email, "activityTargets", [])

    result = link_thread(db, sandbox.client(), user=alice, message=first, records=[ines], tuning=FAST)
    db.commit()

    assert sandbox.targets(first.message_id) == [("contacts", ines.id)]
    assert result.messages[0].added == (ines.ref,) and len(sandbox.emails(first.message_id)) == 1
