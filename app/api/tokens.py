"""/api/v1 tokens: your personal API tokens, listed (never their secret) and revoked."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.api.common import ListQuery
from app.models import ApiToken, TokenScope
from app.tokens import service as tokens
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.openapi import operation, parse_query, respond

TAG = "Tokens"


class TokenOut(BaseModel):
    id: str
    name: str
    hint: str = Field(description="The token's first characters, to tell tokens apart.")
    scope: TokenScope
    created_at: datetime
    last_used_at: datetime | None = Field(description="To the minute.")
    expires_at: datetime | None = Field(description="None: it works until it is revoked.")

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        return cls(id=str(token.id), name=token.name, hint=token.hint, scope=token.scope,
                   created_at=token.created_at, last_used_at=token.last_used_at,
                   expires_at=token.expires_at)  # fmt: skip


class TokenList(BaseModel):
    data: list[TokenOut] = Field(description="Newest first.")
    next_cursor: str | None
    has_more: bool


@login_required
@operation(summary="List your API tokens", tag=TAG, scope="read", query=ListQuery, responses={200: TokenList})
async def list_tokens(request: Request) -> Response:
    query = parse_query(request, ListQuery)
    async with app_context(request).db.transaction() as session:
        page = await tokens.tokens_after(session, current_user(request).id, query.cursor, query.limit)
        data = [TokenOut.of(t) for t in page.items]
    return respond(TokenList(data=data, next_cursor=page.next_cursor, has_more=bool(page.next_cursor)))


@login_required
@operation(summary="Revoke one of your API tokens", tag=TAG, scope="write", responses={204: None},
           description="Any of them, the one signing this request included: it stops working at once.")  # fmt: skip
async def revoke_token(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        await tokens.revoke_token(session, current_user(request).id, request.path_params["token_id"])
    return Response(status_code=204)


routes = [
    Route("/api/v1/tokens", list_tokens, methods=["GET"], name="api:tokens"),
    Route("/api/v1/tokens/{token_id:uuid}", revoke_token, methods=["DELETE"], name="api:revoke_token"),
]
