"""users' MCP servers: address, transport, encrypted credentials, cached tool list

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mcp_servers",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("transport", sa.String(length=10), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("auth_kind", sa.String(length=10), nullable=False),
        sa.Column("auth_encrypted", sa.Text(), nullable=True),
        sa.Column("auth_hint", sa.String(length=200), nullable=True),
        sa.Column("tools", sa.JSON(), nullable=True),
        sa.Column("tools_listed_at", app.db.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_mcp_servers_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mcp_servers")),
        sa.UniqueConstraint("owner_id", "slug", name=op.f("uq_mcp_servers_owner_id_slug")),
    )
    op.create_index(op.f("ix_mcp_servers_owner_id"), "mcp_servers", ["owner_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_mcp_servers_owner_id"), table_name="mcp_servers")
    op.drop_table("mcp_servers")
