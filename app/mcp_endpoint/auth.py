"""Who calls /mcp: a Nova API token, checked exactly as for /api and /v1, handed to MCP.

Nova's authentication backend has already read the Bearer token (app/web/paths.py makes
/mcp an API path: no cookies, no CSRF, the API rate limits). Here its user becomes the MCP
SDK's authenticated user, so the SDK binds each MCP session to the user who opened it, and
tools read the caller and the token's scope from the request they came with.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from fastmcp.exceptions import ToolError
from fastmcp.server.auth import AccessToken
from fastmcp.server.dependencies import get_access_token
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from starlette.authentication import AuthCredentials

from app.models import TokenScope
from app.web.auth import CurrentUser

# Each scope includes the ones before it (TokenScope).
IMPLIED_SCOPES = {
    TokenScope.READ.value: [TokenScope.READ.value],
    TokenScope.WRITE.value: [TokenScope.READ.value, TokenScope.WRITE.value],
    TokenScope.ADMIN.value: [TokenScope.READ.value, TokenScope.WRITE.value, TokenScope.ADMIN.value],
}
READ_ONLY = (
    "This API token has the read scope: it can list and read threads, but asking an agent starts "
    "a run, which needs a token with the write scope."
)


def refused(message: str) -> ToolError:
    """A tool's answer that the caller cannot have this (logged as such, not as a server error)."""
    return ToolError(message, log_level=logging.INFO)


@dataclass(frozen=True)
class Caller:
    user_id: uuid.UUID
    scopes: frozenset[str]

    def require_write(self) -> None:
        if TokenScope.WRITE.value not in self.scopes:
            raise refused(READ_ONLY)


def mcp_user(user: CurrentUser) -> tuple[AuthCredentials, AuthenticatedUser] | None:
    """The MCP identity of a request Nova signed in with an API token; None for anyone else."""
    if user.token_scope not in IMPLIED_SCOPES:  # None: a browser session, never accepted here
        return None
    scopes = IMPLIED_SCOPES[user.token_scope]
    # The SDK compares (client_id, issuer, subject) to bind a session to whoever opened it.
    token = AccessToken(token=f"nova-user:{user.id}", client_id=str(user.id), scopes=scopes, subject=str(user.id))
    return AuthCredentials(scopes), AuthenticatedUser(token)


def caller() -> Caller:
    """The user a tool runs for (a tool only runs behind the gate, so one is always there)."""
    token = get_access_token()
    if token is None or token.subject is None:
        raise refused("Send a Nova API token.")
    return Caller(uuid.UUID(token.subject), frozenset(token.scopes))
