"""What an MCP server's page shows: the form (never a secret), its tools, its OAuth sign-in.

Shared by the page's views and the OAuth views, which show the same page with an error.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.agents.tools.mcp import TRANSPORTS
from app.mcp_servers import oauth_service, service
from app.mcp_servers.service import AUTH_KINDS
from app.models import McpServer
from app.security.secretbox import SecretBox

SECRET_FIELDS = ("token", "password", "headers", "client_secret")


def context(form: dict[str, Any], errors: dict[str, str], server: McpServer | None) -> dict[str, Any]:
    return {
        "form": {k: v for k, v in form.items() if k not in SECRET_FIELDS}, "errors": errors, "server": server,
        "transports": list(TRANSPORTS.items()), "auth_kinds": list(AUTH_KINDS.items()),
        "tools": service.cached_tools(server) if server else [],
    }  # fmt: skip


def form_of(server: McpServer) -> dict[str, str]:
    return {"name": server.name, "transport": server.transport, "url": server.url, "auth_kind": server.auth_kind}


async def page_context(session: AsyncSession, box: SecretBox, server: McpServer, form: dict[str, Any] | None = None,
                       errors: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    """The server's page, with its OAuth sign-in (if it uses one) and those settings in the form."""
    oauth = await oauth_service.grant_of(session, server)
    if form is None:
        form = form_of(server)
        if server.auth_kind == "oauth":
            settings = oauth_service.OAuthSettings.of(box, server)
            form |= {"client_id": settings.client_id, "scopes": settings.scopes}
    return context(form, errors or {}, server) | {"oauth": oauth}
