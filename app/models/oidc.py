"""Single sign-on: who a person is at the OpenID provider, sign-ins under way, ID tokens kept for logout."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, CreatedMixin, IdMixin, UTCDateTime


class OidcIdentity(IdMixin, CreatedMixin, Base):
    """A person at the provider is (issuer, subject): an email can change hands, these cannot."""

    __tablename__ = "oidc_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OidcLoginRequest(CreatedMixin, Base):
    """A sign-in sent to the provider and not back yet. Deleted when it comes back, so a
    replayed `state` finds nothing."""

    __tablename__ = "oidc_login_requests"

    # sha256 of the `state` sent to the provider (the state itself is in the browser's cookie).
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    next_url: Mapped[str] = mapped_column(String(2048))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class OidcSession(Base):
    """The ID token a login session started with: RP-initiated logout sends it as `id_token_hint`."""

    __tablename__ = "oidc_sessions"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    id_token: Mapped[str] = mapped_column(Text)
