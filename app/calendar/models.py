"""What the calendar client hands out: credentials, calendars, events, and its one error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


class CalendarError(Exception):
    """A calendar operation failed; the message is meant for the person (or agent) who asked."""


@dataclass(frozen=True)
class CalendarCredentials:
    url: str
    username: str
    password: str

    def __repr__(self) -> str:
        # Credentials end up in tracebacks and logs; the password must never be among them.
        return f"CalendarCredentials(url={self.url!r}, username={self.username!r}, password='***')"


@dataclass(frozen=True)
class CalendarInfo:
    id: str  # the calendar's URL on the server
    name: str


@dataclass(frozen=True)
class EventInfo:
    """One event, or one occurrence of a recurring event (all occurrences share the uid).

    Times are aware and in UTC. An all-day event starts at midnight UTC of its date and its end
    is the day after its last day, as in iCalendar.
    """

    uid: str
    calendar: str
    summary: str
    start: datetime
    end: datetime | None
    all_day: bool
    location: str | None
    description: str | None
    recurring: bool

    def describe(self, tz: ZoneInfo) -> str:
        """One line for a person: when, what, where, which calendar, and the id to change it by."""
        line = f"{self._when(tz)}: {self.summary or '(no title)'}"
        if self.location:
            line += f", at {self.location}"
        line += f" [{self.calendar}]"
        if self.recurring:
            line += " (repeats)"
        return f"{line} (id: {self.uid})"

    def _when(self, tz: ZoneInfo) -> str:
        if self.all_day:
            # A date is the same day everywhere; converting it to `tz` could move it.
            first = self.start.date()
            last = self.end.date() - timedelta(days=1) if self.end else first
            if last > first:
                return f"{first:%a %Y-%m-%d} to {last:%a %Y-%m-%d}, all day"
            return f"{first:%a %Y-%m-%d}, all day"
        start = self.start.astimezone(tz)
        if self.end is None:
            return f"{start:%a %Y-%m-%d %H:%M}"
        end = self.end.astimezone(tz)
        if end.date() == start.date():
            return f"{start:%a %Y-%m-%d %H:%M}-{end:%H:%M}"
        return f"{start:%a %Y-%m-%d %H:%M} to {end:%a %Y-%m-%d %H:%M}"
