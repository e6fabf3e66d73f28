"""Deleting a user with everything they own; the rules shared by the admin pages and the API.

The rows go in one transaction (foreign keys cascade from `users`). What lives outside
the database follows at the edge, after the commit (`forget_outside_database`): the stored
files' bytes, the runs' event logs and their LangGraph checkpoints. Bytes are removed only
after the rows are gone, so no row ever names a missing object.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as accounts_repo
from app.admin import repository
from app.context import AppContext
from app.errors import NotFound, ValidationFailed
from app.files import service as files
from app.models import User
from app.runs import service as runs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Footprint:
    """What deleting a user removes, as the confirmation names it."""

    user: User
    counts: dict[str, int]
    # Why it cannot be deleted (yourself, the last administrator); None when it can.
    refusal: str | None


@dataclass(frozen=True)
class Deleted:
    file_keys: list[str]
    run_ids: list[uuid.UUID]
    # Runs a worker may still be executing: their logs must expire and they must stop.
    active_run_ids: list[uuid.UUID] = field(default_factory=list)


async def footprint(session: AsyncSession, user_id: uuid.UUID, acting_id: uuid.UUID) -> Footprint:
    user = await _user_or_404(session, user_id)
    counts = await repository.footprint(session, user.id)
    return Footprint(user=user, counts=counts, refusal=await _refusal(session, user, acting_id))


async def check_deletable(session: AsyncSession, user_id: uuid.UUID, acting_id: uuid.UUID) -> User:
    user = await _user_or_404(session, user_id)
    if refusal := await _refusal(session, user, acting_id):
        raise ValidationFailed({"user": refusal})
    return user


async def delete_user(session: AsyncSession, user_id: uuid.UUID, acting_id: uuid.UUID) -> Deleted:
    """Delete the user's rows; what the edge removes after the commit."""
    user = await check_deletable(session, user_id, acting_id)
    active = [run.id for run in await runs.active_runs_of(session, user.id)]
    all_runs = list(await repository.run_ids(session, user.id))
    keys = await files.delete_for_owner(session, user.id)
    await repository.delete_user(session, user.id)
    return Deleted(file_keys=keys, run_ids=all_runs, active_run_ids=active)


async def forget_outside_database(ctx: AppContext, deleted: Deleted) -> None:
    """After the commit: file bytes, run logs and checkpoints. Failures are logged, never raised:
    the account is gone either way, and what is left is unreachable."""
    await files.remove_objects(ctx.storage, deleted.file_keys)
    for run_id in deleted.active_run_ids:
        await ctx.events.finish(str(run_id))  # the log expires (its run will never finish it)
        await ctx.events.request_cancel(str(run_id))  # after finish, which clears the flag
    if not deleted.run_ids:
        return
    try:
        checkpointer = await ctx.checkpointer()
        for run_id in deleted.run_ids:
            await checkpointer.adelete_thread(str(run_id))
    except Exception:
        log.exception("removing the checkpoints of %d deleted run(s) failed", len(deleted.run_ids))


async def _refusal(session: AsyncSession, user: User, acting_id: uuid.UUID) -> str | None:
    if user.id == acting_id:
        return "You cannot delete your own account: another administrator can."
    if user.is_admin and user.is_active and await accounts_repo.count_active_admins(session) <= 1:
        return "The last active administrator cannot be deleted."
    return None


async def _user_or_404(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await accounts_repo.get_user(session, user_id)
    if user is None:
        raise NotFound(str(user_id))
    return user
