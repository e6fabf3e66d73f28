"""The file sweeper: files older than NOVA_FILE_EXPIRY_DAYS go, rows and stored bytes."""

from __future__ import annotations

from typing import Any

from app.context import AppContext
from app.files import service


async def expire_files(ctx: AppContext) -> int:
    """Delete expired files; how many. Nothing when expiry is off (the default)."""
    if not ctx.settings.file_expiry_days:
        return 0
    async with ctx.db.transaction() as session:
        keys = await service.delete_expired(session, ctx.settings)
    await service.remove_objects(ctx.storage, keys)
    return len(keys)


async def expire_files_job(arq_ctx: dict[str, Any]) -> None:
    """arq's `files.expire`, hourly."""
    await expire_files(arq_ctx["nova"])
