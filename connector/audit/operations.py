"""Writing and reading the audit log. Like every operation: flush, never commit; the entry is part of
the same transaction as the change it describes, so there is no entry for a change that rolled back."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.audit.models import AuditEntry
from connector.db.models import User, utcnow

logger = logging.getLogger(__name__)

SYSTEM_ACTOR = "system"


def record_audit(
    session: Session,
    *,
    actor: User | None,
    action: str,
    subject: str,
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add an entry; ``actor`` None means the connector itself. ``details`` must be JSON-serialisable
    and must not hold an email body, a token or a secret."""
    entry = AuditEntry(
        at=at or utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor=actor.email if actor is not None else SYSTEM_ACTOR,
        action=action,
        subject=subject,
        details=dict(details or {}),
    )
    session.add(entry)
    session.flush()
    logger.info("audit: %s %s by %s", action, subject, entry.actor)
    return entry


def audit_entries(
    session: Session,
    *,
    subject: str | None = None,
    action: str | None = None,
    actor: User | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Entries newest first, optionally only those of one subject, action or actor."""
    query = select(AuditEntry)
    if subject is not None:
        query = query.where(AuditEntry.subject == subject)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if actor is not None:
        query = query.where(AuditEntry.actor_id == actor.id)
    query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    return list(session.scalars(query))
