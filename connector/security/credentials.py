"""Users' secrets (Oro tokens, Graph token caches) stored encrypted, and re-encryption on key rotation."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlalchemy import Column, Table, func, select, update
from sqlalchemy.orm import Session

from connector.db.models import Credential, User
from connector.db.session import Base
from connector.security.secrets import SecretBox


def save_secret(session: Session, box: SecretBox, *, user: User, provider: str, secret: str) -> Credential:
    """Store (or replace) ``user``'s secret for ``provider``, encrypted. Flushes, never commits."""
    credential = session.scalar(
        select(Credential).where(Credential.user_id == user.id, Credential.provider == provider)
    )
    if credential is None:
        credential = Credential(user=user, provider=provider, secret=box.encrypt(secret))
        session.add(credential)
    else:
        credential.secret = box.encrypt(secret)
    session.flush()
    return credential


def read_secret(session: Session, box: SecretBox, *, user: User, provider: str) -> str | None:
    credential = session.scalar(
        select(Credential).where(Credential.user_id == user.id, Credential.provider == provider)
    )
    return None if credential is None else box.decrypt(credential.secret)


def delete_secret(session: Session, *, user: User, provider: str) -> bool:
    credential = session.scalar(
        select(Credential).where(Credential.user_id == user.id, Credential.provider == provider)
    )
    if credential is None:
        return False
    session.delete(credential)
    session.flush()
    return True


def encrypted_columns() -> Iterator[tuple[Table, Column[str]]]:
    """Every column declared with ``info={"encrypted": True}``."""
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if column.info.get("encrypted"):
                yield table, column


def count_encrypted(session: Session) -> int:
    return sum(
        session.scalar(select(func.count()).select_from(table).where(column.is_not(None))) or 0
        for table, column in encrypted_columns()
    )


def rotate_secrets(
    session: Session, box: SecretBox, *, progress: Callable[[int], None] | None = None
) -> int:
    """Re-encrypt every stored secret with the newest key; return how many. Flushes, never commits."""
    done = 0
    for table, column in encrypted_columns():
        key_columns = list(table.primary_key.columns)
        rows = session.execute(select(*key_columns, column).where(column.is_not(None))).all()
        for row in rows:
            *keys, token = row
            condition = [k == v for k, v in zip(key_columns, keys, strict=True)]
            session.execute(update(table).where(*condition).values({column.name: box.rotate(token)}))
            done += 1
            if progress:
                progress(done)
    session.flush()
    return done
