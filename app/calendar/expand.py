"""Recurring events unfolded into occurrences, with a bound on the work any one event can cause.

A recurrence rule is written by whoever made the event (an invitation can put one into the
user's calendar), and dateutil walks every candidate from DTSTART onwards: FREQ=SECONDLY begun
years ago, or a rule whose days never come (30 February), costs minutes or gigabytes. So before
recurring_ical_events sees a fast rule, it is dropped if its days never occur, moved forward to
just before the range, and the range is cut once enough occurrences have been counted.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import recurring_ical_events  # type: ignore[import-untyped]
from dateutil.rrule import rrulestr  # type: ignore[import-untyped]
from icalendar import Calendar, Component, vRecur

MAX_OCCURRENCES = 200

# Rules that advance in fixed steps, the ones whose walk from DTSTART can be long.
_STEPS = {
    "SECONDLY": timedelta(seconds=1),
    "MINUTELY": timedelta(minutes=1),
    "HOURLY": timedelta(hours=1),
    "DAILY": timedelta(days=1),
}
# In those rules (and WEEKLY) these parts only filter days, so an impossible mix matches nothing
# and dateutil walks day by day to the year 9999 looking for a match.
_DAY_PARTS = frozenset({"BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYDAY", "WKST"})
_COUNTABLE = frozenset({"FREQ", "INTERVAL", "COUNT", "WKST"})
# FREQ=SECONDLY;BYSECOND=0 means the same as FREQ=MINUTELY;BYSECOND=0 (when INTERVAL is 1 and
# BYSETPOS is absent), and the coarser rule costs dateutil sixty times fewer steps.
_COARSER = (
    ("SECONDLY", "BYSECOND", "MINUTELY"),
    ("MINUTELY", "BYMINUTE", "HOURLY"),
    ("HOURLY", "BYHOUR", "DAILY"),
)
_PLAIN_WEEKDAY = re.compile(r"^[A-Z]{2}$")
_WALK_ALLOWED = 20_000  # steps from DTSTART dateutil may walk (some 50 ms) before we move it
_EXDATES_COUNTED = 10_000


def as_utc(value: date | datetime) -> datetime:
    """An aware UTC datetime; a date is its midnight, a floating time is taken as UTC."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(), UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def occurrences(calendar: Calendar, start: datetime, end: datetime) -> list[Component]:
    """Occurrences overlapping [start, end), earliest first, at most MAX_OCCURRENCES.

    `calendar` is changed in place (fast rules are rewritten); pass a copy you can throw away.
    """
    stop = end
    for event in calendar.walk("VEVENT"):
        if "RRULE" in event and "RECURRENCE-ID" not in event:
            stop = min(stop, _tame(event, start, end))
    stop = max(stop, start + timedelta(seconds=1))
    query = recurring_ical_events.of(calendar, skip_bad_series=True)
    found = [c for c in query.between(start, stop) if as_utc(c.decoded("DTSTART")) < end]
    found.sort(key=lambda component: as_utc(component.decoded("DTSTART")))
    return found[:MAX_OCCURRENCES]


def _tame(event: Component, start: datetime, end: datetime) -> datetime:
    """Make the event's rule cheap to unfold; return when its occurrences stop mattering."""
    rule = event["RRULE"]
    if isinstance(rule, list):
        # RFC 5545 says RRULE SHOULD NOT repeat; the first one is the one we bound and show.
        rule = rule[0]
        event["RRULE"] = rule
    if not isinstance(rule, vRecur):
        return end
    freq = str(rule.get("FREQ", [""])[0]).upper()
    interval = int(rule.get("INTERVAL", [1])[0])
    if interval < 1:
        # dateutil never advances with INTERVAL=0: it would spin forever. Read it as 1.
        interval = 1
        rule["INTERVAL"] = [interval]
    if interval == 1 and "BYSETPOS" not in rule:
        for fine, part, coarse in _COARSER:
            if freq == fine and part in rule:
                rule["FREQ"] = [coarse]
                freq = coarse
    if freq in _STEPS or freq == "WEEKLY":
        if not _days_can_match(rule, start - timedelta(days=1), end + timedelta(days=1)):
            del event["RRULE"]
            return end
    first: date | datetime = event.decoded("DTSTART")
    length = _length(event, first)
    if freq in _STEPS and (isinstance(first, datetime) or freq == "DAILY"):
        step = _STEPS[freq] * interval
        if length > step * MAX_OCCURRENCES:
            # Hundreds of copies on top of each other: show each one step long instead.
            _replace(event, "DTEND", first + step)
            event.pop("DURATION", None)
            length = step
        # Slack for a daylight-saving jump (a wall-clock shift moves by at most 2 hours).
        behind = (start - length - as_utc(first)) // step - 2 - timedelta(hours=2) // step
        if behind > _WALK_ALLOWED:
            if "COUNT" in rule:
                if set(rule) - _COUNTABLE:
                    # What the skipped steps would have counted is unknowable cheaply;
                    # showing an absurd rule as endless beats walking it.
                    del rule["COUNT"]
                elif int(rule["COUNT"][0]) <= behind:
                    del event["RRULE"]
                    return end
                else:
                    rule["COUNT"] = [int(rule["COUNT"][0]) - behind]
            _replace(event, "DTSTART", first + step * behind)
            if "DTEND" in event:
                _replace(event, "DTEND", event.decoded("DTEND") + step * behind)
    return _cutoff(event, rule, start - length, end)


def _days_can_match(rule: vRecur, start: datetime, end: datetime) -> bool:
    parts = {name: rule[name] for name in rule if name in _DAY_PARTS}
    weekdays = [str(day) for day in parts.get("BYDAY", [])]
    if set(parts) <= {"WKST"} or not all(_PLAIN_WEEKDAY.match(day) for day in weekdays):
        return True
    # The same day filters as a yearly rule: a year is walked in one step, so even a rule that
    # never matches reaches the year 9999 in a fraction of a second.
    since = start.astimezone(UTC).replace(tzinfo=None)
    probe = rrulestr(_rule_text({"FREQ": "YEARLY", **parts}), dtstart=since)
    hit = probe.after(since, inc=True)
    return hit is not None and bool(hit <= end.astimezone(UTC).replace(tzinfo=None))


def _cutoff(event: Component, rule: vRecur, since: datetime, end: datetime) -> datetime:
    """When the first MAX_OCCURRENCES occurrences from `since` are over (or `end`)."""
    first = event.decoded("DTSTART")
    if not isinstance(first, datetime):
        first = datetime.combine(first, time())
    # Without COUNT and UNTIL the rule yields a superset that begins with the real occurrences,
    # so its n-th occurrence is never earlier than the real n-th.
    parts = {name: rule[name] for name in rule if name not in ("COUNT", "UNTIL")}
    try:
        walk = rrulestr(_rule_text(parts), dtstart=first)
    except (ValueError, TypeError):
        return end  # recurring_ical_events will skip or fail on the same rule
    # One more than shown: the occurrence at `since` itself may end exactly when the range starts.
    wanted = MAX_OCCURRENCES + 1 + min(_count_exdates(event), _EXDATES_COUNTED)
    limit = _comparable(end, first)
    for seen, when in enumerate(walk.xafter(_comparable(since, first), inc=True), start=1):
        if when > limit:
            break
        if seen >= wanted:
            return min(end, as_utc(when) + timedelta(seconds=1))
    return end


def _rule_text(parts: dict[str, Any]) -> str:
    text: bytes = vRecur(parts).to_ical()  # type: ignore[no-untyped-call]
    return text.decode()


def _length(event: Component, first: date | datetime) -> timedelta:
    if "DTEND" in event:
        return max(as_utc(event.decoded("DTEND")) - as_utc(first), timedelta(0))
    if "DURATION" in event:
        duration: timedelta = event.decoded("DURATION")
        return max(duration, timedelta(0))
    return timedelta(days=1) if not isinstance(first, datetime) else timedelta(0)


def _count_exdates(event: Component) -> int:
    value = event.get("EXDATE")
    if value is None:
        return 0
    lists = value if isinstance(value, list) else [value]
    return sum(len(item.dts) for item in lists)


def _comparable(moment: datetime, like: datetime) -> datetime:
    """`moment` in a form dateutil can compare with `like` (floating times are taken as UTC)."""
    return moment.astimezone(UTC).replace(tzinfo=None) if like.tzinfo is None else moment


def _replace(event: Component, name: str, value: date | datetime) -> None:
    event.pop(name, None)
    event.add(name, value)
