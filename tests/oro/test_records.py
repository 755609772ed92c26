"""Oro's documents become our records: money, dates, statuses, links, and what goes back to Oro."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from connector.oro import (
    Contact,
    EmailAddress,
    EmailBody,
    EmailContextItem,
    Filter,
    Lead,
    NewEmail,
    Opportunity,
    Order,
    Query,
    Range,
    RecordRef,
    SearchHit,
)
from connector.oro.records import Email, Note, Task, User

BACKOFFICE = "https://oro.example.com/admin"

# Shapes from Oro's functional-test fixtures (reference §3.1, §3.3, §3.6, §4.1).
ORDER = {"type": "orders", "id": "15",
         "attributes": {"identifier": "simple_order", "poNumber": "1234567890", "currency": "USD",
                        "subtotalValue": "789.0000", "totalValue": "1234.0000", "external": False,
                        "createdAt": "2024-01-05T09:30:00Z", "updatedAt": "2024-01-06T10:00:00Z"},
         "relationships": {"internalStatus": {"data": {"type": "orderinternalstatuses", "id": "open"}},
                           "status": {"data": None},
                           "shippingStatus": {"data": {"type": "ordershippingstatuses", "id": "not_shipped"}},
                           "customerUser": {"data": {"type": "customerusers", "id": "7"}},
                           "customer": {"data": {"type": "customers", "id": "3"}}}}

CONTACT = {"type": "contacts", "id": "1",
           "attributes": {"firstName": "Contact 1", "lastName": None, "jobTitle": None,
                          "createdAt": "2024-01-01T10:00:00Z", "updatedAt": "2024-01-02T10:00:00Z",
                          "primaryEmail": "contact1_2@example.com", "primaryPhone": "5556661112",
                          "emails": [{"email": "contact1_1@example.com"},
                                     {"email": "contact1_2@example.com"}],
                          "phones": [{"phone": "5556661111"}, {"phone": "5556661112"}]},
           "relationships": {"owner": {"data": {"type": "users", "id": "1"}},
                             "accounts": {"data": [{"type": "accounts", "id": "1"}]}}}

OPPORTUNITY = {"type": "opportunities", "id": "1",
               "attributes": {"name": "Opportunity 1", "closeDate": "2017-01-01", "probability": 1,
                              "budgetAmountCurrency": "USD", "budgetAmountValue": "50.0000",
                              "closeRevenueCurrency": "USD", "closeRevenueValue": "100.0000"},
               "relationships": {"status": {"data": {"type": "opportunitystatuses", "id": "lost"}},
                                 "contact": {"data": None}, "lead": {"data": {"type": "leads", "id": "1"}},
                                 "account": {"data": {"type": "accounts", "id": "1"}},
                                 "customer": {"data": {"type": "b2bcustomers", "id": "1"}}}}


def test_an_order_keeps_its_money_exact_and_its_dates_aware() -> None:
    order = Order.from_jsonapi(ORDER, backoffice_url=BACKOFFICE)

    assert (order.type, order.id, order.identifier) == ("orders", "15", "simple_order")
    assert order.po_number == "1234567890"
    assert order.total_value == Decimal("1234.0000") and order.currency == "USD"
    assert order.total is not None and order.total.amount + Decimal("0.01") == Decimal("1234.01")
    assert order.internal_status == "open" and order.status is None and order.shipping_status == "not_shipped"
    assert order.created_at == datetime(2024, 1, 5, 9, 30, tzinfo=UTC)
    assert (order.customer_id, order.customer_user_id) == ("3", "7")
    assert order.url == "https://oro.example.com/admin/order/view/15"


def test_a_contact_keeps_every_address_and_its_account() -> None:
    found = Contact.from_jsonapi(CONTACT, backoffice_url="https://crm.example.com")

    assert found.emails == ("contact1_1@example.com", "contact1_2@example.com")
    assert found.primary_email == "contact1_2@example.com"
    assert found.phones == ("5556661111", "5556661112")
    assert found.account_ids == ("1",) and found.owner_id == "1"
    assert found.title == "Contact 1"
    assert found.url == "https://crm.example.com/contact/view/1"  # OroCRM: no back-office prefix


def test_an_opportunity_splits_money_into_amount_and_currency() -> None:
    found = Opportunity.from_jsonapi(OPPORTUNITY)

    assert found.budget is not None and found.budget.amount == Decimal("50.0000")
    assert found.close_revenue is not None and found.close_revenue.currency == "USD"
    assert found.probability == 1.0 and found.close_date == date(2017, 1, 1)
    assert found.status == "lost" and not found.is_open
    assert (found.account_id, found.customer_id, found.lead_id, found.contact_id) == ("1", "1", "1", None)
    assert found.url is None  # no back-office URL was given to build one from


def test_a_record_of_another_type_is_refused() -> None:
    with pytest.raises(ValueError, match="contacts"):
        Lead.from_jsonapi(CONTACT)


def test_an_email_context_item_carries_the_included_record_and_oro_s_page() -> None:
    item = {"type": "emailcontext", "id": "contacts-1",
            "links": {"entityUrl": "https://oro.example.com/admin/contact/view/1"},
            "attributes": {"entityName": "Contact 1", "isContext": True},
            "relationships": {"entity": {"data": {"type": "contacts", "id": "1"}}}}

    parsed = EmailContextItem.from_jsonapi(item, {("contacts", "1"): CONTACT}, backoffice_url=BACKOFFICE)

    assert parsed.entity == RecordRef("contacts", "1") and parsed.is_context is True
    assert parsed.url == "https://oro.example.com/admin/contact/view/1"
    assert isinstance(parsed.record, Contact) and parsed.record.primary_email == "contact1_2@example.com"
    assert parsed.record.url == parsed.url
    assert parsed.title == "Contact 1"


def test_a_search_hit_of_a_type_the_client_does_not_model_still_names_and_links_it() -> None:
    hit = {"type": "search", "id": "calendarevents-4",
           "links": {"entityUrl": "https://oro.example.com/admin/calendar/event/view/4"},
           "attributes": {"entityName": "Kick-off"},
           "relationships": {"entity": {"data": {"type": "calendarevents", "id": "4"}}}}
    included = {("calendarevents", "4"): {"type": "calendarevents", "id": "4", "attributes": {}}}

    parsed = SearchHit.from_jsonapi(hit, included)

    assert parsed.record is None and parsed.entity == RecordRef("calendarevents", "4")
    assert parsed.title == "Kick-off" and parsed.url.endswith("/calendar/event/view/4")


def test_an_email_keeps_its_thread_headers_and_context_ids() -> None:
    email = Email.from_jsonapi({
        "type": "emails", "id": "12",
        "attributes": {"subject": "Re: Quote", "messageId": "<id1@mail.test>",
                       "sentAt": "2022-05-01T12:01:00Z",
                       "head": True, "references": ["<other@mail.test>"],
                       "from": {"name": None, "email": "admin@example.com"},
                       "toRecipients": [{"name": "User One", "email": "user1@example.com"}],
                       "ccRecipients": [], "bccRecipients": []},
        "relationships": {"activityTargets": {"data": [
            {"type": "users", "id": "1", "meta": {"emailThreadContextItemId": "users-1-12"}}]}},
    })

    assert email.message_id == "<id1@mail.test>" and email.references == ("<other@mail.test>",)
    assert email.sender == EmailAddress("admin@example.com")
    assert email.to == (EmailAddress("user1@example.com", "User One"),)
    assert email.targets[0].context_item_id == "users-1-12"
    assert email.sent_at == datetime(2022, 5, 1, 12, 1, tzinfo=UTC)


def test_people_get_a_readable_title_from_what_oro_has() -> None:
    user = User.from_jsonapi({"type": "users", "id": "5", "attributes": {"username": "bob"}})
    lead = Lead.from_jsonapi({"type": "leads", "id": "2", "attributes": {"name": "Lead Müller GmbH"},
                              "relationships": {"status": {"data": {"type": "leadstatuses", "id": "new"}}}})

    assert user.title == "bob"
    assert lead.title == "Lead Müller GmbH" and lead.status == "new"


def test_notes_and_tasks_know_their_targets() -> None:
    targets = {"activityTargets": {"data": [{"type": "accounts", "id": "7"}]}}
    note = Note.from_jsonapi({"type": "notes", "id": "1", "attributes": {"message": "<p>x</p>"},
                              "relationships": targets}, backoffice_url=BACKOFFICE)
    priority = {"taskPriority": {"data": {"type": "taskpriorities", "id": "high"}}}
    task = Task.from_jsonapi({"type": "tasks", "id": "2", "attributes": {"subject": "Call back"},
                              "relationships": {**targets, **priority}})

    assert note.targets[0].ref == RecordRef("accounts", "7") and note.url is None  # notes have no page
    assert task.targets[0].ref == RecordRef("accounts", "7") and task.priority == "high"


def test_a_new_email_is_sent_as_oro_stores_it() -> None:
    new = NewEmail(
        message_id="abc@mail.example", subject="Quote", sender=EmailAddress("ana@example.com", "Ana"),
        to=(EmailAddress("bob@example.com"),),
        sent_at=datetime(2026, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=2))),
        references=("first@mail.example", "<second@mail.example>"), body=EmailBody("Hello", "text"),
    )

    document = new.to_jsonapi()

    attributes = document["data"]["attributes"]
    assert attributes["messageId"] == "<abc@mail.example>"
    assert attributes["references"] == ["<first@mail.example>", "<second@mail.example>"]
    assert attributes["sentAt"] == attributes["internalDate"] == "2026-03-01T08:00:00Z"
    assert attributes["from"] == {"email": "ana@example.com", "name": "Ana"}
    assert attributes["body"] == {"content": "Hello", "type": "text"}
    assert "relationships" not in document["data"]  # Oro links it to the addresses' owners itself


def test_a_new_email_with_an_empty_target_list_links_nothing() -> None:
    new = NewEmail(message_id="<a@b>", subject="s", sender=EmailAddress("a@b"), to=(EmailAddress("c@d"),),
                   sent_at=datetime(2026, 1, 1, tzinfo=UTC), targets=())

    assert new.to_jsonapi()["data"]["relationships"] == {"activityTargets": {"data": []}}


def test_a_naive_datetime_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="timezone"):
        Query().where("updatedAt", datetime(2024, 1, 1), op="gt").params()
    with pytest.raises(ValueError, match="timezone"):
        NewEmail(message_id="<a@b>", subject="s", sender=EmailAddress("a@b"), to=(),
                 sent_at=datetime(2024, 1, 1)).to_jsonapi()


def test_filters_refuse_what_oro_cannot_express() -> None:
    with pytest.raises(ValueError, match="range"):
        Filter("id", Range(1, 5), op="gt")
    with pytest.raises(ValueError, match="comma"):
        Query().where("emails", ['"Doe, J"@example.com', "x@example.com"]).params()
    with pytest.raises(ValueError, match="operator"):
        Filter("id", 1, op="like")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="-1"):
        Query(page_size=0)


def test_a_search_text_may_hold_commas() -> None:
    assert Query().where("searchText", "Smith, John").params() == [("filter[searchText]", "Smith, John")]
