"""run admission and tool effects: runs wait for their owner's turn; side effects happen once

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 07:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("dispatched_at", app.db.UTCDateTime(), nullable=True))
        batch.create_index("ix_runs_owner_status", ["owner_id", "status"])
    # Runs queued before this revision were already handed to the queue.
    op.execute("UPDATE runs SET dispatched_at = created_at WHERE status IN ('queued', 'running', 'waiting')")
    op.create_table(
        "tool_effects",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("tool", sa.String(length=100), nullable=False),
        sa.Column("output", sa.Text(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_tool_effects_run_id_runs"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "call_id", name=op.f("pk_tool_effects")),
    )


def downgrade() -> None:
    op.drop_table("tool_effects")
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_owner_status")
        batch.drop_column("dispatched_at")
