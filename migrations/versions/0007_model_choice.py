"""the model a message asked for, and each provider's model list (filled by Test connection)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-14 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("model", sa.String(200), nullable=True))
    with op.batch_alter_table("providers") as batch:
        batch.add_column(sa.Column("models", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("providers") as batch:
        batch.drop_column("models")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("model")
