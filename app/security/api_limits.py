"""How many API requests a token, and a user across all their tokens, may make per window.

Sliding windows (app/security/sliding_window.py): shared through Redis when scaled, in
this process when embedded, this process's own while Redis is down. A request counts
against both windows or, when either is full, against neither. Starting a run is limited
on its own as well (app/security/run_limits.py): that is what costs money.

A refused token stays refused until the oldest request leaves its full window (requests
are only ever added before then), so this process remembers the refusal and turns that
token's requests away before they are authenticated: a flood costs no database query, and
other users' requests do not queue behind it.
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from dataclasses import dataclass, replace

from app.security.sliding_window import Decision, Policy, SlidingWindows, make_windows
from app.settings import Settings

TOKEN_POLICY = "token"
USER_POLICY = "user"
REFUSALS_KEPT = 10_000


@dataclass(frozen=True)
class _Refusal:
    decision: Decision
    at: float  # time.monotonic() of the decision
    until: float  # the window stays full until then, at least


class ApiLimiter:
    def __init__(self, windows: SlidingWindows, settings: Settings) -> None:
        self.windows = windows
        window = settings.api_window_seconds
        self.per_token = Policy(TOKEN_POLICY, settings.api_requests_per_window, window)
        self.per_user = Policy(USER_POLICY, settings.api_user_requests_per_window, window)
        self._refusals: dict[str, _Refusal] = {}

    async def hit(self, user_id: uuid.UUID, token: str) -> Decision:
        """Count one request made by `user_id` with the API token `token` (its secret)."""
        key = token_key(token)
        decision = await self.windows.hit([(f"api-requests:token:{key}", self.per_token),
                                           (f"api-requests:user:{user_id}", self.per_user)])  # fmt: skip
        if not decision.allowed:
            now = time.monotonic()
            # reset_seconds is rounded up: one second less never outlasts the real wait.
            self._remember(key, _Refusal(decision, now, now + decision.reset_seconds - 1))
        return decision

    def refused_already(self, token: str) -> Decision | None:
        """The refusal this process gave `token` while it still holds, without counting
        anything or asking Redis; None when the token must be authenticated and counted."""
        key = token_key(token)
        refusal = self._refusals.get(key)
        now = time.monotonic()
        if refusal is None or now >= refusal.until:
            self._refusals.pop(key, None)
            return None
        elapsed = now - refusal.at
        windows = tuple(replace(w, reset_seconds=max(1, math.ceil(w.reset_seconds - elapsed)))
                        for w in refusal.decision.windows)  # fmt: skip
        return replace(refusal.decision, windows=windows)

    def _remember(self, key: str, refusal: _Refusal) -> None:
        if len(self._refusals) >= REFUSALS_KEPT:
            self._refusals = {k: r for k, r in self._refusals.items() if r.until > refusal.at}
        if refusal.until > refusal.at:
            self._refusals[key] = refusal

    async def close(self) -> None:
        await self.windows.close()


def token_key(token: str) -> str:
    """A short, stable name for a token that is not the hash the database looks it up by."""
    return hashlib.sha256(b"nova.api-limits\0" + token.encode()).hexdigest()[:32]


def refusal_message(decision: Decision) -> str:
    refused = decision.binding
    who = "This token" if refused.policy.name == TOKEN_POLICY else "Your tokens together"
    return (
        f"{who} made {refused.policy.limit} API requests in the last {refused.policy.window_seconds} s; "
        f"try again in {max(1, refused.reset_seconds)} s."
    )


def make_api_limiter(settings: Settings) -> ApiLimiter:
    return ApiLimiter(make_windows(settings.redis_url, "API request limits"), settings)
