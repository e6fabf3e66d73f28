"""One-time links an administrator makes so a user can set a new password."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, CreatedMixin, UTCDateTime


class PasswordReset(CreatedMixin, Base):
    """Kept after use (`used_at`), so a second use is told it was used rather than unknown."""

    __tablename__ = "password_resets"

    # sha256 of the random token; the token itself is only in the link the admin hands over.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
