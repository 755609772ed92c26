"""Creating Oro records from an email: prefilled, checked for duplicates first, then linked to the thread."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from connector.audit.operations import audit_entries
from connector.db.models import User
from connector.linking.errors import InvalidRequest
from connector.linking.operations import create_from_email
from connector.linking.prefill import company_from_domain, split_name
from connector.linking.schemas import CreateFields
from connector.mail.addresses import EmailAddress
from connector.sandbox import examples as ex
from tests.linking.conftest import FAST, RecordingClient, Sandbox


def test_creating_a_contact_for_a_known_address_offers_the_existing_records(
    db: Session, sandbox: Sandbox, alice: User
) -> None:
    first, *_ = sandbox.thread(ex.THREAD_TRIPLE_PERSON)
    assert first.sender is not None
    before = sandbox.count("contacts")

    outcome = create_from_email(db, sandbox.client(), user=alice, kind="contact", message=first,
                                participant=first.sender, link_tuning=FAST)

    assert outcome.created is None and sandbox.count("contacts") == before
    offered = {(d.record.type, d.record.id) for d in outcome.duplicates}
    assert offered >= {
        ("contacts", sandbox.person(ex.TRIPLE_PERSON_EMAIL).id),
        ("leads", sandbox.person(ex.TRIPLE_PERSON_EMAIL, "leads").id),
    }
    why = f"A contact with the address {ex.TRIPLE_PERSON_EMAIL} exists."
    assert any(d.why == why for d in outcome.duplicates)
    assert (outcome.prefill.first_name, outcome.prefill.last_name) == ("Inès", "Moreau")
    assert audit_entries(db, action="create") == []


def test_a_lead_from_an_unknown_sender_is_prefilled_created_once_and_linked(
    db: Session, sandbox: Sandbox, alice: User
) -> None:
    (message,) = sandbox.thread(ex.THREAD_UNKNOWN_SENDER)
    assert message.sender is not None
    client = RecordingClient(sandbox.client())
    before = sandbox.count("leads")

    outcome = create_from_email(
        db, client, user=alice, kind="lead", message=message, participant=message.sender, link_tuning=FAST
    )
    db.commit()
    again = create_from_email(  # a double click on "create anyway"
        db, client, user=alice, kind="lead", message=message, participant=message.sender, confirm=True,
        link_tuning=FAST,
    )
    db.commit()

    assert outcome.created is not None and outcome.duplicates == ()
    assert sandbox.count("leads") == before + 1 and client.calls.count("create_lead") == 1
    assert again.reused and again.created == outcome.created
    lead = sandbox.record("leads", outcome.created.id)
    assert lead.attributes["companyName"] == "Nordlicht Logistik"
    assert (lead.attributes["firstName"], lead.attributes["lastName"]) == ("Einkauf", "Nordlicht")
    assert lead.attributes["primaryEmail"] == ex.UNKNOWN_SENDER
    assert sandbox.targets(message.message_id) == [("leads", outcome.created.id)]
    assert outcome.link is not None and [r.id for r in outcome.link.state.records] == [outcome.created.id]
    (created,) = audit_entries(db, action="create")
    assert created.subject == f"leads:{outcome.created.id}"
    assert created.details["participant"] == ex.UNKNOWN_SENDER


def test_an_opportunity_gets_the_contacts_account_and_a_second_one_is_offered_instead(
    db: Session, sandbox: Sandbox, alice: User
) -> None:
    first, *_ = sandbox.thread(ex.THREAD_TRIPLE_PERSON)
    assert first.sender is not None
    fields = CreateFields(name="AR coating 2027", close_date=date(2027, 3, 31))

    made = create_from_email(db, sandbox.client(), user=alice, kind="opportunity", message=first,
                             participant=first.sender, fields=fields, link_tuning=FAST)
    db.commit()
    offered = create_from_email(db, sandbox.client(), user=alice, kind="opportunity", message=first,
                                participant=first.sender, fields=fields, idempotency_key="second-form",
                                link_tuning=FAST)

    assert made.created is not None
    deal = sandbox.record("opportunities", made.created.id)
    ines = sandbox.person(ex.TRIPLE_PERSON_EMAIL)
    assert deal.attributes["name"] == "AR coating 2027"
    assert deal.relationships["contact"] == ("contacts", ines.id)
    assert deal.relationships["account"] == ("accounts", "2")
    assert ("opportunities", made.created.id) in sandbox.targets(first.message_id)
    assert offered.created is None
    assert [(d.record.type, d.record.id) for d in offered.duplicates] == [("opportunities", made.created.id)]


def test_an_opportunity_without_any_account_is_refused_before_oro(
    db: Session, sandbox: Sandbox, alice: User
) -> None:
    (message,) = sandbox.thread(ex.THREAD_UNKNOWN_SENDER)
    assert message.sender is not None
    before = sandbox.count("opportunities")
    with pytest.raises(InvalidRequest, match="needs an account"):
        create_from_email(db, sandbox.client(), user=alice, kind="opportunity", message=message,
                          participant=message.sender, link_tuning=FAST)
    assert sandbox.count("opportunities") == before


def test_a_case_and_a_task_from_an_email(db: Session, sandbox: Sandbox, alice: User) -> None:
    *_, third = sandbox.thread(ex.THREAD_TRIPLE_PERSON)
    assert third.sender is not None
    ines = sandbox.person(ex.TRIPLE_PERSON_EMAIL)
    client = sandbox.client()

    case = create_from_email(db, client, user=alice, kind="case", message=third, participant=third.sender,
                             link_tuning=FAST)
    task = create_from_email(db, client, user=alice, kind="task", message=third, participant=third.sender,
                             link_tuning=FAST)
    db.commit()

    assert case.created is not None and task.created is not None
    stored_case = sandbox.record("cases", case.created.id)
    assert stored_case.attributes["subject"] == "Lens coating order — delivery date?"
    assert stored_case.relationships["relatedContact"] == ("contacts", ines.id)
    assert "updated price list" in stored_case.attributes["description"]
    stored_task = sandbox.record("tasks", task.created.id)
    assert stored_task.attributes["subject"] == "Follow up: Lens coating order — delivery date?"
    assert ("contacts", ines.id) in stored_task.relationships["activityTargets"]
    # A task is no email context in Oro: the thread is linked to the case and to the task's people.
    targets = sandbox.targets(third.message_id)
    assert ("cases", case.created.id) in targets and ("contacts", ines.id) in targets
    assert [e.action for e in reversed(audit_entries(db))] == ["create", "link", "create", "link"]


def test_names_and_companies_are_taken_from_the_address() -> None:
    def parsed(text: str, name: str = "") -> EmailAddress:
        address = EmailAddress.parse(text, name)
        assert address is not None
        return address

    assert split_name("Moreau, Inès") == ("Inès", "Moreau")
    assert split_name("", "jean-baptiste.lefevre") == ("Jean Baptiste", "Lefevre")
    assert split_name("Mary Ann van der Berg") == ("Mary Ann", "van der Berg")
    assert company_from_domain(parsed("a@mail.lumiere-optique.example")) == "Lumiere Optique"
    assert company_from_domain(parsed("a@harrods.co.uk")) == "Harrods"
    assert company_from_domain(parsed("someone@gmail.com")) == ""
