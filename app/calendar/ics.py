"""iCalendar in and out: events read into EventInfo, new events written, old ones changed."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Component, Event

from app.calendar.expand import as_utc
from app.calendar.models import CalendarError, EventInfo

_PRODID = "-//Nova//Calendar//EN"


def is_recurring(calendar: Calendar) -> bool:
    return any(name in event for event in calendar.walk("VEVENT") for name in ("RRULE", "RDATE"))


def master(calendar: Calendar) -> Component:
    """The event itself rather than one of its changed occurrences (those carry RECURRENCE-ID)."""
    events = calendar.walk("VEVENT")
    if not events:
        raise CalendarError("The calendar entry holds no event.")
    return next((event for event in events if "RECURRENCE-ID" not in event), events[0])


def event_info(event: Component, calendar: str, *, recurring: bool) -> EventInfo:
    first = event.decoded("DTSTART")
    end: datetime | None = None
    if "DTEND" in event:
        end = as_utc(event.decoded("DTEND"))
    elif "DURATION" in event:
        end = as_utc(first + event.decoded("DURATION"))
    return EventInfo(
        uid=str(event.get("UID", "")),
        calendar=calendar,
        summary=str(event.get("SUMMARY", "")),
        start=as_utc(first),
        end=end,
        all_day=not isinstance(first, datetime),
        location=_text(event, "LOCATION"),
        description=_text(event, "DESCRIPTION"),
        recurring=recurring,
    )


def new_event(
    summary: str,
    start: datetime,
    end: datetime,
    *,
    location: str | None,
    description: str | None,
    all_day: bool,
    uid: str | None = None,
) -> Calendar:
    event = Event()
    event.add("UID", uid or f"{uuid.uuid4()}@nova")
    event.add("DTSTAMP", datetime.now(UTC))
    event.add("SUMMARY", _title(summary))
    first, after = _span(start, end, all_day=all_day)
    event.add("DTSTART", first)
    event.add("DTEND", after)
    for name, value in (("LOCATION", location), ("DESCRIPTION", description)):
        if value:
            event.add(name, value)
    calendar = Calendar()
    calendar.add("PRODID", _PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add_component(event)
    return calendar


def update(
    event: Component,
    *,
    summary: str | None,
    start: datetime | None,
    end: datetime | None,
    location: str | None,
    description: str | None,
) -> None:
    """Change `event` in place; None leaves a field as it is, "" clears a location or note."""
    if summary is not None:
        _set(event, "SUMMARY", _title(summary))
    if start is not None or end is not None:
        old_start = event.decoded("DTSTART")
        all_day = not isinstance(old_start, datetime)
        old_length = _length(event, old_start)
        new_start = start if start is not None else as_utc(old_start)
        # Moving only the start keeps the length, the way a calendar app drags an event.
        new_end = end if end is not None else new_start + old_length
        first, after = _span(new_start, new_end, all_day=all_day)
        _set(event, "DTSTART", first)
        event.pop("DURATION", None)
        _set(event, "DTEND", after)
    for name, value in (("LOCATION", location), ("DESCRIPTION", description)):
        if value is not None:
            event.pop(name, None)
            if value:
                event.add(name, value)
    now = datetime.now(UTC)
    _set(event, "DTSTAMP", now)
    _set(event, "LAST-MODIFIED", now)
    _set(event, "SEQUENCE", int(event.get("SEQUENCE", 0)) + 1)


def _span(start: datetime, end: datetime, *, all_day: bool) -> tuple[date | datetime, date | datetime]:
    for moment in (start, end):
        if moment.tzinfo is None:
            raise CalendarError("Event times need a time zone.")
    if all_day:
        # The caller's own dates count (midnight in Paris is still the day before in UTC); an end
        # on the start day means a one-day event, otherwise the end day is excluded (iCalendar).
        first, last = start.date(), end.date()
        if last < first:
            raise CalendarError("The event must end after it starts.")
        return first, max(last, first + timedelta(days=1))
    if end <= start:
        raise CalendarError("The event must end after it starts.")
    return start.astimezone(UTC), end.astimezone(UTC)


def _length(event: Component, first: date | datetime) -> timedelta:
    if "DTEND" in event:
        return as_utc(event.decoded("DTEND")) - as_utc(first)
    if "DURATION" in event:
        duration: timedelta = event.decoded("DURATION")
        return duration
    return timedelta(days=1) if not isinstance(first, datetime) else timedelta(hours=1)


def _title(summary: str) -> str:
    title = summary.strip()
    if not title:
        raise CalendarError("An event needs a title.")
    return title


def _text(event: Component, name: str) -> str | None:
    value = str(event.get(name, "")).strip()
    return value or None


def _set(event: Component, name: str, value: object) -> None:
    event.pop(name, None)
    event.add(name, value)
