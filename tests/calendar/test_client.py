"""The calendar client against a real Radicale server."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import caldav
import pytest

from app.calendar import CalendarCredentials, CalendarError, EventInfo
from app.calendar.client import CalendarClient
from app.egress import EgressPolicy
from tests.calendar.conftest import LOOPBACK, Radicale
from tests.fixtures.server import free_port

PARIS = ZoneInfo("Europe/Paris")


def at(day: int, hour: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def insert_raw(credentials: CalendarCredentials, body: str) -> None:
    """Store an event exactly as written, the way another calendar app (or an invite) would."""
    ics = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{body}END:VCALENDAR\r\n"
    with caldav.DAVClient(credentials.url, username=credentials.username, password=credentials.password) as client:
        client.principal().calendars()[0].save_event(ical=ics)


async def test_lists_calendars(alice: CalendarCredentials) -> None:
    calendars = await CalendarClient(alice, egress=LOOPBACK).list_calendars()

    assert [c.name for c in calendars] == ["Personal"]
    assert calendars[0].id.startswith(alice.url) and "/alice/" in calendars[0].id


async def test_event_lifecycle(account: CalendarCredentials) -> None:
    client = CalendarClient(account, egress=LOOPBACK)
    start = datetime(2026, 3, 10, 14, tzinfo=PARIS)

    created = await client.create_event(
        "Dentist", start, start + timedelta(hours=1), location="Main Street 5",
        description="Bring the insurance card",
    )  # fmt: skip
    assert created.calendar == "Personal"
    assert created.start == start and created.start.tzinfo == UTC
    assert created.end == start + timedelta(hours=1)
    assert not created.all_day and not created.recurring

    listed = await client.list_events(at(9), at(11))
    assert [e.uid for e in listed] == [created.uid]
    assert listed[0] == created
    assert await client.list_events(at(11), at(12)) == []

    fetched = await client.get_event(created.uid)
    assert fetched == created

    # Moving only the start keeps the length; "" clears the location.
    updated = await client.update_event(
        created.uid, summary="Dentist (moved)", start=start + timedelta(days=1), location=""
    )
    assert updated.summary == "Dentist (moved)"
    assert updated.start == start + timedelta(days=1)
    assert updated.end == start + timedelta(days=1, hours=1)
    assert updated.location is None
    assert updated.description == "Bring the insurance card"
    assert await client.get_event(created.uid) == updated

    found = await client.search("MOVED", at(1), at(31))
    assert [e.uid for e in found] == [created.uid]
    assert [e.uid for e in await client.search("insurance", at(1), at(31))] == [created.uid]
    assert await client.search("dentist", at(1), at(5)) == []
    assert await client.search("plumber", at(1), at(31)) == []

    await client.delete_event(created.uid)
    with pytest.raises(CalendarError, match=f"No event with id {created.uid}"):
        await client.get_event(created.uid)
    with pytest.raises(CalendarError, match="No event with id"):
        await client.delete_event(created.uid)
    assert await client.list_events(at(1), at(31)) == []


async def test_bad_times_are_refused(account: CalendarCredentials) -> None:
    client = CalendarClient(account, egress=LOOPBACK)
    with pytest.raises(CalendarError, match="must end after it starts"):
        await client.create_event("Backwards", at(10, 12), at(10, 11))
    with pytest.raises(CalendarError, match="needs a title"):
        await client.create_event("  ", at(10, 11), at(10, 12))
    created = await client.create_event("Call", at(10, 11), at(10, 12))
    with pytest.raises(CalendarError, match="must end after it starts"):
        await client.update_event(created.uid, end=at(10, 10))
    assert await client.get_event(created.uid) == created


async def test_all_day_event(account: CalendarCredentials) -> None:
    client = CalendarClient(account, egress=LOOPBACK)
    # Midnight in Paris is still the previous day in UTC: the caller's date is what counts.
    first = datetime(2026, 3, 12, tzinfo=PARIS)

    one_day = await client.create_event("Holiday", first, first + timedelta(days=1), all_day=True)
    trip = await client.create_event("Trip", first, first + timedelta(days=3), all_day=True, location="Lyon")

    assert one_day.all_day and one_day.start == datetime(2026, 3, 12, tzinfo=UTC)
    assert one_day.end == datetime(2026, 3, 13, tzinfo=UTC)
    listed = await client.list_events(at(12), at(13))
    assert sorted(e.summary for e in listed) == ["Holiday", "Trip"]
    assert [e.summary for e in await client.list_events(at(14), at(15))] == ["Trip"]
    assert one_day.describe(PARIS) == f"Thu 2026-03-12, all day: Holiday [Personal] (id: {one_day.uid})"
    assert trip.describe(ZoneInfo("America/Los_Angeles")).startswith(
        "Thu 2026-03-12 to Sat 2026-03-14, all day: Trip, at Lyon"
    )


async def test_weekly_event_is_expanded(account: CalendarCredentials) -> None:
    await asyncio.to_thread(insert_raw, account, (
        "BEGIN:VEVENT\r\nUID:weekly-standup\r\nDTSTAMP:20260101T000000Z\r\n"
        "DTSTART;TZID=Europe/Paris:20260105T093000\r\nDTEND;TZID=Europe/Paris:20260105T094500\r\n"
        "RRULE:FREQ=WEEKLY;BYDAY=MO\r\nEXDATE;TZID=Europe/Paris:20260316T093000\r\n"
        "SUMMARY:Standup\r\nEND:VEVENT\r\n"
    ))  # fmt: skip
    client = CalendarClient(account, egress=LOOPBACK)

    occurrences = await client.list_events(at(1), at(1, month=5))

    # Mondays from 2 March to 27 April are nine; one was cancelled.
    assert len(occurrences) == 8
    assert {e.uid for e in occurrences} == {"weekly-standup"}
    assert all(e.recurring for e in occurrences)
    assert occurrences[0].start == datetime(2026, 3, 2, 9, 30, tzinfo=PARIS)
    assert at(16, 8) not in [e.start for e in occurrences]
    # Summer time: still 09:30 in Paris, an hour earlier in UTC.
    assert occurrences[-1].start == datetime(2026, 4, 27, 7, 30, tzinfo=UTC)
    assert occurrences == sorted(occurrences, key=lambda e: e.start)
    assert "(repeats)" in occurrences[0].describe(PARIS)
    assert (await client.get_event("weekly-standup")).recurring
    assert len(await client.search("standup", at(1), at(31))) == 4


async def test_runaway_rule_is_bounded(account: CalendarCredentials) -> None:
    await asyncio.to_thread(insert_raw, account, (
        "BEGIN:VEVENT\r\nUID:every-second\r\nDTSTAMP:20260101T000000Z\r\n"
        "DTSTART:20260301T000000Z\r\nDTEND:20260301T000001Z\r\nRRULE:FREQ=SECONDLY\r\n"
        "SUMMARY:Spam\r\nEND:VEVENT\r\n"
    ))  # fmt: skip
    client = CalendarClient(account, egress=LOOPBACK)
    await client.create_event("Real meeting", at(20, 9), at(20, 10))

    began = time.monotonic()
    occurrences = await client.list_events(at(1), datetime(2027, 3, 1, tzinfo=UTC))
    found = await client.search("spam", at(1), at(31))
    elapsed = time.monotonic() - began

    assert elapsed < 5
    assert len(occurrences) == 200
    assert occurrences[0].start == at(1) and occurrences[-1].start == at(1) + timedelta(seconds=199)
    assert len(found) == 200


async def test_longer_range_is_refused(account: CalendarCredentials) -> None:
    client = CalendarClient(account, egress=LOOPBACK)
    with pytest.raises(CalendarError, match="at most 366 days"):
        await client.list_events(at(1), at(1) + timedelta(days=367))
    with pytest.raises(CalendarError, match="at most 366 days"):
        await client.search("x", at(1), at(1) + timedelta(days=400))
    assert await client.list_events(at(1), at(1) + timedelta(days=366)) == []


async def test_calendar_is_chosen_by_name(account: CalendarCredentials) -> None:
    def add_work() -> None:
        with caldav.DAVClient(account.url, username=account.username, password=account.password) as dav:
            dav.principal().make_calendar(name="Work")

    await asyncio.to_thread(add_work)
    client = CalendarClient(account, egress=LOOPBACK)

    meeting = await client.create_event("Review", at(5, 9), at(5, 10), calendar="WORK")
    lunch = await client.create_event("Lunch", at(5, 12), at(5, 13), calendar="personal")
    default = await client.create_event("Call", at(5, 15), at(5, 16))

    assert (meeting.calendar, lunch.calendar) == ("Work", "Personal")
    # No name: the first calendar the server lists (Radicale's order is its own).
    assert default.calendar == (await client.list_calendars())[0].name
    everything = await client.list_events(at(5), at(6))
    assert [(e.summary, e.calendar) for e in everything] == [
        ("Review", "Work"), ("Lunch", "Personal"), ("Call", default.calendar),
    ]  # fmt: skip
    in_work = await client.list_events(at(5), at(6), "work")
    assert [e.summary for e in in_work] == [e.summary for e in everything if e.calendar == "Work"]
    with pytest.raises(CalendarError, match="No calendar is named “Home”"):
        await client.list_events(at(5), at(6), "Home")


async def test_wrong_password(radicale: Radicale, account: CalendarCredentials) -> None:
    wrong = CalendarCredentials(url=radicale.url, username=account.username, password="nope")
    with pytest.raises(CalendarError) as caught:
        await CalendarClient(wrong, egress=LOOPBACK).list_calendars()
    assert str(caught.value) == "The calendar server rejected the username or password."


async def test_unreachable_server() -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    client = CalendarClient(CalendarCredentials(url, "alice", "secret"), egress=LOOPBACK, timeout=2)
    with pytest.raises(CalendarError) as caught:
        await client.list_calendars()
    assert str(caught.value) == f"The calendar server is unreachable at {url}."


async def test_the_egress_policy_guards_every_operation(radicale: Radicale, account: CalendarCredentials) -> None:
    seen = radicale.requests_seen()
    with pytest.raises(CalendarError, match="Refused"):
        await CalendarClient(account, egress=EgressPolicy()).create_event("Nope", at(3, 9), at(3, 10))
    assert radicale.requests_seen() == seen
    assert await CalendarClient(account, egress=LOOPBACK).list_events(at(1), at(31)) == []


@pytest.fixture
def redirector(radicale: Radicale) -> Iterator[str]:
    """A server on 127.0.0.2 that sends every request on to Radicale (127.0.0.1), as a hostile
    server could point inside."""

    class Redirect(BaseHTTPRequestHandler):
        def do_PROPFIND(self) -> None:
            self.send_response(307)
            self.send_header("Location", radicale.url.rstrip("/") + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_REPORT = do_PROPFIND

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.2", free_port()), Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.2:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


async def test_redirects_are_checked(redirector: str, radicale: Radicale, account: CalendarCredentials) -> None:
    credentials = CalendarCredentials(redirector, account.username, account.password)
    seen = radicale.requests_seen()
    with pytest.raises(CalendarError, match="Refused"):
        await CalendarClient(credentials, egress=EgressPolicy(allow=("127.0.0.2",))).list_calendars()
    assert radicale.requests_seen() == seen


async def test_a_name_that_rebinds_never_reaches_the_refused_address(
    radicale: Radicale, account: CalendarCredentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name answers an allowed address once, then Radicale's: a check made apart from the
    connection would pass and the library would then connect to the refused one."""
    port = int(radicale.url.rsplit(":", 1)[1].strip("/"))
    answers = iter(["127.0.0.2"])
    real = socket.getaddrinfo

    def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "calendar.rebind.test":
            return real(next(answers, "127.0.0.1"), *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    credentials = CalendarCredentials(f"http://calendar.rebind.test:{port}/", account.username, account.password)
    seen = radicale.requests_seen()
    with pytest.raises(CalendarError):
        await CalendarClient(credentials, egress=EgressPolicy(allow=("127.0.0.2",))).list_calendars()
    assert radicale.requests_seen() == seen


def test_credentials_repr_hides_password() -> None:
    credentials = CalendarCredentials("https://dav.example.org/", "alice", "hunter2-secret")
    assert "hunter2" not in repr(credentials)
    assert "hunter2" not in str(credentials)
    assert "alice" in repr(credentials) and "dav.example.org" in repr(credentials)


def test_describe_in_the_users_time_zone() -> None:
    event = EventInfo(
        uid="abc", calendar="Personal", summary="Flight", start=at(28, 22), end=at(29, 1),
        all_day=False, location="CDG", description=None, recurring=False,
    )  # fmt: skip
    assert event.describe(PARIS) == (
        "Sat 2026-03-28 23:00 to Sun 2026-03-29 03:00: Flight, at CDG [Personal] (id: abc)"
    )
    assert event.describe(ZoneInfo("UTC")).startswith("Sat 2026-03-28 22:00 to Sun 2026-03-29 01:00")
    short = EventInfo("x", "Work", "", at(2, 9), at(2, 10), False, None, None, True)
    assert short.describe(PARIS) == "Mon 2026-03-02 10:00-11:00: (no title) [Work] (repeats) (id: x)"
