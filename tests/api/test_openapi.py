"""The API's OpenAPI document: complete, consistent with the guards, and kept by a real server.

The conformance run is Schemathesis (its CLI, as a user would run it) against `nova serve`:
positive and negative cases for every operation, every response checked against the
document, and never a 5xx. Its `positive_data_acceptance` check is left out: a request can
fit the schema and still name something that is not there (an agent slug, a cursor), and
the honest answer to that is a 422 naming the field.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from starlette.routing import Route

from app.main import create_app
from app.models import Role, User
from app.tokens import service as tokens
from app.web.openapi import contract_of
from app.web.paths import is_api_path
from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM
from tests.fixtures.nova import Nova

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CONFIG = Path(__file__).with_name("schemathesis.toml")
# Served about the API rather than part of it; /mcp speaks MCP (JSON-RPC), not REST (README: API);
# /metrics is Prometheus's text format (README: Operations).
UNDOCUMENTED = {"api:openapi", "mcp:endpoint", "health:metrics"}


def api_routes() -> list[Route]:
    app = create_app()
    return [r for r in app.routes if isinstance(r, Route) and is_api_path(r.path) and r.name not in UNDOCUMENTED]


def test_every_api_route_declares_its_contract() -> None:
    missing = [route.path for route in api_routes() if contract_of(route) is None]
    assert not missing, f"routes without @operation: {missing}"


def test_each_contract_names_the_scope_its_guard_checks() -> None:
    for route in api_routes():
        contract = contract_of(route)
        assert contract is not None
        methods = (route.methods or set()) - {"HEAD"}
        if route.name.startswith("api:admin:"):
            expected = "admin"
        else:
            expected = "read" if methods <= {"GET"} else "write"
        assert contract.scope == expected, route.name


async def test_the_document_lists_every_operation(nova: Nova) -> None:
    async with nova.client() as client:
        response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"] == "3.1.0"
    for route in api_routes():
        path = route.path.replace(":uuid", "").replace(":str", "")
        for method in (route.methods or set()) - {"HEAD"}:
            operation = document["paths"][path][method.lower()]
            assert operation["responses"], route.name
    chat = document["paths"]["/v1/chat/completions"]["post"]
    assert set(chat["responses"]["200"]["content"]) == {"application/json", "text/event-stream"}
    assert "application/json" in chat["responses"]["400"]["content"]  # OpenAI's error shape on /v1
    thread = document["paths"]["/api/v1/threads/{thread_id}"]["get"]
    assert "application/problem+json" in thread["responses"]["404"]["content"]


async def test_the_docs_page_renders_the_document_offline(nova: Nova) -> None:
    async with nova.client() as client:
        page = await client.get("/docs/api")
        assert page.status_code == 200
        assert "/api/v1/openapi.json" in page.text
        for asset in ("swagger-ui-bundle-5.35.0.js", "swagger-ui-5.35.0.css", "api-docs.js"):
            assert asset in page.text
            assert (await client.get(f"/static/{'vendor/' if 'swagger' in asset else ''}{asset}")).status_code == 200
        assert "https://" not in (await client.get("/static/api-docs.js")).text


@pytest.fixture(scope="module")
def live_settings() -> dict[str, str]:
    """Schemathesis sends a few thousand requests: far above the default API limits."""
    return {"NOVA_API_REQUESTS_PER_WINDOW": "1000000", "NOVA_API_USER_REQUESTS_PER_WINDOW": "1000000",
            "NOVA_RUN_STARTS_PER_WINDOW": "1000000"}  # fmt: skip


async def admin_token(live: LiveNova) -> str:
    """The seeded user made an administrator, with an admin token: every operation is open to it."""
    async with live.db.transaction() as session:
        user = await session.get(User, live.user_id)
        assert user is not None
        user.role = Role.ADMIN
        return (await tokens.create_token(session, user.id, "conformance", "admin")).secret


@pytest.mark.live
async def test_a_real_server_keeps_its_document(embedded_server: LiveNova, llm: ScriptedLLM, tmp_path: Path) -> None:
    user = await embedded_server.as_new_user(llm.base_url)
    token = await admin_token(user)
    async with httpx.AsyncClient(base_url=user.url) as client:
        assert (await client.get("/api/v1/openapi.json")).status_code == 200
    command = [
        str(SCHEMATHESIS), "--config-file", str(CONFIG), "run", f"{user.url}/api/v1/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--checks", "all", "--exclude-checks", "positive_data_acceptance", "--mode", "all", "--max-examples", "3", "--seed", "20261130",
        "--phases", "examples,coverage,fuzzing", "--generation-database", "none",
        "--workers", "1", "--no-color", "--request-timeout", "20",
        "--exclude-path", "/api/v1/runs/{run_id}/events",  # a stream: followed by the runs tests
        "--exclude-operation-id", "api_revoke_token",  # it finds and revokes its own token
    ]  # fmt: skip
    result = await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, timeout=240, cwd=tmp_path, check=False
    )
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
