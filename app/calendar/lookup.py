"""Finding things on the server: which calendars an operation means, and an event by its uid."""

from __future__ import annotations

import caldav
from caldav.lib import error as dav_error
from icalendar import Calendar

from app.calendar.models import CalendarError


def pick(calendars: list[caldav.Calendar], wanted: str | None) -> list[caldav.Calendar]:
    """All calendars, or those named `wanted` (any case) or whose URL it is."""
    if not calendars:
        raise CalendarError("The calendar account has no calendars.")
    if wanted is None:
        return calendars
    key = wanted.strip().casefold()
    chosen = [c for c in calendars if name(c).casefold() == key or str(c.url) == wanted]
    if not chosen:
        names = ", ".join(name(c) for c in calendars)
        raise CalendarError(f"No calendar is named “{wanted}”; the calendars are: {names}.")
    return chosen


def find(calendars: list[caldav.Calendar], uid: str) -> tuple[caldav.Calendar, caldav.CalendarObjectResource]:
    for calendar in calendars:
        try:
            return calendar, calendar.event_by_uid(uid)
        except dav_error.NotFoundError:
            continue
    raise CalendarError(f"No event with id {uid}.")


def parse(resource: caldav.CalendarObjectResource) -> Calendar:
    # A fresh copy each time: unfolding rewrites rules in place.
    return Calendar.from_ical(resource.data)


def name(calendar: caldav.Calendar) -> str:
    if calendar.name:
        return str(calendar.name)
    return str(calendar.url).rstrip("/").rsplit("/", 1)[-1]
