"""Long-lived resources opened once at start-up and handed to requests and jobs."""

from __future__ import annotations

from dataclasses import dataclass

from app.accounts.ratelimit import LoginLimiter, make_login_limiter
from app.db import Database
from app.security.keys import Keys, load_keys
from app.security.secretbox import SecretBox
from app.settings import Settings


@dataclass
class AppContext:
    settings: Settings
    db: Database
    keys: Keys
    secretbox: SecretBox
    login_limiter: LoginLimiter

    async def close(self) -> None:
        await self.login_limiter.close()
        await self.db.dispose()


def open_context(settings: Settings) -> AppContext:
    keys = load_keys(settings)
    return AppContext(
        settings=settings,
        db=Database(settings.resolved_database_url),
        keys=keys,
        secretbox=SecretBox(keys.encryption_key),
        login_limiter=make_login_limiter(settings),
    )
