"""The admin pages behind the sign-in: users, audit log, manifests, templates, privacy, status."""

from __future__ import annotations

import csv
import io
import json
import logging
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connector.accounts.operations import user_for_identity
from connector.accounts.tokens import token_key
from connector.app_services import services
from connector.audit.models import AuditEntry
from connector.audit.operations import record_audit
from connector.db import db
from connector.db.models import User
from connector.linking.models import PrivacySettings
from connector.oro import OroTokens
from connector.templates.models import EmailTemplate
from tests.admin.conftest import ADMIN_EMAIL, csrf_of, text_of


def _connected_user(app: Flask, email: str = "alice@acme.example") -> int:
    with db.session_scope(app) as session:
        user = user_for_identity(session, provider="google", subject="g-alice", email=email)
        session.flush()
        user_id = user.id
    with app.app_context():
        tokens = OroTokens.from_token_response({"access_token": "a", "refresh_token": "r"}, now=0)
        services().token_store.save(token_key(user_id), tokens)
    return user_id


def test_users_page_lists_who_connected_and_disconnects_them(
    admin_app: Flask, admin_client: FlaskClient
) -> None:
    user_id = _connected_user(admin_app)
    page = text_of(admin_client.get("/admin/users"))
    assert "alice@acme.example" in page and "Gmail" in page and "connected" in page
    answer = admin_client.post(
        f"/admin/users/{user_id}/disconnect", data={"csrf_token": csrf_of(admin_client)}
    )
    assert answer.status_code == 303
    after = text_of(admin_client.get("/admin/users"))
    assert "alice@acme.example is disconnected from Oro: their sidebar asks them to connect again." in after
    with admin_app.app_context():
        assert services().token_store.load(token_key(user_id)) is None
    with db.session_scope(admin_app) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.disconnect")).one()
        assert entry.subject == "user:alice@acme.example" and entry.actor == ADMIN_EMAIL
    missing = admin_client.post("/admin/users/999/disconnect", data={"csrf_token": csrf_of(admin_client)})
    assert missing.status_code == 404 and "There is no user 999" in text_of(missing)


def test_audit_log_filters_and_exports_csv_safe_for_spreadsheets(
    admin_app: Flask, admin_client: FlaskClient
) -> None:
    with db.session_scope(admin_app) as session:
        alice = session.get(User, _connected_user(admin_app))
        record_audit(
            session,
            actor=alice,
            action="link",
            subject="thread:alice@acme.example:1",
            details={"records": ["contacts:1"]},
        )
        record_audit(session, actor=alice, action="link", subject='=HYPERLINK("https://evil.example")')
        record_audit(session, actor=None, action="policy.add", subject="privacy")
    everything = text_of(admin_client.get("/admin/audit"))
    assert "thread:alice@acme.example:1" in everything and "admin.sign_in" in everything

    only_links = admin_client.get("/admin/audit?action=link&actor=ALICE")
    rows = text_of(only_links).count("<td><code>link</code></td>")
    assert rows == 2 and "admin.sign_in" not in text_of(only_links).split("<table")[-1]
    none = text_of(admin_client.get("/admin/audit?since=2999-01-01"))
    assert "No entries match this filter." in none

    exported = admin_client.get("/admin/audit.csv?action=link")
    assert exported.mimetype == "text/csv"
    assert exported.headers["Content-Disposition"] == 'attachment; filename="audit-log.csv"'
    table = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert table[0] == ["time (UTC)", "actor", "action", "subject", "details"]
    assert len(table) == 3
    subjects = {row[3] for row in table[1:]}
    assert '\'=HYPERLINK("https://evil.example")' in subjects  # not run as a formula
    assert json.loads(next(row[4] for row in table[1:] if row[3].startswith("thread:")))["records"] == [
        "contacts:1"
    ]


def test_manifests_need_an_https_address_and_a_client_id(admin_app: Flask, admin_client: FlaskClient) -> None:
    page = text_of(admin_client.get("/admin/google"))
    assert "http://localhost:8000 is not an https:// address" in page
    refused = admin_client.get("/admin/google/deployment.json")
    assert refused.status_code == 400 and "must be an absolute https:// URL" in text_of(refused)
    deployment = admin_client.get("/admin/google/deployment.json?base_url=https://c.example.com/oro/")
    assert deployment.headers["Content-Disposition"] == 'attachment; filename="deployment.json"'
    assert deployment.get_json()["addOns"]["gmail"]["contextualTriggers"][0]["onTriggerFunction"] == (
        "https://c.example.com/oro/addons/gmail/message"
    )
    no_client = admin_client.get("/admin/microsoft/manifest.xml?base_url=https://c.example.com")
    assert no_client.status_code == 400 and "Set the Application (client) id first" in text_of(no_client)
    assert "Save the Application (client) id first" in text_of(admin_client.get("/admin/microsoft"))


def test_the_gmail_deployment_matches_the_command_lines(admin_client: FlaskClient) -> None:
    from click.testing import CliRunner

    from connector.cli import main

    printed = CliRunner().invoke(main, ["manifest", "gmail", "--base-url", "https://c.example.com"]).output
    downloaded = admin_client.get("/admin/google/deployment.json?base_url=https://c.example.com").get_json()
    assert downloaded == json.loads(printed)


def test_oros_templates_are_imported_once(admin_app: Flask, admin_client: FlaskClient) -> None:
    answer = admin_client.post("/admin/templates/import", data={"csrf_token": csrf_of(admin_client)})
    assert answer.status_code == 200
    page = text_of(answer)
    assert "Imported from Oro: 5 new, 0 updated, 0 unchanged, 0 skipped." in page
    assert "order_status" in page and "contact_follow_up" in page
    again = text_of(admin_client.post("/admin/templates/import", data={"csrf_token": csrf_of(admin_client)}))
    assert "Imported from Oro: 0 new, 0 updated, 5 unchanged, 0 skipped." in again
    with db.session_scope(admin_app) as session:
        stored = session.scalars(select(EmailTemplate)).all()
        assert {t.visibility for t in stored} == {"shared"} and len(stored) == 5
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "template.import")).all()


def test_a_template_that_does_not_compile_is_not_saved_and_says_why(
    admin_app: Flask, admin_client: FlaskClient
) -> None:
    answer = admin_client.post(
        "/admin/templates",
        data={
            "csrf_token": csrf_of(admin_client),
            "name": "Broken",
            "record_type": "contacts",
            "format": "html",
            "visibility": "shared",
            "subject": "Hi {{ entity.nickname }}",
            "body": "<p>{% for %}</p>",
        },
    )
    assert answer.status_code == 400
    page = text_of(answer)
    assert "entity.nickname is not a variable of contact templates" in page
    assert 'value="Broken"' in page  # the form keeps what was typed
    with db.session_scope(admin_app) as session:
        assert session.scalars(select(EmailTemplate)).all() == []
    assert admin_client.get("/admin/templates/12345").status_code == 404


def test_the_preview_answers_without_javascript_too(admin_client: FlaskClient, sandbox_server: Any) -> None:
    ines = sandbox_server.world.oro.owners_of_address("ines.moreau@lumiere-optique.example")
    contact_id = next(record_id for record_type, record_id in ines if record_type == "contacts")
    answer = admin_client.post(
        "/admin/templates/preview",
        data={
            "csrf_token": csrf_of(admin_client),
            "name": "Hi",
            "record_type": "contacts",
            "format": "text",
            "subject": "Hello {{ entity.firstName }}",
            "body": "Your job: {{ entity.jobTitle }}",
            "record_id": contact_id,
        },
    )
    page = text_of(answer)
    assert answer.status_code == 200
    assert "For Inès Moreau" in page and "Hello Inès" in page
    assert "Choose a record" in page or "Inès Moreau</option>" in page


def test_privacy_modes_are_saved_and_bad_values_refused(admin_app: Flask, admin_client: FlaskClient) -> None:
    saved = admin_client.post(
        "/admin/privacy",
        data={
            "csrf_token": csrf_of(admin_client),
            "body_mode": "none",
            "attachment_mode": "content",
            "attachment_max_mb": "2.5",
        },
    )
    assert saved.status_code == 303
    page = text_of(admin_client.get("/admin/privacy"))
    assert "The privacy policy is saved" in page
    assert 'value="none" checked' in page and 'value="2.5"' in page
    with db.session_scope(admin_app) as session:
        row = session.get(PrivacySettings, 1)
        assert row is not None and row.attachment_max_bytes == int(2.5 * 1024 * 1024)
    bad = admin_client.post(
        "/admin/privacy/rules",
        data={
            "csrf_token": csrf_of(admin_client),
            "kind": "domain",
            "value": "not a domain",
        },
    )
    assert bad.status_code == 400 and "not a domain" in text_of(bad)
    removed = admin_client.post(
        "/admin/privacy/rules/remove",
        data={
            "csrf_token": csrf_of(admin_client),
            "kind": "domain",
            "value": "never-added.example",
        },
    )
    assert "never-added.example was not on the list." in text_of(
        admin_client.get(removed.headers["Location"])
    )


def test_status_page_says_when_oro_is_down_and_shows_logged_errors(
    admin_app: Flask, admin_client: FlaskClient, sandbox_server: Any
) -> None:
    logging.getLogger("connector.outbox").error("could not send message 42: Graph answered 503")
    sandbox_server.world.oro.configure(down=True, down_hold_seconds=0)
    try:
        page = text_of(admin_client.get("/admin/"))
    finally:
        sandbox_server.world.oro.configure(down=False)
    assert "Oro is not answering" in page
    assert "could not send message 42: Graph answered 503" in page and "connector.outbox" in page
    assert "Migrations" in page and "at 0" in page
    check_again = admin_client.post("/admin/status/refresh", data={"csrf_token": csrf_of(admin_client)})
    assert check_again.status_code == 303
    assert "Connected: Oro answered" in text_of(admin_client.get("/admin/"))


@pytest.mark.parametrize("path", ["/admin/static/admin.css", "/admin/static/admin.js"])
def test_the_sign_in_page_can_load_its_stylesheet_and_script(admin_app: Flask, path: str) -> None:
    with admin_app.test_client().get(path) as answer:
        assert answer.status_code == 200 and len(answer.get_data()) > 500


def test_a_template_is_edited_and_deleted_with_each_change_audited(
    admin_app: Flask, admin_client: FlaskClient
) -> None:
    form = {
        "csrf_token": csrf_of(admin_client),
        "name": "Thanks",
        "record_type": "",
        "format": "text",
        "visibility": "private",
        "subject": "Thank you",
        "body": "Thanks, {{ user.firstName }}",
    }
    created = admin_client.post("/admin/templates", data=form)
    assert created.status_code == 303
    edit_url = created.headers["Location"]
    assert "Template “Thanks” is saved." in text_of(admin_client.get(edit_url))
    saved = admin_client.post(edit_url, data={**form, "name": "Thanks again"})
    assert "(version 2)" in text_of(admin_client.get(saved.headers["Location"]))
    deleted = admin_client.post(edit_url + "/delete", data={"csrf_token": csrf_of(admin_client)})
    listing = text_of(admin_client.get(deleted.headers["Location"]))
    assert "Template “Thanks again” is deleted." in listing and "No templates yet." in listing
    assert admin_client.get(edit_url).status_code == 404
    with db.session_scope(admin_app) as session:
        actions = [
            e.action for e in session.scalars(select(AuditEntry).where(AuditEntry.subject.like("template:%")))
        ]
        assert actions == ["template.create", "template.edit", "template.delete"]


def test_the_privacy_page_shows_the_internal_domains_the_setting_adds(
    app_factory: Any, sandbox_server: Any
) -> None:
    from tests.admin.conftest import ADMIN_EMAIL, ORO_SETTINGS, sign_in

    app = app_factory(
        public_url="http://localhost:8000",
        oro_url=sandbox_server.oro_url,
        admin_emails=(ADMIN_EMAIL,),
        oro_max_retries=0,
        internal_domains=("acme.example", "acme-group.example"),
        **ORO_SETTINGS,
    )
    client = app.test_client()
    sign_in(client)
    page = client.get("/admin/privacy").get_data(as_text=True)
    assert "ORO_CONNECTOR_INTERNAL_DOMAINS" in page
    assert "<code>acme.example</code>, <code>acme-group.example</code>" in page
