"""The first-run checklist an admin sees on the home page until Nova answers them, or they close it.

Every step is read from what exists, never ticked by hand: a provider, a successful
"Test connection" (it leaves the provider's model list behind, and only a success does),
a default agent with a provider, and a first message in a thread.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import service as accounts
from app.agent_configs import service as agent_configs
from app.db import utcnow
from app.preferences import repository
from app.providers import service as providers


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    hint: str
    done: bool
    route: str  # where the step is done; `threads:create` is a form, the others are pages
    action: str


@dataclass(frozen=True)
class Checklist:
    steps: Sequence[Step]

    @property
    def done_count(self) -> int:
        return sum(step.done for step in self.steps)

    @property
    def next_key(self) -> str | None:
        return next((step.key for step in self.steps if not step.done), None)


async def checklist(session: AsyncSession, user_id: uuid.UUID) -> Checklist | None:
    """The checklist for an admin who still has steps to do and has not closed it; else None."""
    user = await accounts.get_user(session, user_id)
    if not user.is_admin or user.onboarding_dismissed_at is not None:
        return None
    usable = await providers.list_usable(session, user_id)
    agents = await agent_configs.list_agents(session, user_id)
    default = next((agent for agent in agents if agent.is_default), None)
    steps = (
        Step("provider", "Add an LLM provider", "OpenAI, Mistral, Ollama, llama.cpp or any OpenAI-compatible server.",
             bool(usable), "providers:list", "Providers"),
        Step("tested", "Test its connection", "“Test connection” on the Providers page lists its models.",
             any(provider.models is not None for provider in usable), "providers:list", "Test a provider"),
        Step("agent", "Get the default agent ready", "New threads start with it; it needs a provider and a model.",
             default is not None and default.provider_id is not None, "agent_configs:list", "Agents"),
        Step("message", "Send a first message", "Open a thread and ask Nova something.",
             await repository.has_sent_a_message(session, user_id), "threads:create", "New thread"),
    )  # fmt: skip
    result = Checklist(steps)
    return None if result.next_key is None else result


async def dismiss(session: AsyncSession, user_id: uuid.UUID) -> None:
    user = await accounts.get_user(session, user_id)
    user.onboarding_dismissed_at = utcnow()
