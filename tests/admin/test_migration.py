"""The admin page's table as the migration makes it is the table the model describes."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from connector.db.migrate import head_revisions, upgrade
from connector.db.session import Base


def test_the_migration_makes_the_admin_settings_table_as_the_model_says(
    database_url: str, backend: str
) -> None:
    assert "0006" in head_revisions()
    upgrade(database_url)
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences: list[Any] = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    ours = [d for d in differences if "admin_settings" in repr(d)]
    assert ours == []
