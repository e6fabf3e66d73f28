"""MCP servers on the Tools page: secrets never shown, Test connection, ownership, the agent form."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import AgentTool, McpServer, Role
from tests.fixtures.factories import make_agent, make_provider
from tests.fixtures.llm_server import ScriptedLLM
from tests.fixtures.mcp_server import API_KEY, BEARER, MCP_HOST, McpTestServer
from tests.fixtures.nova import Client, Nova, field_error, nova_settings, open_nova, submit


@pytest.fixture
async def nova_mcp(database_url: str, tmp_path: Path) -> AsyncIterator[Nova]:
    """Nova whose users may reach the MCP test server's loopback address."""
    async with open_nova(nova_settings(database_url, tmp_path, NOVA_EGRESS_ALLOWLIST=MCP_HOST)) as nova:
        yield nova


async def add_server(client: Client, url: str, **fields: str) -> uuid.UUID:
    data = {"name": "Home", "transport": "http", "url": url, "auth_kind": "bearer", "token": BEARER} | fields
    response = await submit(client, "/tools/mcp", data)
    assert response.status_code == 303, response.text
    return uuid.UUID(response.headers["location"].rsplit("/", 1)[1])


async def test_a_server_is_added_tested_and_its_secret_never_shown(nova_mcp: Nova, mcp_server: McpTestServer) -> None:
    nova = nova_mcp
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        server_id = await add_server(client, mcp_server.http_url)
        before = await client.get(f"/tools/mcp/{server_id}")
        tested = await submit(client, f"/tools/mcp/{server_id}/test", headers={"HX-Request": "true"})
        page = await client.get(f"/tools/mcp/{server_id}")
        tools_page = await client.get("/tools")
        kept = await submit(client, f"/tools/mcp/{server_id}", {"name": "Home", "transport": "http",
                                                                 "url": mcp_server.http_url, "auth_kind": "bearer"})  # fmt: skip
    assert "No tools listed yet" in before.text
    assert tested.status_code == 200 and tested.text.lstrip().startswith('<div id="mcp-tools"')
    assert "Connected: 4 tools." in tested.text and "Add two whole numbers." in tested.text
    assert '<details class="mcp-schema">' in page.text and '"required": [' in page.text
    assert "Home" in tools_page.text and mcp_server.http_url in tools_page.text
    for html in (before.text, tested.text, page.text, tools_page.text):
        assert BEARER not in html
    assert "…1234" in tools_page.text and "…1234" in page.text  # the masked hint
    assert kept.status_code == 303  # a blank token keeps the stored one
    async with nova.ctx.db.transaction() as session:
        row = await session.scalar(select(McpServer))
    assert row is not None and BEARER not in (row.auth_encrypted or "")
    assert BEARER in nova.ctx.secretbox.decrypt(row.auth_encrypted or "")
    assert row.slug == "home" and [t["name"] for t in row.tools or []] == ["add", "echo", "slow", "broken"]
    assert ("/mcp", "bearer") in mcp_server.seen


async def test_custom_headers_and_sse_and_bad_input(nova_mcp: Nova, mcp_server: McpTestServer) -> None:
    nova = nova_mcp
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        server_id = await add_server(client, mcp_server.sse_url, name="Legacy", transport="sse", auth_kind="headers",
                                     token="", headers=f"{API_KEY[0]}: {API_KEY[1]}")  # fmt: skip
        tested = await submit(client, f"/tools/mcp/{server_id}/test")  # no htmx: the whole page
        bad = await submit(client, "/tools/mcp", {"name": "", "transport": "carrier-pigeon", "auth_kind": "headers",
                                                  "url": "https://user:pw@mcp.example.com/", "headers": "nonsense"})  # fmt: skip
        no_token = await submit(client, "/tools/mcp", {"name": "X", "url": "https://mcp.example.com/mcp",
                                                       "auth_kind": "bearer", "token": ""})  # fmt: skip
        wrong = await add_server(client, mcp_server.http_url, name="Wrong", token="not-the-token")
        refused = await submit(client, f"/tools/mcp/{wrong}/test", headers={"HX-Request": "true"})
    assert tested.status_code == 200 and "<html" in tested.text and "Connected: 4 tools." in tested.text
    assert API_KEY[1] not in tested.text and ("/sse", "headers") in mcp_server.seen
    assert bad.status_code == 400
    assert field_error(bad.text, "name") and field_error(bad.text, "transport")
    assert field_error(bad.text, "url") == "Put credentials under Authentication, not in the address."
    assert field_error(bad.text, "headers") == "Write one header per line as Name: value."
    assert field_error(no_token.text, "token") == "Enter the token."
    assert "refused the credentials (HTTP 401)" in refused.text


async def test_an_address_not_allowlisted_is_refused(nova: Nova, mcp_server: McpTestServer) -> None:
    await nova.create_user("ada@example.com")
    mcp_server.seen.clear()
    async with await nova.login("ada@example.com") as client:
        server_id = await add_server(client, mcp_server.http_url)  # saving is fine; reaching it is not
        tested = await submit(client, f"/tools/mcp/{server_id}/test", headers={"HX-Request": "true"})
    assert f"Refused: {MCP_HOST} is a loopback address" in tested.text
    assert mcp_server.seen == []


async def test_servers_belong_to_their_owner(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    await nova.create_user("eve@example.com", role=Role.ADMIN)  # even an admin
    async with await nova.login("ada@example.com") as ada:
        server_id = await add_server(ada, "https://mcp.example.com/mcp")
        no_csrf = await ada.post(f"/tools/mcp/{server_id}/delete", data={})
    async with await nova.login("eve@example.com") as eve:
        answers = [
            (await eve.get(f"/tools/mcp/{server_id}")).status_code,
            (
                await submit(eve, f"/tools/mcp/{server_id}", {"name": "Mine", "url": "https://evil.example/"})
            ).status_code,
            (await submit(eve, f"/tools/mcp/{server_id}/test")).status_code,
            (await submit(eve, f"/tools/mcp/{server_id}/delete")).status_code,
        ]
        listing = await eve.get("/tools")
    assert no_csrf.status_code == 403
    assert answers == [404, 404, 404, 404]
    assert "mcp.example.com" not in listing.text
    async with nova.ctx.db.transaction() as session:
        row = await session.get(McpServer, server_id)
    assert row is not None and row.name == "Home"


async def test_the_agent_form_groups_mcp_tools_which_ask_first_by_default(
    nova_mcp: Nova, mcp_server: McpTestServer, llm: ScriptedLLM
) -> None:
    nova = nova_mcp
    user = await nova.create_user("ada@example.com")
    agent = await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
    async with await nova.login("ada@example.com") as client:
        server_id = await add_server(client, mcp_server.http_url)
        await submit(client, f"/tools/mcp/{server_id}/test")
        form = await client.get(f"/agents/{agent.id}/edit")
        saved = await submit(client, f"/agents/{agent.id}", {
            "name": "Helper", "provider_id": str(agent.provider_id), "temperature": "0.3", "recursion_limit": "25",
            "tools": ["mcp:home:add", "mcp:home:echo", "mcp:home:nope"], "ask_first": ["mcp:home:add"],
        })  # type: ignore[dict-item]  # fmt: skip
        deleted = await submit(client, f"/tools/mcp/{server_id}/delete")
    assert "<legend>MCP: Home</legend>" in form.text
    box = re.search(r'<input type="checkbox" name="ask_first" value="mcp:home:add"[^>]*>', form.text)
    assert box is not None and "checked" in box.group()  # asks first unless unticked
    assert saved.status_code == 303 and deleted.status_code == 303
    async with nova.ctx.db.transaction() as session:
        rows = (await session.scalars(select(AgentTool).where(AgentTool.agent_id == agent.id))).all()
    assert rows == []  # deleting the server took its tools off the agent
