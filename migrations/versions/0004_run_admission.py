"""run admission: runs wait for their owner's turn before reaching the queue

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


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_owner_status")
        batch.drop_column("dispatched_at")
