"""A never-log domain set on the admin page reaches the sidebar."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from connector.accounts.operations import user_for_identity
from connector.app_services import services
from connector.db import db
from connector.sandbox import examples as ex
from tests.admin.conftest import csrf_of, text_of
from tests.conftest import message_context

DOMAIN = "lumiere-optique.example"


def test_the_sidebar_honours_a_never_log_domain_set_on_the_admin_page(
    admin_app: Flask, admin_client: FlaskClient, sandbox_server: Any
) -> None:
    added = admin_client.post(
        "/admin/privacy/rules",
        data={
            "csrf_token": csrf_of(admin_client),
            "kind": "domain",
            "value": DOMAIN,
        },
    )
    assert f"{DOMAIN} is on the list of never-log domains." in text_of(
        admin_client.get(added.headers["Location"])
    )

    world = sandbox_server.world
    sample = world.named_threads[ex.THREAD_TRIPLE_PERSON].messages[0]
    alice_at_oro = world.oro.user_by_username("alice")
    with admin_app.app_context():
        alice = user_for_identity(db.session, provider="google", subject="g-alice", email=ex.ALICE_MAILBOX)
        oro = services().oro.with_token(world.oro.oauth.issue_for_user(alice_at_oro.id))
        view = services().sidebar.view(
            db.session, user=alice, oro=oro, message=message_context(sample), fresh=True
        )
    ines = next(p for p in view.participants if p.address.lower() == ex.TRIPLE_PERSON_EMAIL)
    assert ines.excluded is not None and "never-log" in ines.excluded
    assert not ines.matches  # not looked up in Oro
