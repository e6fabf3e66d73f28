"""What can go wrong talking to the provider; the texts are for logs, never shown to people."""

from __future__ import annotations


class ProviderError(Exception):
    """The provider could not be reached or answered something unusable."""


class IdTokenRefused(Exception):
    """The ID token is not one to trust; `expired` tells the person why."""

    def __init__(self, reason: str, *, expired: bool = False) -> None:
        super().__init__(reason)
        self.expired = expired
