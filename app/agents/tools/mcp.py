"""Tools of MCP servers: a user's (Streamable HTTP or SSE), reached through the egress guard, or
an admin's stdio server, a program started for each connection (`mcp_stdio.py`).

Every call opens its own connection and closes it: nothing outlives a call, so a run that
pauses for an approval, or moves to another worker, needs nothing back. The tool list is
cached per server by the caller (Tools page, "Test connection"); call results never are.
fastmcp is imported only here, inside the functions, to keep the web process light.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import importlib
import json
import re
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from app.agents.tools import mcp_stdio
from app.agents.tools.context import ToolContext, ToolFailure
from app.egress import EgressPolicy

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool

    from app.agents.tools.catalog import ToolSpec

TRANSPORTS = {"http": "Streamable HTTP", "sse": "SSE (legacy)"}
PREFIX = "mcp"  # stored tool names are mcp:<server slug>:<tool>
SYSTEM_PREFIX = "sysmcp"  # an admin's stdio server: sysmcp:<slug>:<tool>, never a user's slug
WHOLE_SERVER = "*"  # the tool name that stands for all of a server's tools
MAX_NAME = 64  # what OpenAI-compatible APIs accept for a function name


class McpError(Exception):
    """The server could not be reached, refused us, or did not answer in time."""


class McpCredentialsRefused(McpError):
    """The server answered 401: the credentials were sent and not accepted."""


class McpAuth(Protocol):
    """Credentials looked up for each connection (OAuth: tokens that expire and are refreshed)."""

    async def headers(self, policy: EgressPolicy, *, renew: bool = False) -> dict[str, str]:
        """The headers for this connection; `renew` after the server refused them. McpError if none."""
        ...


@dataclass(frozen=True)
class McpServerConfig:
    """How to reach one server; `headers` carry its credentials and go to that server only."""

    slug: str
    name: str
    transport: str
    url: str
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    # A stdio server (admins' only): the program, its arguments, environment and directory.
    command: str = ""
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict, repr=False)
    cwd: str = ""
    prefix: str = PREFIX
    # OAuth: headers fetched (and tokens refreshed) for each connection.
    auth: McpAuth | None = field(default=None, repr=False, compare=False)

    def secrets(self) -> tuple[str, ...]:
        """Header and environment values to redact from steps and traces."""
        found: list[str] = list(self.env.values())
        for value in self.headers.values():
            found.append(value)
            scheme, _, credential = value.partition(" ")
            if scheme.lower() in ("bearer", "basic") and credential:
                found.append(credential)
                if scheme.lower() == "basic":
                    try:
                        found.extend(p for p in base64.b64decode(credential).decode().split(":", 1) if len(p) > 3)
                    except (ValueError, UnicodeDecodeError):
                        pass
        return tuple(v for v in found if len(v) > 3)


@dataclass(frozen=True)
class McpTool:
    name: str
    description: str
    input_schema: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "input_schema": self.input_schema}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> McpTool:
        schema = value.get("input_schema")
        return cls(str(value["name"]), str(value.get("description") or ""),
                   schema if isinstance(schema, dict) else {"type": "object"})  # fmt: skip


def auth_headers(kind: str, secrets: dict[str, Any]) -> dict[str, str]:
    """The request headers for one way of signing in: none, bearer, basic or custom headers."""
    if kind == "bearer":
        return {"Authorization": f"Bearer {secrets['token']}"}
    if kind == "basic":
        pair = f"{secrets['username']}:{secrets['password']}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
    if kind == "headers":
        return {str(k): str(v) for k, v in dict(secrets.get("headers") or {}).items()}
    return {}


def stored_name(slug: str, tool: str, prefix: str = PREFIX) -> str:
    return f"{prefix}:{slug}:{tool}"


def model_name(slug: str, tool: str, prefix: str = PREFIX) -> str:
    """What the model calls the tool: letters, digits, _ and - only, at most 64 characters."""
    name = re.sub(r"[^A-Za-z0-9_-]", "_", f"{prefix}__{slug}__{tool}")
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(stored_name(slug, tool, prefix).encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}_{digest}"


def server_of(tool_name: str) -> str | None:
    """The server slug of a stored MCP tool name, or None for any other tool."""
    prefix, _, rest = tool_name.partition(":")
    slug, sep, _ = rest.partition(":")
    return slug if prefix == PREFIX and sep else None


async def list_tools(server: McpServerConfig, policy: EgressPolicy, seconds: float) -> list[McpTool]:
    """The server's tools, asked over a fresh connection."""
    if server.auth is not None:
        return await _with_auth(server, policy, lambda ready: list_tools(ready, policy, seconds))  # type: ignore[no-any-return]
    statuses: list[int] = []
    with _stderr(server) as stderr:
        client = await _client(server, policy, seconds, statuses, stderr)

        async def ask() -> list[McpTool]:
            async with client:
                found = await client.list_tools()
            return [McpTool(t.name, t.description or "", dict(t.input_schema or {"type": "object"})) for t in found]

        return await _guarded_with_stderr(server, ask(), seconds, statuses, stderr)  # type: ignore[no-any-return]


async def call_tool(
    server: McpServerConfig, policy: EgressPolicy, tool: str, arguments: dict[str, Any], seconds: float
) -> str:
    """The tool's result as text for the model; ToolFailure if the tool itself failed."""
    if server.auth is not None:
        try:
            return await _with_auth(server, policy, lambda ready: call_tool(ready, policy, tool, arguments, seconds))  # type: ignore[no-any-return]
        except McpError as exc:
            raise ToolFailure(str(exc)) from exc
    statuses: list[int] = []
    with _stderr(server) as stderr:
        client = await _client(server, policy, seconds, statuses, stderr)

        async def call() -> Any:
            async with client:
                return await client.call_tool_mcp(tool, arguments, timeout=seconds)

        try:
            result = await _guarded_with_stderr(server, call(), seconds, statuses, stderr)
        except McpError as exc:
            raise ToolFailure(str(exc)) from exc
    text = result_text(result)
    if getattr(result, "is_error", False):
        raise ToolFailure(text or f"{tool} failed on {server.name}.")
    return text or "(the tool returned nothing)"


def validate_arguments(schema: dict[str, Any], arguments: dict[str, Any]) -> str | None:
    """Why `arguments` do not fit the tool's JSON Schema, or None when they do."""
    import jsonschema  # type: ignore[import-untyped]

    try:
        validator_class = jsonschema.validators.validator_for(schema)
        validator_class.check_schema(schema)
    except jsonschema.SchemaError:
        return None  # the server's schema is broken: let the server judge the arguments
    error = jsonschema.exceptions.best_match(validator_class(schema).iter_errors(arguments))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    return f"Invalid arguments{f' at {where}' if where else ''}: {error.message}"


def result_text(result: Any) -> str:
    """Text blocks as they are; images, audio and binary resources as a note for the model."""
    parts: list[str] = []
    for block in getattr(result, "content", None) or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind in ("image", "audio"):
            size = len(block.data) * 3 // 4
            parts.append(f"[{kind} {block.mime_type}, about {size} bytes: not shown to the model]")
        elif kind == "resource":
            resource = block.resource
            text = getattr(resource, "text", None)
            if text is not None:
                parts.append(f"[resource {resource.uri}]\n{text}")
            else:
                parts.append(f"[resource {resource.uri} ({resource.mime_type or 'binary'}): not shown to the model]")
        elif kind == "resource_link":
            parts.append(f"[resource link {block.uri}{f' ({block.name})' if block.name else ''}]")
    structured = getattr(result, "structured_content", None)
    if not parts and structured is not None:
        parts.append(json.dumps(structured, ensure_ascii=False, default=str))
    return "\n\n".join(parts)


def tool_specs(server: McpServerConfig, tools: list[McpTool]) -> list[ToolSpec]:
    """One catalog entry per tool, each building a langchain tool that calls the server; first,
    the whole server (`<prefix>:<slug>:*`): every tool of its latest list, new ones included."""
    from app.agents.tools.catalog import ToolSpec

    whole = ToolSpec(stored_name(server.slug, WHOLE_SERVER, server.prefix), f"All tools of {server.name}",
                     "Every tool the server lists, including any a later “Test connection” finds.",
                     _builder(server, *tools))  # fmt: skip
    singles = [
        ToolSpec(
            stored_name(server.slug, tool.name, server.prefix),
            tool.name,
            tool.description or f"A tool of {server.name}.",
            _builder(server, tool),
        )
        for tool in tools
    ]
    return [whole, *singles] if singles else []


def _builder(server: McpServerConfig, *tools: McpTool) -> Any:
    return lambda ctx: [langchain_tool(server, tool, ctx) for tool in tools]


def langchain_tool(server: McpServerConfig, tool: McpTool, ctx: ToolContext) -> BaseTool:
    from langchain_core.tools import StructuredTool

    seconds = min(ctx.mcp_timeout_seconds, ctx.timeout_seconds)
    _warm_up()

    async def run(**arguments: Any) -> str:
        problem = validate_arguments(tool.input_schema, arguments)
        if problem:
            raise ToolFailure(problem)
        return await call_tool(server, ctx.egress, tool.name, arguments, seconds)

    schema = {"type": "object", "properties": {}, **tool.input_schema}
    description = tool.description or f"The tool {tool.name} of the MCP server {server.name}."
    return StructuredTool.from_function(coroutine=run, name=model_name(server.slug, tool.name, server.prefix),
                                        description=description[:1024], args_schema=schema)  # fmt: skip


async def _client(server: McpServerConfig, policy: EgressPolicy, seconds: float, statuses: list[int],
                  stderr: TextIO | None = None) -> Any:  # fmt: skip
    """A fastmcp client for one connection (not yet open)."""
    await _load_fastmcp()
    from fastmcp import Client
    from fastmcp.client.transports import SSETransport, StreamableHttpTransport

    from app.egress.mcp_transport import guarded_client_factory

    factory = guarded_client_factory(policy, statuses)
    transport: Any
    if server.transport == "stdio":
        assert stderr is not None
        transport = mcp_stdio.transport(server.command, server.args, server.env, server.cwd, stderr)
    elif server.transport == "sse":
        transport = SSETransport(server.url, headers=dict(server.headers), httpx_client_factory=factory,
                                 sse_read_timeout=seconds)  # fmt: skip
    else:
        transport = StreamableHttpTransport(server.url, headers=dict(server.headers), httpx_client_factory=factory)
    return Client(transport, name="nova", timeout=seconds, init_timeout=seconds)


async def _load_fastmcp() -> None:
    """fastmcp takes a second or two to import: the first time, in a thread, before any timer
    starts, so the event loop keeps streaming other replies meanwhile."""
    global _loaded
    if not _loaded:
        await asyncio.to_thread(importlib.import_module, "fastmcp.client.transports")
        _loaded = True


_loaded = False
_warming: set[asyncio.Task[None]] = set()


def _warm_up() -> None:
    """Start importing fastmcp while the model thinks: a run with MCP tools will likely call one."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    if not _loaded and not _warming:
        task = loop.create_task(_load_fastmcp())
        _warming.add(task)
        task.add_done_callback(_warming.discard)


def _stderr(server: McpServerConfig) -> AbstractContextManager[TextIO | None]:
    return mcp_stdio.stderr_log() if server.transport == "stdio" else nullcontext()


async def _guarded_with_stderr(
    server: McpServerConfig, work: Any, seconds: float, statuses: list[int], stderr: TextIO | None
) -> Any:
    """`_guarded`, and a stdio server's failure says what the program wrote to stderr."""
    try:
        return await _guarded(server, work, seconds, statuses)
    except McpError as exc:
        if stderr is None:
            raise
        raise McpError(f"{exc}{mcp_stdio.stderr_tail(stderr, server.secrets())}") from exc


async def _with_auth(server: McpServerConfig, policy: EgressPolicy, work: Any) -> Any:
    """`work` with the auth headers of the moment. A 401 means the token went stale early
    (revoked, or clocks disagree): once more with a renewed one, since nothing ran."""
    assert server.auth is not None
    for renew in (False, True):
        headers = await server.auth.headers(policy, renew=renew)
        try:
            return await work(replace(server, headers={**server.headers, **headers}, auth=None))
        except (McpError, ToolFailure) as exc:
            if renew or not isinstance(exc if isinstance(exc, McpError) else exc.__cause__, McpCredentialsRefused):
                raise


async def _guarded(server: McpServerConfig, work: Any, seconds: float, statuses: list[int]) -> Any:
    """Run `work` within `seconds`; every failure becomes one McpError sentence."""
    late = f"{server.name} did not answer within {seconds:g} s."
    try:
        async with asyncio.timeout(seconds + 1):
            return await work
    except TimeoutError as exc:
        raise McpError(late) from exc
    except Exception as exc:
        chain = _chain(exc)
        refused = next((str(e) for e in chain if str(e).startswith("Refused")), None)
        if refused:
            raise McpError(f"{server.name}: {refused}.") from exc
        if any(code in (401, 403) for code in statuses):
            kind = McpCredentialsRefused if 401 in statuses else McpError
            raise kind(f"{server.name} refused the credentials (HTTP {statuses[-1]}).") from exc
        if any(_is_timeout(e) for e in chain):  # before statuses: SSE's stream may end in a 404 after it
            raise McpError(late) from exc
        if statuses:
            raise McpError(f"{server.name} answered HTTP {statuses[-1]}.") from exc
        connect = next((e for e in chain if "Connect" in type(e).__name__), None)
        if connect is not None:
            raise McpError(f"Could not connect to {server.name}: {connect}.") from exc
        leaf = next((e for e in chain if not isinstance(e, BaseExceptionGroup) and str(e)), exc)
        raise McpError(f"{server.name}: {type(leaf).__name__}: {str(leaf)[:200]}") from exc


def _chain(exc: BaseException) -> list[BaseException]:
    """An exception with its causes and the members of its (anyio) exception groups."""
    seen: list[BaseException] = []
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if any(current is e for e in seen):
            continue
        seen.append(current)
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)
        stack.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return seen


def _is_timeout(exc: BaseException) -> bool:
    return (isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__
            or (isinstance(exc, asyncio.CancelledError) and "deadline" in str(exc)))  # fmt: skip
