"""/mcp's door, in-process: API tokens only; a browser's session and CSRF token never open it."""

from __future__ import annotations

from app.mcp_endpoint.agents import MAX_NAME, tool_name
from app.tokens import service as tokens
from tests.fixtures.nova import Nova, csrf_for

HELLO = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}  # fmt: skip
ACCEPT = {"accept": "application/json, text/event-stream"}


async def test_a_signed_in_browser_is_not_an_mcp_client(nova: Nova) -> None:
    user = await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as browser:
        csrf = await csrf_for(browser)
        for method in ("GET", "POST", "DELETE"):
            response = await browser.request(method, "/mcp", json=HELLO, headers=ACCEPT | {"x-csrf-token": csrf})
            assert response.status_code == 401, (method, response.text)  # the session cookie is not read here
            assert response.headers["www-authenticate"] == 'Bearer realm="nova", error="invalid_token"'
            assert response.headers["content-type"] == "application/problem+json"
    async with nova.ctx.db.transaction() as session:
        secret = (await tokens.create_token(session, user.id, "mcp", "read")).secret
    async with nova.client() as client:  # no cookies, no CSRF token: the Bearer token is the credential
        opened = await client.post("/mcp", json=HELLO, headers=ACCEPT | {"authorization": f"Bearer {secret}"})
    assert opened.status_code == 200, opened.text
    assert "ratelimit" in opened.headers
    assert '"serverInfo":{"name":"Nova"' in opened.text.replace(" ", "")


def test_tool_names_are_unique_stable_and_short_enough_for_every_client() -> None:
    assert tool_name("helper") == "ask_helper"
    assert tool_name("research-bot") == "ask_research_bot"
    long_a, long_b = "a" * 70 + "-x", "a" * 70 + "-y"
    assert len(tool_name(long_a)) == MAX_NAME and tool_name(long_a) == tool_name(long_a)
    assert tool_name(long_a) != tool_name(long_b)
