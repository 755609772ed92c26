"""Calls run as the user: business units decide what each sandbox user sees, as Oro's ACL does."""

from __future__ import annotations

from connector.sandbox.examples import HIDDEN_FROM_ALICE_EMAIL, TRIPLE_PERSON_EMAIL
from tests.sandbox.conftest import OroApi, error


def test_a_record_of_another_business_unit_is_403_for_alice(oro: OroApi) -> None:
    maria = oro.find_id("contacts", primaryEmail=HIDDEN_FROM_ALICE_EMAIL)
    response = oro.get(f"contacts/{maria}", user="alice")
    assert response.status_code == 403
    assert error(response) == {
        "status": "403",
        "title": "access denied exception",
        "detail": "No access to the entity.",
    }
    assert oro.get(f"contacts/{maria}", user="bob").status_code == 200
    assert oro.get(f"contacts/{maria}", user="admin").status_code == 200


def test_lists_leave_out_what_the_user_may_not_see(oro: OroApi) -> None:
    assert oro.ids("contacts", f"filter[emails]={HIDDEN_FROM_ALICE_EMAIL}", user="alice") == []
    assert len(oro.ids("contacts", f"filter[emails]={HIDDEN_FROM_ALICE_EMAIL}", user="bob")) == 1
    alices = set(oro.ids("contacts", "page[size]=-1", user="alice"))
    bobs = set(oro.ids("contacts", "page[size]=-1", user="bob"))
    everything = set(oro.ids("contacts", "page[size]=-1", user="admin"))
    assert alices and bobs
    assert not alices & bobs
    assert alices | bobs == everything


def test_total_count_counts_only_visible_records(oro: OroApi) -> None:
    alice = oro.get("orders", user="alice", headers={"X-Include": "totalCount"}).headers[
        "X-Include-Total-Count"
    ]
    bob = oro.get("orders", user="bob", headers={"X-Include": "totalCount"}).headers["X-Include-Total-Count"]
    assert int(alice) + int(bob) == 500


def test_users_see_each_other_but_not_each_others_customers(oro: OroApi) -> None:
    assert oro.get(f"users/{oro.user_id('bob')}", user="alice").status_code == 200
    triple = oro.find_id("customerusers", email=TRIPLE_PERSON_EMAIL)
    assert oro.get(f"customerusers/{triple}", user="alice").status_code == 200
    assert oro.get(f"customerusers/{triple}", user="bob").status_code == 403


def test_hidden_records_stay_out_of_included(oro: OroApi) -> None:
    maria = oro.find_id("contacts", primaryEmail=HIDDEN_FROM_ALICE_EMAIL)
    body = {
        "data": {
            "type": "notes",
            "attributes": {"message": "<p>cross-unit</p>"},
            "relationships": {
                "activityTargets": {
                    "data": [{"type": "contacts", "id": "1"}, {"type": "contacts", "id": maria}]
                }
            },
        }
    }
    note_id = oro.post("notes", body, user="admin").json["data"]["id"]
    assert oro.get(f"notes/{note_id}", user="alice").status_code == 403  # admin owns it
    shared = oro.post("notes", body, user="alice").json["data"]["id"]
    response = oro.get(f"notes/{shared}", "include=activityTargets", user="alice").json
    assert [(i["type"], i["id"]) for i in response["included"]] == [("contacts", "1")]


def test_changing_a_hidden_record_is_403(oro: OroApi) -> None:
    maria = oro.find_id("contacts", primaryEmail=HIDDEN_FROM_ALICE_EMAIL)
    body = {"data": {"type": "contacts", "id": maria, "attributes": {"jobTitle": "CEO"}}}
    assert oro.patch(f"contacts/{maria}", body, user="alice").status_code == 403
    assert oro.delete(f"contacts/{maria}", user="alice").status_code == 403


def test_search_respects_permissions(oro: OroApi) -> None:
    query = f"filter[searchText]={HIDDEN_FROM_ALICE_EMAIL}"
    assert oro.get("search", query, user="alice").json["data"] == []
    assert oro.get("search", query, user="bob").json["data"] != []
