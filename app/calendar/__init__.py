"""A user's CalDAV calendar, for the agent tools."""

from app.calendar.client import CalendarClient
from app.calendar.models import CalendarCredentials, CalendarError, CalendarInfo, EventInfo

__all__ = ["CalendarClient", "CalendarCredentials", "CalendarError", "CalendarInfo", "EventInfo"]
