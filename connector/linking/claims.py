"""Claims: how one Oro write happens once, whoever asks and however often.

Oro cannot be made part of our database transaction, and its API does not promise to refuse a second
email with the same Message-ID (reference §7; the sandbox answers 409, a real Oro may not). So before
writing to Oro the connector claims the write in its own database:

1. **Claim.** ``INSERT ... ON CONFLICT DO NOTHING`` a row keyed by the write's natural key (the
   Message-ID, or a hash of a note / create request), holding a random token and a lease, and
   **commit at once**. The unique key lets exactly one request own the claim; the commit makes the
   claim visible to every other request and process (two users, two workers) before anyone talks to
   Oro, and keeps it when the request that made it later rolls back. This commit is the one deliberate
   exception to "operations never commit": it commits the caller's session, so whatever the caller
   had pending is committed with it (call these operations before other changes of the request).
   Committing in the caller's session rather than a second one is what makes it work on SQLite,
   which has one writer at a time: a second session would wait for the caller's own open write.
2. **Look before writing.** The owner asks Oro first (``find_email``, or the note / duplicate
   search); only when Oro has nothing does it write.
3. **Done.** The Oro id is stored and the row marked ``done`` (committed again: Oro has the record
   whatever happens to the request). Later requests read the id and skip the write.
4. **Someone else holds it.** A request that finds another's live claim polls for up to
   ``wait_seconds`` (a double click resolves here: the second click gets the first one's result),
   then answers :class:`LinkInProgress`. A claim whose lease ran out (its owner crashed or gave up)
   is taken over with a compare-and-swap on the token; the new owner looks in Oro before writing.
5. **Timeouts.** When Oro does not answer a write, it may still be storing it. The claim is kept and
   its lease set to ``settle_seconds`` from now: no one writes again until Oro has had time to finish,
   and whoever comes next looks first and finds what the slow write stored.
6. **Clear failures** (Oro refused the write, or could not be reached to look) release the claim.

Rows are compared and changed with their token (``WHERE claim_token = :mine``), never with
timestamps, so clock differences between processes cannot hand one claim to two owners.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from connector.linking.errors import LinkInProgress
from connector.linking.models import CLAIM_DONE, CLAIM_PENDING, ClaimColumns, SyncedMessage, WriteClaim

logger = logging.getLogger(__name__)

M = TypeVar("M", SyncedMessage, WriteClaim)


@dataclass(frozen=True)
class ClaimTuning:
    """How long claims live and how long a request waits for another's.

    ``lease_seconds`` must exceed what an owner can spend between claiming and finishing (a look-up
    and a write, each up to Oro's connect + read timeout, plus the transport's retries of a 429/503);
    ``settle_seconds`` what Oro may still spend on a write the client gave up on. ``reuse_after_seconds``
    (notes, creates) lets a finished claim stop deduplicating after a while: the same note text on the
    same record an hour later is a new note, not a double click.
    """

    lease_seconds: float = 120.0
    settle_seconds: float = 30.0
    wait_seconds: float = 3.0
    poll_seconds: float = 0.05
    reuse_after_seconds: float | None = None


@dataclass(frozen=True)
class Claim:
    """The outcome of :func:`acquire`: either ``done`` (``oro_id`` is the Oro record; write nothing) or
    owned by the caller (``token``), possibly ``taken_over`` from an owner that did not finish."""

    model: type[ClaimColumns]
    row_id: int
    key: str
    token: str | None
    oro_id: str | None
    taken_over: bool = False
    created_at: datetime | None = None

    @property
    def done(self) -> bool:
        return self.oro_id is not None


def now_utc() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything the connector stores is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def insert_ignoring_conflict(
    session: Session, model: type[Any], values: Mapping[str, Any], *, conflict: list[str]
) -> bool:
    """``INSERT ... ON CONFLICT DO NOTHING``: the unique key decides, without an error that would spoil
    the caller's transaction (PostgreSQL and SQLite both have it; savepoints are unreliable on pysqlite).
    True when the row was inserted, False when one with the same key was there."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(model).values(**values)
    elif dialect == "sqlite":
        statement = sqlite.insert(model).values(**values)
    else:  # pragma: no cover - the connector supports these two
        raise NotImplementedError(f"no conflict-free insert for {dialect}")
    # RETURNING says whether a row went in (rowcount is not reliable for this statement on psycopg).
    statement = statement.on_conflict_do_nothing(index_elements=conflict).returning(model.id)
    return session.execute(statement).first() is not None


def _key_column(model: type[M]) -> Any:
    return getattr(model, model.KEY)


def _read(session: Session, model: type[M], key: str) -> M | None:
    query = select(model).where(_key_column(model) == key).execution_options(populate_existing=True)
    row: M | None = session.scalars(query).one_or_none()
    return row


def _changed(result: Any) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else 0


def acquire(
    session: Session,
    model: type[M],
    *,
    key: str,
    user_id: int | None,
    tuning: ClaimTuning,
    extra: Mapping[str, Any] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Claim:
    """Claim the write named ``key`` (see the module docstring). Commits the caller's session."""
    token = uuid.uuid4().hex
    deadline = time.monotonic() + tuning.wait_seconds
    while True:
        now = now_utc()
        insert_ignoring_conflict(
            session,
            model,
            {
                model.KEY: key,
                "state": CLAIM_PENDING,
                "claim_token": token,
                "lease_until": now + timedelta(seconds=tuning.lease_seconds),
                "claimed_by_id": user_id,
                "created_at": now,
                **(extra or {}),
            },
            conflict=[model.KEY],
        )
        session.commit()
        row = _read(session, model, key)
        if row is None:  # released between our insert and our read: try again
            continue
        if row.state == CLAIM_DONE and row.oro_id is not None:
            reusable = tuning.reuse_after_seconds is not None and row.done_at is not None and (
                now - aware(row.done_at) > timedelta(seconds=tuning.reuse_after_seconds)
            )
            if not reusable:
                return Claim(model, row.id, key, None, row.oro_id, created_at=aware(row.created_at))
            if _swap(session, model, row, token, tuning, expect_state=CLAIM_DONE):
                return Claim(model, row.id, key, token, None, created_at=now)
            continue
        if row.claim_token == token:
            return Claim(model, row.id, key, token, None, created_at=aware(row.created_at))
        if aware(row.lease_until) <= now:
            if _swap(session, model, row, token, tuning, expect_state=CLAIM_PENDING):
                logger.warning("took over an expired claim on %s %s", model.__name__, row.id)
                created = aware(row.created_at)
                return Claim(model, row.id, key, token, None, taken_over=True, created_at=created)
            continue
        if time.monotonic() >= deadline:
            left = max(0.5, (aware(row.lease_until) - now).total_seconds())
            raise LinkInProgress(
                "This is being saved to Oro by another request right now; try again in a moment.",
                retry_after=min(left, tuning.settle_seconds),
            )
        sleep(tuning.poll_seconds)


def _swap(
    session: Session, model: type[M], row: M, token: str, tuning: ClaimTuning, *, expect_state: str
) -> bool:
    """Take ``row`` over if it is still exactly as read (same token and state)."""
    now = now_utc()
    result = session.execute(
        update(model)
        .where(model.id == row.id, model.claim_token.is_(None) if row.claim_token is None
               else model.claim_token == row.claim_token, model.state == expect_state)
        .values(
            state=CLAIM_PENDING, claim_token=token, oro_id=None, done_at=None,
            lease_until=now + timedelta(seconds=tuning.lease_seconds),
        )
    )
    session.commit()
    return _changed(result) == 1


def complete(session: Session, claim: Claim, *, oro_id: str, **values: Any) -> None:
    """Record the Oro id and mark the claim done (committed: Oro has the record now)."""
    model = claim.model
    result = session.execute(
        update(model)
        .where(model.id == claim.row_id, model.claim_token == claim.token)
        .values(state=CLAIM_DONE, oro_id=oro_id, claim_token=None, done_at=now_utc(), **values)
    )
    session.commit()
    if _changed(result) != 1:
        logger.warning(
            "claim %s/%s was taken over before it finished; Oro record %s kept", model.__name__,
            claim.row_id, oro_id,
        )


def hold(session: Session, claim: Claim, *, seconds: float) -> None:
    """Keep the claim but let it be taken over after ``seconds`` (an Oro write went unanswered)."""
    model = claim.model
    session.execute(
        update(model)
        .where(model.id == claim.row_id, model.claim_token == claim.token)
        .values(lease_until=now_utc() + timedelta(seconds=seconds))
    )
    session.commit()


def release(session: Session, claim: Claim) -> None:
    """Give the claim up: nothing was written to Oro."""
    model = claim.model
    session.execute(
        delete(model).where(
            model.id == claim.row_id,
            model.claim_token == claim.token,
            model.state == CLAIM_PENDING,
        )
    )
    session.commit()
