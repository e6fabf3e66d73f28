"""Domain errors raised by services; app/web/errors.py maps them to responses."""

from __future__ import annotations

import uuid


class NotFound(Exception):
    """The row does not exist, or belongs to someone else: both look the same."""


class Conflict(Exception):
    """The request cannot be done in the current state."""


class ThreadBusy(Conflict):
    """A reply is still being written in the thread; `run_id` is that run (None if unknown)."""

    def __init__(self, message: str, run_id: uuid.UUID | None) -> None:
        super().__init__(message)
        self.run_id = run_id


class TooLarge(Exception):
    """The upload is larger than a limit allows (a file's size, or the user's quota)."""


class RateLimited(Exception):
    """Too many runs started: the message says when the next may start; `headers` say it to clients."""

    def __init__(self, message: str, headers: dict[str, str]) -> None:
        super().__init__(message)
        self.headers = headers


class QueueUnavailable(Exception):
    """The job could not be handed to a worker (Redis is down).

    Its text may be Redis's own error message: log it, show people `QUEUE_DOWN_MESSAGE`.
    """


QUEUE_DOWN_MESSAGE = "Nova could not reach its job queue (Redis), so no reply was started."


class ValidationFailed(Exception):
    """Input was refused; `errors` maps each field name to a message a person can act on."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


def require(errors: dict[str, str]) -> None:
    """Raise when any field error was collected."""
    if errors:
        raise ValidationFailed(errors)
