"""One MCP tool per agent of the caller: "ask the agent X", listed afresh on every request.

The tool's name comes from the agent's slug, which never changes once made (renaming an
agent keeps it), so a client's configuration keeps working. Asking starts an ordinary run
(app/openai_compat/service.py, shared with /v1): it lands in a thread, is traced, can be
stopped from the thread page; here it is followed to its end, its text sent along as
progress notifications when the client asked for them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastmcp.server.providers import Provider
from fastmcp.tools.base import Tool, ToolResult
from fastmcp.utilities.versions import VersionSpec
from mcp.types import ToolAnnotations
from pydantic import PrivateAttr

from app.agent_configs import service as agent_configs
from app.context import AppContext
from app.mcp_endpoint import asking
from app.mcp_endpoint.auth import caller
from app.models import Agent

PREFIX = "ask_"
# The strictest clients accept names matching ^[a-zA-Z0-9_-]{1,64}$.
MAX_NAME = 64
MAX_ABOUT = 300
ASK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "message": {"type": "string", "minLength": 1, "description": "What to ask the agent."},
        "thread_id": {
            "type": "string",
            "format": "uuid",
            "description": "A Nova thread to continue (from an earlier answer or list_threads); "
            "leave it out to start a new thread.",
        },
    },
    "required": ["message"],
    "additionalProperties": False,
}
ASKING = ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=False, openWorldHint=True)

Body = Callable[[dict[str, Any]], Awaitable[ToolResult]]


class NovaTool(Tool):
    """A tool whose body is bound to this process's context (a Tool is a pydantic model)."""

    _body: Body = PrivateAttr()

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        return await self._body(arguments)


def tool_name(slug: str) -> str:
    """`ask_` and the slug: unique, as slugs are ([a-z0-9-], unique per user); a long one is
    shortened and told apart by a digest of the whole slug."""
    name = PREFIX + slug.replace("-", "_")
    if len(name) <= MAX_NAME:
        return name
    return f"{name[: MAX_NAME - 9]}_{hashlib.sha256(slug.encode()).hexdigest()[:8]}"


def description(agent: Agent) -> str:
    about = agent.tool_description.strip() or next(iter(agent.instructions.strip().splitlines()), "")
    if len(about) > MAX_ABOUT:
        about = about[: MAX_ABOUT - 1] + "…"
    return (
        f"Ask the agent {agent.name}: {about or 'one of your Nova agents.'}\n\n"
        "It answers in a Nova thread (a new one, or `thread_id` to continue one), as if asked in Nova; "
        "the result is its reply and the thread's link. If it needs the user (a question, or approval "
        "for a step), the result says so and links the thread where they can answer."
    )


class AgentTools(Provider):
    def __init__(self, ctx: AppContext, stopping: asking.Stopping) -> None:
        super().__init__()
        self.ctx, self.stopping = ctx, stopping

    async def _list_tools(self) -> Sequence[Tool]:
        return [self._tool(agent) for agent in await self._agents()]

    async def _get_tool(self, name: str, version: VersionSpec | None = None) -> Tool | None:
        if not name.startswith(PREFIX):
            return None
        return next((self._tool(agent) for agent in await self._agents() if tool_name(agent.slug) == name), None)

    async def get_tasks(self) -> Sequence[Any]:
        """None of these run as background tasks (fastmcp asks at start-up, outside any request)."""
        return []

    async def _agents(self) -> Sequence[Agent]:
        user = caller()
        async with self.ctx.db.transaction() as session:
            return await agent_configs.agents_for_chat(session, user.user_id, self.ctx.settings)

    def _tool(self, agent: Agent) -> Tool:
        tool = NovaTool(
            name=tool_name(agent.slug), title=f"Ask {agent.name}", description=description(agent),
            parameters=ASK_SCHEMA, annotations=ASKING,
        )  # fmt: skip
        slug = agent.slug

        async def ask(arguments: dict[str, Any]) -> ToolResult:
            return await asking.ask(self.ctx, self.stopping, slug, arguments)

        tool._body = ask
        return tool
