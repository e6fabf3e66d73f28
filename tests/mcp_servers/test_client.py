"""The MCP client against a real fastmcp server: both transports, every kind of sign-in, failures."""

from __future__ import annotations

import time

import pytest

from app.agents.tools.context import ToolFailure
from app.agents.tools.mcp import (
    McpError,
    McpServerConfig,
    auth_headers,
    call_tool,
    list_tools,
    model_name,
    validate_arguments,
)
from app.egress import EgressPolicy
from tests.fixtures.mcp_server import API_KEY, BASIC, BEARER, MCP_HOST, McpTestServer

ALLOWED = EgressPolicy(allow=(MCP_HOST,))
SIGN_INS = {
    "bearer": auth_headers("bearer", {"token": BEARER}),
    "basic": auth_headers("basic", {"username": BASIC[0], "password": BASIC[1]}),
    "headers": auth_headers("headers", {"headers": {API_KEY[0]: API_KEY[1]}}),
}


def server(mcp: McpTestServer, transport: str = "http", sign_in: str = "bearer") -> McpServerConfig:
    url = mcp.sse_url if transport == "sse" else mcp.http_url
    return McpServerConfig("test-server", "Test server", transport, url, SIGN_INS.get(sign_in, {}))


@pytest.mark.parametrize("transport", ["http", "sse"])
async def test_tools_are_listed_and_called_with_each_sign_in(mcp_server: McpTestServer, transport: str) -> None:
    mcp_server.seen.clear()
    for sign_in in SIGN_INS:
        tools = {t.name: t for t in await list_tools(server(mcp_server, transport, sign_in), ALLOWED, 5)}
        assert set(tools) == {"add", "echo", "slow", "broken"}
        assert tools["add"].description == "Add two whole numbers."
        assert tools["add"].input_schema["required"] == ["a", "b"]
    assert mcp_server.kinds() == set(SIGN_INS)  # the server saw (and checked) each credential
    config = server(mcp_server, transport, "basic")
    assert await call_tool(config, ALLOWED, "add", {"a": 2, "b": 40}, 5) == "42"
    with_image = await call_tool(config, ALLOWED, "echo", {"text": "hi", "with_image": True}, 5)
    assert with_image.startswith("echo: hi") and "[image image/png, about" in with_image


@pytest.mark.parametrize("transport", ["http", "sse"])
async def test_failures_are_sentences_and_a_hung_tool_times_out(mcp_server: McpTestServer, transport: str) -> None:
    config = server(mcp_server, transport)
    with pytest.raises(ToolFailure, match="the broken tool broke"):
        await call_tool(config, ALLOWED, "broken", {}, 5)
    started = time.monotonic()
    with pytest.raises(ToolFailure, match="did not answer within 1 s"):
        await call_tool(config, ALLOWED, "slow", {"seconds": 30}, 1)
    assert time.monotonic() - started < 3
    assert await call_tool(config, ALLOWED, "add", {"a": 1, "b": 1}, 5) == "2"  # the server is fine
    with pytest.raises(McpError, match=r"refused the credentials \(HTTP 401\)"):
        await list_tools(server(mcp_server, transport, "none"), ALLOWED, 5)


@pytest.mark.parametrize("transport", ["http", "sse"])
async def test_private_addresses_are_refused_unless_allowed(mcp_server: McpTestServer, transport: str) -> None:
    mcp_server.seen.clear()
    with pytest.raises(McpError, match=f"Refused: {MCP_HOST} is a loopback address"):
        await list_tools(server(mcp_server, transport), EgressPolicy(), 5)
    with pytest.raises(ToolFailure, match="Refused"):
        await call_tool(server(mcp_server, transport), EgressPolicy(), "add", {"a": 1, "b": 2}, 5)
    metadata = McpServerConfig("m", "Metadata", transport, "http://169.254.169.254/mcp")
    with pytest.raises(McpError, match=r"Refused: 169\.254\.169\.254 is the cloud metadata address"):
        await list_tools(metadata, EgressPolicy(), 5)
    assert mcp_server.seen == []  # nothing was sent


def test_arguments_are_checked_against_the_schema() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"],
              "additionalProperties": False}  # fmt: skip
    assert validate_arguments(schema, {"a": 1}) is None
    assert validate_arguments(schema, {"a": "x"}) == "Invalid arguments at a: 'x' is not of type 'integer'"
    assert "'a' is a required property" in (validate_arguments(schema, {}) or "")
    assert validate_arguments({"type": "nonsense"}, {"a": 1}) is None  # a broken schema is the server's to judge


def test_model_facing_names_fit_every_provider() -> None:
    assert model_name("home", "get_state") == "mcp__home__get_state"
    assert model_name("home", "weird.name/with spaces") == "mcp__home__weird_name_with_spaces"
    long = model_name("a-very-long-server-slug-here", "an_extremely_long_tool_name_that_goes_on_and_on")
    assert len(long) == 64 and long != model_name("a-very-long-server-slug-here", "an_extremely_long_tool_name_x")
