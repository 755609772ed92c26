"""Creating, updating and deleting records, relationships and subresources, with Oro's status codes."""

from __future__ import annotations

from typing import Any

from tests.sandbox.conftest import OroApi, error


def contact_body(**attributes: Any) -> dict[str, Any]:
    return {
        "data": {"type": "contacts", "attributes": {"firstName": "Zoë", "lastName": "Ångström", **attributes}}
    }


def test_create_answers_201_with_the_full_record_owned_by_the_caller(oro: OroApi) -> None:
    response = oro.post("contacts", contact_body(primaryEmail="zoe@angstrom.example"))
    assert response.status_code == 201
    data = response.json["data"]
    assert data["attributes"]["firstName"] == "Zoë"
    assert data["attributes"]["emails"] == [{"email": "zoe@angstrom.example"}]
    assert data["attributes"]["createdAt"].endswith("Z")
    assert data["relationships"]["owner"]["data"] == {"type": "users", "id": oro.user_id("alice")}
    again = oro.get(f"contacts/{data['id']}")
    assert again.json["data"]["attributes"]["primaryEmail"] == "zoe@angstrom.example"
    assert oro.ids("contacts", "filter[emails]=zoe@angstrom.example") == [data["id"]]


def test_emails_list_keeps_the_primary_address(oro: OroApi) -> None:
    body = contact_body(primaryEmail="b@angstrom.example", emails=[{"email": "a@angstrom.example"}])
    attributes = oro.post("contacts", body).json["data"]["attributes"]
    assert attributes["emails"] == [{"email": "a@angstrom.example"}, {"email": "b@angstrom.example"}]
    assert attributes["primaryEmail"] == "b@angstrom.example"


def test_empty_body_is_400_request_data_constraint(oro: OroApi) -> None:
    response = oro.post("contacts", {"data": {}})
    assert response.status_code == 400
    assert error(response) == {
        "status": "400",
        "title": "request data constraint",
        "detail": "The primary data object should not be empty",
        "source": {"pointer": "/data"},
    }


def test_type_mismatch_is_409(oro: OroApi) -> None:
    response = oro.post("contacts", {"data": {"type": "accounts", "attributes": {"name": "X"}}})
    assert response.status_code == 409
    assert error(response) == {
        "status": "409",
        "title": "conflict constraint",
        "detail": "The 'type' property of the primary data object should match the requested resource",
        "source": {"pointer": "/data/type"},
    }


def test_id_mismatch_on_update_is_409(oro: OroApi) -> None:
    response = oro.patch(
        "contacts/1", {"data": {"type": "contacts", "id": "2", "attributes": {"jobTitle": "CEO"}}}
    )
    assert response.status_code == 409
    assert error(response)["detail"] == (
        "The 'id' property of the primary data object should match 'id' parameter of the query string"
    )
    assert error(response)["source"] == {"pointer": "/data/id"}


def test_required_fields_are_not_blank_constraints(oro: OroApi) -> None:
    response = oro.post(
        "leads", {"data": {"type": "leads", "attributes": {"firstName": "No", "lastName": "Name"}}}
    )
    assert response.status_code == 400
    assert error(response) == {
        "status": "400",
        "title": "not blank constraint",
        "detail": "This value should not be blank.",
        "source": {"pointer": "/data/attributes/name"},
    }


def test_unknown_attribute_is_refused(oro: OroApi) -> None:
    response = oro.post("contacts", contact_body(shoeSize=42))
    assert response.status_code == 400
    assert error(response)["title"] == "extra fields constraint"


def test_reference_to_a_missing_record_is_refused(oro: OroApi) -> None:
    body = contact_body()
    body["data"]["relationships"] = {"accounts": {"data": [{"type": "accounts", "id": "99999"}]}}
    response = oro.post("contacts", body)
    assert response.status_code == 400
    assert error(response)["source"] == {"pointer": "/data/relationships/accounts/data"}


def test_update_answers_200_and_changes_only_what_was_sent(oro: OroApi) -> None:
    before = oro.get("contacts/1").json["data"]["attributes"]
    response = oro.patch(
        "contacts/1", {"data": {"type": "contacts", "id": "1", "attributes": {"jobTitle": "COO"}}}
    )
    assert response.status_code == 200
    after = response.json["data"]["attributes"]
    assert after["jobTitle"] == "COO"
    assert after["lastName"] == before["lastName"]
    assert after["updatedAt"] != before["updatedAt"]


def test_order_internal_status_is_read_only(oro: OroApi) -> None:
    body = {
        "data": {
            "type": "orders",
            "id": "1",
            "attributes": {"customerNotes": "Leave at gate 4"},
            "relationships": {"internalStatus": {"data": {"type": "orderinternalstatuses", "id": "closed"}}},
        }
    }
    before = oro.get("orders/1", user="admin").json["data"]["relationships"]["internalStatus"]["data"]
    response = oro.patch("orders/1", body, user="admin")
    assert response.status_code == 200
    assert response.json["data"]["attributes"]["customerNotes"] == "Leave at gate 4"
    assert response.json["data"]["relationships"]["internalStatus"]["data"] == before


def test_delete_answers_204_then_the_record_is_gone(oro: OroApi) -> None:
    new_id = oro.post("contacts", contact_body()).json["data"]["id"]
    response = oro.delete(f"contacts/{new_id}")
    assert response.status_code == 204
    assert response.get_data() == b""
    assert oro.get(f"contacts/{new_id}").status_code == 404


def test_delete_list_needs_a_filter(oro: OroApi) -> None:
    assert oro.delete("tasks").status_code == 400
    task_id = oro.ids("tasks", "page[size]=1")[0]
    assert oro.delete("tasks", query=f"filter[id]={task_id}").status_code == 204
    assert oro.get(f"tasks/{task_id}").status_code == 404


def test_relationship_endpoints_read_and_change_links(oro: OroApi) -> None:
    new_id = oro.post("contacts", contact_body()).json["data"]["id"]
    assert oro.get(f"contacts/{new_id}/relationships/accounts").json["data"] == []
    added = oro.post(f"contacts/{new_id}/relationships/accounts", {"data": [{"type": "accounts", "id": "1"}]})
    assert added.status_code == 204
    assert oro.get(f"contacts/{new_id}/relationships/accounts").json["data"] == [
        {"type": "accounts", "id": "1"}
    ]
    assert new_id in oro.ids("contacts", "filter[accounts]=1&page[size]=-1")
    removed = oro.delete(
        f"contacts/{new_id}/relationships/accounts", {"data": [{"type": "accounts", "id": "1"}]}
    )
    assert removed.status_code == 204
    assert oro.get(f"contacts/{new_id}/relationships/accounts").json["data"] == []
    replaced = oro.patch(
        f"contacts/{new_id}/relationships/assignedTo", {"data": {"type": "users", "id": "4"}}
    )
    assert replaced.status_code == 204
    assert oro.get(f"contacts/{new_id}/relationships/assignedTo").json["data"] == {"type": "users", "id": "4"}


def test_subresource_returns_the_related_records(oro: OroApi) -> None:
    accounts = oro.get("contacts/1/accounts").json
    assert [a["attributes"]["name"] for a in accounts["data"]] == ["Nordlicht Logistik GmbH"]
    owner = oro.get("contacts/1/owner").json["data"]
    assert owner["type"] == "users" and owner["attributes"]["username"] == "alice"


def test_inverse_side_follows_a_new_link(oro: OroApi) -> None:
    new_id = oro.post(
        "customerusers",
        {
            "data": {
                "type": "customerusers",
                "attributes": {
                    "email": "new.buyer@lumiere-optique.example",
                    "firstName": "Noé",
                    "lastName": "Girard",
                },
                "relationships": {"customer": {"data": {"type": "customers", "id": "2"}}},
            }
        },
    ).json["data"]["id"]
    users = oro.get("customers/2/relationships/users", query="page[size]=-1").json["data"]
    assert {"type": "customerusers", "id": new_id} in users


def test_notes_need_activity_targets_and_show_up_on_the_target(oro: OroApi) -> None:
    missing = oro.post("notes", {"data": {"type": "notes", "attributes": {"message": "<p>Hi</p>"}}})
    assert missing.status_code == 400
    assert error(missing)["source"] == {"pointer": "/data/relationships/activityTargets/data"}
    body = {
        "data": {
            "type": "notes",
            "attributes": {"message": "<p>Prefers calls after 3 pm.</p>"},
            "relationships": {"activityTargets": {"data": [{"type": "contacts", "id": "1"}]}},
        }
    }
    note = oro.post("notes", body)
    assert note.status_code == 201
    note_id = note.json["data"]["id"]
    assert note_id in [n["id"] for n in oro.get("contacts/1/activityNotes", "page[size]=-1").json["data"]]
    assert note_id in oro.ids("notes", "filter[activityTargets.contacts]=1&page[size]=-1")
    relation = oro.get("contacts/1").json["data"]["relationships"]["activityNotes"]["data"]
    assert {"type": "notes", "id": note_id} in relation


def test_activity_targets_of_notes_change_with_204(oro: OroApi) -> None:
    body = {
        "data": {
            "type": "notes",
            "attributes": {"message": "<p>x</p>"},
            "relationships": {"activityTargets": {"data": [{"type": "contacts", "id": "1"}]}},
        }
    }
    note_id = oro.post("notes", body).json["data"]["id"]
    added = oro.post(
        f"notes/{note_id}/relationships/activityTargets", {"data": [{"type": "accounts", "id": "1"}]}
    )
    assert added.status_code == 204
    targets = oro.get(f"notes/{note_id}/relationships/activityTargets").json["data"]
    assert targets == [{"type": "contacts", "id": "1"}, {"type": "accounts", "id": "1"}]


def test_tasks_and_cases_are_created_with_their_dictionaries(oro: OroApi) -> None:
    task = oro.post(
        "tasks",
        {
            "data": {
                "type": "tasks",
                "attributes": {"subject": "Call Sophie", "dueDate": "2026-11-20T09:00:00Z"},
                "relationships": {
                    "status": {"data": {"type": "taskstatuses", "id": "open"}},
                    "taskPriority": {"data": {"type": "taskpriorities", "id": "high"}},
                    "activityTargets": {"data": [{"type": "contacts", "id": "1"}]},
                },
            }
        },
    )
    assert task.status_code == 201
    assert task.json["data"]["attributes"]["dueDate"] == "2026-11-20T09:00:00Z"
    case = oro.post(
        "cases",
        {
            "data": {
                "type": "cases",
                "attributes": {"subject": "Broken hinge"},
                "relationships": {
                    "status": {"data": {"type": "casestatuses", "id": "open"}},
                    "priority": {"data": {"type": "casepriorities", "id": "normal"}},
                    "source": {"data": {"type": "casesources", "id": "email"}},
                    "relatedContact": {"data": {"type": "contacts", "id": "1"}},
                },
            }
        },
    )
    assert case.status_code == 201
    assert case.json["data"]["attributes"]["reportedAt"].endswith("Z")
    no_status = oro.post("cases", {"data": {"type": "cases", "attributes": {"subject": "x"}}})
    assert {e["source"]["pointer"] for e in no_status.json["errors"]} == {
        "/data/relationships/source/data",
        "/data/relationships/status/data",
        "/data/relationships/priority/data",
    }


def test_lead_created_from_a_mail_sender(oro: OroApi) -> None:
    body = {
        "data": {
            "type": "leads",
            "attributes": {
                "name": "Blue Canyon — second store",
                "firstName": "Tom",
                "lastName": "Reyes",
                "primaryEmail": "tom@bluecanyon-outdoor.example",
            },
            "relationships": {"status": {"data": {"type": "leadstatuses", "id": "new"}}},
        }
    }
    created = oro.post("leads", body, user="bob")
    assert created.status_code == 201
    assert oro.ids("leads", "filter[emails]=tom@bluecanyon-outdoor.example", user="bob") == [
        created.json["data"]["id"]
    ]


def test_rfqs_and_orders_belong_to_customers(oro: OroApi) -> None:
    rfq = oro.get("rfqs/1", "include=customerUser", user="admin").json
    assert rfq["data"]["relationships"]["internal_status"]["data"]["type"] == "rfqinternalstatuses"
    assert rfq["included"][0]["attributes"]["email"] == rfq["data"]["attributes"]["email"]
    customer_user = rfq["data"]["relationships"]["customerUser"]["data"]["id"]
    recent = oro.get("orders", f"filter[customerUser]={customer_user}&sort=-createdAt", user="admin").json[
        "data"
    ]
    dates = [o["attributes"]["createdAt"] for o in recent]
    assert dates == sorted(dates, reverse=True)


def test_subresources_sort_and_filter_like_lists(oro: OroApi) -> None:
    account = oro.find_id("accounts", name="Nordlicht Logistik GmbH")
    newest_first = oro.get(f"accounts/{account}/contacts", "sort=-id&page[size]=-1").json["data"]
    ids = [int(c["id"]) for c in newest_first]
    assert ids == sorted(ids, reverse=True) and len(ids) >= 2
    query = "filter[primaryEmail]=sophie.wagner@nordlicht-logistik.example"
    only_sophie = oro.get(f"accounts/{account}/contacts", query).json["data"]
    assert [c["attributes"]["firstName"] for c in only_sophie] == ["Sophie"]
    assert oro.get(f"accounts/{account}/contacts", "sort=jobTitle").status_code == 400


def test_new_leads_get_the_default_status(oro: OroApi) -> None:
    created = oro.post("leads", {"data": {"type": "leads", "attributes": {"name": "Walk-in"}}})
    assert created.json["data"]["relationships"]["status"]["data"] == {"type": "leadstatuses", "id": "new"}
