"""/api/v1 providers: yours to manage, and the system ones you may use (the admin routes in
admin.py manage those). The API key is write-only: see provider_models.py.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.api.common import ListQuery
from app.api.provider_models import (
    ProviderCreate,
    ProviderList,
    ProviderOut,
    ProviderUpdate,
    create,
    stop_runs_of,
    update,
)
from app.models import Provider
from app.providers import service as providers
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.openapi import operation, parse_query, respond

TAG = "Providers"


@login_required
@operation(summary="List your providers and the system ones", tag=TAG, scope="read", query=ListQuery,
           responses={200: ProviderList})  # fmt: skip
async def list_providers(request: Request) -> Response:
    query = parse_query(request, ListQuery)
    async with app_context(request).db.transaction() as session:
        page = await providers.usable_after(session, current_user(request).id, query.cursor, query.limit)
        answer = ProviderList.of(page)
    return respond(answer)


@login_required
@operation(summary="Add a provider of your own", tag=TAG, scope="write", body=ProviderCreate,
           responses={201: ProviderOut})  # fmt: skip
async def create_provider(request: Request) -> Response:
    return await create(request, current_user(request).id)


@login_required
@operation(summary="Get one of your providers or a system one", tag=TAG, scope="read", responses={200: ProviderOut})
async def get_provider(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        provider = await providers.get_usable(session, current_user(request).id, request.path_params["provider_id"])
        answer = ProviderOut.of(provider)
    return respond(answer)


async def _own(session: AsyncSession, request: Request) -> Provider:
    """One of the user's own providers: a system one is changed through the admin routes."""
    return await providers.get_manageable(session, current_user(request).id, False, request.path_params["provider_id"])


@login_required
@operation(summary="Change one of your providers", tag=TAG, scope="write", body=ProviderUpdate,
           responses={200: ProviderOut})  # fmt: skip
async def update_provider(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        answer = await update(request, session, await _own(session, request))
    return respond(answer)


@login_required
@operation(summary="Delete one of your providers (runs using it stop)", tag=TAG, scope="write",
           responses={204: None})  # fmt: skip
async def delete_provider(request: Request) -> Response:
    ctx = app_context(request)
    async with ctx.db.transaction() as session:
        using = await providers.delete_provider(session, await _own(session, request))
    await stop_runs_of(ctx, list(using))
    return Response(status_code=204)


routes = [
    Route("/api/v1/providers", list_providers, methods=["GET"], name="api:providers"),
    Route("/api/v1/providers", create_provider, methods=["POST"], name="api:create_provider"),
    Route("/api/v1/providers/{provider_id:uuid}", get_provider, methods=["GET"], name="api:provider"),
    Route("/api/v1/providers/{provider_id:uuid}", update_provider, methods=["PATCH"], name="api:update_provider"),
    Route("/api/v1/providers/{provider_id:uuid}", delete_provider, methods=["DELETE"], name="api:delete_provider"),
]
