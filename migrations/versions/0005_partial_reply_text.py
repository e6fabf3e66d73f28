"""partial reply text: an embedded run's text so far outlives a restart

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # finish_reason gains "interrupted": a non-native enum, VARCHAR(16) without a CHECK, so
    # only this column changes the schema.
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("partial_text", sa.Text(), nullable=True))


def downgrade() -> None:
    op.execute("UPDATE messages SET finish_reason = 'error' WHERE finish_reason = 'interrupted'")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("partial_text")
