"""Admins' stdio MCP servers: a real one (mcp-server-time) added and tested, users choose its
tools but can neither see its settings nor change it, bad commands refused."""

from __future__ import annotations

import asyncio
import re
import stat
import sys
import uuid
from pathlib import Path

from sqlalchemy import select

from app.models import AgentTool, McpServer, Role, SystemMcpServer
from tests.fixtures.factories import make_agent, make_provider
from tests.fixtures.llm_server import ScriptedLLM
from tests.fixtures.nova import Client, Nova, field_error, submit

TIME_SERVER = str(Path(sys.executable).parent / "mcp-server-time")
SECRET = "time-secret-value-9876"


async def add_time_server(client: Client, **fields: str) -> uuid.UUID:
    data = {"name": "Time", "command": TIME_SERVER, "arguments": "--local-timezone\n  Europe/Paris  \n",
            "environment": f"TIME_API_KEY={SECRET}\nREGION=eu", "cwd": ""} | fields  # fmt: skip
    response = await submit(client, "/admin/mcp-servers", data)
    assert response.status_code == 303, response.text
    return uuid.UUID(response.headers["location"].rsplit("/", 1)[1])


async def test_an_admin_adds_and_tests_a_real_stdio_server(nova: Nova) -> None:
    await nova.create_user("root@example.com", role=Role.ADMIN)
    async with await nova.login("root@example.com") as admin:
        server_id = await add_time_server(admin)
        before = await admin.get(f"/admin/mcp-servers/{server_id}")
        tested = await submit(admin, f"/admin/mcp-servers/{server_id}/test", headers={"HX-Request": "true"})
        listing = await admin.get("/admin/mcp-servers")
        kept = await submit(admin, f"/admin/mcp-servers/{server_id}", {
            "name": "Time", "command": TIME_SERVER, "arguments": "--local-timezone\nEurope/Paris", "environment": ""})  # fmt: skip
    assert "No tools listed yet" in before.text
    assert tested.status_code == 200 and tested.text.lstrip().startswith('<div id="mcp-tools"')
    assert "Connected: 2 tools." in tested.text and "get_current_time" in tested.text and "convert_time" in tested.text
    for html in (before.text, tested.text, listing.text):
        assert SECRET not in html
    assert "TIME_API_KEY=time-…9876" in before.text and "TIME_API_KEY=time-…9876" in listing.text  # masked
    assert '<textarea id="field-environment" name="environment" rows="3"' in before.text
    assert re.search(r'name="environment"[^>]*></textarea>', before.text)  # never rendered back
    assert kept.status_code == 303  # a blank environment keeps the stored one
    async with nova.ctx.db.transaction() as session:
        row = await session.get(SystemMcpServer, server_id)
    assert row is not None and row.slug == "time" and row.args == ["--local-timezone", "Europe/Paris"]
    assert SECRET not in (row.env_encrypted or "")
    assert SECRET in nova.ctx.secretbox.decrypt(row.env_encrypted or "") and "REGION" in (row.env_hint or "")
    assert [t["name"] for t in row.tools or []] == ["get_current_time", "convert_time"]
    directory = Path(row.cwd)
    assert directory == (nova.ctx.settings.data_dir / "mcp-servers" / "time").resolve()
    assert stat.S_IMODE((await asyncio.to_thread(directory.stat)).st_mode) == 0o700


async def test_users_choose_its_tools_but_cannot_touch_it(nova: Nova, llm: ScriptedLLM) -> None:
    await nova.create_user("root@example.com", role=Role.ADMIN)
    user = await nova.create_user("ada@example.com")
    agent = await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
    async with await nova.login("root@example.com") as admin:
        server_id = await add_time_server(admin)
        await submit(admin, f"/admin/mcp-servers/{server_id}/test")
    async with await nova.login("ada@example.com") as ada:
        form = await ada.get(f"/agents/{agent.id}/edit")
        saved = await submit(ada, f"/agents/{agent.id}", {
            "name": "Helper", "provider_id": str(agent.provider_id), "temperature": "0.3", "recursion_limit": "25",
            "tools": ["sysmcp:time:get_current_time", "sysmcp:time:convert_time", "sysmcp:time:*"],
            "ask_first": ["sysmcp:time:convert_time"],
        })  # type: ignore[dict-item]  # fmt: skip
        shell = {"name": "Mine", "command": "/bin/sh", "arguments": "-c\nid"}
        refused = {
            "list": (await ada.get("/admin/mcp-servers")).status_code,
            "show": (await ada.get(f"/admin/mcp-servers/{server_id}")).status_code,
            "create": (await submit(ada, "/admin/mcp-servers", shell)).status_code,
            "update": (await submit(ada, f"/admin/mcp-servers/{server_id}", shell)).status_code,
            "test": (await submit(ada, f"/admin/mcp-servers/{server_id}/test")).status_code,
            "delete": (await submit(ada, f"/admin/mcp-servers/{server_id}/delete")).status_code,
            "as her own": (await ada.get(f"/tools/mcp/{server_id}")).status_code,
        }
        own_stdio = await submit(ada, "/tools/mcp", {"name": "Shell", "transport": "stdio", "url": "/bin/sh",
                                                     "auth_kind": "none"})  # fmt: skip
    assert '<legend>MCP: Time <span class="badge">system</span></legend>' in form.text
    assert 'value="sysmcp:time:get_current_time"' in form.text and TIME_SERVER not in form.text
    assert 'value="sysmcp:time:*"' in form.text and "All tools of Time" in form.text
    assert saved.status_code == 303
    assert refused == {"list": 403, "show": 403, "create": 403, "update": 403, "test": 403, "delete": 403,
                       "as her own": 404}  # fmt: skip
    assert own_stdio.status_code == 400 and field_error(own_stdio.text, "transport")
    async with nova.ctx.db.transaction() as session:
        servers = (await session.scalars(select(SystemMcpServer))).all()
        assert [(s.name, s.command) for s in servers] == [("Time", TIME_SERVER)]
        assert (await session.scalars(select(McpServer))).all() == []
        tools = (await session.scalars(select(AgentTool).where(AgentTool.agent_id == agent.id))).all()
        assert [(t.tool_name, t.ask_first) for t in tools] == [("sysmcp:time:*", False)]  # it covers the others
    async with await nova.login("root@example.com") as admin:
        deleted = await submit(admin, f"/admin/mcp-servers/{server_id}/delete")
    assert deleted.status_code == 303
    async with nova.ctx.db.transaction() as session:
        assert (await session.scalars(select(AgentTool).where(AgentTool.agent_id == agent.id))).all() == []
    assert not (nova.ctx.settings.data_dir / "mcp-servers" / "time").exists()


async def test_commands_are_programs_never_shell_lines(nova: Nova) -> None:
    await nova.create_user("root@example.com", role=Role.ADMIN)
    async with await nova.login("root@example.com") as admin:
        shell_line = await submit(admin, "/admin/mcp-servers", {
            "name": "Time", "command": "mcp-server-time --local-timezone UTC; rm -rf ~",
            "environment": f"GOOD={SECRET}\nnot a variable", "cwd": "relative/dir"})  # fmt: skip
        missing = await submit(admin, "/admin/mcp-servers", {"name": "X", "command": "no-such-program-here",
                                                             "cwd": "/no/such/directory"})  # fmt: skip
        relative = await submit(admin, "/admin/mcp-servers", {"name": "", "command": "./bin/server"})
        assignment = await submit(admin, "/admin/mcp-servers", {"name": "X", "command": "/usr/bin/A=b"})
        on_path = await submit(admin, "/admin/mcp-servers", {"name": "Cat", "command": "cat"})
    assert shell_line.status_code == 400
    assert field_error(shell_line.text, "command") == (
        "The command is one program, never a shell line: put its arguments under Arguments.")  # fmt: skip
    assert field_error(shell_line.text, "environment") and field_error(shell_line.text, "cwd")
    assert SECRET not in shell_line.text  # a refused form does not echo the environment either
    assert field_error(missing.text, "command") == (
        "No program called no-such-program-here on PATH (/usr/local/bin:/usr/bin:/bin): give its absolute path.")  # fmt: skip
    assert field_error(missing.text, "cwd") == "No such directory on this server."
    assert field_error(relative.text, "command") and field_error(relative.text, "name")
    assert field_error(assignment.text, "command") == "A command cannot contain “=”."
    assert on_path.status_code == 303  # a bare name found on the minimal PATH
