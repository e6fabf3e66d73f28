"""summaries of earlier messages: a thread that outgrows the model's window keeps them

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "thread_summaries",
        sa.Column("thread_id", sa.Uuid(), nullable=False),
        sa.Column("covers_message_id", sa.Uuid(), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.id"], name=op.f("fk_thread_summaries_thread_id_threads"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["covers_message_id"],
            ["messages.id"],
            name=op.f("fk_thread_summaries_covers_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thread_summaries")),
        sa.UniqueConstraint("covers_message_id", name=op.f("uq_thread_summaries_covers_message_id")),
    )
    op.create_index(op.f("ix_thread_summaries_thread_id"), "thread_summaries", ["thread_id"])
    # Plain ALTER TABLE (a nullable column): no batch copy of `providers` is needed.
    op.add_column("providers", sa.Column("context_windows", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("providers") as batch:
        batch.drop_column("context_windows")
    op.drop_index(op.f("ix_thread_summaries_thread_id"), table_name="thread_summaries")
    op.drop_table("thread_summaries")
