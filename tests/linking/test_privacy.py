"""The privacy policy: never-logged and internal addresses, body and attachment modes, the reasons shown."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.audit.operations import audit_entries
from connector.db.models import User
from connector.linking.errors import InvalidRequest, PolicyRefused
from connector.linking.models import SyncedMessage, ThreadLink
from connector.linking.operations import (
    add_privacy_rule,
    create_from_email,
    link_if_thread_linked,
    link_thread,
    remove_privacy_rule,
    update_privacy_settings,
)
from connector.linking.policy import PrivacyPolicy, load_policy, privacy_reasons
from connector.mail.addresses import EmailAddress
from connector.mail.message import Attachment, MailMessage, strip_quoted_history
from connector.sandbox import examples as ex
from tests.linking.conftest import FAST, RecordingClient, Sandbox, make_user

REPLY = """Thanks, Thursday works for us.

Best,
Inès

On Mon, 2 Nov 2026 at 09:00, Alice Martin <alice@acme.example>
wrote:
> Could we meet on Thursday?
>
> Alice
"""


def test_a_never_logged_address_causes_no_oro_call_at_all(
    db: Session, sandbox: Sandbox, alice: User
) -> None:
    first, second, _ = sandbox.thread(ex.THREAD_TRIPLE_PERSON)
    ines = sandbox.person(ex.TRIPLE_PERSON_EMAIL)
    add_privacy_rule(db, actor=alice, kind="address", value="Ines.Moreau@lumiere-optique.example")
    db.commit()
    recording = RecordingClient(sandbox.client())
    before = (sandbox.email_count(), sandbox.count("notes"), sandbox.count("leads"))

    with pytest.raises(PolicyRefused) as refused:
        link_thread(db, recording, user=alice, message=first, records=[ines], tuning=FAST)
    with pytest.raises(PolicyRefused):
        create_from_email(
            db, recording, user=alice, kind="lead", message=first, participant=first.sender, confirm=True
        )

    assert recording.calls == []
    assert (sandbox.email_count(), sandbox.count("notes"), sandbox.count("leads")) == before
    assert sandbox.emails(first.message_id) == [] and sandbox.emails(second.message_id) == []
    assert refused.value.code == "policy_refused"
    assert refused.value.reasons == (
        "ines.moreau@lumiere-optique.example is on your organisation's never-log list.",
    )
    assert db.scalar(select(func.count()).select_from(SyncedMessage)) == 0
    assert db.scalar(select(func.count()).select_from(ThreadLink)) == 0


def test_a_users_own_never_log_domain_keeps_a_sticky_message_out(
    db: Session, sandbox: Sandbox, alice: User
) -> None:
    first, second, _ = sandbox.thread(ex.THREAD_TRIPLE_PERSON)
    ines = sandbox.person(ex.TRIPLE_PERSON_EMAIL)
    link_thread(db, sandbox.client(), user=alice, message=first, records=[ines], tuning=FAST)
    add_privacy_rule(db, actor=alice, kind="domain", value="@lumiere-optique.example", own=True)
    db.commit()
    recording = RecordingClient(sandbox.client())

    outcome = link_if_thread_linked(db, recording, user=alice, message=second, tuning=FAST)

    assert outcome is not None and not outcome.changed
    assert outcome.line.startswith("Not linked, although this thread is linked to Inès Moreau")
    assert outcome.refused == (
        "ines.moreau@lumiere-optique.example: the domain lumiere-optique.example is on your never-log list.",
    )
    assert recording.calls == [] and sandbox.emails(second.message_id) == []


def test_another_users_never_log_list_does_not_apply_to_me(db: Session, alice: User) -> None:
    bob = make_user(db, ex.BOB_MAILBOX)
    add_privacy_rule(db, actor=bob, kind="address", value=ex.TRIPLE_PERSON_EMAIL, own=True)
    ines = EmailAddress.parse(ex.TRIPLE_PERSON_EMAIL)
    assert ines is not None

    assert load_policy(db, user=bob).exclusion(ines) is not None
    assert load_policy(db, user=alice).exclusion(ines) is None


def test_each_participant_says_why_it_is_not_linked(db: Session, sandbox: Sandbox, alice: User) -> None:
    rollout = sandbox.thread(ex.THREAD_MULTI_PARTY)[0]
    add_privacy_rule(db, actor=alice, kind="internal_domain", value="acme.example")
    add_privacy_rule(db, actor=alice, kind="domain", value="sakura-seiki.example")

    reasons = {p.address: p.reason for p in privacy_reasons(db, user=alice, message=rollout)}

    assert reasons == {
        ex.TRIPLE_PERSON_EMAIL: None,
        ex.SECONDARY_PRIMARY_ADDRESS: None,
        "claire@acme.example": "claire@acme.example is a colleague (acme.example is internal): "
        "colleagues are not linked.",
        ex.JAPANESE_CONTACT_EMAIL: "hanako.yamada@sakura-seiki.example: the domain sakura-seiki.example "
        "is on your organisation's never-log list.",
    }


def test_mail_between_colleagues_only_stays_out_of_oro(db: Session, sandbox: Sandbox, alice: User) -> None:
    handover, _ = sandbox.thread(ex.THREAD_HANDOVER)
    add_privacy_rule(db, actor=alice, kind="internal_domain", value="acme.example")
    db.commit()
    recording = RecordingClient(sandbox.client())

    with pytest.raises(PolicyRefused, match="between colleagues only"):
        link_thread(
            db, recording, user=alice, message=handover, records=[sandbox.person(ex.TRIPLE_PERSON_EMAIL)]
        )
    assert recording.calls == [] and sandbox.emails(handover.message_id) == []


def test_a_subdomain_and_a_plus_address_are_covered() -> None:
    policy = PrivacyPolicy(never_log_domains=frozenset({"bank.example"}),
                           never_log_addresses=frozenset({"jane@x.example"}))
    sub = EmailAddress.parse("alerts@mail.bank.example")
    plus = EmailAddress.parse("Jane+Invoices@X.example")
    other = EmailAddress.parse("jane@notbank.example")
    assert sub and plus and other
    assert policy.exclusion(sub) is not None and policy.exclusion(plus) is not None
    assert policy.exclusion(other) is None


def test_the_body_goes_to_oro_as_the_admin_allows(db: Session, sandbox: Sandbox, alice: User) -> None:
    first, *_ = sandbox.thread(ex.THREAD_TRIPLE_PERSON)
    ines = sandbox.person(ex.TRIPLE_PERSON_EMAIL)
    client = sandbox.client()
    attachments = (Attachment("price-list-2027.pdf", "application/pdf", 120_000),)

    def send(mode: str, n: int) -> dict[str, str] | None:
        update_privacy_settings(db, actor=alice, body_mode=mode)
        message = MailMessage(**{
            **first.__dict__, "message_id": f"<privacy-{mode}-{n}@lumiere-optique.example>",
            "body_text": REPLY,
            "body_html": "<p>Thanks, Thursday works for us.</p><blockquote>Could we meet?</blockquote>",
            "attachments": attachments,
        })
        link_thread(db, client, user=alice, message=message, records=[ines], tuning=FAST)
        db.commit()
        body: dict[str, str] | None = sandbox.emails(message.message_id)[0].attributes["body"]
        return body

    text = send("text", 1)
    assert text == {
        "type": "text",
        "content": "Thanks, Thursday works for us.\n\nBest,\nInès\n\nAttachments: price-list-2027.pdf",
    }
    full = send("full", 2)
    assert full is not None and full["type"] == "html"
    assert "<blockquote>Could we meet?</blockquote>" in full["content"]
    assert send("none", 3) is None  # headers only
    update_privacy_settings(db, actor=alice, attachment_mode="none")
    assert send("text", 4) == {"type": "text", "content": "Thanks, Thursday works for us.\n\nBest,\nInès"}


def test_policy_changes_are_checked_and_audited(db: Session, alice: User) -> None:
    with pytest.raises(InvalidRequest):
        update_privacy_settings(db, actor=alice, body_mode="everything")
    with pytest.raises(InvalidRequest):
        add_privacy_rule(db, actor=alice, kind="address", value="not an address")
    update_privacy_settings(db, actor=alice, body_mode="none", attachment_mode="content",
                            attachment_max_bytes=1000)
    add_privacy_rule(db, actor=alice, kind="address", value="ceo@bank.example")
    add_privacy_rule(db, actor=alice, kind="address", value="CEO@bank.example")  # the same entry
    assert remove_privacy_rule(db, actor=alice, kind="address", value="ceo@bank.example") is True
    assert remove_privacy_rule(db, actor=alice, kind="address", value="ceo@bank.example") is False

    policy = load_policy(db, user=alice)
    big = MailMessage("<a@b.example>", "t", ex.ALICE_MAILBOX, attachments=(
        Attachment("small.txt", size=10), Attachment("big.zip", size=5000),
    ))
    plan = policy.attachments_for(big)
    assert (policy.body_mode, policy.never_log_addresses) == ("none", frozenset())
    assert [a.filename for a in plan.uploads] == ["small.txt"] and plan.too_large == ("big.zip",)
    assert [e.action for e in reversed(audit_entries(db, actor=alice))] == [
        "policy.settings", "policy.add", "policy.remove",
    ]


def test_quoted_history_is_cut_in_the_common_forms() -> None:
    outlook = "See below.\n\n-----Original Message-----\nFrom: X\nSent: Monday\n\nOld text"
    outlook_header = "Fine.\n\nFrom: Alice Martin <alice@acme.example>\nSent: Monday, 2 November 2026\nOld"
    german = "Passt.\n\nAm 02.11.2026 um 09:00 schrieb Alice Martin <alice@acme.example>:\n> Alt"
    inline = "Yes:\n> Can you come?\nI can.\n> And Bob?\nHe cannot."
    assert strip_quoted_history(REPLY) == "Thanks, Thursday works for us.\n\nBest,\nInès"
    assert strip_quoted_history(outlook) == "See below."
    assert strip_quoted_history(outlook_header) == "Fine."
    assert strip_quoted_history(german) == "Passt."
    assert strip_quoted_history(inline) == "Yes:\nI can.\nHe cannot."
