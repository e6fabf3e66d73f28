"""Calendar tools over the user's CalDAV account (changes ask for approval first)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from app.agents.tools.context import EFFECT_KEY, ToolContext, ToolFailure
from app.calendar.client import CalendarClient
from app.calendar.models import CalendarError

T = TypeVar("T")


class RangeArguments(BaseModel):
    start: str = Field(description="Start date or date-time, ISO format (e.g. 2026-05-01 or 2026-05-01T09:00).")
    end: str = Field(description="End date or date-time, ISO format; at most a year after start.")
    calendar: str | None = Field(default=None, description="Calendar name; omit for the default.")


class SearchArguments(BaseModel):
    text: str = Field(description="Words to look for in titles, places and notes.")
    start: str | None = Field(default=None, description="Search from this date (default: 30 days ago).")
    end: str | None = Field(default=None, description="Search until this date (default: in 180 days).")


class EventIdArguments(BaseModel):
    uid: str = Field(description="The event's id, as listed by the other calendar tools.")


class CreateArguments(BaseModel):
    summary: str = Field(description="The event title.")
    start: str = Field(description="Start, ISO date-time (or a date for an all-day event).")
    end: str = Field(description="End, ISO date-time (or the day after, for an all-day event).")
    location: str | None = None
    description: str | None = None
    calendar: str | None = Field(default=None, description="Calendar name; omit for the default.")


class UpdateArguments(BaseModel):
    uid: str = Field(description="The event's id.")
    summary: str | None = None
    start: str | None = None
    end: str | None = None
    location: str | None = None
    description: str | None = None


def calendar_tools(ctx: ToolContext) -> list[BaseTool]:
    def client() -> CalendarClient:
        if ctx.env.calendar is None:
            raise ToolFailure("No calendar account is set up (Tools page).")
        return CalendarClient(ctx.env.calendar, egress=ctx.egress)

    def when(text: str) -> datetime:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            try:
                parsed = datetime.combine(date.fromisoformat(text), time())
            except ValueError as exc:
                raise ToolFailure(f"“{text}” is not an ISO date or date-time.") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=ctx.timezone)

    async def calls(coroutine: Awaitable[T]) -> T:
        try:
            return await coroutine
        except CalendarError as exc:
            raise ToolFailure(str(exc)) from exc

    async def list_calendars() -> str:
        found = await calls(client().list_calendars())
        return "\n".join(f"- {c.name}" for c in found) or "No calendars."

    async def list_events(start: str, end: str, calendar: str | None = None) -> str:
        events = await calls(client().list_events(when(start), when(end), calendar))
        return "\n".join(e.describe(ctx.timezone) for e in events) or "No events in that range."

    async def search_events(text: str, start: str | None = None, end: str | None = None) -> str:
        now = datetime.now(ctx.timezone)
        begin = when(start) if start else now - timedelta(days=30)
        finish = when(end) if end else now + timedelta(days=180)
        events = await calls(client().search(text, begin, finish))
        return "\n".join(e.describe(ctx.timezone) for e in events) or f"No events match “{text}”."

    async def show_event(uid: str) -> str:
        event = await calls(client().get_event(uid))
        return event.describe(ctx.timezone) + (f"\n{event.description}" if event.description else "")

    async def create_event(summary: str, start: str, end: str, location: str | None = None,
                           description: str | None = None, calendar: str | None = None) -> str:  # fmt: skip
        all_day = len(start) == 10 and len(end) == 10
        key = EFFECT_KEY.get()  # the same call again writes the same event, not a second one
        event = await calls(client().create_event(
            summary, when(start), when(end), calendar=calendar, location=location,
            description=description, all_day=all_day,
            uid=f"{uuid.uuid5(uuid.NAMESPACE_URL, key)}@nova" if key else None,
        ))  # fmt: skip
        return "Created: " + event.describe(ctx.timezone)

    async def update_event(uid: str, summary: str | None = None, start: str | None = None,
                           end: str | None = None, location: str | None = None,
                           description: str | None = None) -> str:  # fmt: skip
        event = await calls(client().update_event(
            uid, summary=summary, start=when(start) if start else None,
            end=when(end) if end else None, location=location, description=description,
        ))  # fmt: skip
        return "Updated: " + event.describe(ctx.timezone)

    async def delete_event(uid: str) -> str:
        await calls(client().delete_event(uid))
        return f"Deleted event {uid}."

    def make(coroutine, name: str, schema: type[BaseModel], description: str) -> BaseTool:  # type: ignore[no-untyped-def]
        return StructuredTool.from_function(coroutine=coroutine, name=name, args_schema=schema,
                                            description=description)  # fmt: skip

    return [
        make(list_calendars, "calendar_list_calendars", _NoArgs, "List the user's calendars."),
        make(list_events, "calendar_list_events", RangeArguments,
             "List calendar events between two dates (recurring events expanded)."),
        make(search_events, "calendar_search_events", SearchArguments, "Find calendar events by text."),
        make(show_event, "calendar_show_event", EventIdArguments, "Show one calendar event in full."),
        make(create_event, "calendar_create_event", CreateArguments, "Create a calendar event."),
        make(update_event, "calendar_update_event", UpdateArguments, "Change a calendar event."),
        make(delete_event, "calendar_delete_event", EventIdArguments, "Delete a calendar event."),
    ]  # fmt: skip


class _NoArgs(BaseModel):
    pass
