"""Emails in the sandbox's Oro: creation rules, threading, activity targets and the email context."""

from __future__ import annotations

from typing import Any

from connector.sandbox.examples import (
    HIDDEN_FROM_ALICE_EMAIL,
    LINKED_THREAD_MESSAGE_IDS,
    MIXED_CASE_SENT_EMAIL,
    SHARED_ADDRESS,
    TRIPLE_PERSON_EMAIL,
)
from tests.sandbox.conftest import OroApi, error


def email_body(message_id: str = "<new-1@lumiere-optique.example>", **extra: Any) -> dict[str, Any]:
    attributes = {
        "subject": "Lens coating order",
        "from": {"name": "Inès Moreau", "email": TRIPLE_PERSON_EMAIL},
        "toRecipients": [{"name": "Alice Martin", "email": "alice@acme.example"}],
        "messageId": message_id,
        "sentAt": "2026-10-27T09:12:00.050Z",
        "internalDate": "2026-10-27T11:12:30+02:00",
    }
    attributes.update(extra.pop("attributes", {}))
    body: dict[str, Any] = {"data": {"type": "emails", "attributes": attributes}}
    body["data"].update(extra)
    return body


def targets(response: Any) -> list[tuple[str, str]]:
    return [(t["type"], t["id"]) for t in response.json["data"]["relationships"]["activityTargets"]["data"]]


def test_create_fills_activity_targets_from_the_addresses(oro: OroApi) -> None:
    response = oro.post("emails", email_body())
    assert response.status_code == 201
    found = set(targets(response))
    assert ("users", oro.user_id("alice")) in found
    assert {t for t, _ in found} >= {"users", "contacts", "customerusers", "leads"}
    data = response.json["data"]
    assert data["attributes"]["sentAt"] == "2026-10-27T09:12:00Z"
    assert data["attributes"]["internalDate"] == "2026-10-27T09:12:30Z"
    assert data["attributes"]["importance"] == "normal"
    assert data["attributes"]["body"] is None and data["attributes"]["bodySynced"] is False
    email_id = data["id"]
    for item in data["relationships"]["activityTargets"]["data"]:
        assert item["meta"] == {"emailThreadContextItemId": f"{item['type']}-{item['id']}-{email_id}"}
    assert response.json["included"][0]["type"] == "emailusers"


def test_get_shows_targets_without_thread_meta(oro: OroApi) -> None:
    email_id = oro.post("emails", email_body()).json["data"]["id"]
    items = oro.get(f"emails/{email_id}").json["data"]["relationships"]["activityTargets"]["data"]
    assert items and all("meta" not in item for item in items)


def test_explicit_empty_targets_link_nothing(oro: OroApi) -> None:
    response = oro.post("emails", email_body(relationships={"activityTargets": {"data": []}}))
    assert response.status_code == 201
    assert targets(response) == []


def test_explicit_targets_link_exactly_those(oro: OroApi) -> None:
    body = email_body(relationships={"activityTargets": {"data": [{"type": "accounts", "id": "2"}]}})
    assert targets(oro.post("emails", body)) == [("accounts", "2")]


def test_missing_fields_are_listed_like_oro(oro: OroApi) -> None:
    response = oro.post("emails", {"data": {"type": "emails"}})
    assert response.status_code == 400
    pointers = [e["source"]["pointer"] for e in response.json["errors"]]
    assert pointers == [
        "/data/attributes/from",
        "/data/attributes/subject",
        "/data/attributes/sentAt",
        "/data/attributes/internalDate",
        "/data/attributes/messageId",
        "/data/attributes/from/email",
    ]
    assert {e["title"] for e in response.json["errors"]} == {"not blank constraint"}


def test_invalid_importance_and_address(oro: OroApi) -> None:
    response = oro.post("emails", email_body(attributes={"importance": "urgent"}))
    assert error(response) == {
        "status": "400",
        "title": "choice constraint",
        "detail": "The value you selected is not a valid choice.",
        "source": {"pointer": "/data/attributes/importance"},
    }
    response = oro.post("emails", email_body(attributes={"from": {"email": "test1"}}))
    assert error(response)["title"] == "email constraint"
    assert error(response)["source"] == {"pointer": "/data/attributes/from/email"}


def test_duplicate_message_id_is_409(oro: OroApi) -> None:
    assert oro.post("emails", email_body()).status_code == 201
    response = oro.post("emails", email_body())
    assert response.status_code == 409
    assert error(response) == {
        "status": "409",
        "title": "conflict constraint",
        "detail": "The email with this Message-ID already exists.",
    }


def test_find_an_email_by_message_id(oro: OroApi) -> None:
    found = oro.get("emails", f"filter[messageId]={LINKED_THREAD_MESSAGE_IDS[1]}").json["data"]
    assert [e["attributes"]["messageId"] for e in found] == [LINKED_THREAD_MESSAGE_IDS[1]]


def test_emails_of_a_record_via_the_activity_targets_filter(oro: OroApi) -> None:
    sophie = oro.find_id("contacts", primaryEmail="sophie.wagner@nordlicht-logistik.example")
    found = oro.get("emails", f"filter[activityTargets.contacts]={sophie}&sort=-sentAt").json["data"]
    assert [e["attributes"]["messageId"] for e in found] == list(reversed(LINKED_THREAD_MESSAGE_IDS))


def test_server_threads_by_references_and_moves_head(oro: OroApi) -> None:
    stored = oro.get("emails", f"filter[messageId]={LINKED_THREAD_MESSAGE_IDS[2]}").json["data"][0]
    assert stored["attributes"]["head"] is True
    reply = email_body(
        "<reply-4@acme.example>",
        attributes={
            "references": list(LINKED_THREAD_MESSAGE_IDS),
            "sentAt": "2026-10-30T10:00:00Z",
            "internalDate": "2026-10-30T10:00:00Z",
        },
    )
    created = oro.post("emails", reply).json["data"]
    assert created["attributes"]["head"] is True
    assert oro.get(f"emails/{stored['id']}").json["data"]["attributes"]["head"] is False
    heads = oro.ids("emails", "filter[head]=true&page[size]=-1")
    assert created["id"] in heads and stored["id"] not in heads


def test_body_can_be_set_once(oro: OroApi) -> None:
    email_id = oro.post("emails", email_body()).json["data"]["id"]
    patch = {
        "data": {
            "type": "emails",
            "id": email_id,
            "attributes": {"body": {"type": "html", "content": "Hello <b>Alice</b>"}},
        }
    }
    first = oro.patch(f"emails/{email_id}", patch)
    assert first.status_code == 200
    assert first.json["data"]["attributes"]["shortTextBody"] == "Hello Alice"
    second = oro.patch(f"emails/{email_id}", patch)
    assert error(second) == {
        "status": "400",
        "title": "value constraint",
        "detail": "It is not allowed to change the body.",
        "source": {"pointer": "/data/attributes/body"},
    }


def test_activity_target_relationship_changes_answer_200_with_the_list(oro: OroApi) -> None:
    email_id = oro.post("emails", email_body(relationships={"activityTargets": {"data": []}})).json["data"][
        "id"
    ]
    added = oro.post(
        f"emails/{email_id}/relationships/activityTargets", {"data": [{"type": "contacts", "id": "3"}]}
    )
    assert added.status_code == 200
    assert added.json == {
        "data": [
            {"type": "contacts", "id": "3", "meta": {"emailThreadContextItemId": f"contacts-3-{email_id}"}},
        ]
    }
    added = oro.post(
        f"emails/{email_id}/relationships/activityTargets", {"data": [{"type": "accounts", "id": "2"}]}
    )
    assert [item["id"] for item in added.json["data"]] == ["3", "2"]
    removed = oro.delete(
        f"emails/{email_id}/relationships/activityTargets", {"data": [{"type": "contacts", "id": "3"}]}
    )
    assert removed.status_code == 200
    assert [(i["type"], i["id"]) for i in removed.json["data"]] == [("accounts", "2")]
    listed = oro.get(f"emails/{email_id}/activityTargets").json["data"]
    assert [(i["type"], i["attributes"]["name"]) for i in listed] == [("accounts", "Lumière Optique SARL")]
    assert email_id in [e["id"] for e in oro.get("accounts/2/activityEmails", "page[size]=-1").json["data"]]


# --- email context -----------------------------------------------------------------------------------


def context(oro: OroApi, query: str, user: str = "alice", thread: bool = False) -> Any:
    return oro.get("emailthreadcontext" if thread else "emailcontext", query, user=user)


def entities(response: Any) -> list[tuple[str, str, bool]]:
    return [
        (
            i["relationships"]["entity"]["data"]["type"],
            i["relationships"]["entity"]["data"]["id"],
            i["attributes"]["isContext"],
        )
        for i in response.json["data"]
    ]


def test_email_context_requires_a_message_id(oro: OroApi) -> None:
    response = context(oro, "")
    assert response.status_code == 400
    assert error(response) == {
        "status": "400",
        "title": "filter constraint",
        "detail": "The Message-ID is required.",
        "source": {"parameter": "filter[messageId]"},
    }


def test_context_of_an_unknown_message_suggests_the_owners_of_its_addresses(oro: OroApi) -> None:
    response = context(oro, f"filter[messageId]=<unknown@x.example>&filter[from]={TRIPLE_PERSON_EMAIL}")
    found = entities(response)
    assert {t for t, _, _ in found} == {"contacts", "customerusers", "leads"}
    assert all(is_context is False for _, _, is_context in found)
    item = response.json["data"][0]
    assert item["type"] == "emailcontext"
    assert item["id"] == f"{found[0][0]}-{found[0][1]}"
    assert item["attributes"]["entityName"]
    assert item["links"]["entityUrl"].startswith("http://localhost/oro/admin/")


def test_context_matches_addresses_ignoring_case(oro: OroApi) -> None:
    found = entities(context(oro, f"filter[messageId]=<x@y.example>&filter[from]={MIXED_CASE_SENT_EMAIL}"))
    assert [t for t, _, _ in found] == ["contacts"]


def test_context_finds_both_contacts_behind_a_shared_address(oro: OroApi) -> None:
    found = entities(
        context(
            oro, f"filter[messageId]=<x@y.example>&filter[from]={SHARED_ADDRESS}&filter[entities]=contacts"
        )
    )
    assert len(found) == 2


def test_context_of_a_stored_email_lists_its_targets_first(oro: OroApi) -> None:
    response = context(oro, f"filter[messageId]={LINKED_THREAD_MESSAGE_IDS[0]}")
    found = entities(response)
    linked = [(t, i) for t, i, is_context in found if is_context]
    assert [t for t, _ in linked] == ["contacts", "accounts"]
    assert found[:2] == [(t, i, True) for t, i in linked]
    assert ("users", oro.user_id("alice"), False) in found  # alice is on the email: a suggestion


def test_is_context_and_exclude_current_user_filters(oro: OroApi) -> None:
    message = f"filter[messageId]={LINKED_THREAD_MESSAGE_IDS[0]}"
    only_linked = entities(context(oro, f"{message}&filter[isContext]=yes"))
    assert only_linked and all(is_context for _, _, is_context in only_linked)
    not_linked = entities(context(oro, f"{message}&filter[isContext]=no"))
    assert not_linked and not any(is_context for _, _, is_context in not_linked)
    without_me = entities(context(oro, f"{message}&filter[excludeCurrentUser]=yes"))
    assert ("users", oro.user_id("alice"), False) not in without_me


def test_search_text_cannot_be_combined_with_addresses(oro: OroApi) -> None:
    response = context(
        oro, "filter[messageId]=<a@b.example>&filter[searchText]=Moreau&filter[from]=a@b.example"
    )
    assert error(response)["detail"] == (
        'The search text cannot be specified together with "from", "to", "cc", "isContext" or '
        '"excludeCurrentUser" filters.'
    )
    found = entities(context(oro, "filter[messageId]=<a@b.example>&filter[searchText]=Moreau"))
    assert ("contacts", "3", False) in found


def test_context_include_entity_embeds_the_records(oro: OroApi) -> None:
    response = context(
        oro, f"filter[messageId]={LINKED_THREAD_MESSAGE_IDS[0]}&include=entity&filter[entities]=contacts"
    )
    included = response.json["included"]
    assert next(i["attributes"]["lastName"] for i in included if i["type"] == "contacts") == "Wagner"


def test_thread_context_ids_name_the_first_email_of_the_thread(oro: OroApi) -> None:
    first_id = oro.ids("emails", f"filter[messageId]={LINKED_THREAD_MESSAGE_IDS[0]}")[0]
    response = context(oro, f"filter[messageId]={LINKED_THREAD_MESSAGE_IDS[2]}", thread=True)
    items = response.json["data"]
    linked = [i for i in items if i["attributes"]["isContext"]]
    suggested = [i for i in items if not i["attributes"]["isContext"]]
    assert linked and suggested
    assert all(i["id"].endswith(f"-{first_id}") for i in linked)
    assert all(i["id"].endswith("-0") for i in suggested)
    assert items[0]["type"] == "emailthreadcontext"


def test_deleting_a_thread_context_item_unlinks_every_email_of_the_thread(oro: OroApi) -> None:
    items = context(
        oro, f"filter[messageId]={LINKED_THREAD_MESSAGE_IDS[0]}&filter[isContext]=yes", thread=True
    )
    account_item = next(
        i for i in items.json["data"] if i["relationships"]["entity"]["data"]["type"] == "accounts"
    )
    assert oro.delete(f"emailthreadcontext/{account_item['id']}").status_code == 204
    for message_id in LINKED_THREAD_MESSAGE_IDS:
        email = oro.get("emails", f"filter[messageId]={message_id}").json["data"][0]
        assert all(t["type"] != "accounts" for t in email["relationships"]["activityTargets"]["data"])
    assert oro.delete(f"emailthreadcontext/{account_item['id']}").status_code == 404


def test_deleting_a_suggestion_is_404(oro: OroApi) -> None:
    items = context(
        oro, f"filter[messageId]={LINKED_THREAD_MESSAGE_IDS[0]}&filter[isContext]=no", thread=True
    )
    assert oro.delete(f"emailthreadcontext/{items.json['data'][0]['id']}").status_code == 404


def test_context_hides_records_the_user_may_not_see(oro: OroApi) -> None:
    query = f"filter[messageId]=<x@y.example>&filter[from]={HIDDEN_FROM_ALICE_EMAIL}"
    assert entities(context(oro, query, user="alice")) == []
    assert [t for t, _, _ in entities(context(oro, query, user="bob"))] == ["contacts"]


def test_context_entities_lists_the_usable_types(oro: OroApi) -> None:
    listed = oro.get("emailcontextentities", "page[size]=-1").json["data"]
    types = {item["attributes"]["entityType"] for item in listed}
    assert {"contacts", "accounts", "leads", "customerusers", "orders", "opportunities"} <= types


def test_search_resource_finds_records_by_text(oro: OroApi) -> None:
    response = oro.get("search", f"filter[searchText]={TRIPLE_PERSON_EMAIL}&filter[entities]=contacts,leads")
    items = response.json["data"]
    assert {i["relationships"]["entity"]["data"]["type"] for i in items} == {"contacts", "leads"}
    assert all(
        i["id"]
        == f"{i['relationships']['entity']['data']['type']}-{i['relationships']['entity']['data']['id']}"
        for i in items
    )
    assert items[0]["links"]["entityUrl"].startswith("http://localhost/oro/admin/")


def test_replacing_email_targets_also_answers_200(oro: OroApi) -> None:
    email_id = oro.post("emails", email_body()).json["data"]["id"]
    replaced = oro.patch(
        f"emails/{email_id}/relationships/activityTargets", {"data": [{"type": "accounts", "id": "2"}]}
    )
    assert replaced.status_code == 200
    assert replaced.json["data"] == [
        {"type": "accounts", "id": "2", "meta": {"emailThreadContextItemId": f"accounts-2-{email_id}"}}
    ]
    patched = oro.patch(
        f"emails/{email_id}",
        {
            "data": {
                "type": "emails",
                "id": email_id,
                "relationships": {"activityTargets": {"data": [{"type": "contacts", "id": "3"}]}},
            }
        },
    )
    assert patched.status_code == 200
    assert patched.json["data"]["relationships"]["activityTargets"]["data"] == [
        {"type": "contacts", "id": "3", "meta": {"emailThreadContextItemId": f"contacts-3-{email_id}"}}
    ]


def test_only_activity_targets_can_be_linked(oro: OroApi) -> None:
    email_id = oro.post("emails", email_body()).json["data"]["id"]
    response = oro.post(
        f"emails/{email_id}/relationships/activityTargets",
        {"data": [{"type": "orderinternalstatuses", "id": "open"}]},
    )
    assert response.status_code == 400
