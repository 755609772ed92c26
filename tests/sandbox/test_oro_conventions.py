"""The sandbox's Oro speaks Oro's JSON:API conventions: media types, 401s, formats, paging, links."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import requests

from connector.sandbox.examples import SHARED_ADDRESS
from tests.conftest import SandboxServer
from tests.sandbox.conftest import API, JSON_API, OroApi, error


def test_missing_token_is_401_with_an_empty_body(oro: OroApi) -> None:
    response = oro.get("contacts", user=None)
    assert response.status_code == 401
    assert response.get_data() == b""
    assert response.headers["WWW-Authenticate"] == "Basic"


def test_unknown_token_is_401_with_an_empty_body(oro: OroApi) -> None:
    response = oro.get("contacts", user=None, headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert response.get_data() == b""


def test_accept_with_only_parameterised_json_api_is_406(oro: OroApi) -> None:
    response = oro.get("contacts", headers={"Accept": f"{JSON_API}; charset=utf-8"})
    assert response.status_code == 406
    assert error(response)["title"] == "not acceptable http exception"
    assert "without any parameters" in error(response)["detail"]


def test_accept_with_a_quality_value_is_accepted(oro: OroApi) -> None:
    response = oro.get("contacts", headers={"Accept": f"text/html, {JSON_API};q=0.9"})
    assert response.status_code == 200


def test_content_type_with_parameters_is_415(oro: OroApi) -> None:
    body = {"data": {"type": "accounts", "attributes": {"name": "Param Co"}}}
    response = oro.post("accounts", body, headers={"Content-Type": f"{JSON_API}; ext=bulk"})
    assert response.status_code == 415
    assert error(response)["title"] == "unsupported media type http exception"


def test_plain_json_request_is_refused(oro: OroApi) -> None:
    assert oro.get("contacts", headers={"Accept": "application/json"}).status_code == 406
    body = {"data": {"type": "accounts", "attributes": {"name": "Plain Co"}}}
    assert oro.post("accounts", body, headers={"Content-Type": "application/json"}).status_code == 415


def test_responses_are_json_api_with_string_ids_utc_datetimes_and_money_strings(oro: OroApi) -> None:
    response = oro.get("orders", "page[size]=1")
    assert response.headers["Content-Type"] == JSON_API
    order = response.json["data"][0]
    assert isinstance(order["id"], str)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", order["attributes"]["createdAt"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", order["attributes"]["shipUntil"])
    assert re.fullmatch(r"\d+\.\d{4}", order["attributes"]["totalValue"])
    assert order["relationships"]["internalStatus"]["data"]["type"] == "orderinternalstatuses"
    assert isinstance(order["relationships"]["customer"]["data"]["id"], str)


def test_default_page_size_is_ten_sorted_by_id(oro: OroApi) -> None:
    ids = oro.ids("orders", user="admin")
    assert len(ids) == 10
    assert ids == sorted(ids, key=int)


def test_page_size_minus_one_turns_paging_off(oro: OroApi) -> None:
    assert len(oro.ids("orders", "page[size]=-1", user="admin")) == 500


def test_links_have_self_first_prev_next_but_no_last(oro: OroApi) -> None:
    first = oro.get("contacts", "page[size]=5", user="admin").json
    assert first["links"] == {
        "self": f"http://localhost{API}/contacts",
        "next": f"http://localhost{API}/contacts?page%5Bnumber%5D=2&page%5Bsize%5D=5",
    }
    third = oro.get("contacts", "page[size]=5&page[number]=3&sort=-id", user="admin").json
    links = third["links"]
    assert set(links) == {"self", "first", "prev", "next"}
    assert links["first"] == f"http://localhost{API}/contacts?page%5Bsize%5D=5&sort=-id"
    assert parse_qs(urlsplit(links["prev"]).query) == {
        "page[number]": ["2"],
        "page[size]": ["5"],
        "sort": ["-id"],
    }
    assert parse_qs(urlsplit(links["next"]).query)["page[number]"] == ["4"]
    last_page = oro.get("contacts", "page[size]=100&page[number]=2", user="admin").json
    assert "next" not in last_page["links"]
    assert len(last_page["data"]) == 100


def test_following_next_links_reads_every_record_once(oro: OroApi) -> None:
    seen: list[str] = []
    url: str | None = f"{API}/leads?page[size]=30"
    while url:
        response = oro.client.get(
            url, headers={"Accept": JSON_API, "Authorization": f"Bearer {oro.token('admin')}"}
        )
        seen += [item["id"] for item in response.json["data"]]
        url = response.json["links"].get("next")
    assert len(seen) == len(set(seen)) == 100


def test_total_count_header_on_request(oro: OroApi) -> None:
    response = oro.get("orders", "page[size]=2", user="admin", headers={"X-Include": "totalCount"})
    assert response.headers["X-Include-Total-Count"] == "500"
    assert "X-Include-Total-Count" not in oro.get("orders", user="admin").headers


def test_no_hateoas_strips_every_link(oro: OroApi) -> None:
    response = oro.get("contacts", "page[size]=2", headers={"X-Include": "noHateoas"})
    assert "links" not in response.get_data(as_text=True)


def test_item_and_relationship_links_are_absolute_from_the_request(oro: OroApi) -> None:
    response = oro.call("GET", "contacts/1", headers={"Host": "oro.example.test:8443"})
    data = response.json["data"]
    base = "http://oro.example.test:8443/oro/admin/api"
    assert data["links"]["self"] == f"{base}/contacts/1"
    assert data["relationships"]["accounts"]["links"] == {
        "self": f"{base}/contacts/1/relationships/accounts",
        "related": f"{base}/contacts/1/accounts",
    }
    assert response.json["links"]["self"] == f"{base}/contacts"


def test_unknown_resource_is_404_resource_not_accessible(oro: OroApi) -> None:
    response = oro.get("spaceships")
    assert response.status_code == 404
    assert error(response) == {
        "status": "404",
        "title": "resource not accessible exception",
        "detail": "The resource is not accessible.",
    }


def test_unknown_id_is_404_not_found(oro: OroApi) -> None:
    response = oro.get("contacts/999999", user="admin")
    assert response.status_code == 404
    assert error(response) == {
        "status": "404",
        "title": "not found http exception",
        "detail": "An entity with the requested identifier does not exist.",
    }


def test_put_is_not_implemented(oro: OroApi) -> None:
    response = oro.call("PUT", "contacts/1", body={"data": {"type": "contacts", "id": "1"}})
    assert response.status_code == 405
    assert response.headers["Allow"] == "OPTIONS, GET, PATCH, DELETE"


def test_options_lists_allowed_methods(oro: OroApi) -> None:
    assert oro.call("OPTIONS", "contacts").headers["Allow"] == "OPTIONS, GET, POST, DELETE"
    assert oro.call("OPTIONS", "orderinternalstatuses").headers["Allow"] == "OPTIONS, GET"


def test_crm_style_prefix_serves_the_api_at_slash_api(oro: OroApi) -> None:
    oro.world.oro.configure(backoffice_prefix="")
    token = oro.token("alice")
    headers = {"Accept": JSON_API, "Authorization": f"Bearer {token}"}
    assert oro.client.get("/oro/api/contacts/1", headers=headers).status_code == 200
    assert oro.client.get("/oro/admin/api/contacts/1", headers=headers).status_code == 404
    links = oro.client.get("/oro/api/contacts/1", headers=headers).json["data"]["links"]
    assert links["self"] == "http://localhost/oro/api/contacts/1"


def test_disabled_resources_look_like_an_older_oro(oro: OroApi) -> None:
    oro.world.oro.configure(disabled_resources={"emails", "emailcontext"})
    assert oro.get("emails").status_code == 404
    assert (
        error(oro.get("emailcontext", "filter[messageId]=x"))["title"] == "resource not accessible exception"
    )
    assert oro.get("contacts").status_code == 200


def test_meta_title_adds_the_record_title(oro: OroApi) -> None:
    response = oro.get(
        f"contacts/{oro.find_id('contacts', firstName='Ørjan', primaryEmail=SHARED_ADDRESS)}", "meta=title"
    )
    assert response.json["data"]["meta"] == {"title": "Ørjan Haraldsen"}


def test_links_follow_the_mount_point_and_port(sandbox_server: SandboxServer) -> None:
    token = sandbox_server.world.oro.oauth.issue_for_user("2")
    response = requests.get(
        f"{sandbox_server.oro_url}/admin/api/contacts",
        timeout=5,
        headers={"Accept": JSON_API, "Authorization": f"Bearer {token}"},
    )
    assert response.json()["data"][0]["links"]["self"] == f"{sandbox_server.oro_url}/admin/api/contacts/1"
    assert response.json()["links"]["next"].startswith(f"{sandbox_server.oro_url}/admin/api/contacts?")


def test_head_answers_like_get_without_a_body(oro: OroApi) -> None:
    response = oro.call("HEAD", "contacts/1")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == JSON_API
    assert response.get_data() == b""
