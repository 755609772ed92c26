"""Alembic environment: runs the migrations against the URL given by connector.db.migrate."""

from alembic import context

from connector.admin import models as _admin_models  # noqa: F401
from connector.audit import models as _audit_models  # noqa: F401
from connector.db import models  # noqa: F401  (registers the tables on the metadata)
from connector.db.session import Base, build_engine
from connector.linking import models as _linking_models  # noqa: F401
from connector.outbox import models as _outbox_models  # noqa: F401
from connector.sidebar import models as _sidebar_models  # noqa: F401
from connector.templates import models as _templates_models  # noqa: F401

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "connector.db.migrate sets sqlalchemy.url"

engine = build_engine(url)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
