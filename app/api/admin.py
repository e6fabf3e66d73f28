"""/api/v1/admin: users, invite codes and system providers, for administrators only.

A token needs the admin scope as well as an administrator: see `admin_required`.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.accounts import password_reset
from app.accounts import service as accounts
from app.admin import service as admin
from app.api.common import ListQuery, id_text
from app.api.provider_models import (
    ProviderCreate,
    ProviderList,
    ProviderOut,
    ProviderUpdate,
    create,
    stop_runs_of,
    update,
)
from app.models import InviteCode, Role, User
from app.providers import service as providers
from app.runs import control
from app.web.auth import admin_required, current_user
from app.web.deps import app_context
from app.web.openapi import RequestModel, operation, parse_body, parse_query, respond

TAG = "Admin"


class UserOut(BaseModel):
    id: str
    email: str
    role: Role
    is_active: bool = Field(description="False: suspended (cannot sign in; tokens and sessions refused).")
    timezone: str
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=str(user.id), email=user.email, role=user.role, is_active=user.is_active,
                   timezone=user.timezone, created_at=user.created_at)  # fmt: skip


class UserList(BaseModel):
    data: list[UserOut] = Field(description="Newest first.")
    next_cursor: str | None
    has_more: bool


class UserCreate(RequestModel):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1000)
    role: Role = Role.USER


class UserUpdate(RequestModel):
    """Only the fields sent change. The last active administrator can be neither suspended nor demoted."""

    is_active: bool | None = Field(None, description="False suspends: their sessions end and their runs stop.")
    role: Role | None = None


class PasswordResetCreated(BaseModel):
    user_id: str
    url: str = Field(description="The one-time link: opening it lets the user set a new password. Shown once.")
    expires_at: datetime = Field(description=f"{password_reset.RESET_HOURS} hours after it was made.")


class InviteOut(BaseModel):
    id: str
    usable: bool = Field(description="Unused and unexpired.")
    expires_at: datetime
    used_at: datetime | None
    used_by_id: str | None
    created_by_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, invite: InviteCode) -> InviteOut:
        return cls(id=str(invite.id), usable=invite.usable(), expires_at=invite.expires_at, used_at=invite.used_at,
                   used_by_id=id_text(invite.used_by_id), created_by_id=id_text(invite.created_by_id),
                   created_at=invite.created_at)  # fmt: skip


class InviteCreated(InviteOut):
    code: str = Field(description="Shown in this answer only.")
    register_url: str = Field(description="The registration page with the code filled in.")


class InviteList(BaseModel):
    data: list[InviteOut] = Field(description="Newest first; codes are not shown again.")
    next_cursor: str | None
    has_more: bool


class InviteCreate(RequestModel):
    days: int = Field(accounts.INVITE_DAYS_DEFAULT, ge=1, le=365, description="How long the code works.")


# ----------------------------------------------------------------------------- users


@admin_required
@operation(summary="List every user", tag=TAG, scope="admin", query=ListQuery, responses={200: UserList})
async def list_users(request: Request) -> Response:
    query = parse_query(request, ListQuery)
    async with app_context(request).db.transaction() as session:
        page = await accounts.users_after(session, query.cursor, query.limit)
    data = [UserOut.of(u) for u in page.items]
    return respond(UserList(data=data, next_cursor=page.next_cursor, has_more=bool(page.next_cursor)))


@admin_required
@operation(summary="Create a user", tag=TAG, scope="admin", body=UserCreate, responses={201: UserOut})
async def create_user(request: Request) -> Response:
    body = await parse_body(request, UserCreate)
    async with app_context(request).db.transaction() as session:
        answer = UserOut.of(await accounts.create_user(session, body.email, body.password, body.role))
    return respond(answer, 201)


@admin_required
@operation(summary="Get a user", tag=TAG, scope="admin", responses={200: UserOut})
async def get_user(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        answer = UserOut.of(await accounts.get_user(session, request.path_params["user_id"]))
    return respond(answer)


@admin_required
@operation(summary="Suspend, reactivate, promote or demote a user", tag=TAG, scope="admin", body=UserUpdate,
           responses={200: UserOut})  # fmt: skip
async def update_user(request: Request) -> Response:
    ctx, user_id = app_context(request), request.path_params["user_id"]
    async with ctx.db.transaction() as session:
        user = await accounts.get_user(session, user_id)
        body = await parse_body(request, UserUpdate)  # after the lookup: an unknown id is a 404, never a 422
        if body.role is not None:
            await accounts.set_role(session, user_id, body.role)
        if body.is_active is not None:
            await accounts.set_active(session, user_id, body.is_active)
        await session.flush()
        answer = UserOut.of(user)
    if body.is_active is False:
        await control.stop_all(ctx, user_id)  # their open streams end at their next re-check
    return respond(answer)


@admin_required
@operation(summary="Make a one-time password reset link (shown once)", tag=TAG, scope="admin",
           responses={201: PasswordResetCreated}, problems=(422,),
           description="An earlier unused link of the user stops working; using the link ends every session of "
                       "theirs. Refused (422) for an account that signs in with single sign-on only.")  # fmt: skip
async def create_password_reset(request: Request) -> Response:
    ctx = app_context(request)
    async with ctx.db.transaction() as session:
        link = await password_reset.create(
            session, request.path_params["user_id"], current_user(request).id, ctx.settings.login_mode
        )
    url = str(request.url_for("accounts:reset_password", token=link.token))
    answer = PasswordResetCreated(user_id=str(link.user.id), url=url, expires_at=link.expires_at)
    return respond(answer, 201, headers={"Cache-Control": "no-store"})


@admin_required
@operation(summary="Delete a user and everything they own", tag=TAG, scope="admin", responses={204: None},
           problems=(422,),
           description="Threads, messages, runs, memories, files (and their stored bytes), tokens, agents, "
                       "providers, MCP servers and settings. Their runs stop first. Neither yourself nor the "
                       "last active administrator can be deleted (422).")  # fmt: skip
async def delete_user(request: Request) -> Response:
    ctx, user_id, acting_id = app_context(request), request.path_params["user_id"], current_user(request).id
    async with ctx.db.transaction() as session:
        await admin.check_deletable(session, user_id, acting_id)
    await control.stop_all(ctx, user_id)  # while the runs' rows exist to publish their final event from
    async with ctx.db.transaction() as session:
        deleted = await admin.delete_user(session, user_id, acting_id)
    await admin.forget_outside_database(ctx, deleted)
    return Response(status_code=204)


# ----------------------------------------------------------------------------- invites


@admin_required
@operation(summary="List invite codes", tag=TAG, scope="admin", query=ListQuery, responses={200: InviteList})
async def list_invites(request: Request) -> Response:
    query = parse_query(request, ListQuery)
    async with app_context(request).db.transaction() as session:
        page = await accounts.invites_after(session, query.cursor, query.limit)
        data = [InviteOut.of(i) for i in page.items]
    return respond(InviteList(data=data, next_cursor=page.next_cursor, has_more=bool(page.next_cursor)))


@admin_required
@operation(summary="Create an invite code (shown once)", tag=TAG, scope="admin", body=InviteCreate,
           responses={201: InviteCreated})  # fmt: skip
async def create_invite(request: Request) -> Response:
    body = await parse_body(request, InviteCreate)
    async with app_context(request).db.transaction() as session:
        invite = await accounts.create_invite(session, current_user(request).id, body.days)
        link = request.url_for("accounts:register").include_query_params(code=invite.code)
        answer = InviteCreated(**InviteOut.of(invite).model_dump(), code=invite.code, register_url=str(link))
    return respond(answer, 201, headers={"Cache-Control": "no-store"})


@admin_required
@operation(summary="Withdraw an invite code", tag=TAG, scope="admin", responses={204: None})
async def delete_invite(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        await accounts.delete_invite(session, request.path_params["invite_id"])
    return Response(status_code=204)


# ----------------------------------------------------------------------------- system providers


@admin_required
@operation(summary="List the system providers", tag=TAG, scope="admin", query=ListQuery,
           responses={200: ProviderList})  # fmt: skip
async def list_system_providers(request: Request) -> Response:
    query = parse_query(request, ListQuery)
    async with app_context(request).db.transaction() as session:
        answer = ProviderList.of(await providers.usable_after(session, None, query.cursor, query.limit))
    return respond(answer)


@admin_required
@operation(summary="Add a system provider (usable by every user)", tag=TAG, scope="admin", body=ProviderCreate,
           responses={201: ProviderOut})  # fmt: skip
async def create_system_provider(request: Request) -> Response:
    return await create(request, None)


@admin_required
@operation(summary="Change a system provider", tag=TAG, scope="admin", body=ProviderUpdate,
           responses={200: ProviderOut})  # fmt: skip
async def update_system_provider(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        provider = await providers.get_system(session, request.path_params["provider_id"])
        answer = await update(request, session, provider)
    return respond(answer)


@admin_required
@operation(summary="Delete a system provider (runs using it stop)", tag=TAG, scope="admin", responses={204: None})
async def delete_system_provider(request: Request) -> Response:
    ctx = app_context(request)
    async with ctx.db.transaction() as session:
        provider = await providers.get_system(session, request.path_params["provider_id"])
        using = await providers.delete_provider(session, provider)
    await stop_runs_of(ctx, list(using))
    return Response(status_code=204)


routes = [
    Route("/api/v1/admin/users", list_users, methods=["GET"], name="api:admin:users"),
    Route("/api/v1/admin/users", create_user, methods=["POST"], name="api:admin:create_user"),
    Route("/api/v1/admin/users/{user_id:uuid}", get_user, methods=["GET"], name="api:admin:user"),
    Route("/api/v1/admin/users/{user_id:uuid}", update_user, methods=["PATCH"], name="api:admin:update_user"),
    Route("/api/v1/admin/users/{user_id:uuid}", delete_user, methods=["DELETE"], name="api:admin:delete_user"),
    Route("/api/v1/admin/users/{user_id:uuid}/password-reset", create_password_reset, methods=["POST"],
          name="api:admin:password_reset"),
    Route("/api/v1/admin/invites", list_invites, methods=["GET"], name="api:admin:invites"),
    Route("/api/v1/admin/invites", create_invite, methods=["POST"], name="api:admin:create_invite"),
    Route("/api/v1/admin/invites/{invite_id:uuid}", delete_invite, methods=["DELETE"], name="api:admin:delete_invite"),
    Route("/api/v1/admin/providers", list_system_providers, methods=["GET"], name="api:admin:providers"),
    Route("/api/v1/admin/providers", create_system_provider, methods=["POST"], name="api:admin:create_provider"),
    Route("/api/v1/admin/providers/{provider_id:uuid}", update_system_provider, methods=["PATCH"],
          name="api:admin:update_provider"),
    Route("/api/v1/admin/providers/{provider_id:uuid}", delete_system_provider, methods=["DELETE"],
          name="api:admin:delete_provider"),
]  # fmt: skip
