"""The connector's own database: SQLAlchemy 2 models, one session per request, Alembic migrations."""

from connector.db.session import Base, Database, db

__all__ = ["Base", "Database", "db"]
