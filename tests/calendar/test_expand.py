"""Unfolding hostile recurrence rules stays quick and small (no server needed)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from app.calendar.expand import MAX_OCCURRENCES, occurrences

START = datetime(2026, 1, 1, tzinfo=UTC)
END = START + timedelta(days=366)


def calendar(rule: str, dtstart: str, dtend: str) -> Calendar:
    return Calendar.from_ical(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:x\r\n"
        f"DTSTAMP:20200101T000000Z\r\nDTSTART:{dtstart}\r\nDTEND:{dtend}\r\nRRULE:{rule}\r\n"
        "SUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


@pytest.mark.parametrize(
    ("rule", "dtstart", "dtend", "count", "first"),
    [
        # Begun years before the range: dateutil would walk every second since.
        ("FREQ=SECONDLY", "20200101T000000Z", "20200101T000001Z", MAX_OCCURRENCES, START),
        ("FREQ=MINUTELY;COUNT=100000000", "20200101T000000Z", "20200101T000100Z", MAX_OCCURRENCES, START),
        ("FREQ=SECONDLY;BYHOUR=3;BYMINUTE=0;BYSECOND=0", "20200101T000000Z", "20200101T000001Z",
         MAX_OCCURRENCES, START + timedelta(hours=3)),
        # Ended long ago: nothing left to show.
        ("FREQ=MINUTELY;COUNT=1000", "20200101T000000Z", "20200101T000100Z", 0, None),
        # Days that never come: dateutil would look until the year 9999.
        ("FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30", "20200101T000000Z", "20200101T000001Z", 0, None),
        ("FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31", "20200101T000000Z", "20200101T010000Z", 0, None),
        # Each occurrence lasting years: hundreds of millions would overlap the range.
        ("FREQ=SECONDLY", "20251231T000000Z", "20300101T000000Z", MAX_OCCURRENCES, START),
    ],
)  # fmt: skip
def test_hostile_rules_are_bounded(rule: str, dtstart: str, dtend: str, count: int, first: datetime | None) -> None:
    began = time.monotonic()
    found = occurrences(calendar(rule, dtstart, dtend), START, END)

    assert time.monotonic() - began < 2
    assert len(found) == count
    if first is not None:
        assert found[0].decoded("DTSTART") == first


def test_ordinary_rules_are_exact() -> None:
    daily = occurrences(calendar("FREQ=DAILY;INTERVAL=2", "20251231T090000Z", "20251231T100000Z"), START, END)
    weekdays = occurrences(
        calendar("FREQ=WEEKLY;BYDAY=MO,FR;UNTIL=20260131T000000Z", "20251229T090000Z", "20251229T093000Z"),
        START,
        END,
    )

    assert len(daily) == 183  # every other day of the 366
    assert daily[0].decoded("DTSTART") == datetime(2026, 1, 2, 9, tzinfo=UTC)
    hourly = occurrences(calendar("FREQ=HOURLY", "20251231T090000Z", "20251231T100000Z"), START, END)
    assert len(hourly) == MAX_OCCURRENCES
    assert hourly[-1].decoded("DTSTART") == START + timedelta(hours=MAX_OCCURRENCES - 1)
    assert [o.decoded("DTSTART").day for o in weekdays] == [2, 5, 9, 12, 16, 19, 23, 26, 30]


def test_broken_rules_do_not_raise_past_the_entry() -> None:
    # dateutil would spin forever on INTERVAL=0; it is read as 1.
    found = occurrences(calendar("FREQ=HOURLY;INTERVAL=0", "20251231T090000Z", "20251231T100000Z"), START, END)
    assert len(found) == MAX_OCCURRENCES
