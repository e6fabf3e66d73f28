"""Strict parsing of what a request carries: numbers, query text, and text no field may hold.

Python's own parsers are too lenient for the edge: `"²".isdigit()` is true but `int("²")`
fails, `int()` takes any Unicode digits, and PostgreSQL cannot store NUL while a lone
surrogate cannot even be encoded. Everything here refuses with ValidationFailed (a 4xx),
never an exception that would surface as a 500.
"""

from __future__ import annotations

import uuid

from starlette.requests import Request

from app.errors import ValidationFailed

# Far above any page or event id Nova hands out, far below what SQL integers hold.
MAX_NUMBER = 10**15
MAX_NUMBER_DIGITS = len(str(MAX_NUMBER))
MAX_QUERY_TEXT = 1000

# Caps (after trimming) for short fields that no service checks before storing them (names,
# URLs and the like are checked by their services, which show the form again with the
# error); every other field gets FIELD_LIMIT, the length of the longest message accepted.
FIELD_LIMIT = 100_000
FIELD_LIMITS = {"title": 200, "email": 254, "dotted_path": 300}


def text_problem(value: str, max_length: int) -> str | None:
    """Why `value` cannot be accepted as text of at most `max_length` characters, or None."""
    if "\x00" in value:
        return "Remove the NUL character: it cannot be stored."
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "Remove the invalid character (a lone UTF-16 surrogate)."
    if len(value.strip()) > max_length:
        return f"Use at most {max_length} characters."
    return None


def field_problem(name: str, value: str) -> str | None:
    """Why a form field or JSON member called `name` cannot hold `value`, or None."""
    return text_problem(value, FIELD_LIMITS.get(name, FIELD_LIMIT))


def parse_number(raw: str, name: str, *, minimum: int = 0, maximum: int = MAX_NUMBER) -> int:
    """A whole number written in ASCII digits, between `minimum` and `maximum`."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= MAX_NUMBER_DIGITS):
        raise ValidationFailed({name: f"Send a whole number between {minimum} and {maximum}."})
    number = int(raw)
    if not minimum <= number <= maximum:
        raise ValidationFailed({name: f"Send a whole number between {minimum} and {maximum}."})
    return number


def query_number(request: Request, name: str, default: int, *, minimum: int = 0, maximum: int = MAX_NUMBER) -> int:
    """The query parameter `name` as a strict number; absent or empty means `default`."""
    raw = request.query_params.get(name, "")
    return parse_number(raw, name, minimum=minimum, maximum=maximum) if raw else default


def query_id(request: Request, name: str) -> uuid.UUID | None:
    """The query parameter `name` as an id (a UUID); absent or empty means None."""
    raw = request.query_params.get(name, "")
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ValidationFailed({name: "Send an id that Nova gave you."}) from None


def page_number(request: Request) -> int:
    """The `?page=` of a paginated list (1 when absent)."""
    return query_number(request, "page", 1, minimum=1, maximum=100_000)


def query_text(request: Request, name: str, max_length: int = MAX_QUERY_TEXT) -> str:
    """The query parameter `name` as trimmed text that can be stored and searched."""
    value = request.query_params.get(name, "")
    if problem := text_problem(value, max_length):
        raise ValidationFailed({name: problem})
    return value.strip()
