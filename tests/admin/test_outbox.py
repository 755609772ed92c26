"""The Status page's Outbox panel: how the outbox is doing, and the replies that need a person."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connector.accounts.operations import user_for_identity
from connector.audit.models import AuditEntry
from connector.db import db
from connector.outbox.models import OutboxMessage
from tests.admin.conftest import ADMIN_EMAIL, csrf_of, text_of
from tests.admin.outbox import recorded_reply


def _replies(app: Flask) -> dict[str, int]:
    """One reply in each state, of two people; their ids by state."""
    with db.session_scope(app) as session:
        alice = user_for_identity(
            session, provider="microsoft", subject="oid.tid", email="alice@acme.example"
        )
        bob = user_for_identity(session, provider="google", subject="g-bob", email="bob@acme.example")
        session.flush()
        ids = {
            "failed": recorded_reply(session, alice, subject="Re: Lens order <urgent>").id,
            "gmail_failed": recorded_reply(
                session, bob, provider="gmail", subject="Re: Invoice 42", error="Gmail refused the recipient."
            ).id,
            "retrying": recorded_reply(session, alice, state="retrying", subject="Re: Delivery date").id,
            "stuck": recorded_reply(session, bob, state="stuck", subject="Re: Samples").id,
            "sent": recorded_reply(session, alice, state="sent", subject="Re: Thanks").id,
        }
    return ids


def _row(app: Flask, send_id: int) -> OutboxMessage:
    with db.session_scope(app) as session:
        row = session.get(OutboxMessage, send_id)
        assert row is not None
        session.expunge(row)
        return row


def test_the_status_page_shows_the_outbox_and_the_replies_not_sent(
    admin_app: Flask, admin_client: FlaskClient
) -> None:
    ids = _replies(admin_app)
    page = text_of(admin_client.get("/admin/"))
    panel = page[page.index('id="outbox-heading"') : page.index('id="users-heading"')]
    # Waiting, sending, sent, failed, failed and not dealt with, stuck.
    counts = panel[panel.index("<tbody>") : panel.index("</tbody>")]
    assert [c.strip() for c in counts.split("<td")[1:7]] == [
        ">1</td>",
        ">1</td>",
        ">1</td>",
        ">2</td>",
        'class="bad">2</td>',
        'class="bad">1</td>',
    ]
    # Every reply not sent is listed with whose it is; the sent one is not.
    for subject in ("Re: Lens order <urgent>", "Re: Invoice 42", "Re: Delivery date", "Re: Samples"):
        assert subject in panel
    assert "Re: Thanks" not in panel
    assert "Re: Lens order &lt;urgent&gt;" in admin_client.get("/admin/").get_data(as_text=True)
    assert "The recipient's address was refused by the mail server." in panel
    words = " ".join(re.sub(r"<[^>]+>", " ", panel).split())
    assert "bob@acme.example Gmail" in words and "alice@acme.example Outlook" in words
    assert "ines@lumiere-optique.example" in panel
    # Only the failed ones can be retried or dismissed: the others are still being tried.
    assert f"Retry reply {ids['failed']} of alice@acme.example" in panel
    assert f"Dismiss reply {ids['gmail_failed']} of bob@acme.example" in panel
    assert f"Retry reply {ids['retrying']}" not in panel and f"Retry reply {ids['stuck']}" not in panel


def test_retry_and_dismiss_are_audited_and_refused_when_there_is_nothing_to_do(
    admin_app: Flask, admin_client: FlaskClient
) -> None:
    ids = _replies(admin_app)
    token = csrf_of(admin_client)

    retried = admin_client.post(f"/admin/outbox/{ids['failed']}/retry", data={"csrf_token": token})
    assert retried.status_code == 303 and retried.headers["Location"] == "/admin/#outbox-heading"
    row = _row(admin_app, ids["failed"])
    assert row.state == "pending" and row.resolved_at is None
    page = text_of(admin_client.get("/admin/"))
    assert f"Reply {ids['failed']} of alice@acme.example will be tried again within a few seconds." in page

    gmail = admin_client.post(f"/admin/outbox/{ids['gmail_failed']}/retry", data={"csrf_token": token})
    assert gmail.status_code == 303
    page = text_of(admin_client.get("/admin/"))
    assert "when they next open its conversation with the Gmail add-on" in page

    # Retrying it again (a second click): it is not failed any more, and the page says so.
    again = admin_client.post(f"/admin/outbox/{ids['failed']}/retry", data={"csrf_token": token})
    assert again.status_code == 303
    assert f"Reply {ids['failed']} is pending, not failed: there is nothing to retry." in text_of(
        admin_client.get("/admin/")
    )

    dismissed = admin_client.post(f"/admin/outbox/{ids['gmail_failed']}/dismiss", data={"csrf_token": token})
    assert dismissed.status_code == 303
    assert "only a failed reply can be dismissed" in text_of(admin_client.get("/admin/"))
    with db.session_scope(admin_app) as session:
        session.get(OutboxMessage, ids["gmail_failed"]).state = "failed"  # type: ignore[union-attr]
    dismissed = admin_client.post(f"/admin/outbox/{ids['gmail_failed']}/dismiss", data={"csrf_token": token})
    page = text_of(admin_client.get("/admin/"))
    assert f"Reply {ids['gmail_failed']} of bob@acme.example is dismissed: it will not be sent." in page
    assert "Re: Invoice 42" not in page[page.index('id="outbox-heading"') :]
    assert _row(admin_app, ids["gmail_failed"]).resolved_at is not None

    with db.session_scope(admin_app) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("outbox.%")).order_by(AuditEntry.id)
        ).all()
        assert [(e.action, e.subject, e.actor) for e in entries] == [
            ("outbox.retry", f"reply:{ids['failed']}", ADMIN_EMAIL),
            ("outbox.retry", f"reply:{ids['gmail_failed']}", ADMIN_EMAIL),
            ("outbox.dismiss", f"reply:{ids['gmail_failed']}", ADMIN_EMAIL),
        ]
        assert entries[0].details["owner"] == "alice@acme.example"
        assert entries[0].details["error"] == "The recipient's address was refused by the mail server."
        assert "Dear" not in str([e.details for e in entries]), "the audit log never holds a reply's text"

    missing = admin_client.post("/admin/outbox/999/retry", data={"csrf_token": token})
    assert missing.status_code == 404 and "There is no reply 999." in text_of(missing)
