"""/api/v1/me: who the token belongs to, and what it may do."""

from __future__ import annotations

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.web.auth import current_user, login_required
from app.web.openapi import operation, respond


class Me(BaseModel):
    id: str
    email: str
    is_admin: bool
    scope: str | None = Field(description="The token's scope: read, write or admin.")
    timezone: str


@login_required
@operation(summary="Who am I", tag="Account", scope="read", responses={200: Me})
async def me(request: Request) -> Response:
    user = current_user(request)
    return respond(Me(id=str(user.id), email=user.email, is_admin=user.is_admin, scope=user.token_scope,
                      timezone=user.timezone))  # fmt: skip


routes = [Route("/api/v1/me", me, methods=["GET"], name="api:me")]
