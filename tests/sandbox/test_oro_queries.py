"""Filters, sorting, include and sparse fieldsets behave as Oro's do, errors included."""

from __future__ import annotations

from connector.sandbox.examples import (
    MIXED_CASE_SENT_EMAIL,
    MIXED_CASE_STORED_EMAIL,
    SECONDARY_ADDRESS,
    SECONDARY_PRIMARY_ADDRESS,
    SHARED_ADDRESS,
    TRIPLE_PERSON_EMAIL,
)
from tests.sandbox.conftest import OroApi, error


def test_comma_means_or_and_ranges_are_inclusive(oro: OroApi) -> None:
    assert oro.ids("orders", "filter[id]=5,7", user="admin") == ["5", "7"]
    assert oro.ids("orders", "filter[id]=5..8", user="admin") == ["5", "6", "7", "8"]


def test_operator_keys_and_symbol_forms_agree(oro: OroApi) -> None:
    pairs = [
        ("filter[id][gt]=495", "filter[id]>495"),
        ("filter[id][gte]=495", "filter[id]>=495"),
        ("filter[id][lt]=4", "filter[id]<4"),
        ("filter[id][lte]=4", "filter[id]<=4"),
        ("filter[id][neq]=1&page[size]=3", "filter[id]!=1&page[size]=3"),
    ]
    for keyed, symbol in pairs:
        assert oro.ids("orders", keyed, user="admin") == oro.ids("orders", symbol, user="admin"), keyed
    assert oro.ids("orders", "filter[id]>=498", user="admin") == ["498", "499", "500"]
    assert oro.ids("orders", "filter[id]!=1&page[size]=2", user="admin") == ["2", "3"]


def test_exists_and_neq_or_null(oro: OroApi) -> None:
    without_po = oro.ids("orders", "filter[poNumber][exists]=no&page[size]=-1", user="admin")
    with_po = oro.ids("orders", "filter[poNumber]*yes&page[size]=-1", user="admin")
    assert without_po and with_po
    assert len(without_po) + len(with_po) == 500
    some_po = oro.get("orders/" + with_po[0], user="admin").json["data"]["attributes"]["poNumber"]
    others = oro.ids("orders", f"filter[poNumber][neq_or_null]={some_po}&page[size]=-1", user="admin")
    assert set(without_po) <= set(others)
    assert with_po[0] not in others
    assert oro.ids("orders", f"filter[poNumber]!*{some_po}&page[size]=-1", user="admin") == others


def test_order_identifier_filter_ignores_case(oro: OroApi) -> None:
    assert oro.ids("orders", "filter[identifier]=so-10003", user="admin") == ["3"]
    assert oro.ids("orders", "filter[identifier]=SO-10003,so-10004", user="admin") == ["3", "4"]


def test_datetime_filters_take_utc_and_offsets(oro: OroApi) -> None:
    order = oro.get("orders/10", user="admin").json["data"]["attributes"]
    created = order["createdAt"]
    assert "10" in oro.ids("orders", f"filter[createdAt]={created}&page[size]=-1", user="admin")
    shifted = created.replace("Z", "%2B00:00")
    assert "10" in oro.ids("orders", f"filter[createdAt][gte]={shifted}&page[size]=-1", user="admin")
    later = oro.ids("orders", f"filter[createdAt][gt]={created}&page[size]=-1", user="admin")
    assert "10" not in later


def test_contact_emails_filter_matches_any_address_exactly(oro: OroApi) -> None:
    by_primary = oro.ids("contacts", f"filter[emails]={SECONDARY_PRIMARY_ADDRESS}")
    by_secondary = oro.ids("contacts", f"filter[emails]={SECONDARY_ADDRESS}")
    assert by_primary == by_secondary and len(by_primary) == 1
    assert oro.ids("contacts", f"filter[primaryEmail]={SECONDARY_ADDRESS}") == []
    assert len(oro.ids("contacts", f"filter[emails]={SHARED_ADDRESS}")) == 2


def test_email_filters_are_case_sensitive_like_oros(oro: OroApi) -> None:
    assert len(oro.ids("contacts", f"filter[emails]={MIXED_CASE_STORED_EMAIL}")) == 1
    assert oro.ids("contacts", f"filter[emails]={MIXED_CASE_SENT_EMAIL}") == []


def test_customer_users_are_found_by_email(oro: OroApi) -> None:
    found = oro.get("customerusers", f"filter[email]={TRIPLE_PERSON_EMAIL}").json["data"]
    assert [item["attributes"]["lastName"] for item in found] == ["Moreau"]


def test_plus_in_a_raw_query_string_is_a_space_like_php(oro: OroApi) -> None:
    assert oro.ids("customerusers", "filter[email]=kenta.sato+orders@sakura-seiki.example") == []
    assert len(oro.ids("customerusers", "filter[email]=kenta.sato%2Borders@sakura-seiki.example")) == 1


def test_unknown_filter_is_400_filter_constraint(oro: OroApi) -> None:
    response = oro.get("contacts", "filter[shoeSize]=42")
    assert response.status_code == 400
    assert error(response) == {
        "status": "400",
        "title": "filter constraint",
        "detail": 'Filter "filter[shoeSize]" is not supported.',
        "source": {"parameter": "filter[shoeSize]"},
    }


def test_opportunities_cannot_be_filtered_by_account(oro: OroApi) -> None:
    response = oro.get("opportunities", "filter[account]=1")
    assert response.status_code == 400
    assert error(response)["source"] == {"parameter": "filter[account]"}


def test_wrong_value_type_is_400_unexpected_value(oro: OroApi) -> None:
    response = oro.get("contacts", "filter[id]=aaa")
    assert response.status_code == 400
    assert error(response) == {
        "status": "400",
        "title": "unexpected value exception",
        "detail": 'Expected integer value. Given "aaa".',
        "source": {"parameter": "filter[id]"},
    }


def test_comparison_operators_are_refused_on_string_filters(oro: OroApi) -> None:
    response = oro.get("contacts", "filter[lastName][gt]=M")
    assert response.status_code == 400
    assert error(response)["title"] == "filter constraint"


def test_to_many_filters_mean_contains(oro: OroApi) -> None:
    account_id = oro.world.oro.get(("contacts", "1")).relationships["accounts"][0][1]
    members = oro.ids("contacts", f"filter[accounts]={account_id}")
    assert "1" in members and len(members) >= 2
    assert "1" not in oro.ids("contacts", f"filter[accounts][neq]={account_id}&page[size]=-1")


def test_sort_descending_and_by_several_fields(oro: OroApi) -> None:
    ids = oro.ids("orders", "sort=-id&page[size]=3", user="admin")
    assert ids == ["500", "499", "498"]
    data = oro.get("contacts", "sort=lastName,-id&page[size]=-1", user="admin").json["data"]
    names = [item["attributes"]["lastName"].lower() for item in data]
    assert names == sorted(names)


def test_unsupported_sort_is_400_sort_constraint(oro: OroApi) -> None:
    response = oro.get("contacts", "sort=jobTitle")
    assert response.status_code == 400
    assert error(response) == {
        "status": "400",
        "title": "sort constraint",
        "detail": 'Sorting by "jobTitle" field is not supported.',
        "source": {"parameter": "sort"},
    }


def test_include_puts_related_records_in_included(oro: OroApi) -> None:
    response = oro.get("orders/3", "include=customer,customerUser,internalStatus", user="admin").json
    types = sorted(item["type"] for item in response["included"])
    assert types == ["customers", "customerusers", "orderinternalstatuses"]
    status = next(i for i in response["included"] if i["type"] == "orderinternalstatuses")
    assert set(status["attributes"]) == {"name", "default", "priority"}


def test_include_follows_dotted_paths(oro: OroApi) -> None:
    response = oro.get("orders/3", "include=customerUser.customer", user="admin").json
    assert {item["type"] for item in response["included"]} == {"customerusers", "customers"}


def test_unknown_include_names_are_ignored_and_empty_include_is_an_error(oro: OroApi) -> None:
    assert "included" not in oro.get("contacts/1", "include=spouse").json
    response = oro.get("contacts/1", "include=")
    assert response.status_code == 400
    assert error(response)["source"] == {"parameter": "include"}


def test_sparse_fieldsets_limit_attributes_and_relationships(oro: OroApi) -> None:
    data = oro.get("contacts/1", "fields[contacts]=firstName,lastName,accounts").json["data"]
    assert data["attributes"] == {"firstName": "Sophie", "lastName": "Wagner"}
    assert list(data["relationships"]) == ["accounts"]
    bare = oro.get("contacts/1", "fields[contacts]=").json["data"]
    assert "attributes" not in bare and "relationships" not in bare


def test_include_needs_the_relation_in_the_primary_fieldset(oro: OroApi) -> None:
    response = oro.get("contacts/1", "include=accounts&fields[contacts]=firstName").json
    assert "included" not in response
    response = oro.get(
        "contacts/1", "include=accounts&fields[contacts]=firstName,accounts&fields[accounts]=name"
    ).json
    assert response["included"][0]["attributes"] == {"name": "Nordlicht Logistik GmbH"}


def test_search_text_filter_on_a_resource(oro: OroApi) -> None:
    found = oro.get("contacts", "filter[searchText]=jb.lefevre").json["data"]
    assert [item["attributes"]["lastName"] for item in found] == ["Lefèvre"]
