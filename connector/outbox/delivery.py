"""Sending a recorded reply exactly once, whoever crashes when.

One attempt at a row:

1. **Claim** it with a conditional UPDATE (due ``pending``, or ``sending`` whose lease ran out) that
   also counts the attempt, and commit. Two senders racing for a row: one UPDATE matches, the other
   matches nothing. The claim is a lease, renewed by a heartbeat while the attempt runs, so a sender
   that dies (SIGKILL, a lost machine) gives the row up within ``lease_seconds``.
2. **Ask first** when an earlier attempt was claimed: it may have reached the provider before dying.
   The provider is asked for our own Message-ID (chosen when the row was recorded); when it has the
   message the row is marked sent without sending again. Graph may hold our draft: it is sent.
3. **Send**, then record the outcome, but only while still holding the lease.

The only window left is a provider that accepts a message but does not yet show it to a search
(Graph answers 202 before it has finished). Leases are long against a provider's answer time and an
attempt after a crash starts only after the lease has run out, which is when the provider shows it.

This module commits: the claim must be durable before the provider is called (a row claimed only in
memory would be sent again by another sender). It works in sessions of its own, never in the
caller's request session.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from connector.db.models import utcnow
from connector.outbox.models import OutboxMessage

logger = logging.getLogger(__name__)

SessionFactory = Callable[[], AbstractContextManager[Session]]
Outcome = Literal["sent", "found_sent", "retry", "failed", "skipped", "lost_lease"]


class DeliveryDeferred(Exception):
    """This attempt did not send, and a later one may: the provider was unavailable or throttled, the
    token had expired. ``wait`` overrides the backoff when the provider said how long."""

    def __init__(self, message: str, *, wait: float | None = None, attempted: bool = True) -> None:
        super().__init__(message)
        self.wait = wait
        self.attempted = attempted  # False: nothing was tried (only another request can settle it)


class DeliveryRefused(Exception):
    """The provider refused this message for good (a bad recipient, a missing permission): trying
    again as it is would fail again. The message says what to do."""


@dataclass(frozen=True)
class Found:
    """Our message at the provider: sent, or (Graph) still a draft of ours."""

    provider_id: str
    is_draft: bool = False


class Transport(Protocol):
    """One provider, acting as the row's user."""

    def find(self, row: OutboxMessage) -> Found | None:
        """Our Message-ID in the user's mailbox, or None when the provider has no such message."""

    def send(self, row: OutboxMessage) -> str:
        """Send the reply; return the provider's id of what it sent."""

    def send_draft(self, row: OutboxMessage, draft_id: str) -> str:
        """Send our draft that an earlier attempt left (providers without drafts never get here)."""


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int = 8
    retry_seconds: float = 15.0
    retry_cap_seconds: float = 3600.0
    lease_seconds: float = 30.0

    @classmethod
    def from_settings(cls, settings: Any) -> DeliveryPolicy:
        return cls(
            max_attempts=settings.outbox_max_attempts,
            retry_seconds=settings.outbox_retry_seconds,
            lease_seconds=settings.outbox_lease_seconds,
        )

    def backoff(self, attempts: int) -> float:
        """Seconds before the attempt after ``attempts`` failed ones: doubling, capped, with jitter so
        that a provider coming back is not met by every retry at once."""
        base = min(self.retry_seconds * 2 ** max(attempts - 1, 0), self.retry_cap_seconds)
        return base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not a secret


def _due(now: datetime) -> Any:
    return or_(
        and_(OutboxMessage.state == "pending", OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.state == "sending", OutboxMessage.lease_until < now),
    )


def due_ids(
    session: Session,
    *,
    provider: str,
    limit: int = 20,
    user_id: int | None = None,
    thread_id: str | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Rows an attempt may claim now, oldest first."""
    query = select(OutboxMessage.id).where(OutboxMessage.provider == provider, _due(now or utcnow()))
    if user_id is not None:
        query = query.where(OutboxMessage.user_id == user_id)
    if thread_id is not None:
        query = query.where(OutboxMessage.thread_id == thread_id)
    return list(session.scalars(query.order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)))


def claim(session: Session, row_id: int, *, worker: str, lease_seconds: float) -> bool:
    """Take the row for one attempt if it is due and nobody holds it; counts the attempt. Not committed."""
    now = utcnow()
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, _due(now))
        .values(
            state="sending",
            attempts=OutboxMessage.attempts + 1,
            lease_until=now + timedelta(seconds=lease_seconds),
            leased_by=worker,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


class _Heartbeat:
    """Renews a claim every third of its lease while an attempt runs, in its own session and thread."""

    def __init__(self, sessions: SessionFactory, row_id: int, worker: str, lease_seconds: float) -> None:
        self._sessions = sessions
        self._row_id = row_id
        self._worker = worker
        self._lease = lease_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"outbox-lease-{row_id}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self._lease)

    def _run(self) -> None:
        while not self._stop.wait(self._lease / 3):
            try:
                with self._sessions() as session:
                    session.execute(
                        update(OutboxMessage)
                        .where(
                            OutboxMessage.id == self._row_id,
                            OutboxMessage.leased_by == self._worker,
                            OutboxMessage.state == "sending",
                        )
                        .values(lease_until=utcnow() + timedelta(seconds=self._lease))
                        .execution_options(synchronize_session=False)
                    )
            except Exception:
                logger.warning("could not renew the lease of reply %s", self._row_id, exc_info=True)


def deliver(
    sessions: SessionFactory,
    row_id: int,
    transport: Transport | Callable[[OutboxMessage], Transport],
    *,
    worker: str,
    policy: DeliveryPolicy,
) -> Outcome:
    """One attempt at sending row ``row_id`` through ``transport``; ``sessions`` opens a session that
    commits when its block ends without error. Returns what became of the row.

    ``transport`` may be a function building it from the claimed row (its user's token); when that
    raises :class:`DeliveryDeferred`, nothing was tried: the attempt is not counted, and the row waits
    the ``wait`` it names."""
    with sessions() as session:
        if not claim(session, row_id, worker=worker, lease_seconds=policy.lease_seconds):
            return "skipped"
    with sessions() as session:
        row = session.get(OutboxMessage, row_id)
        if row is None:  # deleted with its user between the claim and now
            return "skipped"
        session.expunge(row)
    outcome: Outcome
    changes: dict[str, Any]
    try:
        chosen = transport(row) if callable(transport) else transport
    except DeliveryDeferred as exc:
        outcome, changes = _deferred(row, DeliveryDeferred(str(exc), wait=exc.wait, attempted=False), policy)
    else:
        with _Heartbeat(sessions, row_id, worker, policy.lease_seconds):
            outcome, changes = _attempt(row, chosen, policy)
    with sessions() as session:
        result = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == row_id,
                OutboxMessage.leased_by == worker,
                OutboxMessage.state == "sending",
            )
            .values(lease_until=None, updated_at=utcnow(), **changes)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            # Our lease ran out mid-attempt and another sender took the row: it asks the provider
            # before sending, so what we did is found there; we record nothing over its work.
            logger.warning("reply %s: lease lost during the attempt (%s)", row_id, outcome)
            return "lost_lease"
    if outcome in ("sent", "found_sent"):
        logger.info("reply %s sent (%s, attempt %s)", row_id, outcome, row.attempts)
    else:
        logger.warning("reply %s not sent (%s): %s", row_id, outcome, changes.get("last_error", ""))
    return outcome


def _attempt(
    row: OutboxMessage, transport: Transport, policy: DeliveryPolicy
) -> tuple[Outcome, dict[str, Any]]:
    try:
        if row.attempts > 1:
            found = transport.find(row)
            if found is not None and not found.is_draft:
                return "found_sent", _sent(found.provider_id)
            if found is not None:
                return "sent", _sent(transport.send_draft(row, found.provider_id))
        return "sent", _sent(transport.send(row))
    except DeliveryDeferred as exc:
        return _deferred(row, exc, policy)
    except DeliveryRefused as exc:
        return "failed", {"state": "failed", "last_error": str(exc)}
    except Exception as exc:
        # A bug of ours (or a library's) is retried like an outage: counted, so it ends as failed
        # after the last attempt instead of coming back every lease for ever; and the provider is
        # asked first next time, in case the message went out before the failure.
        logger.exception("reply %s: the attempt failed unexpectedly", row.id)
        reason = f"The connector failed while sending ({type(exc).__name__}); it will try again."
        return _deferred(row, DeliveryDeferred(reason), policy)


def _deferred(
    row: OutboxMessage, exc: DeliveryDeferred, policy: DeliveryPolicy
) -> tuple[Outcome, dict[str, Any]]:
    if not exc.attempted:
        # This claim did nothing: it is not counted. The claims before it still are, so the next
        # one asks the provider first.
        return "retry", {
            "state": "pending",
            "attempts": row.attempts - 1,
            "next_attempt_at": utcnow() + timedelta(seconds=exc.wait or 0),
            "last_error": str(exc),
        }
    if row.attempts >= policy.max_attempts:
        return "failed", {
            "state": "failed",
            "last_error": f"{exc} (gave up after {row.attempts} attempts)",
        }
    wait = exc.wait if exc.wait is not None else policy.backoff(row.attempts)
    return "retry", {
        "state": "pending",
        "next_attempt_at": utcnow() + timedelta(seconds=wait),
        "last_error": str(exc),
    }


def _sent(provider_id: str) -> dict[str, Any]:
    return {
        "state": "sent",
        "provider_message_id": provider_id,
        "sent_at": utcnow(),
        "last_error": "",
        "link_state": "pending",
    }


def deliver_due(
    sessions: SessionFactory,
    ids: list[int],
    transport_for: Callable[[OutboxMessage], Transport],
    *,
    worker: str,
    policy: DeliveryPolicy,
) -> Iterator[tuple[int, Outcome]]:
    """Attempt each row of ``ids``, building its transport from the row (its user's token)."""
    for row_id in ids:
        yield row_id, deliver(sessions, row_id, transport_for, worker=worker, policy=policy)
