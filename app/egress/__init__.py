"""The egress guard: the only outbound HTTP path for requests a tool or a user's provider makes.

`fetch` serves the tools; `transport` gives the LLM SDKs httpx transports with the same checks.
"""

from app.egress.client import EgressResponse, fetch
from app.egress.errors import EgressError, EgressRefused
from app.egress.policy import EgressPolicy, check_address

__all__ = [
    "EgressError",
    "EgressPolicy",
    "EgressRefused",
    "EgressResponse",
    "check_address",
    "fetch",
]
