"""Who sends the outbox's rows, and when.

- Graph rows are sent by a runner: :class:`OutboxWorker`, as a thread in each web process
  (``JOB_RUNNER=thread``, the embedded default) or in ``oro-connector worker`` processes. It takes each
  user's Graph token from their encrypted on-behalf-of cache, so it needs nothing from the request.
- Gmail rows can only be sent with the tokens of a Gmail add-on event, which are never stored: the
  request that records a row sends it at once (:func:`send_gmail_now`), and a row whose attempt died
  is finished by the user's next add-on request that can settle it.

After a reply is sent it joins the thread's links in Oro (:func:`link_sent_replies`), like any later
message of a linked thread.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from sqlalchemy import select

from connector.db.models import User
from connector.jobs import LocalWakeup, RedisWakeup, Wakeup
from connector.linking.errors import LinkingError
from connector.linking.operations import link_if_thread_linked
from connector.mail.addresses import EmailAddress
from connector.mail.graph import GraphClient
from connector.mail.message import MailMessage
from connector.oro.errors import OroError
from connector.outbox.delivery import (
    DeliveryDeferred,
    DeliveryPolicy,
    Outcome,
    SessionFactory,
    deliver,
    deliver_due,
    due_ids,
)
from connector.outbox.models import OutboxMessage
from connector.outbox.operations import recipients_of
from connector.outbox.transports import GmailTransport, GraphTransport
from connector.security.microsoft import EntraUnavailable, GraphTokenRefused

logger = logging.getLogger(__name__)

WAKE_TOPIC = "outbox"
TOKEN_WAIT_SECONDS = 600.0  # a user whose Graph token cannot be renewed: look again in ten minutes


def worker_name() -> str:
    """Who holds a lease: host, process and a thread, so a log line names the sender."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


def wakeup_for(settings: Any) -> Wakeup:
    """How requests wake the runners: Redis when configured (workers may be elsewhere), else in-process."""
    if settings.redis_url:
        return RedisWakeup(settings.redis_url, WAKE_TOPIC)
    return LocalWakeup()


def graph_transport_factory(app: Flask) -> Callable[[OutboxMessage], GraphTransport]:
    from connector.app_services import services

    def transport_for(row: OutboxMessage) -> GraphTransport:
        with app.app_context():
            settings = services().effective_settings()
            try:
                token = services().graph_broker.token_silently(row.account)
            except GraphTokenRefused:
                raise DeliveryDeferred(
                    "Outlook's permission to send for you needs renewing: open the add-in again.",
                    wait=TOKEN_WAIT_SECONDS,
                ) from None
            except EntraUnavailable as exc:
                raise DeliveryDeferred(f"Microsoft's sign-in service is not answering now ({exc}).") from None
            return GraphTransport(GraphClient(token=token.value, base_url=settings.graph_api_url))

    return transport_for


class OutboxWorker:
    """Sends due Graph rows and links sent replies; one loop, woken by requests or by its poll."""

    def __init__(
        self,
        app: Flask,
        *,
        sessions: SessionFactory,
        policy: DeliveryPolicy,
        poll_seconds: float,
        wakeup: Wakeup,
        transport_for: Callable[[OutboxMessage], GraphTransport] | None = None,
        name: str | None = None,
        batch: int = 20,
    ) -> None:
        self.app = app
        self.sessions = sessions
        self.policy = policy
        self.poll_seconds = poll_seconds
        self.wakeup = wakeup
        self.transport_for = transport_for or graph_transport_factory(app)
        self.name = name or worker_name()
        self.batch = batch

    def run_once(self) -> Counter[Outcome]:
        """Attempt every Graph row due now (in batches), then link what was sent."""
        outcomes: Counter[Outcome] = Counter()
        while True:
            with self.sessions() as session:
                ids = due_ids(session, provider="graph", limit=self.batch)
            if not ids:
                break
            round_outcomes = Counter(
                outcome
                for _, outcome in deliver_due(
                    self.sessions, ids, self.transport_for, worker=self.name, policy=self.policy
                )
            )
            outcomes.update(round_outcomes)
            if set(round_outcomes) <= {"skipped", "retry", "lost_lease"}:
                break  # nothing moved this round: the rest are someone else's or not due yet
        link_sent_replies(self.app, self.sessions)
        return outcomes

    def run(self, stop: threading.Event) -> None:
        logger.info("outbox worker %s started (poll every %.0f s)", self.name, self.poll_seconds)
        while not stop.is_set():
            try:
                outcomes = self.run_once()
                if outcomes:
                    logger.info("outbox worker %s: %s", self.name, dict(outcomes))
            except Exception:
                logger.exception("outbox worker %s: a round failed; trying again", self.name)
            self.wakeup.wait(self.poll_seconds)
            if stop.is_set():
                break
        logger.info("outbox worker %s stopped", self.name)


def send_gmail_now(
    sessions: SessionFactory,
    *,
    user: User,
    transport: GmailTransport,
    policy: DeliveryPolicy,
    row_ids: list[int] | None = None,
    limit: int = 5,
) -> dict[int, Outcome]:
    """In a Gmail add-on request: attempt ``row_ids`` (a reply just recorded), or the user's due Gmail
    rows this request's tokens can settle (a crashed attempt, a retry)."""
    with sessions() as session:
        ids = (
            row_ids
            if row_ids is not None
            else due_ids(session, provider="gmail", user_id=user.id, limit=limit)
        )
        rows = {
            row.id: row for row in session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))
        }
        for loaded in rows.values():
            session.expunge(loaded)
    name = worker_name()
    results: dict[int, Outcome] = {}
    for row_id in ids:
        found = rows.get(row_id)
        if found is None or found.user_id != user.id or not transport.can_check(found):
            continue
        results[row_id] = deliver(sessions, row_id, transport, worker=name, policy=policy)
    return results


def sent_message(row: OutboxMessage) -> MailMessage:
    """A sent reply as linking sees any message of the thread."""
    to, cc = recipients_of(row)
    return MailMessage(
        message_id=row.message_id,
        thread_id=row.thread_id,
        mailbox=row.mailbox,
        subject=row.subject,
        sender=EmailAddress.parse(row.mailbox),
        to=to,
        cc=cc,
        date=_aware(row.sent_at),
        references=tuple(row.references.split()),
        body_text=row.body_text,
        body_html=row.body_html,
    )


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite gives back naive datetimes; every one we store is UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def link_sent_replies(
    app: Flask, sessions: SessionFactory, *, user: User | None = None, limit: int = 20
) -> int:
    """Link sent replies of linked threads to the thread's records in Oro; returns how many were
    linked. A reply whose thread is not linked is left alone; Oro being down leaves it for later."""
    from connector.app_services import services

    linked = 0
    with sessions() as session:
        query = select(OutboxMessage.id).where(OutboxMessage.link_state == "pending")
        if user is not None:
            query = query.where(OutboxMessage.user_id == user.id)
        ids = list(session.scalars(query.order_by(OutboxMessage.sent_at).limit(limit)))
    for row_id in ids:
        with app.app_context(), sessions() as session:
            row = session.get(OutboxMessage, row_id)
            if row is None or row.link_state != "pending":
                continue
            try:
                outcome = link_if_thread_linked(
                    session, services().oro_for(row.user), user=row.user, message=sent_message(row)
                )
            except (OroError, LinkingError) as exc:  # Oro down, not connected: try again later
                row.link_error = str(exc)
                logger.info("reply %s: not linked yet (%s)", row_id, exc)
                continue
            except Exception as exc:  # a bug must not stop the other replies, nor come back each round
                logger.exception("reply %s: linking failed", row_id)
                row.link_state, row.link_error = "failed", f"{type(exc).__name__}: {exc}"
                continue
            row.link_state = "done" if outcome is not None else "none"
            row.link_error = ""
            linked += outcome is not None
    return linked


def start_thread_runner(app: Flask) -> threading.Event:
    """The embedded runner: an :class:`OutboxWorker` on a daemon thread of this process. Returns the
    event that stops it."""
    from connector.app_services import services
    from connector.db import db

    settings = services().settings
    stop = threading.Event()
    worker = OutboxWorker(
        app,
        sessions=lambda: db.session_scope(app),
        policy=DeliveryPolicy.from_settings(settings),
        poll_seconds=settings.outbox_poll_seconds,
        wakeup=app.extensions["connector.wakeup"],
    )
    threading.Thread(target=worker.run, args=(stop,), name="outbox-worker", daemon=True).start()
    return stop
