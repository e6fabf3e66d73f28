"""A user's CalDAV calendar, for the agent tools.

The client (`app.calendar.client`) imports caldav, which is slow to load: only the tools
that talk to a calendar import it; the Tools page needs just the models.
"""

from app.calendar.models import CalendarCredentials, CalendarError, CalendarInfo, EventInfo

__all__ = ["CalendarCredentials", "CalendarError", "CalendarInfo", "EventInfo"]
