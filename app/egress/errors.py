"""Why an outbound request did not happen, or did not finish."""

from __future__ import annotations


class EgressRefused(Exception):
    """The request was not sent: its URL or address is not one Nova may reach for a user."""


class EgressError(Exception):
    """The request was allowed but failed: no answer in time, unreachable, or too many hops."""
