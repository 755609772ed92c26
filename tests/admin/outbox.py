"""Replies in the outbox, in the states people see, for tests of what shows them (admin, sidebars).

A reply is recorded by the outbox's own :func:`enqueue_reply`; a later state (sending, sent, failed) is
then written as a delivery attempt would leave it. Nothing is sent.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Literal

from sqlalchemy.orm import Session

from connector.db.models import User, utcnow
from connector.mail.addresses import EmailAddress
from connector.outbox.models import OutboxMessage
from connector.outbox.operations import Reply, enqueue_reply

State = Literal["pending", "retrying", "sending", "stuck", "sent", "failed"]


def recorded_reply(
    session: Session,
    user: User,
    *,
    state: State = "failed",
    provider: Literal["gmail", "graph"] = "graph",
    thread_id: str = "thread-1",
    subject: str = "Re: Lens order",
    to: str = "ines@lumiere-optique.example",
    template_name: str = "Order follow-up",
    error: str = "The recipient's address was refused by the mail server.",
    mailbox: str | None = None,
    reply_to: str = "",
    in_reply_to: str = "",
) -> OutboxMessage:
    """One reply of ``user`` in ``thread_id``, as it stands in ``state``; flushed, not committed.
    ``reply_to`` (the provider's id) and ``in_reply_to`` (the Message-ID) name the message answered."""
    address = EmailAddress.parse(to, "Inès Laurent")
    assert address is not None
    row = enqueue_reply(
        session,
        user=user,
        key=str(uuid.uuid4()),
        reply=Reply(
            provider=provider,
            mailbox=mailbox or user.email,
            reply_to=reply_to or f"msg-{thread_id}",
            thread_id=thread_id,
            subject=subject,
            to=(address,),
            text="Dear Inès, the lenses ship on the 14th.",
            template_name=template_name,
            in_reply_to=in_reply_to,
            references=(in_reply_to,) if in_reply_to else (),
        ),
        domain="connector.test",
    )
    now = utcnow()
    if state == "retrying":
        row.attempts, row.last_error = 1, "Microsoft Graph is not answering now."
        row.next_attempt_at = now + timedelta(minutes=1)
    elif state in ("sending", "stuck"):
        row.state, row.attempts, row.leased_by = "sending", 1, "test-worker"
        row.lease_until = now + (timedelta(seconds=-60) if state == "stuck" else timedelta(seconds=30))
    elif state == "sent":
        row.state, row.attempts, row.sent_at, row.provider_message_id = "sent", 1, now, "sent-1"
    elif state == "failed":
        row.state, row.attempts, row.last_error = "failed", 8, error
    session.flush()
    return row
