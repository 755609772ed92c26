"""The Outbox panel in Chromium: an admin sees a reply that could not be sent and retries it.
Screenshots go to test-artifacts/admin-outbox-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from connector.accounts.operations import user_for_identity
from connector.db import db
from connector.outbox.models import OutboxMessage
from tests.admin.conftest import ADMIN_EMAIL
from tests.admin.live import LiveConnector, serve_connector
from tests.admin.outbox import recorded_reply
from tests.conftest import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def live(app_factory: Any) -> Iterator[LiveConnector]:
    connector = serve_connector(app_factory)
    yield connector
    connector.stop()


def test_an_admin_retries_a_reply_that_was_not_sent(live: LiveConnector, page: Any) -> None:
    with db.session_scope(live.app) as session:
        alice = user_for_identity(
            session, provider="microsoft", subject="oid.tid", email="alice@acme.example"
        )
        session.flush()
        failed = recorded_reply(
            session, alice, error="Microsoft Graph refused the recipient ines@lumiere-optique.example."
        ).id
        waiting = recorded_reply(session, alice, state="retrying", subject="Re: Delivery date").id

    page.goto(live.url + "/admin/")
    page.get_by_role("button", name="Sign in with Oro").click()
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in and allow").click()
    page.wait_for_url(live.url + "/admin/")
    expect(page.get_by_text(f"Signed in as {ADMIN_EMAIL}")).to_be_visible()

    outbox = page.locator("section", has=page.get_by_role("heading", name="Outbox"))
    row = outbox.locator(f'tr[data-send="{failed}"]')
    expect(row.get_by_role("rowheader", name="alice@acme.example Outlook")).to_be_visible()
    expect(row).to_contain_text("Not sent")
    expect(row).to_contain_text("Microsoft Graph refused the recipient ines@lumiere-optique.example.")
    expect(outbox.locator(f'tr[data-send="{waiting}"]')).to_contain_text("Will try again")
    expect(outbox.locator(f'tr[data-send="{waiting}"]').get_by_role("button")).to_have_count(0)
    outbox.scroll_into_view_if_needed()
    screenshot(page, "admin-outbox-failed")

    outbox.get_by_role("button", name=f"Retry reply {failed} of alice@acme.example").click()
    retried = page.get_by_role("status").filter(has_text="will be tried again within a few seconds")
    expect(retried).to_be_visible()
    expect(row).to_contain_text("Will try again")
    expect(row.get_by_role("button")).to_have_count(0)
    screenshot(page, "admin-outbox-retried")
    with db.session_scope(live.app) as session:
        retried = session.get(OutboxMessage, failed)
        assert retried is not None and retried.state == "pending"
