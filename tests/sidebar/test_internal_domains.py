"""The sidebar's internal domains are the privacy policy's: ORO_CONNECTOR_INTERNAL_DOMAINS and the admin
page's internal domains, with the reason linking gives."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from connector.app_services import services
from connector.linking.operations import add_privacy_rule
from connector.linking.policy import privacy_reasons
from connector.mail.message import MailMessage
from connector.sandbox import examples as ex
from tests.sidebar.conftest import SidebarWorld
from tests.sidebar.test_sidebar import participant

CLAIRE = "claire@acme.example"


@pytest.fixture
def app(app_factory: Any) -> Flask:
    application: Flask = app_factory(internal_domains="acme.example")
    return application


def test_a_colleague_of_the_setting_is_kept_out_with_the_policys_reason(
    sidebar: SidebarWorld, app: Flask
) -> None:
    user, message = sidebar.user(), sidebar.message(ex.THREAD_MULTI_PARTY)

    view = sidebar.service.view(sidebar.session, user=user, oro=sidebar.oro_as("alice"), message=message)

    claire = participant(view, CLAIRE)
    linking = {p.address: p.reason for p in privacy_reasons(sidebar.session, user=user,
                                                            message=MailMessage.from_context(message))}
    assert claire.excluded is not None and claire.excluded == linking[CLAIRE]
    assert "colleague" in claire.excluded and not claire.matches
    assert participant(view, ex.TRIPLE_PERSON_EMAIL).excluded is None


def test_the_app_sidebar_uses_the_policy_for_the_setting_and_the_admin_rules(
    sidebar: SidebarWorld, app: Flask
) -> None:
    user, message = sidebar.user(), sidebar.message(ex.THREAD_MULTI_PARTY)
    add_privacy_rule(sidebar.session, actor=user, kind="internal_domain", value="lumiere-optique.example")

    view = services(app).sidebar.view(
        sidebar.session, user=user, oro=sidebar.oro_as("alice"), message=message, fresh=True
    )

    assert participant(view, CLAIRE).excluded == (
        f"{CLAIRE} is a colleague (acme.example is internal): colleagues are not linked."
    )
    ines = participant(view, ex.TRIPLE_PERSON_EMAIL)
    assert ines.excluded == (
        f"{ex.TRIPLE_PERSON_EMAIL} is a colleague (lumiere-optique.example is internal): "
        "colleagues are not linked."
    )
    assert not ines.matches  # not looked up in Oro
