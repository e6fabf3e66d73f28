"""OAuth 2.1 for a user's MCP server: the grant Nova holds (tokens encrypted), sign-ins under way."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, CreatedMixin, IdMixin, UTCDateTime


class McpOAuthGrant(IdMixin, CreatedMixin, Base):
    """One per server: what the authorization server issued to Nova for this server's owner."""

    __tablename__ = "mcp_oauth_grants"

    server_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mcp_servers.id", ondelete="CASCADE"), unique=True)
    issuer: Mapped[str] = mapped_column(String(500))
    token_endpoint: Mapped[str] = mapped_column(String(500))
    # The `resource` (RFC 8707) the tokens are for: the MCP server's URL.
    resource: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(500))
    # Set when Nova registered the client itself (RFC 7591), so a reconnect can reuse it.
    client_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    registered: Mapped[bool] = mapped_column(default=False)
    auth_method: Mapped[str] = mapped_column(String(40))  # none, client_secret_basic, client_secret_post
    access_token_encrypted: Mapped[str | None] = mapped_column(Text)
    refresh_token_encrypted: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scopes: Mapped[str | None] = mapped_column(String(1000))
    # "connected", or "reconnect" once the refresh token stopped working (the error says why).
    status: Mapped[str] = mapped_column(String(20), default="connected")
    error: Mapped[str | None] = mapped_column(String(500))
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class McpOAuthRequest(CreatedMixin, Base):
    """A sign-in sent to the authorization server and not back yet. Deleted when it comes back,
    so a replayed `state` finds nothing; it belongs to one user and one of their servers."""

    __tablename__ = "mcp_oauth_requests"

    # sha256 of the `state` sent out: the state itself is never stored.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    server_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mcp_servers.id", ondelete="CASCADE"), index=True)
    code_verifier: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    issuer: Mapped[str] = mapped_column(String(500))
    token_endpoint: Mapped[str] = mapped_column(String(500))
    resource: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(500))
    client_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    registered: Mapped[bool] = mapped_column(default=False)
    auth_method: Mapped[str] = mapped_column(String(40))
    scopes: Mapped[str | None] = mapped_column(String(1000))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
