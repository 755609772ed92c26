"""Email templates through Oro's legacy REST endpoints (plain JSON, not JSON:API)."""

from __future__ import annotations

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.sandbox.conftest import OroApi

BASE = "/oro/admin/api/rest/latest/emailtemplates"
CONTACT = "Oro_Bundle_ContactBundle_Entity_Contact"


def get(oro: OroApi, path: str, user: str | None = "alice") -> TestResponse:
    client: FlaskClient = oro.client
    headers = {"Authorization": f"Bearer {oro.token(user)}"} if user else {}
    return client.get(f"{BASE}/{path}", headers=headers)


def test_list_for_an_entity(oro: OroApi) -> None:
    response = get(oro, f"list/{CONTACT}/0/0.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    templates = response.json
    assert [t["name"] for t in templates] == ["contact_follow_up"]
    assert set(templates[0]) == {
        "id",
        "name",
        "is_system",
        "is_editable",
        "parent",
        "subject",
        "content",
        "entity_name",
        "type",
    }
    assert templates[0]["entity_name"] == "Oro\\Bundle\\ContactBundle\\Entity\\Contact"


def test_list_with_non_entity_and_system_templates(oro: OroApi) -> None:
    names = [t["name"] for t in get(oro, f"list/{CONTACT}/1/0.json").json]
    assert names == ["contact_follow_up", "generic_thanks"]
    user_templates = get(oro, "list/Oro_Bundle_UserBundle_Entity_User/0/1.json").json
    assert [t["is_system"] for t in user_templates] == [True]
    assert get(oro, "list/Oro_Bundle_UserBundle_Entity_User/0/0.json").json == []


def test_compiled_template_is_rendered_for_the_record(oro: OroApi) -> None:
    response = get(oro, "compiled/1/1.json")
    assert response.status_code == 200
    assert response.json == {
        "subject": "Following up, Sophie",
        "body": "<p>Dear Sophie Wagner,</p><p>Thank you for your time today.</p>"
        "<p>Best regards,<br>Alice Martin</p>",
        "type": "html",
    }


def test_compiled_for_a_missing_entity_is_404_with_oros_message(oro: OroApi) -> None:
    response = get(oro, "compiled/1/999999.json")
    assert response.status_code == 404
    assert response.json == {
        "message": "entity Oro\\Bundle\\ContactBundle\\Entity\\Contact with id=999999 not found"
    }


def test_legacy_endpoints_need_a_token(oro: OroApi) -> None:
    response = get(oro, f"list/{CONTACT}/0/0.json", user=None)
    assert response.status_code == 401
    assert response.get_data() == b""
