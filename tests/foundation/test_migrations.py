"""The tables the migrations make are the tables the models describe, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from connector.admin import models as _admin  # noqa: F401  (every model on the metadata)
from connector.audit import models as _audit  # noqa: F401
from connector.db import models as _db  # noqa: F401
from connector.db.migrate import head_revisions, upgrade
from connector.db.session import Base
from connector.linking import models as _linking  # noqa: F401
from connector.outbox import models as _outbox  # noqa: F401
from connector.sidebar import models as _sidebar  # noqa: F401
from connector.templates import models as _templates  # noqa: F401


def test_the_migrations_make_every_table_as_the_models_say(database_url: str, backend: str) -> None:
    assert len(head_revisions()) == 1, "one migration head: merge feature branches"
    upgrade(database_url)
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences: list[Any] = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
