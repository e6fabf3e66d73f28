"""A user's CalDAV account for the agent tools: list, search, create, change and delete events.

caldav is synchronous, so each operation runs in a worker thread with its own HTTP session.
Reading covers every calendar unless one is named; writing goes to the named or the first one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

import caldav
from icalendar import Component

from app.calendar import ics, lookup
from app.calendar.expand import MAX_OCCURRENCES, occurrences
from app.calendar.models import CalendarCredentials, CalendarError, CalendarInfo, EventInfo
from app.calendar.transport import open_client, plain_errors
from app.egress import EgressPolicy

log = logging.getLogger(__name__)

MAX_RANGE = timedelta(days=366)

T = TypeVar("T")


class CalendarClient:
    def __init__(
        self,
        credentials: CalendarCredentials,
        *,
        egress: EgressPolicy,
        timeout: float = 15,
    ) -> None:
        self._credentials = credentials
        self._timeout = timeout
        self._egress = egress

    async def list_calendars(self) -> list[CalendarInfo]:
        def run(found: list[caldav.Calendar]) -> list[CalendarInfo]:
            return [CalendarInfo(id=str(cal.url), name=lookup.name(cal)) for cal in found]

        return await self._run(run)

    async def list_events(self, start: datetime, end: datetime, calendar: str | None = None) -> list[EventInfo]:
        """Events and occurrences of recurring ones overlapping [start, end), earliest first."""
        _check_range(start, end)
        return await self._run(lambda found: _collect(lookup.pick(found, calendar), start, end, None))

    async def search(self, text: str, start: datetime, end: datetime) -> list[EventInfo]:
        """Occurrences within [start, end) whose title, place or notes contain `text`."""
        needle = text.strip().casefold()
        if not needle:
            raise CalendarError("Say what to search for.")
        _check_range(start, end)

        def matches(event: Component) -> bool:
            fields = (event.get(name, "") for name in ("SUMMARY", "DESCRIPTION", "LOCATION"))
            return any(needle in str(value).casefold() for value in fields)

        return await self._run(lambda found: _collect(found, start, end, matches))

    async def get_event(self, uid: str) -> EventInfo:
        def run(found: list[caldav.Calendar]) -> EventInfo:
            cal, resource = lookup.find(found, uid)
            parsed = lookup.parse(resource)
            return ics.event_info(ics.master(parsed), lookup.name(cal), recurring=ics.is_recurring(parsed))

        return await self._run(run)

    async def create_event(
        self,
        summary: str,
        start: datetime,
        end: datetime,
        *,
        calendar: str | None = None,
        location: str | None = None,
        description: str | None = None,
        all_day: bool = False,
        uid: str | None = None,
    ) -> EventInfo:
        """`uid` makes the call idempotent: the same one again rewrites that event."""
        created = ics.new_event(
            summary, start, end, location=location, description=description, all_day=all_day, uid=uid
        )

        def run(found: list[caldav.Calendar]) -> EventInfo:
            target = lookup.pick(found, calendar)[0]
            target.save_event(ical=created.to_ical().decode())
            return ics.event_info(ics.master(created), lookup.name(target), recurring=False)

        return await self._run(run)

    async def update_event(
        self,
        uid: str,
        *,
        summary: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        location: str | None = None,
        description: str | None = None,
    ) -> EventInfo:
        def run(found: list[caldav.Calendar]) -> EventInfo:
            cal, resource = lookup.find(found, uid)
            parsed = lookup.parse(resource)
            event = ics.master(parsed)
            ics.update(
                event,
                summary=summary,
                start=start,
                end=end,
                location=location,
                description=description,
            )
            resource.icalendar_instance = parsed
            resource.save(increase_seqno=False)
            return ics.event_info(event, lookup.name(cal), recurring=ics.is_recurring(parsed))

        return await self._run(run)

    async def delete_event(self, uid: str) -> None:
        def run(found: list[caldav.Calendar]) -> None:
            _, resource = lookup.find(found, uid)
            resource.delete()

        await self._run(run)

    async def _run(self, operation: Callable[[list[caldav.Calendar]], T]) -> T:
        url = self._credentials.url

        def blocking() -> T:
            with (
                plain_errors(url, self._timeout),
                open_client(self._credentials, self._timeout, self._egress) as client,
            ):
                return operation(client.principal().calendars())  # type: ignore[no-untyped-call]

        return await asyncio.to_thread(blocking)


def _check_range(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise CalendarError("The start and end of a range need a time zone.")
    if end <= start:
        raise CalendarError("The end of the range must come after its start.")
    if end - start > MAX_RANGE:
        raise CalendarError("A range can span at most 366 days; ask for a shorter one.")


def _collect(
    calendars: list[caldav.Calendar],
    start: datetime,
    end: datetime,
    matches: Callable[[Component], bool] | None,
) -> list[EventInfo]:
    found: list[EventInfo] = []
    for cal in calendars:
        name = lookup.name(cal)
        resources: list[caldav.CalendarObjectResource] = cal.search(start=start, end=end, event=True, expand=False)
        for resource in resources:
            try:
                parsed = lookup.parse(resource)
                # Filtering whole entries first means a rule that cannot match is never unfolded.
                if matches and not any(matches(e) for e in parsed.walk("VEVENT")):
                    continue
                recurring = ics.is_recurring(parsed)
                for event in occurrences(parsed, start, end):
                    if matches is None or matches(event):
                        found.append(ics.event_info(event, name, recurring=recurring))
            except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
                # One malformed entry must not hide the rest of the calendar.
                log.warning("Skipped calendar entry %s: %s", resource.url, exc)
    found.sort(key=lambda info: (info.start, info.summary))
    return found[:MAX_OCCURRENCES]
