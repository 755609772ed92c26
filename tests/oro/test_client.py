"""The operations the sidebar and linking need, checked against what they send to Oro and what they
make of the answers. Behaviour against a whole Oro is in test_contract.py."""

from __future__ import annotations

import pytest

from connector.oro import (
    ENTITY_CLASSES,
    Contact,
    CustomerUser,
    OroNotFound,
    RecordRef,
)
from tests.oro.conftest import FakeOro, Reply, Seen, contact, jsonapi_list

API = "/admin/api"


def opportunity(record_id: int, status: str = "in_progress") -> dict:
    return {"type": "opportunities", "id": str(record_id), "attributes": {"name": f"Deal {record_id}"},
            "relationships": {"status": {"data": {"type": "opportunitystatuses", "id": status}}}}


def test_email_context_asks_for_the_message_and_its_people(fake_oro: FakeOro, connect) -> None:
    item = {"type": "emailcontext", "id": "contacts-1", "links": {"entityUrl": "http://oro/admin/contact/view/1"},
            "attributes": {"entityName": "Ada Lovelace", "isContext": False},
            "relationships": {"entity": {"data": {"type": "contacts", "id": "1"}}}}
    fake_oro.reply("GET", f"{API}/emailcontext", Reply(200, jsonapi_list([item], included=[contact(1)])))

    items = connect().with_token("t").email_context(
        message_id="<abc@mail.example>", sender="ada@example.com", to=["me@example.com", "you@example.com"],
        cc=["boss@example.com"],
    )

    assert [(i.entity, i.title, i.is_context) for i in items] == [
        (RecordRef("contacts", "1"), "Ada Lovelace", False)
    ]
    assert isinstance(items[0].record, Contact)
    request = fake_oro.seen("GET")[0]
    assert request.param("filter[messageId]") == "<abc@mail.example>,abc@mail.example"
    assert request.param("filter[from]") == "ada@example.com"
    assert request.param("filter[to]") == "me@example.com,you@example.com"
    assert request.param("filter[cc]") == "boss@example.com"
    assert request.param("include") == "entity"


def test_thread_context_uses_the_thread_resource(fake_oro: FakeOro, connect) -> None:
    fake_oro.reply("GET", f"{API}/emailthreadcontext", Reply(200, jsonapi_list([])))

    assert connect().with_token("t").email_context(message_id="x@y", thread=True) == []
    assert fake_oro.seen("GET")[0].param("filter[messageId]") == "<x@y>,x@y"


def test_an_address_is_looked_up_as_written_and_lowercased(fake_oro: FakeOro, connect) -> None:
    fake_oro.reply("GET", f"{API}/contacts", Reply(200, jsonapi_list([contact(4, email="Ana@Example.com")])))
    fake_oro.reply("GET", f"{API}/customerusers", Reply(200, jsonapi_list([])))
    client = connect().with_token("t")

    found = client.find_contacts(email=" Ana@Example.com ")
    client.find_customer_users(email="ana@example.com")

    assert [c.id for c in found] == ["4"]
    sent = fake_oro.seen("GET", f"{API}/contacts")[0].param("filter[emails]")
    assert sent == "Ana@Example.com,ana@example.com"
    assert fake_oro.seen("GET", f"{API}/customerusers")[0].param("filter[email]") == "ana@example.com"


def test_the_address_look_up_skips_what_the_instance_lacks(fake_oro: FakeOro, connect) -> None:
    fake_oro.reply("GET", f"{API}/contacts", Reply(200, jsonapi_list([contact(4)])))
    # customerusers, leads, b2bcustomers, users: not routed, the scripted Oro says "resource not accessible"

    found = connect().with_token("t").lookup_by_email(email="ada@example.com")

    assert [(r.type, r.id) for r in found] == [("contacts", "4")]


def test_opportunities_of_an_account_fall_back_when_oro_cannot_filter_by_account(
    fake_oro: FakeOro, connect
) -> None:
    fake_oro.handle("GET", f"{API}/opportunities", lambda r: (
        Reply(400, {"errors": [{"status": "400", "title": "filter constraint",
                                "detail": 'Filter "filter[account]" is not supported.',
                                "source": {"parameter": "filter[account]"}}]})
        if r.param("filter[account]") else
        Reply(200, jsonapi_list([opportunity(int(i)) for i in (r.param("filter[id]") or "").split(",")]))
    ))
    customer = {"type": "b2bcustomers", "id": "8", "attributes": {"name": "Acme"},
                "relationships": {"opportunities": {"data": [{"type": "opportunities", "id": "21"},
                                                             {"type": "opportunities", "id": "22"}]}}}
    fake_oro.reply("GET", f"{API}/b2bcustomers", Reply(200, jsonapi_list([customer])))
    client = connect().with_token("t")

    first = client.opportunities_of(account_id="5")
    again = client.opportunities_of(account_id="5", open_only=True)

    assert [o.title for o in first] == ["Deal 21", "Deal 22"] == [o.title for o in again]
    assert fake_oro.seen("GET", f"{API}/b2bcustomers")[0].param("filter[account]") == "5"
    asked = fake_oro.seen("GET", f"{API}/opportunities")
    tried_account_filter = [r for r in asked if r.param("filter[account]")]
    assert len(tried_account_filter) == 1  # learnt: the second call goes the B2B-customer way at once
    last = fake_oro.seen("GET", f"{API}/opportunities")[-1]
    assert last.param("filter[status][neq]") in ("won,lost", "lost,won")


def test_opportunities_of_a_contact_filter_by_contact(fake_oro: FakeOro, connect) -> None:
    fake_oro.reply("GET", f"{API}/opportunities", Reply(200, jsonapi_list([opportunity(3, "won")])))

    found = connect().with_token("t").opportunities_of(contact_id="9")

    assert [(o.id, o.is_open) for o in found] == [("3", False)]
    assert fake_oro.seen("GET")[0].param("filter[contact]") == "9"


def test_exactly_one_owner_must_be_named() -> None:
    from connector.oro import OroConfig, OroConnection

    client = OroConnection(OroConfig(oro_url="http://127.0.0.1:9")).with_token("t")
    with pytest.raises(ValueError, match="exactly one"):
        client.opportunities_of(contact_id="1", account_id="2")
    with pytest.raises(ValueError, match="exactly one"):
        client.recent_orders()


def test_recent_orders_are_the_newest_of_that_person(fake_oro: FakeOro, connect) -> None:
    fake_oro.reply("GET", f"{API}/orders", Reply(200, jsonapi_list([])))

    connect().with_token("t").recent_orders(customer_user_id="7", limit=3)

    request = fake_oro.seen("GET")[0]
    assert request.query == [("filter[customerUser]", "7"), ("sort", "-createdAt"), ("page[size]", "3")]


def test_open_cases_leave_out_resolved_and_closed(fake_oro: FakeOro, connect) -> None:
    fake_oro.reply("GET", f"{API}/cases", Reply(200, jsonapi_list([])))

    connect().with_token("t").open_cases(contact_id="4")

    request = fake_oro.seen("GET")[0]
    assert request.param("filter[relatedContact]") == "4"
    assert request.param("filter[status][neq]") == "resolved,closed"


def test_adding_email_targets_returns_the_whole_list_oro_answers(fake_oro: FakeOro, connect) -> None:
    fake_oro.reply("POST", f"{API}/emails/12/relationships/activityTargets", Reply(200, {"data": [
        {"type": "users", "id": "1", "meta": {"emailThreadContextItemId": "users-1-12"}},
        {"type": "contacts", "id": "2", "meta": {"emailThreadContextItemId": "contacts-2-12"}}]}))

    targets = connect().with_token("t").add_email_targets(email_id="12", targets=[RecordRef("contacts", "2")])

    assert [(t.ref, t.context_item_id) for t in targets] == [
        (RecordRef("users", "1"), "users-1-12"), (RecordRef("contacts", "2"), "contacts-2-12")]
    assert fake_oro.seen("POST")[0].json == {"data": [{"type": "contacts", "id": "2"}]}


def test_a_204_to_a_target_change_is_followed_by_reading_the_list(fake_oro: FakeOro, connect) -> None:
    path = f"{API}/emails/12/relationships/activityTargets"
    fake_oro.reply("DELETE", path, Reply(204))
    fake_oro.reply("GET", path, Reply(200, {"data": [{"type": "users", "id": "1"}]}))

    client = connect().with_token("t")
    remaining = client.remove_email_targets(email_id="12", targets=[RecordRef("contacts", "2")])

    assert [t.ref for t in remaining] == [RecordRef("users", "1")]
    assert fake_oro.seen("DELETE")[0].headers["Content-Type"] == "application/vnd.api+json"


def test_a_case_is_created_with_the_relationships_oro_requires(fake_oro: FakeOro, connect) -> None:
    def created(request: Seen) -> Reply:
        resource = dict(request.json["data"], id="31")
        return Reply(201, {"data": resource})

    fake_oro.handle("POST", f"{API}/cases", created)

    case = connect().with_token("t").create_case(subject="Broken pallet", contact_id="4")

    assert (case.id, case.subject, case.status, case.priority, case.source) == (
        "31", "Broken pallet", "open", "normal", "email")
    assert case.related_contact_id == "4" and case.is_open


def test_templates_come_from_the_legacy_api_by_entity_class(fake_oro: FakeOro, connect) -> None:
    path = f"{API}/rest/latest/emailtemplates/list/Oro_Bundle_ContactBundle_Entity_Contact/1/0.json"
    fake_oro.reply("GET", path, Reply(200, [{
        "id": 4, "name": "follow_up", "is_system": False, "is_editable": True, "parent": None,
        "subject": "Following up", "content": "Hello {{ entity.firstName }}",
        "entity_name": "Oro\\Bundle\\ContactBundle\\Entity\\Contact", "type": "html"}],
        headers={"Content-Type": "application/json"}))

    client = connect().with_token("t")
    found = client.email_templates(entity_class=ENTITY_CLASSES["contacts"], include_system=False)

    assert [(t.id, t.name, t.subject, t.type) for t in found] == [("4", "follow_up", "Following up", "html")]
    assert fake_oro.seen("GET")[0].headers["Accept"] == "application/json"


def test_a_template_for_a_record_oro_cannot_find_is_a_not_found(fake_oro: FakeOro, connect) -> None:
    fake_oro.reply("GET", f"{API}/rest/latest/emailtemplates/compiled/4/999.json", Reply(404, {
        "message": "entity Oro\\Bundle\\ContactBundle\\Entity\\Contact with id=999 not found"},
        headers={"Content-Type": "application/json"}))

    with pytest.raises(OroNotFound) as caught:
        connect().with_token("t").compile_email_template(template_id="4", entity_id="999")

    assert "with id=999 not found" in str(caught.value)


def test_capabilities_of_an_oro_before_6_say_what_is_missing(fake_oro: FakeOro, connect) -> None:
    for available in ("users", "notes", "search", "contacts", "accounts", "leads", "opportunities"):
        fake_oro.reply("GET", f"{API}/{available}", Reply(200, jsonapi_list([])))
    fake_oro.reply("GET", f"{API}/customerusers", Reply(403, {"errors": [{
        "status": "403", "title": "access denied exception",
        "detail": "No access to this type of entities."}]}))
    fake_oro.reply("GET", f"{API}/emails", Reply(405, {"errors": [{
        "status": "405", "title": "method not allowed http exception",
        "detail": "The action is not allowed."}]}))

    capabilities = connect().with_token("t").capabilities()

    assert capabilities.has("contacts") and not capabilities.emails_api and not capabilities.email_context
    assert capabilities.resources["customerusers"] == "forbidden" and not capabilities.commerce
    report = "\n".join(capabilities.report())
    assert "No emails API (Oro before 6.0)" in report
    assert "No email context API (Oro before 6.0)" in report
    assert "may not read: customerusers" in report


def test_email_context_answering_400_without_a_message_id_counts_as_present(
    fake_oro: FakeOro, connect
) -> None:
    fake_oro.reply("GET", f"{API}/emailcontext", Reply(400, {"errors": [{
        "status": "400", "title": "filter constraint", "detail": "The \"messageId\" filter is required.",
        "source": {"parameter": "filter[messageId]"}}]}))

    assert connect().with_token("t").capabilities().email_context


def test_an_instance_without_the_api_feature_is_told_plainly(fake_oro: FakeOro, connect) -> None:
    capabilities = connect().with_token("t").capabilities()  # every type: 404

    assert not capabilities.api_enabled
    assert capabilities.check_lines()[0][1] is False
    assert "Web API" in capabilities.report()[-1]


def test_customer_users_are_records_with_their_customer(fake_oro: FakeOro, connect) -> None:
    user = {"type": "customerusers", "id": "7",
            "attributes": {"email": "grzegorz@example.com", "firstName": "Grzegorz",
                           "lastName": "Brzęczyszczykiewicz",
                           "enabled": True, "confirmed": True},
            "relationships": {"customer": {"data": {"type": "customers", "id": "3"}}}}
    fake_oro.reply("GET", f"{API}/customerusers", Reply(200, jsonapi_list([user])))

    [found] = connect().with_token("t").find_customer_users(email="grzegorz@example.com")

    assert isinstance(found, CustomerUser) and found.customer_id == "3"
    assert found.title == "Grzegorz Brzęczyszczykiewicz"
    assert found.url == f"{fake_oro.url}/admin/customer/user/view/7"
