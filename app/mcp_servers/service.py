"""MCP server rules: validation, encrypted credentials, the cached tool list, tools per user."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.agents.tools.catalog import ToolSpec
from app.agents.tools.mcp import (
    TRANSPORTS,
    McpError,
    McpServerConfig,
    McpTool,
    auth_headers,
    list_tools,
    tool_specs,
)
from app.db import Database, utcnow
from app.egress import EgressPolicy
from app.errors import NotFound, require
from app.mcp_servers import oauth_service, repository, stdio, system_repository
from app.mcp_servers.oauth_tokens import access_for
from app.models import McpServer, SystemMcpServer
from app.security.secretbox import SecretBox, mask_secret
from app.urls import parse_http_url

AUTH_KINDS = {"none": "None", "bearer": "Bearer token", "basic": "Basic (user name and password)",
              "headers": "Custom headers", "oauth": "OAuth 2.1 (sign in at the server)"}  # fmt: skip
# A header name is an HTTP token; these are the transport's own business.
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
_RESERVED_HEADERS = {"host", "content-length", "content-type", "transfer-encoding", "connection", "accept",
                     "mcp-session-id", "mcp-protocol-version", "upgrade"}  # fmt: skip


@dataclass(frozen=True)
class ServerInput:
    name: str
    transport: str
    url: str
    auth_kind: str
    token: str
    username: str
    password: str
    headers: str
    # OAuth 2.1: all optional (no client id: Nova registers itself).
    client_id: str = ""
    client_secret: str = ""
    scopes: str = ""

    @classmethod
    def from_form(cls, form: dict[str, str]) -> ServerInput:
        return cls(
            name=form.get("name", "").strip(), transport=form.get("transport", "http").strip() or "http",
            url=form.get("url", "").strip(), auth_kind=form.get("auth_kind", "none").strip() or "none",
            token=form.get("token", "").strip(), username=form.get("username", "").strip(),
            password=form.get("password", ""), headers=form.get("headers", "").strip(),
            client_id=form.get("client_id", "").strip(), client_secret=form.get("client_secret", "").strip(),
            scopes=form.get("scopes", "").strip(),
        )  # fmt: skip


async def list_servers(session: AsyncSession, owner_id: uuid.UUID) -> Sequence[McpServer]:
    return await repository.list_servers(session, owner_id)


async def get_server(session: AsyncSession, owner_id: uuid.UUID, server_id: uuid.UUID) -> McpServer:
    server = await repository.get_server(session, owner_id, server_id)
    if server is None:
        raise NotFound(str(server_id))
    return server


async def create_server(session: AsyncSession, box: SecretBox, owner_id: uuid.UUID, data: ServerInput) -> McpServer:
    secrets = await _validate(session, owner_id, data, None, {})
    server = McpServer(owner_id=owner_id, name=data.name, slug=await _unique_slug(session, owner_id, data.name),
                       transport=data.transport, url=data.url)  # fmt: skip
    _set_auth(box, server, data.auth_kind, secrets)
    session.add(server)
    await session.flush()
    return server


async def update_server(session: AsyncSession, box: SecretBox, server: McpServer, data: ServerInput) -> McpServer:
    """Blank secrets keep the stored ones; a new address or transport forgets the tool list."""
    stored = _secrets(box, server) if data.auth_kind == server.auth_kind else {}
    secrets = await _validate(session, server.owner_id, data, server, stored)
    if (data.url, data.transport) != (server.url, server.transport):
        server.tools, server.tools_listed_at, server.last_error = None, None, None
    if server.auth_kind == "oauth" and (data.auth_kind, data.url) != ("oauth", server.url):
        await oauth_service.disconnect(session, server)  # the tokens were for that sign-in, that address
    server.name, server.transport, server.url = data.name, data.transport, data.url
    _set_auth(box, server, data.auth_kind, secrets)
    return server


async def delete_server(session: AsyncSession, server: McpServer) -> None:
    await repository.forget_agent_tools(session, server.owner_id, server.slug)
    await session.delete(server)


def config(box: SecretBox, server: McpServer | SystemMcpServer, db: Database | None = None) -> McpServerConfig:
    """How to reach the server, credentials decrypted (for connecting only, never shown).
    OAuth servers read their tokens from `db` at each call (refreshing them as needed)."""
    if isinstance(server, SystemMcpServer):
        return stdio.config(box, server)
    headers = auth_headers(server.auth_kind, _secrets(box, server))
    auth = access_for(db, box, server) if server.auth_kind == "oauth" else None
    return McpServerConfig(server.slug, server.name, server.transport, server.url, headers, auth=auth)


async def test_connection(
    server: McpServerConfig, allowlist: Sequence[str], seconds: float
) -> tuple[list[McpTool] | None, str | None]:
    """The server's tools, asked now through the egress guard; or None and why not."""
    try:
        return await list_tools(server, EgressPolicy.from_settings(allowlist, []), seconds), None
    except McpError as exc:
        return None, str(exc)


def remember_tools(server: McpServer | SystemMcpServer, tools: Sequence[McpTool] | None, error: str | None) -> None:
    """What the last "Test connection" found: the tool list, or why there is none now."""
    if tools is not None:
        server.tools = [tool.as_json() for tool in tools]
        server.tools_listed_at = utcnow()
    server.last_error = error[:500] if error else None


def cached_tools(server: McpServer | SystemMcpServer) -> list[McpTool]:
    return [McpTool.from_json(value) for value in server.tools or [] if isinstance(value, dict) and "name" in value]


@dataclass(frozen=True)
class ServerTools:
    """One server's tools as the agent form and the run see them."""

    server: McpServer | SystemMcpServer
    specs: list[ToolSpec]

    @property
    def system(self) -> bool:
        """An admin's stdio server: every user may use it, only admins change it."""
        return isinstance(self.server, SystemMcpServer)


async def user_tools(
    session: AsyncSession, box: SecretBox, owner_id: uuid.UUID, db: Database | None = None
) -> list[ServerTools]:
    """Every tool of the user's servers, then of the admins' system servers, from the cached lists
    (nothing is asked of a server)."""
    servers: list[McpServer | SystemMcpServer] = [*await repository.list_servers(session, owner_id)]
    servers += await system_repository.list_servers(session)
    return [ServerTools(server, tool_specs(config(box, server, db), cached_tools(server))) for server in servers]


async def user_configs(session: AsyncSession, box: SecretBox, owner_id: uuid.UUID) -> list[McpServerConfig]:
    return [config(box, server) for server in await repository.list_servers(session, owner_id)]


def _secrets(box: SecretBox, server: McpServer) -> dict[str, Any]:
    if not server.auth_encrypted:
        return {}
    value = json.loads(box.decrypt(server.auth_encrypted))
    return value if isinstance(value, dict) else {}


def _set_auth(box: SecretBox, server: McpServer, kind: str, secrets: dict[str, Any]) -> None:
    server.auth_kind = kind
    server.auth_encrypted = box.encrypt(json.dumps(secrets)) if secrets else None
    server.auth_hint = _hint(kind, secrets)


def _hint(kind: str, secrets: dict[str, Any]) -> str | None:
    if kind == "bearer":
        return mask_secret(secrets["token"])
    if kind == "basic":
        return f"{secrets['username'][:60]} / •••"
    if kind == "oauth":
        return oauth_service.hint(secrets)
    if kind == "headers":
        return ", ".join(f"{name}: {mask_secret(value)}" for name, value in secrets["headers"].items())[:200]
    return None


async def _validate(session: AsyncSession, owner_id: uuid.UUID, data: ServerInput, existing: McpServer | None,
                    stored: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """The secrets to store, once every field is acceptable."""
    errors: dict[str, str] = {}
    if not data.name or len(data.name) > 100:
        errors["name"] = "Give the server a name of 1 to 100 characters."
    else:
        clash = await repository.by_name(session, owner_id, data.name)
        if clash is not None and clash is not existing:
            errors["name"] = "You already have an MCP server with this name."
    if data.transport not in TRANSPORTS:
        errors["transport"] = "Choose Streamable HTTP or SSE."
    parts = parse_http_url(data.url)
    if parts is None:
        errors["url"] = "Enter the server's http(s) address, e.g. https://mcp.example.com/mcp."
    elif "@" in parts.netloc:
        errors["url"] = "Put credentials under Authentication, not in the address."
    secrets: dict[str, Any] = {}
    if data.auth_kind not in AUTH_KINDS:
        errors["auth_kind"] = "Choose how Nova signs in to the server."
    elif data.auth_kind == "bearer":
        secrets = {"token": data.token or stored.get("token", "")}
        if not secrets["token"]:
            errors["token"] = "Enter the token."
        elif any(not c.isprintable() for c in secrets["token"]) or len(secrets["token"]) > 4000:
            errors["token"] = "A token is one line of printable characters."
    elif data.auth_kind == "basic":
        secrets = {"username": data.username, "password": data.password or stored.get("password", "")}
        if not data.username or ":" in data.username or not data.username.isprintable():
            errors["username"] = "Enter the user name (without “:”)."
        if not secrets["password"] or not secrets["password"].isprintable():
            errors["password"] = "Enter the password."
    elif data.auth_kind == "headers":
        headers = _parse_headers(data.headers, errors) if data.headers else dict(stored.get("headers") or {})
        if not headers and "headers" not in errors:
            errors["headers"] = "Enter at least one header, one per line: Name: value."
        secrets = {"headers": headers}
    elif data.auth_kind == "oauth":
        secrets = oauth_service.checked_settings(data.client_id, data.client_secret, data.scopes, stored, errors)
    require(errors)
    return secrets


def _parse_headers(text: str, errors: dict[str, str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not _HEADER_NAME.match(name) or not value or not value.isprintable():
            errors["headers"] = "Write one header per line as Name: value."
        elif name.lower() in _RESERVED_HEADERS:
            errors["headers"] = f"Nova sets {name} itself."
        else:
            headers[name] = value
    if len(headers) > 20:
        errors["headers"] = "At most 20 headers."
    return headers


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:30].strip("-") or "server"


async def _unique_slug(session: AsyncSession, owner_id: uuid.UUID, name: str) -> str:
    base = slugify(name)
    slug, counter = base, 2
    while await repository.by_slug(session, owner_id, slug) is not None:
        slug, counter = f"{base}-{counter}", counter + 1
    return slug
