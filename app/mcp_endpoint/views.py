"""/mcp: Nova's MCP server (Streamable HTTP), for API tokens only.

Not a REST resource, so it has no OpenAPI contract: the README's API section documents it.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from app.mcp_endpoint.serving import serving_of
from app.web.auth import CurrentUser
from app.web.errors import problem
from app.web.paths import MCP_PATH

REFUSAL = "Send a valid Nova API token as 'Authorization: Bearer <token>' (create one on the API tokens page)."


class McpEndpoint:
    """Only requests Nova signed in with an API token (app/web/paths.py: /mcp never reads cookies)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        if not isinstance(user, CurrentUser) or user.token_scope is None:
            await refusal()(scope, receive, send)
            return
        endpoint = await serving_of(scope["app"]).endpoint()
        await endpoint(scope, receive, send)


def refusal() -> Response:
    """401 as the API words it, with the challenge RFC 6750 asks for."""
    response = problem(401, REFUSAL)
    response.headers["WWW-Authenticate"] = 'Bearer realm="nova", error="invalid_token"'
    return response


# GET opens a session's stream of server messages, DELETE ends the session.
routes = [Route(MCP_PATH, McpEndpoint(), methods=["GET", "POST", "DELETE"], name="mcp:endpoint")]
