"""The MCP test server, shared by the module's tests (it starts in about a tenth of a second)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures.mcp_server import McpTestServer, mcp_server_fixture


@pytest.fixture(scope="module")
def mcp_server() -> Iterator[McpTestServer]:
    yield from mcp_server_fixture()
