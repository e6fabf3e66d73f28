"""system-wide stdio MCP servers (admins only)

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 19:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "system_mcp_servers",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("command", sa.String(length=500), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("env_encrypted", sa.Text(), nullable=True),
        sa.Column("env_hint", sa.String(length=1000), nullable=True),
        sa.Column("cwd", sa.String(length=500), nullable=False),
        sa.Column("tools", sa.JSON(), nullable=True),
        sa.Column("tools_listed_at", app.db.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_mcp_servers")),
        sa.UniqueConstraint("name", name=op.f("uq_system_mcp_servers_name")),
        sa.UniqueConstraint("slug", name=op.f("uq_system_mcp_servers_slug")),
    )


def downgrade() -> None:
    op.drop_table("system_mcp_servers")
