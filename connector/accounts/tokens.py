"""Oro tokens kept in the database, encrypted, for :class:`connector.oro.auth.UserTokenAuth`.

Each save commits in a transaction of its own: Oro rotates refresh tokens, so a refreshed pair must
survive even when the request that triggered the refresh later fails and rolls back. ``locked(key)``
serialises refreshes of one user within the process and, on PostgreSQL, across processes (an
advisory lock held for the refresh).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from connector.db.models import Credential, Identity, User
from connector.oro.auth import OroTokens
from connector.security.secrets import SecretBox

PROVIDER = "oro"


def token_key(user_id: int) -> str:
    return f"user:{user_id}"


def _user_id(key: str) -> int:
    kind, _, value = key.partition(":")
    if kind != "user" or not value.isdigit():
        raise ValueError(f"not a user token key: {key!r}")
    return int(value)


class DatabaseTokenStore:
    """A :class:`connector.oro.auth.TokenStore` over the ``credentials`` table."""

    def __init__(self, engine: Engine, box: SecretBox) -> None:
        self._engine = engine
        self._box = box
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def __repr__(self) -> str:
        return "<DatabaseTokenStore>"

    def load(self, key: str) -> OroTokens | None:
        with Session(self._engine) as session:
            secret = session.scalar(
                select(Credential.secret).where(
                    Credential.user_id == _user_id(key), Credential.provider == PROVIDER
                )
            )
        return None if secret is None else OroTokens.from_json(self._box.decrypt(secret))

    def save(self, key: str, tokens: OroTokens) -> None:
        user_id = _user_id(key)
        with Session(self._engine) as session, session.begin():
            credential = session.scalar(
                select(Credential).where(Credential.user_id == user_id, Credential.provider == PROVIDER)
            )
            encrypted = self._box.encrypt(tokens.to_json())
            if credential is None:
                user = session.get(User, user_id)
                if user is None:
                    raise LookupError(f"no user {user_id} to keep Oro tokens for")
                session.add(Credential(user=user, provider=PROVIDER, secret=encrypted))
            else:
                credential.secret = encrypted

    def delete(self, key: str) -> bool:
        with Session(self._engine) as session, session.begin():
            credential = session.scalar(
                select(Credential).where(Credential.user_id == _user_id(key), Credential.provider == PROVIDER)
            )
            if credential is None:
                return False
            session.delete(credential)
            return True

    @contextmanager
    def locked(self, key: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if self._engine.dialect.name != "postgresql":
                yield
                return
            lock_id = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
            with self._engine.connect() as connection, connection.begin():
                connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})
                yield


GRAPH_PROVIDER = "graph"


class DatabaseTokenCacheStore:
    """Each Outlook user's MSAL token cache (``connector.security.microsoft.TokenCacheStore``), kept in
    ``credentials`` encrypted. ``user_key`` is the Entra identity (``oid.tid``), which the connector
    knows as an identity of one of its users. Saves commit on their own, like Oro's tokens: a refreshed
    cache must survive a request that fails afterwards."""

    def __init__(self, engine: Engine, box: SecretBox) -> None:
        self._engine = engine
        self._box = box

    def __repr__(self) -> str:
        return "<DatabaseTokenCacheStore>"

    def _user_id(self, session: Session, user_key: str) -> int | None:
        return session.scalar(
            select(Identity.user_id).where(Identity.provider == "microsoft", Identity.subject == user_key)
        )

    def load(self, user_key: str) -> str | None:
        with Session(self._engine) as session:
            user_id = self._user_id(session, user_key)
            if user_id is None:
                return None
            secret = session.scalar(
                select(Credential.secret).where(
                    Credential.user_id == user_id, Credential.provider == GRAPH_PROVIDER
                )
            )
        return None if secret is None else self._box.decrypt(secret)

    def save(self, user_key: str, blob: str) -> None:
        with Session(self._engine) as session, session.begin():
            user_id = self._user_id(session, user_key)
            if user_id is None:
                raise LookupError("no connector user has this Microsoft identity")
            credential = session.scalar(
                select(Credential).where(Credential.user_id == user_id, Credential.provider == GRAPH_PROVIDER)
            )
            if credential is None:
                session.add(
                    Credential(user_id=user_id, provider=GRAPH_PROVIDER, secret=self._box.encrypt(blob))
                )
            else:
                credential.secret = self._box.encrypt(blob)
