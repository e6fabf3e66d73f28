"""/api/v1 tool settings: what your tools need (CalDAV account, SearXNG address), as on the Tools page.

Secrets are write-only: answers show them masked, as the Tools page does.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.errors import NotFound, ValidationFailed
from app.tool_settings import service as tools
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.openapi import RequestModel, operation, parse_body, respond

TAG = "Tool settings"


class ToolGroupOut(BaseModel):
    group: str
    configured: bool = Field(description="Whether you saved this group; else the tools use the server's defaults.")
    values: dict[str, str] = Field(description="Every field of the group (empty when unset); secrets masked.")
    secret_fields: list[str] = Field(description="Fields that are write-only: sent empty, they keep what is stored.")


class ToolSettingsOut(BaseModel):
    groups: list[ToolGroupOut]
    timezone: str = Field(description="Your timezone (IANA name), as the datetime tool uses it.")


class ToolGroupUpdate(RequestModel):
    """The group's new values: a field left out or empty is cleared, except a secret, which
    keeps the stored one; every field empty removes the group."""

    url: str = Field("", max_length=500)
    username: str = Field("", max_length=200, description="calendar only.")
    password: str = Field("", max_length=500, description="calendar only; write-only.")


def group_out(group: str, stored: dict[str, dict[str, str]]) -> ToolGroupOut:
    shown = tools.masked(stored).get(group, {})
    fields = tools.GROUP_FIELDS[group]
    return ToolGroupOut(group=group, configured=group in stored, values={name: shown.get(name, "") for name in fields},
                        secret_fields=[name for name in fields if name in tools.SECRET_FIELDS])  # fmt: skip


@login_required
@operation(summary="Your tool settings and timezone", tag=TAG, scope="read", responses={200: ToolSettingsOut})
async def get_tool_settings(request: Request) -> Response:
    ctx, user = app_context(request), current_user(request)
    async with ctx.db.transaction() as session:
        stored = await tools.load_settings(session, ctx.secretbox, user.id)
    groups = [group_out(group, stored) for group in tools.GROUP_FIELDS]
    return respond(ToolSettingsOut(groups=groups, timezone=user.timezone))


@login_required
@operation(summary="Save one group of tool settings", tag=TAG, scope="write", body=ToolGroupUpdate,
           responses={200: ToolGroupOut})  # fmt: skip
async def update_tool_settings(request: Request) -> Response:
    ctx, user_id = app_context(request), current_user(request).id
    group: str = request.path_params["group"]
    if group not in tools.GROUP_FIELDS:
        raise NotFound(group)  # before reading the body: an unknown group is a 404, never a 422
    body = await parse_body(request, ToolGroupUpdate)
    values = body.model_dump(exclude_unset=True)
    if foreign := [name for name in values if name not in tools.GROUP_FIELDS[group]]:
        raise ValidationFailed({name: f"Not a setting of {group}." for name in foreign})
    async with ctx.db.transaction() as session:
        await tools.save_group(session, ctx.secretbox, user_id, group, values)
        stored = await tools.load_settings(session, ctx.secretbox, user_id)
    return respond(group_out(group, stored))


routes = [
    Route("/api/v1/tool-settings", get_tool_settings, methods=["GET"], name="api:tool_settings"),
    Route("/api/v1/tool-settings/{group:str}", update_tool_settings, methods=["PUT"], name="api:update_tool_settings"),
]
