"""The admin page in Chromium, end to end on the sandbox world: sign in through Oro, set Oro up and
test it (up, then down), download the add-ons' manifests, write a template with a live preview, keep a
domain out of Oro. Screenshots go to test-artifacts/admin-*.png."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from connector.accounts.operations import user_for_identity
from connector.app_services import services
from connector.db import db
from connector.linking.policy import load_policy
from connector.mail.addresses import EmailAddress
from connector.sandbox import examples as ex
from tests.admin.conftest import ADMIN_EMAIL
from tests.admin.live import LiveConnector, serve_connector
from tests.conftest import message_context, screenshot

pytestmark = pytest.mark.browser

NEVER_LOG_DOMAIN = "lumiere-optique.example"
BASE = "https://connector.example.com"


@pytest.fixture
def live(app_factory: Any) -> Iterator[LiveConnector]:
    # A short read timeout: a hung Oro is told apart from a slow one within a second.
    connector = serve_connector(app_factory, oro_read_timeout=1.0, oro_connect_timeout=2.0, oro_max_retries=0)
    yield connector
    connector.world.oro.configure(down=False)
    connector.stop()


def _sign_in(page: Any, live: LiveConnector) -> None:
    page.goto(live.url + "/admin/oro")
    assert page.url.startswith(live.url + "/admin/signin")
    screenshot(page, "admin-signin")
    page.get_by_role("button", name="Sign in with Oro").click()
    # Oro's own login page (the sandbox's), then back to the page first asked for.
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in and allow").click()
    page.wait_for_url(live.url + "/admin/oro")
    expect(page.get_by_text(f"Signed in as {ADMIN_EMAIL}")).to_be_visible()


def _test_connection(page: Any) -> str:
    page.get_by_role("button", name="Test connection").click()
    verdict = page.locator(".verdict .headline")
    verdict.wait_for()
    text: str = verdict.inner_text()
    return text.lstrip("✓✗ ")  # the mark before the words is for the eye (aria-hidden)


def _download(page: Any, link_name: str) -> str:
    with page.expect_download() as download:
        page.get_by_role("link", name=link_name).click()
    return Path(download.value.path()).read_text()


def test_an_admin_sets_the_connector_up_in_a_browser(live: LiveConnector, page: Any) -> None:
    _sign_in(page, live)

    # --- Oro: change a setting, test the connection: wrong, right, then with Oro down -------------------
    page.get_by_label("Back-office prefix").fill("")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Saved: Back-office prefix")).to_be_visible()
    wrong = _test_connection(page)
    assert "No Oro API answered" in wrong or "not Oro's API" in wrong, wrong
    screenshot(page, "admin-oro-wrong-prefix")

    page.get_by_label("Back-office prefix").fill("admin")
    page.get_by_label("Integration client secret").fill("demo-secret")
    page.get_by_role("button", name="Save", exact=True).click()
    assert (
        page.get_by_role("status")
        .filter(has_text="Saved: Back-office prefix, Integration client secret")
        .is_visible()
    )
    assert page.get_by_label("Integration client secret").input_value() == ""  # write-only
    up = _test_connection(page)
    assert up.startswith("Connected: Oro answered at " + live.url + "/sandbox/oro/admin/api"), up
    expect(page.get_by_text("client id and secret accepted")).to_be_visible()
    expect(page.get_by_text(f"accepted: {live.url}/admin/signin/callback")).to_be_visible()
    screenshot(page, "admin-oro-connected")

    live.world.oro.configure(down=True, down_hold_seconds=5)
    down = _test_connection(page)
    assert down.startswith("Oro is not answering"), down
    expect(page.get_by_text("did not answer within 2 s to connect and 1 s to respond")).to_be_visible()
    screenshot(page, "admin-oro-down")
    live.world.oro.configure(down=False)

    # --- Google: the deployment for an HTTPS address -----------------------------------------------------
    page.get_by_role("link", name="Google").click()
    expect(page.get_by_role("alert").filter(has_text="is not an https:// address")).to_be_visible()
    page.get_by_label("The connector's HTTPS address, as Google reaches it").fill(BASE)
    page.get_by_role("button", name="Use this address").click()
    deployment = json.loads(_download(page, "Download deployment.json"))
    common = deployment["addOns"]["common"]
    assert common["homepageTrigger"]["runFunction"] == f"{BASE}/addons/gmail/homepage"
    expect(page.get_by_role("button", name="Copy: create the deployment")).to_be_visible()
    screenshot(page, "admin-google")

    # --- Microsoft: both manifests ------------------------------------------------------------------------
    page.get_by_role("link", name="Microsoft").click()
    page.get_by_label("The connector's HTTPS address, as Outlook reaches it").fill(BASE)
    page.get_by_role("button", name="Use this address").click()
    manifest_xml = _download(page, "Download manifest.xml")
    root = ET.fromstring(manifest_xml)
    assert root.tag.endswith("OfficeApp") and f"{BASE}/addons/outlook/taskpane.html" in manifest_xml
    manifest_json = json.loads(_download(page, "Download manifest.json"))
    assert manifest_json["extensions"] and BASE.removeprefix("https://") in json.dumps(manifest_json)
    expect(page.get_by_text("api://connector.example.com/").first).to_be_visible()
    screenshot(page, "admin-microsoft")

    # --- Templates: create with a live preview for a chosen record, then edit -----------------------------
    page.get_by_role("link", name="Templates").click()
    page.get_by_role("link", name="New template").click()
    page.get_by_label("Name").fill("Friendly follow-up")
    page.get_by_label("For records of").select_option(label="Contact")
    page.get_by_label("Subject").fill("Hello {{ entity.firstName }}")
    page.get_by_label("Body").fill(
        "<p>Dear {{ entity.firstName }} {{ entity.lastName }},</p>\n<p>Thank you for your time today.</p>"
    )
    chooser = page.get_by_label("Preview with")
    # The records come from Oro once a type is chosen (no eval: the page's CSP forbids it, even to tests).
    page.locator("#t-record option", has_text=ex.TRIPLE_PERSON_NAME).wait_for(state="attached")
    chooser.select_option(label=ex.TRIPLE_PERSON_NAME)
    subject = page.locator("#preview .subject")
    subject.filter(has_text="Hello Inès").wait_for()
    page.frame_locator("#preview-html").get_by_text("Dear Inès Moreau,").wait_for()
    screenshot(page, "admin-template-preview")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(
        page.get_by_role("status").filter(has_text="Template “Friendly follow-up” is saved.")
    ).to_be_visible()

    page.get_by_label("Subject").fill("Following up, {{ entity.firstName }}")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="(version 2)")).to_be_visible()
    page.get_by_label("Preview with").select_option(label=ex.TRIPLE_PERSON_NAME)
    subject.filter(has_text="Following up, Inès").wait_for()
    page.get_by_role("link", name="Back to the templates").click()
    row = page.get_by_role("row").filter(has_text="Friendly follow-up")
    assert "contacts" in row.inner_text() and "v2" in row.inner_text()
    screenshot(page, "admin-templates")

    # --- Privacy: a never-log domain ----------------------------------------------------------------------
    page.get_by_role("link", name="Privacy").click()
    page.get_by_label("Which list").select_option(label="Never-log domains")
    page.get_by_label("Address or domain").fill("@" + NEVER_LOG_DOMAIN.upper())
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status").filter(has_text=f"{NEVER_LOG_DOMAIN} is on the list")).to_be_visible()
    listed = page.get_by_role("list", name="Never-log domains")
    assert NEVER_LOG_DOMAIN in listed.inner_text()
    screenshot(page, "admin-privacy")
    with live.app.app_context():
        policy = load_policy(db.session, user=None)
        address = EmailAddress.parse(ex.TRIPLE_PERSON_EMAIL)
        assert address is not None
        exclusion = policy.exclusion(address)
        assert exclusion is not None and exclusion.blocks_email
        assert "organisation's never-log list" in exclusion.reason
        # ... and the sidebar honours it: Inès is shown as kept out, and not looked up in Oro.
        alice = user_for_identity(db.session, provider="google", subject="g-alice", email=ex.ALICE_MAILBOX)
        token = live.world.oro.oauth.issue_for_user(live.world.oro.user_by_username("alice").id)
        sample = live.world.named_threads[ex.THREAD_TRIPLE_PERSON].messages[0]
        view = services().sidebar.view(
            db.session, user=alice, oro=services().oro.with_token(token), message=message_context(sample)
        )
        ines = next(p for p in view.participants if p.address.lower() == ex.TRIPLE_PERSON_EMAIL)
        assert ines.excluded is not None and "never-log" in ines.excluded and not ines.matches

    # --- Audit log: each change is there, and exports -------------------------------------------------------
    page.get_by_role("link", name="Audit log").click()
    table = page.locator("table.audit").inner_text()
    for action in ("admin.sign_in", "settings.change", "template.create", "template.edit", "policy.add"):
        assert action in table
    page.get_by_label("Action").select_option("settings.change")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.audit tbody tr")
    assert rows.count() == 2 and "settings:oro" in rows.first.inner_text()
    exported = _download(page, "Export CSV")
    assert exported.splitlines()[0] == "time (UTC),actor,action,subject,details"
    assert len(exported.strip().splitlines()) == 3
    assert "demo-secret" not in exported  # secrets are audited by name only
    screenshot(page, "admin-audit")

    page.get_by_role("link", name="Status").click()
    # The status page remembers the last verdict (Oro was down) for a moment; "Check again" asks now.
    page.get_by_role("button", name="Check again").click()
    assert page.locator(".verdict .headline").inner_text().lstrip("✓ ").startswith("Connected")
    expect(page.get_by_text("Oro emails: emails API available")).to_be_visible()
    screenshot(page, "admin-status")
    page.get_by_role("link", name="Users").click()
    assert re.search(r"admin page", page.locator("table").inner_text())
    screenshot(page, "admin-users")
