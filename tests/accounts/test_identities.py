"""Users from host identities: first sight, joining across hosts, and two first requests at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from connector.accounts.operations import user_for_identity
from connector.db import db as database
from connector.db.models import Identity, User


def test_the_same_email_on_two_hosts_is_one_user(db: Session) -> None:
    google = user_for_identity(db, provider="google", subject="g-1", email="Alice@Acme.example")
    microsoft = user_for_identity(db, provider="microsoft", subject="m-1", email="alice@acme.example")
    assert google.id == microsoft.id
    assert google.email == "alice@acme.example"


def test_a_concurrent_first_request_wins_and_this_one_uses_its_user(app: Any, db: Session) -> None:
    """Another request commits the same person between our look and our insert: no error, one user."""
    raced = {"done": False}

    def other_request_commits_first(session: Session, _context: Any, _instances: Any) -> None:
        if raced["done"] or not any(isinstance(o, User) for o in session.new):
            return
        raced["done"] = True
        with database.session_scope(app) as other:
            user_for_identity(other, provider="google", subject="g-alice", email="alice@acme.example")

    event.listen(db, "before_flush", other_request_commits_first)
    try:
        user = user_for_identity(db, provider="google", subject="g-alice", email="alice@acme.example")
    finally:
        event.remove(db, "before_flush", other_request_commits_first)
    db.commit()

    assert raced["done"]
    assert db.scalar(select(func.count()).select_from(User)) == 1
    assert db.scalar(select(func.count()).select_from(Identity)) == 1
    assert user.email == "alice@acme.example"
