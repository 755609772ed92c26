"""the outbox: replies recorded before they are sent, sent exactly once

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=10), nullable=False),
        sa.Column("mailbox", sa.String(length=320), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=400), nullable=False),
        sa.Column("reply_to", sa.String(length=400), nullable=False),
        sa.Column("thread_id", sa.String(length=400), nullable=False),
        sa.Column("in_reply_to", sa.String(length=998), nullable=False),
        sa.Column("references", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.Column("template_name", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("leased_by", sa.String(length=120), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("provider_message_id", sa.String(length=400), nullable=False),
        sa.Column("link_state", sa.String(length=10), nullable=False),
        sa.Column("link_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'failed')", name=op.f("ck_outbox_state")
        ),
        sa.CheckConstraint("provider IN ('gmail', 'graph')", name=op.f("ck_outbox_provider")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_outbox_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("user_id", "idempotency_key", name=op.f("uq_outbox_user_id")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_message_id")),
    )
    op.create_index("ix_outbox_due", "outbox", ["state", "next_attempt_at"])
    op.create_index("ix_outbox_thread", "outbox", ["user_id", "thread_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_thread", table_name="outbox")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")
