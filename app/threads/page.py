"""What the thread page renders: sidebar, the branch shown with its messages' versions, composer.

Shared by the thread views and the branch actions (each re-renders the conversation).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from app.agent_configs import service as agent_configs
from app.files import service as files
from app.models import Thread
from app.providers import service as providers
from app.runs import service as runs
from app.runs import stats, summaries
from app.runs.display import run_view
from app.threads import branches, service
from app.web.auth import current_user
from app.web.deps import app_context
from app.web.params import page_number


async def thread_context(
    session: AsyncSession, request: Request, thread: Thread | None, *, with_messages: bool = True
) -> dict[str, Any]:
    """What the thread page needs: sidebar, messages, composer (fragments may skip the messages)."""
    ctx, user_id = app_context(request), current_user(request).id
    agents = await agent_configs.agents_for_chat(session, user_id, ctx.settings)
    selected = thread.agent_id if thread and thread.agent_id else None
    if selected is None and agents:
        selected = next((a.id for a in agents if a.is_default), agents[0].id)
    active = await runs.active_run(session, thread.id) if thread else None
    page = await service.message_page(session, thread) if thread and with_messages else service.MessagePage([], None)
    return {
        "sidebar": await service.list_threads(session, user_id, page_number(request), current_user(request).timezone),
        "thread": thread,
        **await messages_context(session, page),
        "run_view": await run_view(request, ctx, active) if active else None,
        "agents": agents,
        "agents_by_id": {agent.id: agent for agent in agents},
        "model_providers": await providers.list_usable(session, user_id),
        "thread_files": await files.for_thread(session, thread.id) if thread else [],
        "upload_max_bytes": ctx.settings.upload_max_bytes,
        "selected_agent_id": selected,
        "form": {},
        "errors": {},
        "search": None,  # the sidebar's search, when its results are the page (no JavaScript)
        "found_id": None,  # the message a search result opened the thread at
    }


async def messages_context(session: AsyncSession, page: service.MessagePage) -> dict[str, Any]:
    """A page of messages as the templates show it: the messages, the older ones' cursor, the reply stats."""
    return {
        "messages": page.messages,
        "older_than": page.older_than,
        "reply_stats": await stats.for_runs(session, [m.run_id for m in page.messages if m.run_id]),
        "message_files": await files.for_messages(session, [m.id for m in page.messages]),
        # The switch (2/3) under each message that has other versions (edited, regenerated).
        "versions": await branches.versions_of(session, page.messages),
        # What the model gets instead of the earliest messages, after the last it covers.
        "context_summary": await summaries.shown_among(session, page.messages),
    }
