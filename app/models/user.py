"""Accounts: users, their login sessions, invite codes and personal API tokens."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, CreatedMixin, IdMixin, UTCDateTime, utcnow


class Theme(enum.StrEnum):
    """How pages are coloured: as the device prefers, or always light or dark."""

    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


class Role(enum.StrEnum):
    ADMIN = "admin"
    USER = "user"


class TokenScope(enum.StrEnum):
    """What a token may do; each scope includes the ones before it."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


class User(IdMixin, CreatedMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    is_active: Mapped[bool] = mapped_column(default=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    theme: Mapped[Theme] = mapped_column(
        Enum(Theme, native_enum=False, length=8, values_callable=lambda e: [m.value for m in e]),
        default=Theme.SYSTEM,
    )
    # Set for an admin whose password Nova generated and printed: every page asks for a new one.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    # When an admin closed the home page's first-run checklist (it stays closed).
    onboarding_dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


class UserSession(CreatedMixin, Base):
    """A server-side login session; the cookie carries only the signed id."""

    __tablename__ = "sessions"

    # sha256 of the random session token; the token itself lives only in the cookie.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    # Refreshed (with `ip`) at most every few minutes, for the Settings page's session list.
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InviteCode(IdMixin, CreatedMixin, Base):
    __tablename__ = "invite_codes"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    def usable(self, now: datetime | None = None) -> bool:
        return self.used_at is None and self.expires_at > (now or utcnow())


class ApiToken(IdMixin, CreatedMixin, Base):
    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, so a person can tell tokens apart without the secret.
    hint: Mapped[str] = mapped_column(String(16))
    scope: Mapped[TokenScope] = mapped_column(
        Enum(TokenScope, native_enum=False, length=8, values_callable=lambda e: [m.value for m in e])
    )
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # None: the token works until it is revoked.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
