"""The files a run's user messages carry, made ready for the model within a budget.

Images go as data URLs (the model sees them); text, Markdown, CSV, code, JSON, HTML (as
text), PDF and DOCX go as their text, at most NOVA_FILE_CONTEXT_CHARS per message, with a
note where a text was cut (the agent's file_read tool reads the rest).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.agents.spec import Attachment
from app.context import AppContext
from app.files import service as files
from app.files.detect import IMAGES
from app.files.extract import Unreadable, has_text
from app.files.store import read_text
from app.models import StoredFile
from app.storage import read_all


async def for_messages(
    session: AsyncSession, ctx: AppContext, message_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[Attachment, ...]]:
    found: dict[uuid.UUID, tuple[Attachment, ...]] = {}
    for message_id, carried in (await files.for_messages(session, message_ids)).items():
        budget = ctx.settings.file_context_chars
        prepared = []
        for file in carried:
            attachment, used = await prepare(ctx, file, budget)
            prepared.append(attachment)
            budget = max(budget - used, 0)
        found[message_id] = tuple(prepared)
    return found


async def prepare(ctx: AppContext, file: StoredFile, budget: int) -> tuple[Attachment, int]:
    """The file as the model gets it, and how many characters of the budget it used."""
    if file.content_type in IMAGES:
        data = await read_all(ctx.storage, file.storage_key, file.size)
        url = f"data:{file.content_type};base64,{base64.b64encode(data).decode()}"
        return Attachment(file.name, file.content_type, data_url=url), 0
    if not has_text(file.content_type):
        return Attachment(file.name, file.content_type, note="This file has no text to read."), 0
    if budget <= 0:
        note = f"Not included: the message's files fill the context budget. Read it with file_read (id {file.id})."
        return Attachment(file.name, file.content_type, note=note), 0
    try:
        text = await read_text(ctx.storage, file, budget + 1)
    except Unreadable as exc:
        return Attachment(file.name, file.content_type, note=str(exc)), 0
    if len(text) <= budget:
        return Attachment(file.name, file.content_type, text=text), len(text)
    note = (f"Truncated: the first {budget:,} of {len(text):,}+ characters are shown. "
            f"Read further with file_read (id {file.id}, offset {budget}).")  # fmt: skip
    return Attachment(file.name, file.content_type, text=text[:budget], note=note), budget
