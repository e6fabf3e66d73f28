"""Domain errors raised by services; app/web/errors.py maps them to responses."""

from __future__ import annotations


class NotFound(Exception):
    """The row does not exist, or belongs to someone else: both look the same."""


class Conflict(Exception):
    """The request cannot be done in the current state."""


class ValidationFailed(Exception):
    """Input was refused; `errors` maps each field name to a message a person can act on."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


def require(errors: dict[str, str]) -> None:
    """Raise when any field error was collected."""
    if errors:
        raise ValidationFailed(errors)
