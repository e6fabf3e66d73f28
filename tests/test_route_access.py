"""Every route, as anonymous, as the owner and as a stranger: redirect/401, 200, 404."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select
from starlette.routing import Route

from app.accounts import service as accounts
from app.db import Base
from app.files import service as files
from app.memory import service as memories
from app.models import CustomTool, McpServer, Message, Role, SystemMcpServer
from app.tokens import service as tokens
from app.web.paths import is_api_path
from tests.fixtures.factories import make_agent, make_finished_run, make_provider, make_thread
from tests.fixtures.llm_server import ScriptedLLM
from tests.fixtures.nova import Nova, csrf_for

PUBLIC = {
    "home", "health:check", "health:ready", "accounts:login", "accounts:login_submit",
    "accounts:register", "accounts:register_submit", "api:openapi", "api:docs",
    "accounts:oidc_login", "accounts:oidc_callback", "manifest",
    "accounts:account",  # only redirects to settings:page, which the walk checks
    # A password reset link is its own credential (tests/admin/test_user_management.py).
    "accounts:reset_password", "accounts:reset_password_submit",
}  # fmt: skip
ADMIN_ONLY_PREFIXES = ("admin:", "api:admin:", "health:metrics")
# GETs that need a query of their own: without one the owner gets a 400 page that says so.
NEEDS_QUERY = {"mcp_servers:oauth_callback"}  # an OAuth sign-in's `state` (tests/mcp_servers/test_oauth.py)
# A GET of /mcp opens the stream of an MCP session, which must exist first: tests/mcp_endpoint/.
SESSION_STREAMS = {"mcp:endpoint"}


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str

    @property
    def is_api(self) -> bool:
        return is_api_path(self.path)

    @property
    def has_ids(self) -> bool:
        return ":uuid}" in self.path


def endpoints(nova: Nova) -> list[Endpoint]:
    found = []
    for route in nova.app.routes:
        if isinstance(route, Route) and route.name not in PUBLIC:
            for method in sorted((route.methods or set()) - {"HEAD"}):
                found.append(Endpoint(route.name, method, route.path))
    return found


def fill(path: str, ids: dict[str, uuid.UUID]) -> str:
    path = path.replace("{group:str}", "calendar")
    # A login session's id (no uuid): ending another user's is tested in tests/preferences/.
    path = path.replace("{session_id:str}", "0" * 64)
    for name, value in ids.items():
        path = path.replace(f"{{{name}:uuid}}", str(value))
    assert "{" not in path, f"test_route_access has no id for {path}: add it to the walk"
    return path


async def call(client: httpx.AsyncClient, endpoint: Endpoint, url: str, headers: dict[str, str]) -> httpx.Response:
    if endpoint.method == "GET":
        return await client.get(url, headers=headers)
    if endpoint.is_api:  # a well-formed body, so only ownership can refuse it
        return await client.request(endpoint.method, url, json={"content": "hi"}, headers=headers)
    data = {"csrf_token": await csrf_for(client)}
    return await client.request(endpoint.method, url, data=data, headers=headers)


async def row_count(nova: Nova) -> int:
    total = 0
    async with nova.ctx.db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            if table.name != "sessions":
                total += int(await session.scalar(select(func.count()).select_from(table)) or 0)
    return total


@pytest.mark.both_databases
async def test_every_route_guards_its_rows(nova: Nova, llm: ScriptedLLM) -> None:
    owner = await nova.create_user("owner@example.com", role=Role.ADMIN)
    stranger = await nova.create_user("stranger@example.com")
    provider = await make_provider(nova, owner.id, llm.base_url)
    agent = await make_agent(nova, owner.id, provider)
    thread = await make_thread(nova, owner.id)
    run = await make_finished_run(nova, thread, agent)
    async with nova.ctx.db.transaction() as session:
        memory = await memories.save(session, owner.id, "The owner likes tea.")
        custom = CustomTool(dotted_path="json.dumps", created_by_id=owner.id)
        session.add(custom)
        # Its address is refused (metadata), so the owner's "Test connection" reaches nothing.
        mcp_server = McpServer(owner_id=owner.id, name="Walk", slug="walk", transport="http",
                               url="http://169.254.169.254/mcp", auth_kind="none")  # fmt: skip
        session.add(mcp_server)
        # An admin's stdio server: its pages are the owner's (an admin's), never the stranger's.
        system_server = SystemMcpServer(
            name="Walk", slug="walk", command="/bin/true", args=[], cwd=str(nova.ctx.settings.data_dir)
        )
        session.add(system_server)
    async with nova.ctx.db.transaction() as session:
        owner_token = (await tokens.create_token(session, owner.id, "walk", "write")).secret
        owner_admin_token = (await tokens.create_token(session, owner.id, "walk-admin", "admin")).secret
        stranger_token = (await tokens.create_token(session, stranger.id, "walk", "write")).secret
    ids = {"provider_id": provider.id, "agent_id": agent.id, "thread_id": thread.id,
           "token_id": uuid.uuid4(), "user_id": owner.id, "run_id": run.id,
           "memory_id": memory.id, "tool_id": custom.id, "server_id": mcp_server.id,
           "system_server_id": system_server.id}  # fmt: skip
    async with nova.ctx.db.transaction() as session:
        ids["token_id"] = (await tokens.list_tokens(session, owner.id))[0].id
        ids["invite_id"] = (await accounts.create_invite(session, owner.id)).id
        ids["message_id"] = (await session.scalars(select(Message.id).where(Message.run_id == run.id))).one()
        ids["file_id"] = (await files.write_text(session, nova.ctx.storage, nova.ctx.settings, owner.id, thread.id,
                                                 "walk.txt", "The owner's notes.")).id  # fmt: skip

    walk = endpoints(nova)
    assert len(walk) > 25

    async with nova.client() as anonymous:
        for endpoint in walk:
            response = await call(anonymous, endpoint, fill(endpoint.path, ids), {})
            if endpoint.is_api:
                assert response.status_code == 401, endpoint
            else:
                assert response.status_code == 303, endpoint
                assert "/login" in response.headers["location"], endpoint

    before = await row_count(nova)
    async with await nova.login("stranger@example.com") as client:
        for endpoint in walk:
            admin_only = endpoint.name.startswith(ADMIN_ONLY_PREFIXES)
            if not (endpoint.has_ids or admin_only):
                continue  # routes without ids act only on the caller's own rows
            headers = {"authorization": f"Bearer {stranger_token}"} if endpoint.is_api else {}
            response = await call(client, endpoint, fill(endpoint.path, ids), headers)
            assert response.status_code == (403 if admin_only else 404), endpoint
    assert await row_count(nova) == before  # the stranger changed nothing

    async with await nova.login("owner@example.com") as client:
        for endpoint in walk:
            if endpoint.method != "GET" or endpoint.name in SESSION_STREAMS:
                continue
            secret = owner_admin_token if endpoint.name.startswith(ADMIN_ONLY_PREFIXES) else owner_token
            headers = {"authorization": f"Bearer {secret}"} if endpoint.is_api else {}
            response = await client.get(fill(endpoint.path, ids), headers=headers)
            assert response.status_code == (400 if endpoint.name in NEEDS_QUERY else 200), endpoint
