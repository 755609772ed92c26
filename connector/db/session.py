"""Engine and session handling, with the one commit point per request.

Operations flush and never commit. After a request, :class:`Database` commits when the response is a
success and rolls back when the view raised or answered with an error status; the session is then closed.
Outside a request (CLI, jobs) use :meth:`Database.session_scope`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

logger = logging.getLogger(__name__)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def build_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets its directory created, foreign keys and WAL switched on."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs = {"connect_args": {"check_same_thread": False, "timeout": 10}}
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()

    return engine


@dataclass
class _Bound:
    engine: Engine
    factory: sessionmaker[Session]


class Database:
    """Flask extension: created unbound, attached with :meth:`init_app`."""

    def init_app(self, app: Flask, url: str) -> None:
        engine = build_engine(url)
        app.extensions["connector.db"] = _Bound(engine, sessionmaker(engine, expire_on_commit=False))
        app.after_request(self._finish_request)
        app.teardown_appcontext(self._close)

    def _bound(self, app: Flask | None = None) -> _Bound:
        bound: _Bound = (app or current_app).extensions["connector.db"]
        return bound

    def engine(self, app: Flask | None = None) -> Engine:
        return self._bound(app).engine

    @property
    def session(self) -> Session:
        """The session of the current request or app context, opened on first use."""
        if "db_session" not in g:
            g.db_session = self._bound().factory()
        session: Session = g.db_session
        return session

    @contextmanager
    def session_scope(self, app: Flask | None = None) -> Iterator[Session]:
        """A session outside a request: commits on success, rolls back on error."""
        session = self._bound(app).factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def _finish_request(self, response: Response) -> Response:
        session: Session | None = g.get("db_session")
        if session is None:
            return response
        if response.status_code >= 400:
            session.rollback()
        else:
            try:
                session.commit()
            except Exception:
                session.rollback()
                logger.exception("commit failed at the end of the request")
                raise
        return response

    def _close(self, exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is None:
            return
        if exc is not None:
            session.rollback()
        session.close()

    def dispose(self, app: Flask) -> None:
        self._bound(app).engine.dispose()


db = Database()
