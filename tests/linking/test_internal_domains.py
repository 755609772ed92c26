"""ORO_CONNECTOR_INTERNAL_DOMAINS is part of the privacy policy: linking treats those colleagues as the
sidebar does, alongside the internal domains of the admin page."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from connector.db.models import User
from connector.linking.errors import PolicyRefused
from connector.linking.operations import add_privacy_rule, create_from_email, link_thread, remove_privacy_rule
from connector.linking.policy import load_policy, privacy_reasons
from connector.mail.addresses import EmailAddress
from connector.sandbox import examples as ex
from tests.linking.conftest import FAST, RecordingClient, Sandbox

CLAIRE = "claire@acme.example"
COLLEAGUE_REASON = f"{CLAIRE} is a colleague (acme.example is internal): colleagues are not linked."


@pytest.fixture
def app(app_factory: Any) -> Flask:
    """The connector deployed with the setting, written as an operator might (case, a leading @)."""
    application: Flask = app_factory(internal_domains="@Acme.Example")
    return application


def _address(value: str) -> EmailAddress:
    parsed = EmailAddress.parse(value)
    assert parsed is not None
    return parsed


def test_mail_between_colleagues_of_the_setting_stays_out_of_oro(
    db: Session, sandbox: Sandbox, alice: User
) -> None:
    handover, _ = sandbox.thread(ex.THREAD_HANDOVER)
    recording = RecordingClient(sandbox.client())

    with pytest.raises(PolicyRefused, match="between colleagues only"):
        link_thread(
            db, recording, user=alice, message=handover, records=[sandbox.person(ex.TRIPLE_PERSON_EMAIL)],
            tuning=FAST,
        )
    assert recording.calls == [] and sandbox.emails(handover.message_id) == []


def test_no_record_is_created_from_a_colleague_of_the_setting(
    db: Session, sandbox: Sandbox, alice: User
) -> None:
    rollout = sandbox.thread(ex.THREAD_MULTI_PARTY)[0]
    claire = next(a for a, _ in rollout.participants() if a.key == CLAIRE)
    recording = RecordingClient(sandbox.client())
    before = sandbox.count("leads")

    with pytest.raises(PolicyRefused) as refused:
        create_from_email(
            db, recording, user=alice, kind="lead", message=rollout, participant=claire, confirm=True
        )

    assert refused.value.reasons == (COLLEAGUE_REASON,)
    assert recording.calls == [] and sandbox.count("leads") == before


def test_a_colleague_of_the_setting_is_not_linked_and_says_why(
    db: Session, sandbox: Sandbox, alice: User
) -> None:
    rollout = sandbox.thread(ex.THREAD_MULTI_PARTY)[0]

    reasons = {p.address: p.reason for p in privacy_reasons(db, user=alice, message=rollout)}

    assert reasons[CLAIRE] == COLLEAGUE_REASON
    assert reasons[ex.TRIPLE_PERSON_EMAIL] is None  # customers are linked as before
    ines = sandbox.person(ex.TRIPLE_PERSON_EMAIL)
    link_thread(db, sandbox.client(), user=alice, message=rollout, records=[ines], tuning=FAST)
    assert len(sandbox.emails(rollout.message_id)) == 1


def test_a_subdomain_of_the_setting_is_internal_too(db: Session, alice: User) -> None:
    exclusion = load_policy(db, user=alice).exclusion(_address("pierre@lyon.acme.example"))
    assert exclusion is not None and exclusion.code == "internal"
    assert load_policy(db, user=alice).exclusion(_address("someone@notacme.example")) is None


def test_the_admin_pages_internal_domains_still_apply_alongside_the_setting(
    db: Session, sandbox: Sandbox, alice: User
) -> None:
    rollout = sandbox.thread(ex.THREAD_MULTI_PARTY)[0]
    add_privacy_rule(db, actor=alice, kind="internal_domain", value="lumiere-optique.example")

    policy = load_policy(db, user=alice)
    reasons = {p.address: p.reason for p in policy.participants(rollout)}
    assert policy.internal_domains == frozenset({"acme.example", "lumiere-optique.example"})
    assert reasons[CLAIRE] == COLLEAGUE_REASON
    assert reasons[ex.TRIPLE_PERSON_EMAIL] == (
        f"{ex.TRIPLE_PERSON_EMAIL} is a colleague (lumiere-optique.example is internal): "
        "colleagues are not linked."
    )
    between = replace(rollout, to=(_address(CLAIRE),), cc=(), sender=_address(ex.TRIPLE_PERSON_EMAIL))
    assert policy.refusal(between) is not None  # colleagues by either source: internal mail

    # Removing an admin entry for a domain of the setting does not make that domain external.
    add_privacy_rule(db, actor=alice, kind="internal_domain", value="acme.example")
    assert remove_privacy_rule(db, actor=alice, kind="internal_domain", value="acme.example") is True
    assert load_policy(db, user=alice).exclusion(_address(CLAIRE)) is not None
