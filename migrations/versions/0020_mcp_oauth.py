"""MCP OAuth 2.1 grants (client registration, tokens)

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 19:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mcp_oauth_grants",
        sa.Column("server_id", sa.Uuid(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("token_endpoint", sa.String(length=500), nullable=False),
        sa.Column("resource", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=500), nullable=False),
        sa.Column("client_secret_encrypted", sa.Text(), nullable=True),
        sa.Column("registered", sa.Boolean(), nullable=False),
        sa.Column("auth_method", sa.String(length=40), nullable=False),
        sa.Column("access_token_encrypted", sa.Text(), nullable=True),
        sa.Column("refresh_token_encrypted", sa.Text(), nullable=True),
        sa.Column("expires_at", app.db.UTCDateTime(), nullable=True),
        sa.Column("scopes", sa.String(length=1000), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("refreshed_at", app.db.UTCDateTime(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["server_id"],
            ["mcp_servers.id"],
            name=op.f("fk_mcp_oauth_grants_server_id_mcp_servers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mcp_oauth_grants")),
        sa.UniqueConstraint("server_id", name=op.f("uq_mcp_oauth_grants_server_id")),
    )
    op.create_table(
        "mcp_oauth_requests",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("server_id", sa.Uuid(), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("redirect_uri", sa.String(length=500), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("token_endpoint", sa.String(length=500), nullable=False),
        sa.Column("resource", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=500), nullable=False),
        sa.Column("client_secret_encrypted", sa.Text(), nullable=True),
        sa.Column("registered", sa.Boolean(), nullable=False),
        sa.Column("auth_method", sa.String(length=40), nullable=False),
        sa.Column("scopes", sa.String(length=1000), nullable=True),
        sa.Column("expires_at", app.db.UTCDateTime(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_mcp_oauth_requests_owner_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["server_id"],
            ["mcp_servers.id"],
            name=op.f("fk_mcp_oauth_requests_server_id_mcp_servers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mcp_oauth_requests")),
    )
    op.create_index(op.f("ix_mcp_oauth_requests_owner_id"), "mcp_oauth_requests", ["owner_id"], unique=False)
    op.create_index(op.f("ix_mcp_oauth_requests_server_id"), "mcp_oauth_requests", ["server_id"], unique=False)
    op.create_index(op.f("ix_mcp_oauth_requests_expires_at"), "mcp_oauth_requests", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_mcp_oauth_requests_expires_at"), table_name="mcp_oauth_requests")
    op.drop_index(op.f("ix_mcp_oauth_requests_server_id"), table_name="mcp_oauth_requests")
    op.drop_index(op.f("ix_mcp_oauth_requests_owner_id"), table_name="mcp_oauth_requests")
    op.drop_table("mcp_oauth_requests")
    op.drop_table("mcp_oauth_grants")
