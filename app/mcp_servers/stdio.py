"""The admins' stdio MCP servers: validation, the encrypted environment, their own directories.

A system server is a program on Nova's machines: a command (an executable name or absolute
path) and its arguments, one per line, run without a shell; the environment the admin gives
is all it inherits besides a minimal PATH, HOME and LANG (never Nova's own settings).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from app.agents.tools.mcp import SYSTEM_PREFIX, McpServerConfig
from app.agents.tools.mcp_stdio import BASE_PATH
from app.errors import NotFound, require
from app.mcp_servers import system_repository as repository
from app.models import SystemMcpServer
from app.security.secretbox import SecretBox, mask_secret

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
MAX_ARGS, MAX_ENV = 64, 50


@dataclass(frozen=True)
class StdioInput:
    name: str
    command: str
    arguments: str  # one per line
    environment: str  # KEY=VALUE lines; blank keeps the stored environment
    cwd: str  # blank: a directory of its own under the data directory
    clear_environment: bool = False

    @classmethod
    def from_form(cls, form: dict[str, str]) -> StdioInput:
        return cls(
            name=form.get("name", "").strip(), command=form.get("command", "").strip(),
            arguments=form.get("arguments", ""), environment=form.get("environment", "").strip(),
            cwd=form.get("cwd", "").strip(), clear_environment=form.get("clear_environment") == "on",
        )  # fmt: skip


async def list_servers(session: AsyncSession) -> Sequence[SystemMcpServer]:
    return await repository.list_servers(session)


async def get_server(session: AsyncSession, server_id: uuid.UUID) -> SystemMcpServer:
    server = await repository.get_server(session, server_id)
    if server is None:
        raise NotFound(str(server_id))
    return server


async def create_server(session: AsyncSession, box: SecretBox, data_dir: Path, data: StdioInput) -> SystemMcpServer:
    slug = await _unique_slug(session, data.name)
    args, env, cwd = await _validate(session, data, None, {}, default_directory(data_dir, slug))
    server = SystemMcpServer(name=data.name, slug=slug, command=data.command, args=args, cwd=cwd)
    _set_env(box, server, env)
    session.add(server)
    await session.flush()
    return server


async def update_server(
    session: AsyncSession, box: SecretBox, data_dir: Path, server: SystemMcpServer, data: StdioInput
) -> SystemMcpServer:
    """A blank environment keeps the stored one; a new program forgets the tool list."""
    stored = {} if data.clear_environment else environment(box, server)
    args, env, cwd = await _validate(session, data, server, stored, default_directory(data_dir, server.slug))
    if (data.command, args, cwd) != (server.command, server.args, server.cwd):
        server.tools, server.tools_listed_at, server.last_error = None, None, None
    server.name, server.command, server.args, server.cwd = data.name, data.command, args, cwd
    _set_env(box, server, env)
    return server


async def delete_server(session: AsyncSession, server: SystemMcpServer) -> None:
    await repository.forget_agent_tools(session, f"{SYSTEM_PREFIX}:{server.slug}:")
    await session.delete(server)


def default_directory(data_dir: Path, slug: str) -> Path:
    return (data_dir / "mcp-servers" / slug).resolve()


def config(box: SecretBox, server: SystemMcpServer) -> McpServerConfig:
    """How to start the program, its environment decrypted (for starting it only, never shown)."""
    return McpServerConfig(server.slug, server.name, "stdio", "", command=server.command, args=tuple(server.args),
                           env=environment(box, server), cwd=server.cwd, prefix=SYSTEM_PREFIX)  # fmt: skip


def environment(box: SecretBox, server: SystemMcpServer) -> dict[str, str]:
    if not server.env_encrypted:
        return {}
    value = json.loads(box.decrypt(server.env_encrypted))
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _set_env(box: SecretBox, server: SystemMcpServer, env: dict[str, str]) -> None:
    server.env_encrypted = box.encrypt(json.dumps(env)) if env else None
    server.env_hint = ", ".join(f"{k}={mask_secret(v)}" for k, v in env.items())[:1000] or None


async def _validate(session: AsyncSession, data: StdioInput, existing: SystemMcpServer | None,
                    stored: dict[str, str], default_cwd: Path) -> tuple[list[str], dict[str, str], str]:  # fmt: skip
    """The argv's arguments, the environment and the directory, once every field is acceptable."""
    errors: dict[str, str] = {}
    if not data.name or len(data.name) > 100:
        errors["name"] = "Give the server a name of 1 to 100 characters."
    else:
        clash = await repository.by_name(session, data.name)
        if clash is not None and clash is not existing:
            errors["name"] = "There is already a system MCP server with this name."
    env = _parse_env(data.environment, errors) if data.environment else stored
    if error := _command_error(data.command, env.get("PATH", BASE_PATH)):
        errors["command"] = error
    args = [line.strip() for line in data.arguments.splitlines() if line.strip()]
    if len(args) > MAX_ARGS or any(len(arg) > 1000 or not arg.isprintable() for arg in args):
        errors["arguments"] = f"At most {MAX_ARGS} arguments of up to 1000 printable characters, one per line."
    cwd = Path(data.cwd) if data.cwd else default_cwd
    if data.cwd and (not cwd.is_absolute() or len(data.cwd) > 500 or not data.cwd.isprintable()):
        errors["cwd"] = "Give an absolute path (e.g. /srv/mcp/notes), or leave it blank for a directory of its own."
    elif data.cwd and not cwd.is_dir():
        errors["cwd"] = "No such directory on this server."
    require(errors)
    if not data.cwd:
        cwd.mkdir(mode=0o700, parents=True, exist_ok=True)  # only Nova's own user may enter it
    return args, env, str(cwd)


def _command_error(command: str, path: str) -> str | None:
    """Why `command` cannot start a program, or None. It is one program: never a shell line."""
    if not command or len(command) > 500 or not command.isprintable():
        return "Enter the program to start: its name (found on PATH) or its absolute path."
    if "=" in command:
        return "A command cannot contain “=”."
    if "/" in command:
        if not os.path.isabs(command):
            return "Give the program's absolute path (starting with /), or just its name."
        if not (os.path.isfile(command) and os.access(command, os.X_OK)):
            return f"{command} is not an executable file on this server."
        return None
    if shutil.which(command, path=path) is None:
        if any(c.isspace() for c in command):
            return "The command is one program, never a shell line: put its arguments under Arguments."
        return f"No program called {command} on PATH ({path[:200]}): give its absolute path."
    return None


def _parse_env(text: str, errors: dict[str, str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, value = line.strip().partition("=")
        if not sep or not _ENV_NAME.match(name) or len(value) > 4000 or not value.isprintable():
            errors["environment"] = "Write one variable per line as NAME=value (letters, digits and _ in names)."
        else:
            env[name] = value
    if len(env) > MAX_ENV:
        errors["environment"] = f"At most {MAX_ENV} variables."
    return env


async def _unique_slug(session: AsyncSession, name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:30].strip("-") or "server"
    slug, counter = base, 2
    while await repository.by_slug(session, slug) is not None:
        slug, counter = f"{base}-{counter}", counter + 1
    return slug
