"""/api/v1/templates and /api/v1/template-variables: templates for the Outlook pane and integrators.

Who may do what follows :mod:`connector.templates.operations`: a template is seen by its owner and,
when shared, by everyone; it is changed by its owner, or by an administrator when it is shared; one
the caller may not see is a 404 like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from connector.audit.operations import audit_entries
from connector.db import db
from connector.sandbox import examples as ex
from tests.api.support import LiveConnector, start_connector

pytestmark = pytest.mark.usefixtures("backend")  # each test on SQLite and on PostgreSQL

FOLLOW_UP = {
    "name": "Contact follow-up",
    "record_type": "contacts",
    "subject": "Following up, {{ entity.firstName }}",
    "body": "<p>Dear {{ entity.firstName }},</p><p>as promised, the 2027 price list &amp; terms.</p>"
    "<p>{{ user.name }}</p>",
}
LEAD_INTRO = {
    "name": "Lead intro",
    "record_type": "leads",
    "subject": "Hello from {{ user.name }}",
    "body": "<p>Dear {{ entity.firstName }},</p><p>As {{ entity.jobTitle }}, you will like this.</p>",
}


@pytest.fixture
def admin_connector(app_factory: Any) -> Iterator[LiveConnector]:
    live = start_connector(app_factory, admin_emails=(ex.ADMIN_EMAIL,))
    yield live
    live.server.stop()


def record_id(connector: LiveConnector, kind: str, email: str, **attributes: Any) -> str:
    """The id of the sandbox Oro record of ``kind`` whose primary address is ``email``."""
    (found,) = [
        r.id
        for r in connector.world.oro.all(kind)
        if (r.attributes.get("primaryEmail") or r.attributes.get("email") or "").lower() == email.lower()
        and all(r.attributes.get(k) == v for k, v in attributes.items())
    ]
    return str(found)


def create(connector: LiveConnector, body: dict[str, Any], username: str = "alice") -> dict[str, Any]:
    answer = connector.api("POST", "/templates", username, json=body)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def problem_of(answer: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = answer.json()
    assert body["code"] == code, body
    return body


# --- create, read, list ----------------------------------------------------------------------------------


def test_create_read_and_list_a_template(connector: LiveConnector) -> None:
    created = create(
        connector,
        {**FOLLOW_UP, "variants": [{"locale": "de", "subject": "Nachfrage", "body": "<p>Hallo</p>"}]},
    )
    assert created["name"] == "Contact follow-up"
    assert created["record_type"] == "contacts" and created["record_type_label"] == "Contact"
    assert (created["format"], created["visibility"], created["version"]) == ("html", "private", 1)
    assert created["locales"] == ["de"]
    assert created["mine"] is True and created["can_change"] is True
    assert created["subject"] == FOLLOW_UP["subject"] and created["body"] == FOLLOW_UP["body"]
    assert [(v["locale"], v["subject"]) for v in created["variants"]] == [
        ("", FOLLOW_UP["subject"]),
        ("de", "Nachfrage"),
    ]

    again = connector.api("GET", f"/templates/{created['id']}")
    assert again.status_code == 200 and again.json() == created
    listed = connector.api("GET", "/templates").json()["templates"]
    assert [t["name"] for t in listed] == ["Contact follow-up"]
    assert "body" not in listed[0]  # a list names templates; their texts come with one template


def test_the_list_holds_own_and_shared_templates_and_filters_by_record_type(connector: LiveConnector) -> None:
    create(connector, FOLLOW_UP)
    create(connector, {**LEAD_INTRO, "visibility": "shared"})
    create(
        connector,
        {"name": "Thanks", "record_type": None, "subject": "Thanks", "body": "Thank you!", "format": "text"},
    )
    create(connector, {**FOLLOW_UP, "name": "Bob's own"}, "bob")
    create(connector, {**FOLLOW_UP, "name": "Bob's shared", "visibility": "shared"}, "bob")

    def names(username: str, **query: str) -> list[str]:
        answer = connector.api("GET", "/templates", username, params=query)
        assert answer.status_code == 200, answer.text
        return [t["name"] for t in answer.json()["templates"]]

    assert names("alice") == ["Bob's shared", "Contact follow-up", "Lead intro", "Thanks"]
    assert names("bob") == ["Bob's own", "Bob's shared", "Lead intro"]
    assert names("alice", record_type="contacts") == ["Bob's shared", "Contact follow-up"]
    assert names("alice", record_type="none") == ["Thanks"]
    assert names("bob", record_type="orders") == []
    bobs = {t["name"]: t for t in connector.api("GET", "/templates", "bob").json()["templates"]}
    assert (bobs["Lead intro"]["mine"], bobs["Lead intro"]["can_change"]) == (False, False)
    assert (bobs["Bob's own"]["mine"], bobs["Bob's own"]["can_change"]) == (True, True)
    problem_of(connector.api("GET", "/templates", params={"record_type": "users"}), 400, "invalid_request")


def test_a_template_that_does_not_fit_its_record_type_is_refused_with_each_problem_named(
    connector: LiveConnector,
) -> None:
    answer = connector.api(
        "POST",
        "/templates",
        json={**FOLLOW_UP, "body": "<p>Your order {{ entity.poNumber }}</p>"},
    )
    body = problem_of(answer, 422, "template_invalid")
    assert body["problems"] == ["body: entity.poNumber is not a variable of contact templates"]
    broken = connector.api("POST", "/templates", json={**FOLLOW_UP, "subject": "{% if %}"})
    assert problem_of(broken, 422, "template_invalid")["problems"][0].startswith("subject, ")
    assert connector.api("GET", "/templates").json()["templates"] == []

    # What the schema refuses is a 400 naming the field.
    bad = connector.api(
        "POST", "/templates", json={"name": " ", "subject": "x", "body": "y", "colour": "red"}
    )
    fields = {e["field"] for e in problem_of(bad, 400, "invalid_request")["errors"]}
    assert fields == {"name", "colour"}
    nul = connector.api("POST", "/templates", json={**FOLLOW_UP, "name": "a\x00b", "body": "<p>\x00</p>"})
    assert {e["field"] for e in problem_of(nul, 400, "invalid_request")["errors"]} == {"name", "body"}
    surrogate = requests.post(
        f"{connector.url}/api/v1/templates",
        data='{"name": "x", "subject": "x", "body": "\\ud800"}',
        headers={**connector.headers(), "Content-Type": "application/json"},
        timeout=10,
    )
    assert problem_of(surrogate, 400, "invalid_request")["errors"] == [
        {"field": "body", "message": "is not valid Unicode text"}
    ]


def test_without_a_valid_token_nothing_is_answered(connector: LiveConnector) -> None:
    for method, path in (("GET", "/templates"), ("GET", "/templates/1"), ("GET", "/template-variables")):
        answer = requests.request(method, f"{connector.url}/api/v1{path}", timeout=10)
        problem_of(answer, 401, "invalid_token")


# --- who may change what ---------------------------------------------------------------------------------


def test_only_the_owner_changes_a_template_and_nobody_else_sees_a_private_one(
    connector: LiveConnector,
) -> None:
    private = create(connector, FOLLOW_UP)
    shared = create(connector, {**LEAD_INTRO, "visibility": "shared"})

    # bob does not see alice's private template at all: the same 404 as for no template.
    for method, path, body in (
        ("GET", f"/templates/{private['id']}", None),
        ("PATCH", f"/templates/{private['id']}", {"name": "Mine now"}),
        ("DELETE", f"/templates/{private['id']}", None),
        ("PUT", f"/templates/{private['id']}/variants/de", {"subject": "x", "body": "y"}),
        ("POST", f"/templates/{private['id']}/preview", {"recipients": [{"email": "a@b.example"}]}),
        ("GET", "/templates/999999", None),
        ("GET", "/templates/99999999999", None),
    ):
        problem_of(connector.api(method, path, "bob", json=body), 404, "template_not_found")

    # bob sees alice's shared template and may use it, but not change it.
    assert connector.api("GET", f"/templates/{shared['id']}", "bob").json()["can_change"] is False
    for method, path, body in (
        ("PATCH", f"/templates/{shared['id']}", {"name": "Mine now"}),
        ("DELETE", f"/templates/{shared['id']}", None),
        ("PUT", f"/templates/{shared['id']}/variants/de", {"subject": "x", "body": "y"}),
        ("DELETE", f"/templates/{shared['id']}/variants/de", None),
    ):
        problem_of(connector.api(method, path, "bob", json=body), 403, "template_access_denied")
    assert connector.api("GET", f"/templates/{shared['id']}").json()["name"] == "Lead intro"

    # alice changes her own: every change makes a new version.
    edited = connector.api(
        "PATCH", f"/templates/{shared['id']}", json={"name": "Lead welcome", "visibility": "private"}
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["name"], edited.json()["visibility"], edited.json()["version"]) == (
        "Lead welcome",
        "private",
        2,
    )
    problem_of(connector.api("GET", f"/templates/{shared['id']}", "bob"), 404, "template_not_found")
    problem_of(connector.api("PATCH", f"/templates/{shared['id']}", json={}), 400, "invalid_request")
    refused = connector.api("PATCH", f"/templates/{shared['id']}", json={"record_type": "orders"})
    assert any("entity.firstName" in p for p in problem_of(refused, 422, "template_invalid")["problems"])

    assert connector.api("DELETE", f"/templates/{private['id']}").status_code == 204
    problem_of(connector.api("GET", f"/templates/{private['id']}"), 404, "template_not_found")
    with db.session_scope(connector.app) as session:
        actions = [(e.action, e.actor) for e in audit_entries(session, subject=f"template:{private['id']}")]
    assert actions == [("template.delete", ex.ALICE_MAILBOX), ("template.create", ex.ALICE_MAILBOX)]


def test_an_administrator_changes_shared_templates_but_does_not_see_private_ones(
    admin_connector: LiveConnector,
) -> None:
    shared = create(admin_connector, {**FOLLOW_UP, "visibility": "shared"})
    private = create(admin_connector, {**LEAD_INTRO, "name": "Alice's own"})
    listed = {t["name"]: t for t in admin_connector.api("GET", "/templates", "admin").json()["templates"]}
    assert list(listed) == ["Contact follow-up"]
    assert (listed["Contact follow-up"]["mine"], listed["Contact follow-up"]["can_change"]) == (False, True)

    fixed = admin_connector.api(
        "PATCH", f"/templates/{shared['id']}", "admin", json={"subject": "Our price list"}
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["subject"] == "Our price list" and fixed.json()["mine"] is False
    put = admin_connector.api(
        "PUT",
        f"/templates/{shared['id']}/variants/fr",
        "admin",
        json={"subject": "Tarifs", "body": "<p>Bonjour</p>"},
    )
    assert put.status_code == 200 and put.json()["locales"] == ["fr"]
    problem_of(
        admin_connector.api("PATCH", f"/templates/{private['id']}", "admin", json={"name": "x"}),
        404,
        "template_not_found",
    )
    with db.session_scope(admin_connector.app) as session:
        edits = audit_entries(session, subject=f"template:{shared['id']}", action="template.edit")
        assert [(e.actor, e.details["changed"]) for e in edits] == [(ex.ADMIN_EMAIL, ["subject"])]
    assert admin_connector.api("DELETE", f"/templates/{shared['id']}", "admin").status_code == 204
    assert admin_connector.api("GET", "/templates").json()["templates"][0]["name"] == "Alice's own"


# --- locale variants -------------------------------------------------------------------------------------


def test_locale_variants_are_set_used_with_fallback_and_removed(connector: LiveConnector) -> None:
    template = create(
        connector, {"name": "Greeting", "record_type": None, "subject": "Hello", "body": "<p>Hello</p>"}
    )
    path = f"/templates/{template['id']}"
    put = connector.api(
        "PUT", f"{path}/variants/de", json={"subject": "Hallo", "body": "<p>Hallo {{ user.firstName }}</p>"}
    )
    assert put.status_code == 200, put.text
    assert put.json()["locales"] == ["de"] and put.json()["version"] == 2
    assert connector.api(
        "PUT", f"{path}/variants/de-at", json={"subject": "Servus", "body": "<p>Servus</p>"}
    ).json()["locales"] == ["de", "de_AT"]

    def preview(locale: str) -> dict[str, Any]:
        answer = connector.api(
            "POST", f"{path}/preview", json={"recipients": [{"email": "x@y.example"}], "locale": locale}
        )
        assert answer.status_code == 200, answer.text
        first: dict[str, Any] = answer.json()["previews"][0]
        return first

    assert (preview("de-CH")["subject"], preview("de-CH")["locale"]) == ("Hallo", "de")
    assert preview("de-CH")["body"] == "<p>Hallo Alice</p>"
    assert (preview("de-AT")["subject"], preview("fr")["subject"]) == ("Servus", "Hello")

    assert connector.api("DELETE", f"{path}/variants/de_AT").status_code == 204
    assert preview("de-AT")["subject"] == "Hallo"
    problem_of(connector.api("DELETE", f"{path}/variants/de_AT"), 404, "template_not_found")
    problem_of(connector.api("DELETE", f"{path}/variants/german"), 400, "invalid_request")
    bad = connector.api(
        "PUT", f"{path}/variants/fr", json={"subject": "Bonjour", "body": "{{ entity.firstName }}"}
    )
    assert problem_of(bad, 422, "template_invalid")["problems"]
    assert connector.api("GET", path).json()["locales"] == ["de"]


# --- previews --------------------------------------------------------------------------------------------


def test_a_complete_preview_for_a_recipient_and_their_record(connector: LiveConnector) -> None:
    connector.connect_to_oro("alice")
    template = create(connector, FOLLOW_UP)
    contact = record_id(connector, "contacts", ex.TRIPLE_PERSON_EMAIL)
    answer = connector.api(
        "POST",
        f"/templates/{template['id']}/preview",
        json={
            "record": {"type": "contacts", "id": contact},
            "recipients": [{"email": ex.TRIPLE_PERSON_EMAIL, "name": ex.TRIPLE_PERSON_NAME}],
        },
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert (result["template_id"], result["version"]) == (template["id"], 1)
    (preview,) = result["previews"]
    assert preview["to"] == ex.TRIPLE_PERSON_EMAIL and preview["name"] == ex.TRIPLE_PERSON_NAME
    assert preview["record"] == {"type": "contacts", "id": contact, "title": ex.TRIPLE_PERSON_NAME}
    assert preview["subject"] == "Following up, Inès"
    assert preview["body"] == (
        "<p>Dear Inès,</p><p>as promised, the 2027 price list &amp; terms.</p><p>Alice Martin</p>"
    )
    assert preview["format"] == "html" and preview["locale"] == ""
    assert (preview["missing"], preview["missing_fields"], preview["ready"]) == ([], [], True)
    # The plain-text alternative of the HTML body, for the mail's text/plain part.
    assert "Dear Inès," in preview["text"] and "price list & terms." in preview["text"]
    assert "<p>" not in preview["text"]


def test_a_preview_names_each_missing_field_and_is_not_ready(connector: LiveConnector) -> None:
    connector.connect_to_oro("alice")
    template = create(connector, LEAD_INTRO)
    lead = record_id(connector, "leads", ex.TRIPLE_PERSON_EMAIL)  # Inès's lead has no job title
    contact = record_id(connector, "contacts", ex.TRIPLE_PERSON_EMAIL)
    answer = connector.api(
        "POST",
        f"/templates/{template['id']}/preview",
        json={"record": {"type": "leads", "id": lead}, "recipients": [{"email": ex.TRIPLE_PERSON_EMAIL}]},
    )
    assert answer.status_code == 200, answer.text
    (preview,) = answer.json()["previews"]
    assert preview["missing"] == ["entity.jobTitle"]
    assert preview["missing_fields"] == [{"path": "entity.jobTitle", "label": "Job title"}]
    assert preview["ready"] is False
    assert "[missing: entity.jobTitle]" in preview["body"] and "Dear Inès," in preview["body"]

    # Without the record, every entity field it uses is missing.
    bare = connector.api(
        "POST", f"/templates/{template['id']}/preview", json={"recipients": [{"email": "x@y.example"}]}
    )
    assert bare.json()["previews"][0]["missing"] == ["entity.firstName", "entity.jobTitle"]

    # Each recipient with their own record: one may be complete and the next not.
    phone = create(connector, {**FOLLOW_UP, "name": "Phone", "body": "Call {{ entity.primaryPhone }}"})
    per_recipient = connector.api(
        "POST",
        f"/templates/{phone['id']}/preview",
        json={
            "recipients": [
                {"email": ex.TRIPLE_PERSON_EMAIL, "record": {"type": "contacts", "id": contact}},
                {
                    "email": ex.SHARED_ADDRESS,
                    "record": {
                        "type": "contacts",
                        "id": record_id(connector, "contacts", ex.SHARED_ADDRESS, firstName="Sølvi"),
                    },
                },
            ]
        },
    )
    assert per_recipient.status_code == 200, per_recipient.text
    assert [p["ready"] for p in per_recipient.json()["previews"]] == [True, False]


def test_a_preview_is_refused_for_a_record_it_cannot_use(connector: LiveConnector) -> None:
    template = create(connector, FOLLOW_UP)
    path = f"/templates/{template['id']}/preview"
    recipients = [{"email": ex.TRIPLE_PERSON_EMAIL}]
    contact = record_id(connector, "contacts", ex.TRIPLE_PERSON_EMAIL)

    # Not connected to Oro: the record cannot be read.
    not_connected = connector.api(
        "POST", path, json={"record": {"type": "contacts", "id": contact}, "recipients": recipients}
    )
    assert problem_of(not_connected, 403, "oro_not_connected")["connect_url"]

    connector.connect_to_oro("alice")
    lead = record_id(connector, "leads", ex.TRIPLE_PERSON_EMAIL)
    wrong_type = connector.api(
        "POST", path, json={"record": {"type": "leads", "id": lead}, "recipients": recipients}
    )
    assert "not for" in problem_of(wrong_type, 422, "template_render_failed")["detail"]
    hidden = record_id(connector, "contacts", ex.HIDDEN_FROM_ALICE_EMAIL)  # in bob's business unit
    refused = connector.api(
        "POST", path, json={"record": {"type": "contacts", "id": hidden}, "recipients": recipients}
    )
    assert refused.status_code in (403, 404) and refused.json()["code"] in ("oro_forbidden", "oro_not_found")
    gone = connector.api(
        "POST", path, json={"record": {"type": "contacts", "id": "987654"}, "recipients": recipients}
    )
    problem_of(gone, 404, "oro_not_found")
    problem_of(connector.api("POST", path, json={"recipients": []}), 400, "invalid_request")


# --- the variable catalog --------------------------------------------------------------------------------


def test_the_variable_catalog_per_record_type(connector: LiveConnector) -> None:
    everything = connector.api("GET", "/template-variables")
    assert everything.status_code == 200, everything.text
    catalogs = {c["record_type"]: c for c in everything.json()["catalogs"]}
    assert set(catalogs) == {
        None,
        "customerusers",
        "customers",
        "orders",
        "contacts",
        "leads",
        "opportunities",
        "cases",
    }
    assert catalogs[None]["entity"] == [] and catalogs[None]["label"] == "No record"
    orders = {v["path"]: v for v in catalogs["orders"]["entity"]}
    assert orders["entity.poNumber"] == {"path": "entity.poNumber", "label": "PO number", "kind": "code"}
    assert {"path": "user.signature", "label": "Your signature", "kind": "text"} in catalogs["orders"]["user"]
    one = connector.api("GET", "/template-variables", params={"record_type": "leads"}).json()["catalogs"]
    assert [c["record_type"] for c in one] == ["leads"]
    assert one[0] == catalogs["leads"]
    problem_of(
        connector.api("GET", "/template-variables", params={"record_type": "users"}), 400, "invalid_request"
    )
