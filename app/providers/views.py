"""Provider pages: list, create, edit, delete and test connection."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.errors import ValidationFailed
from app.models import Provider, ProviderKind
from app.providers import service
from app.providers.connection import check_connection
from app.providers.service import DEFAULT_BASE_URLS, ProviderInput
from app.settings import Settings
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.forms import read_form
from app.web.htmx import redirect
from app.web.templates import render

KINDS = [(kind.value, kind.label) for kind in ProviderKind]
# What follows a new provider, in its transaction: the user's default agent if they have none.
ProviderAdded = Callable[[AsyncSession, uuid.UUID, Settings], Awaitable[object]]


def _form_context(form: dict[str, Any], errors: dict[str, str], provider: Provider | None) -> dict[str, Any]:
    defaults = {kind.value: url for kind, url in DEFAULT_BASE_URLS.items()}
    return {
        "form": form,
        "errors": errors,
        "provider": provider,
        "kinds": KINDS,
        "defaults": defaults,
    }


def _provider_id(request: Request) -> uuid.UUID:
    provider_id: uuid.UUID = request.path_params["provider_id"]
    return provider_id


@login_required
async def list_providers(request: Request) -> Response:
    ctx = app_context(request)
    async with ctx.db.transaction() as session:
        providers = await service.list_usable(session, current_user(request).id)
    # Providers paused after failures (app/circuit): a badge says so, and until when.
    circuits = await ctx.breaker.states(str(p.id) for p in providers)
    return render(request, "providers/list.html", {"providers": providers, "circuits": circuits})


@login_required
async def new_provider(request: Request) -> Response:
    form = {"kind": ProviderKind.OPENAI_COMPATIBLE.value, "max_context_tokens": "8192"}
    return render(request, "providers/form.html", _form_context(form, {}, None))


@login_required
async def create_provider(request: Request) -> Response:
    ctx, user = app_context(request), current_user(request)
    form = await read_form(request)
    system = user.is_admin and form.get("system") == "on"
    try:
        async with ctx.db.transaction() as session:
            await service.create_provider(
                session, ctx.secretbox, None if system else user.id, ProviderInput.from_form(form)
            )
            await _provider_added(request)(session, user.id, ctx.settings)
    except ValidationFailed as exc:
        context = _form_context({**form, "api_key": ""}, exc.errors, None)
        return render(request, "providers/form.html", context, status_code=400)
    return redirect(request, str(request.url_for("providers:list")))


def _provider_added(request: Request) -> ProviderAdded:
    """create_app hands over agent_configs' maker of the default "Nova" agent as
    `app.state.provider_added`: agent_configs imports providers, so not the other way."""
    hook: ProviderAdded = request.app.state.provider_added
    return hook


@login_required
async def edit_provider(request: Request) -> Response:
    user = current_user(request)
    async with app_context(request).db.transaction() as session:
        provider = await service.get_manageable(session, user.id, user.is_admin, _provider_id(request))
    form = {
        "name": provider.name,
        "kind": provider.kind.value,
        "base_url": provider.base_url,
        "default_model": provider.default_model,
        "max_context_tokens": str(provider.max_context_tokens),
    }
    return render(request, "providers/form.html", _form_context(form, {}, provider))


@login_required
async def update_provider(request: Request) -> Response:
    ctx, user = app_context(request), current_user(request)
    form = await read_form(request)
    try:
        async with ctx.db.transaction() as session:
            provider = await service.get_manageable(session, user.id, user.is_admin, _provider_id(request))
            await service.update_provider(session, ctx.secretbox, provider, ProviderInput.from_form(form))
    except ValidationFailed as exc:
        async with ctx.db.transaction() as session:  # the rolled-back row cannot be read any more
            provider = await service.get_manageable(session, user.id, user.is_admin, _provider_id(request))
        context = _form_context({**form, "api_key": ""}, exc.errors, provider)
        return render(request, "providers/form.html", context, status_code=400)
    return redirect(request, str(request.url_for("providers:list")))


@login_required
async def delete_provider(request: Request) -> Response:
    user, ctx = current_user(request), app_context(request)
    async with ctx.db.transaction() as session:
        provider = await service.get_manageable(session, user.id, user.is_admin, _provider_id(request))
        using = await service.delete_provider(session, provider)
    # A running one stops within a second; a queued or paused one fails when it next starts,
    # as its agent has no provider now. (`runs` imports providers, so not the other way.)
    for run_id in using:
        await ctx.events.request_cancel(str(run_id))
    return redirect(request, str(request.url_for("providers:list")))


@login_required
async def test_provider(request: Request) -> Response:
    ctx = app_context(request)
    async with ctx.db.transaction() as session:
        provider = await service.get_usable(session, current_user(request).id, _provider_id(request))
        config = service.provider_config(provider, ctx.secretbox, allowlist=ctx.settings.egress_allowlist)
    result = await check_connection(config)
    if result.ok:
        async with ctx.db.transaction() as session:
            await service.remember_models(
                session, current_user(request).id, provider.id, result.models, result.context_windows
            )
    context = {"result": result, "provider": provider}
    return render(request, "providers/connection.html", context, fragment="providers/_connection.html")


routes = [
    Route("/providers", list_providers, methods=["GET"], name="providers:list"),
    Route("/providers", create_provider, methods=["POST"], name="providers:create"),
    Route("/providers/new", new_provider, methods=["GET"], name="providers:new"),
    Route("/providers/{provider_id:uuid}/edit", edit_provider, methods=["GET"], name="providers:edit"),
    Route("/providers/{provider_id:uuid}", update_provider, methods=["POST"], name="providers:update"),
    Route(
        "/providers/{provider_id:uuid}/delete",
        delete_provider,
        methods=["POST"],
        name="providers:delete",
    ),
    Route("/providers/{provider_id:uuid}/test", test_provider, methods=["POST"], name="providers:test"),
]
