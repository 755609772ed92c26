"""merge the feature branches (sidebar, linking and audit, templates, admin)

Revision ID: 0007
Revises: 0003, 0004, 0005, 0006
Create Date: 2026-11-27

The features were built side by side, each with a migration on top of 0002; this joins them so
that later migrations have one head to build on.
"""

revision = "0007"
down_revision = ("0003", "0004", "0005", "0006")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
