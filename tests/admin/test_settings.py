"""Settings saved on the admin page: they override the environment, secrets are encrypted and never
shown, every change is audited, and forgetting them brings the environment's values back."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connector.admin.models import StoredSetting
from connector.app_services import services
from connector.audit.models import AuditEntry
from connector.db import db
from tests.admin.conftest import ADMIN_EMAIL, csrf_of, text_of


def _oro_form(client: FlaskClient, **changes: str) -> dict[str, str]:
    with client.application.app_context():
        current = services().effective_settings()
    form = {
        "csrf_token": csrf_of(client),
        "oro_url": current.oro_url,
        "oro_backoffice_prefix": current.oro_backoffice_prefix,
        "oro_client_id": current.oro_client_id,
        "oro_client_secret": "",
        "oro_integration_client_id": current.oro_integration_client_id,
        "oro_integration_client_secret": "",
    }
    form.update(changes)
    return form


def test_saved_settings_override_the_environment_and_secrets_stay_encrypted(
    admin_app: Flask, admin_client: FlaskClient, backend: str
) -> None:
    saved = admin_client.post(
        "/admin/oro",
        data=_oro_form(
            admin_client,
            oro_url="https://oro.example.com/",
            oro_integration_client_secret="s3cret-from-the-page",
        ),
    )
    assert saved.status_code == 303
    page = admin_client.get("/admin/oro").get_data(as_text=True)
    assert "Saved: Oro URL, Integration client secret." in page
    assert 'value="https://oro.example.com"' in page
    assert f"saved here by {ADMIN_EMAIL}" in page
    assert "s3cret-from-the-page" not in page  # write-only

    with admin_app.app_context():
        effective = services().effective_settings()
        assert effective.oro_url == "https://oro.example.com"
        assert effective.oro_integration_client_secret == "s3cret-from-the-page"
        assert services().oro.config.api_base == "https://oro.example.com/admin/api"
        assert services().settings.oro_url != effective.oro_url  # the environment's own value is kept
    with db.session_scope(admin_app) as session:
        rows = {row.key: row for row in session.scalars(select(StoredSetting))}
        assert set(rows) == {"oro_url", "oro_integration_client_secret"}
        secret_row = rows["oro_integration_client_secret"]
        assert secret_row.value is None and secret_row.secret and "s3cret" not in secret_row.secret
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "settings.change")).one()
        assert entry.actor == ADMIN_EMAIL and entry.subject == "settings:oro"
        assert entry.details["changed"]["oro_url"]["to"] == "https://oro.example.com"
        assert entry.details["secrets"] == ["oro_integration_client_secret"]
        assert "s3cret-from-the-page" not in str(entry.details)


def test_saving_an_unchanged_page_stores_nothing(admin_app: Flask, admin_client: FlaskClient) -> None:
    answer = admin_client.post("/admin/oro", data=_oro_form(admin_client))
    assert answer.status_code == 303
    assert "Nothing changed." in admin_client.get("/admin/oro").get_data(as_text=True)
    with db.session_scope(admin_app) as session:
        assert session.scalars(select(StoredSetting)).all() == []


def test_invalid_values_are_refused_with_every_problem_named(
    admin_app: Flask, admin_client: FlaskClient
) -> None:
    answer = admin_client.post(
        "/admin/microsoft",
        data={
            "csrf_token": csrf_of(admin_client),
            "microsoft_tenants": "contoso, 7d1b9c4e-2f6a-4c8e-9b3d-5a0e1f2c3d4e",
            "microsoft_client_id": "not-a-guid",
            "microsoft_client_secret": "",
        },
    )
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert "The settings were not saved" in text
    assert "contoso is not a tenant id" in text and "Application (client) id must be a GUID" in text
    assert 'value="not-a-guid"' in text  # what was typed stays in the form, to be corrected
    bad_url = admin_client.post("/admin/oro", data=_oro_form(admin_client, oro_url="oro.example.com"))
    assert (
        bad_url.status_code == 400
        and "Oro URL must be an http:// or https:// address" in bad_url.get_data(as_text=True)
    )
    with db.session_scope(admin_app) as session:
        assert session.scalars(select(StoredSetting)).all() == []
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "settings.change")).all() == []


def test_forgetting_saved_values_brings_back_the_environments(
    admin_app: Flask, admin_client: FlaskClient
) -> None:
    with admin_app.app_context():
        environment_url = services().settings.oro_url
    admin_client.post("/admin/oro", data=_oro_form(admin_client, oro_url="https://oro.example.com"))
    with admin_app.app_context():
        assert services().effective_settings().oro_url == "https://oro.example.com"
    answer = admin_client.post("/admin/oro/reset", data={"csrf_token": csrf_of(admin_client)})
    assert answer.status_code == 303
    assert "Forgotten: Oro URL. The environment's values apply." in text_of(admin_client.get("/admin/oro"))
    with admin_app.app_context():
        assert services().effective_settings().oro_url == environment_url
    with db.session_scope(admin_app) as session:
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        assert actions[-2:] == ["settings.change", "settings.reset"]


def test_google_and_microsoft_settings_show_as_complete_on_the_status_page(admin_client: FlaskClient) -> None:
    before = admin_client.get("/admin/").get_data(as_text=True)
    assert "not configured (the add-on cannot be used)" in before
    admin_client.post(
        "/admin/google",
        data={
            "csrf_token": csrf_of(admin_client),
            "google_service_account": "service-1@gcp-sa-gsuiteaddons.iam.gserviceaccount.com",
            "google_client_id": "",
            "google_audience": "",
        },
    )
    partial = admin_client.get("/admin/").get_data(as_text=True)
    assert "missing OAuth client id" in partial
    admin_client.post(
        "/admin/google",
        data={
            "csrf_token": csrf_of(admin_client),
            "google_service_account": "service-1@gcp-sa-gsuiteaddons.iam.gserviceaccount.com",
            "google_client_id": "1-addon.apps.googleusercontent.com",
            "google_audience": "",
        },
    )
    assert "complete" in admin_client.get("/admin/").get_data(as_text=True)


def test_google_settings_saved_here_are_the_ones_the_add_on_checks_requests_with(
    admin_app: Flask, admin_client: FlaskClient
) -> None:
    admin_client.post(
        "/admin/google",
        data={
            "csrf_token": csrf_of(admin_client),
            "google_service_account": "service-2@gcp-sa-gsuiteaddons.iam.gserviceaccount.com",
            "google_client_id": "2-addon.apps.googleusercontent.com",
            "google_audience": "",
        },
    )
    with admin_app.app_context():
        verifier = services().google_verifier
        assert verifier.client_id == "2-addon.apps.googleusercontent.com"
        assert verifier.service_account == "service-2@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
        assert services().google_verifier is verifier, "kept while the settings stay the same"


def test_a_stored_value_that_no_longer_passes_is_skipped_not_fatal(admin_app: Flask, backend: str) -> None:
    with db.session_scope(admin_app) as session:
        session.add(StoredSetting(key="oro_read_timeout", value="-3", updated_by="someone"))
        session.add(StoredSetting(key="removed_in_an_upgrade", value="x", updated_by="someone"))
        session.add(StoredSetting(key="oro_backoffice_prefix", value="", updated_by="someone"))
    with admin_app.app_context():
        effective = services().effective_settings()
        assert effective.oro_read_timeout == services().settings.oro_read_timeout
        assert effective.oro_backoffice_prefix == ""


def test_a_value_saved_by_one_process_applies_in_another(app_factory: Any) -> None:
    # Two processes in production share the database: a value saved by one applies in the other.
    first, second = app_factory(), app_factory()
    with db.session_scope(first) as session:
        session.add(StoredSetting(key="google_client_id", value="shared-id", updated_by="someone"))
    with second.app_context():
        assert services().effective_settings().google_client_id == "shared-id"


def test_a_value_set_back_to_the_environments_is_no_longer_an_override(
    admin_app: Flask, admin_client: FlaskClient
) -> None:
    admin_client.post("/admin/oro", data=_oro_form(admin_client, oro_backoffice_prefix=""))
    admin_client.post("/admin/oro", data=_oro_form(admin_client, oro_backoffice_prefix="admin"))
    page = text_of(admin_client.get("/admin/oro"))
    assert "Saved: Back-office prefix." in page
    assert "Now: from the environment (ORO_CONNECTOR_ORO_BACKOFFICE_PREFIX)." in page
    with db.session_scope(admin_app) as session:
        assert session.scalars(select(StoredSetting)).all() == []
        changes = session.scalars(select(AuditEntry).where(AuditEntry.action == "settings.change")).all()
        assert [c.details["changed"]["oro_backoffice_prefix"]["to"] for c in changes] == ["", "admin"]


def test_a_saved_secret_is_re_encrypted_when_keys_rotate(admin_app: Flask, admin_client: FlaskClient) -> None:
    from cryptography.fernet import Fernet

    from connector.security.credentials import rotate_secrets
    from connector.security.secrets import SecretBox
    from tests.conftest import TEST_ENCRYPTION_KEY

    admin_client.post("/admin/oro", data=_oro_form(admin_client, oro_client_secret="rotate-me"))
    newest = Fernet.generate_key().decode()
    with db.session_scope(admin_app) as session:
        rotate_secrets(session, SecretBox((newest, TEST_ENCRYPTION_KEY)))
    with db.session_scope(admin_app) as session:
        row = session.get(StoredSetting, "oro_client_secret")
        assert row is not None and row.secret is not None
        assert SecretBox((newest,)).decrypt(row.secret) == "rotate-me"


def test_the_microsoft_app_saved_here_is_the_one_the_on_behalf_of_exchange_uses(
    admin_app: Flask, admin_client: FlaskClient
) -> None:
    client_id = "0f1e2d3c-4b5a-4697-8877-665544332211"
    answer = admin_client.post(
        "/admin/microsoft",
        data={
            "csrf_token": csrf_of(admin_client),
            "microsoft_tenants": "",
            "microsoft_client_id": client_id,
            "microsoft_client_secret": "a-secret-saved-on-the-page",
        },
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)
    with admin_app.app_context():
        assert f"client_id={client_id!r}" in repr(services().graph_broker)
