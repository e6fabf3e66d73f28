"""Tool settings (encrypted), which tools an agent has, and whether each can work."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy.ext.asyncio import AsyncSession

from app.agents.tools.catalog import BUILTIN, BY_NAME, CustomToolError, ToolSpec, custom_spec
from app.agents.tools.context import ToolEnvironment
from app.calendar.models import CalendarCredentials
from app.errors import NotFound, ValidationFailed, require
from app.models import CustomTool, ToolSetting, User
from app.sandbox import Sandbox
from app.security.secretbox import SecretBox, mask_secret
from app.settings import Settings
from app.tool_settings import repository
from app.urls import parse_http_url

SECRET_FIELDS = {"password"}
GROUP_FIELDS = {"calendar": ("url", "username", "password"), "web_search": ("url",)}


async def load_settings(session: AsyncSession, box: SecretBox, owner_id: uuid.UUID) -> dict[str, dict[str, str]]:
    """Every settings group of the user, decrypted (only for building tools, never shown)."""
    return {row.group: json.loads(box.decrypt(row.values_encrypted))
            for row in await repository.settings_for(session, owner_id)}  # fmt: skip


def masked(values: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """The same settings for display: secrets replaced by a hint."""
    return {group: {k: (mask_secret(v) if k in SECRET_FIELDS and v else v) for k, v in fields.items()}
            for group, fields in values.items()}  # fmt: skip


async def save_group(session: AsyncSession, box: SecretBox, owner_id: uuid.UUID, group: str,
                     form: dict[str, str]) -> None:  # fmt: skip
    """Save one group; a blank secret keeps the stored one; all blank removes the group."""
    if group not in GROUP_FIELDS:
        raise NotFound(group)
    current = (await load_settings(session, box, owner_id)).get(group, {})
    values = {name: form.get(name, "").strip() for name in GROUP_FIELDS[group]}
    for name in SECRET_FIELDS & set(values):
        values[name] = values[name] or current.get(name, "")
    row = await repository.setting(session, owner_id, group)
    if not any(form.get(name, "").strip() for name in GROUP_FIELDS[group]):
        if row is not None:
            await session.delete(row)
        return
    _validate(group, values)
    encrypted = box.encrypt(json.dumps(values))
    if row is None:
        session.add(ToolSetting(owner_id=owner_id, group=group, values_encrypted=encrypted))
    else:
        row.values_encrypted = encrypted


def _validate(group: str, values: dict[str, str]) -> None:
    errors: dict[str, str] = {}
    if parse_http_url(values.get("url", "")) is None:
        errors[f"{group}.url"] = "Enter the server's http(s) address."
    if group == "calendar":
        if not values.get("username"):
            errors["calendar.username"] = "Enter your CalDAV user name."
        if not values.get("password"):
            errors["calendar.password"] = "Enter your CalDAV password."
    require(errors)


@functools.cache
def timezone_names() -> tuple[str, ...]:
    """Every IANA zone this machine knows, sorted: the choices the timezone field offers."""
    return tuple(sorted(available_timezones() | {"UTC"}))


def set_timezone(user: User, name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        raise ValidationFailed({"timezone": "Choose a timezone like Europe/Paris."}) from None
    if name not in timezone_names():
        raise ValidationFailed({"timezone": "Choose a timezone like Europe/Paris."})
    user.timezone = name


@dataclass(frozen=True)
class ToolStatus:
    spec: ToolSpec
    missing: str | None


def environment(
    settings: Settings, user_settings: dict[str, dict[str, str]], sandbox: Sandbox | None
) -> ToolEnvironment:
    calendar = user_settings.get("calendar")
    return ToolEnvironment(
        search_url=(user_settings.get("web_search") or {}).get("url") or settings.searxng_url,
        sandbox=sandbox,
        calendar=CalendarCredentials(calendar["url"], calendar["username"], calendar["password"]) if calendar else None,
        search_results=settings.search_results,
    )


async def catalog(session: AsyncSession) -> list[ToolSpec]:
    """Built-in tools plus the ones admins registered that still import."""
    specs = list(BUILTIN)
    for row in await repository.custom_tools(session):
        try:
            specs.append(custom_spec(row.dotted_path))
        except CustomToolError:
            continue
    return specs


def statuses(specs: Sequence[ToolSpec], env: ToolEnvironment) -> list[ToolStatus]:
    return [ToolStatus(spec, spec.missing(env)) for spec in specs]


async def register_custom(session: AsyncSession, user_id: uuid.UUID, dotted_path: str) -> CustomTool:
    dotted_path = dotted_path.strip()
    try:
        spec = custom_spec(dotted_path)
    except CustomToolError as exc:
        raise ValidationFailed({"dotted_path": str(exc)}) from exc
    if spec.name in BY_NAME:
        raise ValidationFailed({"dotted_path": f"“{spec.name}” is the name of a built-in tool."})
    tool = CustomTool(dotted_path=dotted_path, created_by_id=user_id)
    session.add(tool)
    await session.flush()
    return tool


async def remove_custom(session: AsyncSession, tool_id: uuid.UUID) -> None:
    tool = await repository.custom_tool(session, tool_id)
    if tool is None:
        raise NotFound(str(tool_id))
    await session.delete(tool)
