"""Which sandbox runs python_exec on this server: Judge0 if configured, else bubblewrap."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from app.egress import EgressPolicy, fetch
from app.sandbox import Sandbox, SandboxLimits, choose_sandbox
from app.settings import Settings


def available_sandbox(settings: Settings) -> Sandbox | None:
    return _cached(settings.judge0_url)


@lru_cache(maxsize=4)
def _cached(judge0_url: str | None) -> Sandbox | None:
    # Judge0 is configured by the admin, so its address is allowed even on the LAN.
    policy = EgressPolicy.from_settings([], [judge0_url])

    async def judge0_fetch(method: str, url: str, body: dict[str, Any]) -> tuple[int, bytes]:
        response = await fetch(policy, method, url, content=json.dumps(body),
                               headers={"Content-Type": "application/json"}, timeout=60)  # fmt: skip
        return response.status, response.body

    return choose_sandbox(judge0_url, SandboxLimits(), judge0_fetch)
