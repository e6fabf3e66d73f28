"""Nova's MCP server: its tools, and the Streamable HTTP app that serves them (fastmcp).

Built by serving.py on the first /mcp request. Sessions are kept (not stateless): a
client that cancels a call over the 2025 protocol does so with a notification on its
session, which must reach the call.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastmcp import FastMCP
from fastmcp.server.http import StarletteWithLifespan
from starlette.types import ASGIApp, Receive, Scope, Send

from app.context import AppContext
from app.mcp_endpoint import reading
from app.mcp_endpoint.agents import AgentTools
from app.mcp_endpoint.asking import Stopping
from app.mcp_endpoint.auth import mcp_user
from app.web.auth import CurrentUser
from app.web.paths import MCP_PATH

INSTRUCTIONS = (
    "Nova is the user's AI agent workspace. Each ask_* tool asks one of the user's Nova agents: "
    "the run happens in a Nova thread (a new one, or the thread_id given), and the answer ends with "
    "the thread's link. list_threads and read_thread read the user's threads."
)


@dataclass(frozen=True)
class BuiltServer:
    http: StarletteWithLifespan  # fastmcp's app; its lifespan runs the session manager
    endpoint: ASGIApp  # what /mcp hands its requests to


def build(ctx: AppContext, stopping: Stopping) -> BuiltServer:
    # Tool errors are the sentences Nova wrote for the caller; anything unexpected stays in the log.
    server = FastMCP("Nova", instructions=INSTRUCTIONS, providers=[AgentTools(ctx, stopping)], mask_error_details=True)
    reading.register(server, ctx)
    http = server.http_app(path=MCP_PATH, transport="http")
    return BuiltServer(http, SignedIn(http))


class SignedIn:
    """The user Nova signed in (views.py let only API tokens through), as MCP's authenticated user."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        assert isinstance(user, CurrentUser)
        signed_in = mcp_user(user)
        assert signed_in is not None
        scope["auth"], scope["user"] = signed_in
        await self.app(scope, receive, send)
