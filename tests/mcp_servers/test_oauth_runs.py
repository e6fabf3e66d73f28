"""OAuth MCP tools in real runs: the run's process reads the grant, refreshes an expired token
itself, and a sign-in that cannot be renewed is a clear tool error for the model."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from app.db import utcnow
from app.egress import EgressPolicy
from app.mcp_servers import oauth_service, service
from app.mcp_servers.oauth_service import OAuthSettings
from app.mcp_servers.service import ServerInput
from app.models import McpOAuthGrant
from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply, last_tool_result
from tests.fixtures.mcp_oauth_server import AS_HOST, RS_HOST, OAuthState, oauth_servers_fixture
from tests.tools.conftest import give_tools

pytestmark = pytest.mark.live
ALLOW = [AS_HOST, RS_HOST]


@pytest.fixture(scope="module")
def live_settings() -> dict[str, str]:
    return {"NOVA_EGRESS_ALLOWLIST": ",".join(ALLOW)}


@pytest.fixture(scope="module")
def oauth() -> Iterator[OAuthState]:
    yield from oauth_servers_fixture()


@pytest.fixture
async def live(embedded_server: LiveNova, llm: ScriptedLLM, oauth: OAuthState) -> AsyncIterator[LiveNova]:
    oauth.reset()
    view = await embedded_server.as_new_user(llm.base_url)
    yield view
    await view.settle()


async def connect(live: LiveNova, oauth: OAuthState) -> uuid.UUID:
    """The Connect round trip through the service (the web edge is tests/mcp_servers/test_oauth.py)."""
    policy, redirect_uri = EgressPolicy.from_settings(ALLOW, []), f"{live.url}/tools/mcp/oauth/callback"
    async with live.db.transaction() as session:
        data = ServerInput("Vault", "http", oauth.mcp_url, "oauth", "", "", "", "")
        server_id = (await service.create_server(session, live.box, live.user_id, data)).id
    prepared = await oauth_service.prepare(policy, OAuthSettings(), oauth.mcp_url, redirect_uri)
    async with live.db.transaction() as session:
        server = await service.get_server(session, live.user_id, server_id)
        authorize = await oauth_service.begin(session, live.box, server, prepared, redirect_uri)
    async with httpx.AsyncClient() as browser:
        back = httpx.URL((await browser.get(authorize)).headers["location"])
    async with live.db.transaction() as session:
        pending = await oauth_service.take(session, live.box, live.user_id, back.params["state"])
    assert pending is not None
    tokens = await oauth_service.finish(policy, pending, back.params["code"])
    async with live.db.transaction() as session:
        server = await service.get_server(session, live.user_id, server_id)
        await oauth_service.store(session, live.box, server, pending, tokens)
        config = service.config(live.box, server, live.db)
    tools, error = await service.test_connection(config, ALLOW, 10)
    assert error is None, error
    async with live.db.transaction() as session:
        service.remember_tools(await service.get_server(session, live.user_id, server_id), tools, None)
    return server_id


async def expire_everywhere(live: LiveNova, oauth: OAuthState) -> None:
    """Time passes: the access token is dead at the server and due in Nova's records."""
    oauth.expire_access_tokens()
    async with live.db.transaction() as session:
        grant = await session.scalar(select(McpOAuthGrant).where(McpOAuthGrant.resource == oauth.mcp_url))
        assert grant is not None
        grant.expires_at = utcnow() - timedelta(seconds=5)


async def test_a_run_calls_an_oauth_tool_and_refreshes_the_token_itself(
    live: LiveNova, llm: ScriptedLLM, oauth: OAuthState
) -> None:
    await connect(live, oauth)
    await give_tools(live, {"mcp:vault:whisper": False})
    await expire_everywhere(live, oauth)
    mark = len(oauth.log)
    llm.queue(ScriptedReply(tool_calls=[("mcp__vault__whisper", {"text": "hello"})]),
              ScriptedReply(text_from=lambda body: "Tool said: " + last_tool_result(body)))  # fmt: skip
    posted = await live.post(await live.new_thread(), "Whisper hello")
    done = await live.wait_terminal(posted["run_id"])
    assert done["status"] == "completed" and done["message"]["content"] == "Tool said: psst: hello"
    assert oauth.log[mark] == "token:refresh_token" and "mcp:refused" not in oauth.log[mark:]
    tokens = [t.access_token for t in oauth.tokens] + [str(t.refresh_token) for t in oauth.tokens]
    for secret in tokens:  # the model never sees a token, nor does the trace
        assert all(secret not in str(request) for request in llm.requests)
        assert secret not in str(done)


async def test_a_sign_in_that_cannot_be_renewed_is_a_tool_error(
    live: LiveNova, llm: ScriptedLLM, oauth: OAuthState
) -> None:
    server_id = await connect(live, oauth)
    await give_tools(live, {"mcp:vault:whisper": False})
    oauth.refuse_refresh = True
    await expire_everywhere(live, oauth)
    llm.queue(ScriptedReply(tool_calls=[("mcp__vault__whisper", {"text": "hello"})]),
              ScriptedReply(text_from=lambda body: "Tool said: " + last_tool_result(body)))  # fmt: skip
    posted = await live.post(await live.new_thread(), "Whisper hello")
    done = await live.wait_terminal(posted["run_id"])
    assert done["status"] == "completed"
    assert "Vault needs you to sign in again (reconnect needed)" in done["message"]["content"]
    async with live.db.transaction() as session:
        grant = await session.scalar(select(McpOAuthGrant).where(McpOAuthGrant.server_id == server_id))
        server = await service.get_server(session, live.user_id, server_id)
    assert grant is not None and grant.status == "reconnect" and "invalid_grant" in (grant.error or "")
    assert "reconnect needed" in (server.last_error or "")
