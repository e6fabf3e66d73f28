"""Shared by the /api/v1 resource tests: tokens as headers, and what an error answer looks like."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from app.tokens import service as tokens
from tests.fixtures.nova import Nova


async def bearer(nova: Nova, user_id: uuid.UUID, scope: str = "write") -> dict[str, str]:
    """Headers signing requests with a new token of `scope` for the user."""
    async with nova.ctx.db.transaction() as session:
        secret = (await tokens.create_token(session, user_id, f"{scope}-{uuid.uuid4().hex[:8]}", scope)).secret
    return {"authorization": f"Bearer {secret}"}


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem+json body of an error answer with `status`."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def refused(response: httpx.Response) -> list[str]:
    """The fields a 422 names."""
    return sorted(problem(response, 422)["errors"])


async def statuses(
    client: httpx.AsyncClient, headers: dict[str, str], calls: list[tuple[str, str, dict[str, Any] | None]]
) -> list[int]:
    """The status of each (method, url, json body) call, in order."""
    return [(await client.request(method, url, json=body, headers=headers)).status_code for method, url, body in calls]
