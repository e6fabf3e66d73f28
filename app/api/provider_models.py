"""What the provider routes of users (providers.py) and admins (admin.py) share: the models,
creating and changing a provider, and stopping the runs of a deleted one.

The API key is write-only: answers say whether one is stored and show it masked, never
in full.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from app.agent_configs import service as agent_configs
from app.context import AppContext
from app.models import Provider, ProviderKind
from app.pagination import Page
from app.providers import service as providers
from app.providers.service import ProviderInput
from app.web.auth import current_user
from app.web.deps import app_context
from app.web.openapi import RequestModel, parse_body, respond


class ProviderOut(BaseModel):
    id: str
    name: str
    kind: ProviderKind
    base_url: str
    default_model: str
    max_context_tokens: int
    models: list[str] = Field(description="What the provider listed at its last connection test.")
    system: bool = Field(description="A system provider, made by an admin: usable by everyone, changed by admins.")
    has_api_key: bool
    api_key_hint: str | None = Field(description="The stored key, masked (`sk-…abcd`); the key itself is never shown.")
    created_at: datetime

    @classmethod
    def of(cls, provider: Provider) -> ProviderOut:
        return cls(
            id=str(provider.id), name=provider.name, kind=provider.kind, base_url=provider.base_url,
            default_model=provider.default_model, max_context_tokens=provider.max_context_tokens,
            models=list(provider.models or []), system=provider.is_system,
            has_api_key=bool(provider.api_key_encrypted), api_key_hint=provider.api_key_hint,
            created_at=provider.created_at,
        )  # fmt: skip


class ProviderList(BaseModel):
    data: list[ProviderOut] = Field(description="Newest first.")
    next_cursor: str | None
    has_more: bool

    @classmethod
    def of(cls, page: Page[Provider]) -> ProviderList:
        data = [ProviderOut.of(p) for p in page.items]
        return cls(data=data, next_cursor=page.next_cursor, has_more=bool(page.next_cursor))


API_KEY_TEXT = "Write-only: stored encrypted and never shown again."


class ProviderCreate(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    kind: ProviderKind
    base_url: str = Field("", max_length=500, description="Empty: the kind's usual address.")
    api_key: str = Field("", max_length=1000, description=API_KEY_TEXT)
    default_model: str = Field(min_length=1, max_length=200)
    max_context_tokens: int = Field(8192, ge=256, le=10_000_000)

    def input(self) -> ProviderInput:
        return ProviderInput(name=self.name.strip(), kind=self.kind.value, base_url=self.base_url.strip(),
                             api_key=self.api_key.strip(), default_model=self.default_model.strip(),
                             max_context_tokens=str(self.max_context_tokens))  # fmt: skip


class ProviderUpdate(RequestModel):
    """Only the fields sent change; an empty or absent `api_key` keeps the stored key."""

    name: str | None = Field(None, min_length=1, max_length=100)
    kind: ProviderKind | None = None
    base_url: str | None = Field(None, max_length=500)
    api_key: str | None = Field(None, max_length=1000, description=API_KEY_TEXT)
    default_model: str | None = Field(None, min_length=1, max_length=200)
    max_context_tokens: int | None = Field(None, ge=256, le=10_000_000)

    def input(self, current: Provider) -> ProviderInput:
        def pick(value: str | None, kept: str) -> str:
            return (value if value is not None else kept).strip()

        tokens = self.max_context_tokens if self.max_context_tokens is not None else current.max_context_tokens
        return ProviderInput(
            name=pick(self.name, current.name), kind=(self.kind or current.kind).value,
            base_url=pick(self.base_url, current.base_url), api_key=(self.api_key or "").strip(),
            default_model=pick(self.default_model, current.default_model), max_context_tokens=str(tokens),
        )  # fmt: skip


async def create(request: Request, owner_id: uuid.UUID | None) -> Response:
    """Create a provider of `owner_id` (None: a system one); its creator gets a default agent
    if they have none, as in the browser."""
    ctx, user_id = app_context(request), current_user(request).id
    body = await parse_body(request, ProviderCreate)
    async with ctx.db.transaction() as session:
        provider = await providers.create_provider(session, ctx.secretbox, owner_id, body.input())
        await agent_configs.agents_for_chat(session, user_id, ctx.settings)
        answer = ProviderOut.of(provider)
    return respond(answer, 201)


async def update(request: Request, session: AsyncSession, provider: Provider) -> ProviderOut:
    body = await parse_body(request, ProviderUpdate)  # after the lookup: another's id is a 404, never a 422
    await providers.update_provider(session, app_context(request).secretbox, provider, body.input(provider))
    await session.flush()
    return ProviderOut.of(provider)


async def stop_runs_of(ctx: AppContext, run_ids: list[uuid.UUID]) -> None:
    """After a provider's deletion commits: its runs stop (running ones within a second)."""
    for run_id in run_ids:
        await ctx.events.request_cancel(str(run_id))
