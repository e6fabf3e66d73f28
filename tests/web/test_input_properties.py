"""Random text, numbers and headers through every form and API route, on both databases.

Each example sweeps every route of the app (walked like test_route_access does) with its
own random query, headers and body. Properties: never a 5xx, and a refused request (4xx)
leaves every table exactly as it was: nothing half-written.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.db import Base
from app.memory import service as memories
from app.models import CustomTool, Role, Run, RunStatus
from app.tokens import service as tokens
from tests.fixtures.factories import make_agent, make_finished_run, make_provider, make_thread
from tests.fixtures.llm_server import ScriptedLLM
from tests.fixtures.nova import Client, Nova, csrf_for, nova_settings
from tests.test_route_access import PUBLIC, Endpoint
from tests.web.test_bad_input import multipart

pytestmark = pytest.mark.both_databases  # NUL and PostgreSQL: the dialect matters

# Requests that end the caller's session or remove a seeded row get ids that match nothing,
# so the sweep keeps its rows; their bodies and headers are still random.
DESTRUCTIVE = ("delete", "revoke", "suspend", "reactivate", "remove")
ANONYMOUS_ONLY = {"accounts:logout"}
# Columns that a refused request may still touch, on purpose.
VOLATILE = {("api_tokens", "last_used_at")}

NASTY = ["\x00", "\ud800", "\udfff", "²", "١٢", "\U0001d7d9", "\u202e", "\ufeff", "\r\n", "%00", "%ED%A0%80",
         "' OR 1=1 --", "<script>", "{{7*7}}", "../..", "http://[::1", "http://h:99999", "\x7f", "é", " ",
         "http://127.0.0.1:1/v1", "Europe/Paris", "calendar", "on", "approve", "write", "admin"]  # fmt: skip
LONG = ["t" * 300, "t" * 5000, "x" * 150_000, "9" * 5000]
ODD_NUMBERS = ["²", "1²", "١٢", "0x10", "1e3", " 7", "7 ", "+1", "-1", "", "9" * 25, "NaN", "inf", "1_000", "0"]

texts = st.one_of(
    st.text(max_size=30),
    st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=4)), min_size=1, max_size=5).map("".join),
    st.sampled_from(LONG),
)
numbers = st.one_of(st.integers(-(2**70), 2**70).map(str), st.sampled_from(ODD_NUMBERS))
values = st.one_of(texts, numbers)
short_values = values.filter(lambda value: len(value) < 6000)  # httpx refuses URLs over 64 KiB
header_values = st.one_of(
    st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
    numbers.map(lambda n: n.encode("utf-8")),
    st.sampled_from([b"", b"true", b"Bearer", b"Bearer \xff", b"\x00", b"x" * 9000]),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), values),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(values, inner, max_size=3)),
    max_leaves=8,
)
FORM_FIELDS = [
    "email", "password", "next", "invite_code", "current_password", "new_password", "confirm_password", "title",
    "content", "agent_id", "decision", "answer", "answer_text", "name", "kind", "base_url", "api_key",
    "default_model", "max_context_tokens", "system", "instructions", "provider_id", "model", "temperature",
    "recursion_limit", "is_default", "usable_as_tool", "tool_description", "tools", "ask_first", "subagents",
    "scope", "timezone", "url", "username", "role", "days", "dotted_path",
]  # fmt: skip
JSON_FIELDS = ["content", "agent", "title", "answer", "approve", "model", "messages", "stream", "stream_options"]
QUERY_FIELDS = ["page", "after", "q", "code", "next", "stream"]
HEADERS = ["last-event-id", "hx-request", "hx-boosted", "x-nova-thread-id", "user-agent", "x-csrf-token", "cookie"]
# Sent rarely: a random Origin or Sec-Fetch-Site makes most forms a CSRF refusal.
RARE_HEADERS = ["origin", "sec-fetch-site", "host", "content-type"]
# A dotted path is imported: random ones are kept from naming a real module.
DOTTED_PATHS = st.one_of(
    st.sampled_from([".a", "..a", "a..b", "a.", ".", "json.", "\x00.x"]), texts.map("zz_fuzz".__add__)
)


@dataclass
class Sweep:
    nova: Nova
    owner: Client
    anonymous: Client
    csrf: dict[str, str]  # the token each client's pages carry
    ids: dict[str, uuid.UUID]
    token: str
    slug: str
    endpoints: list[Endpoint]


@pytest.fixture
async def sweep(database_url: str, tmp_path: Path, llm: ScriptedLLM) -> AsyncIterator[Sweep]:
    from app.main import create_app

    app = create_app(nova_settings(database_url, tmp_path, NOVA_SSE_MAX_LIFETIME_SECONDS="2"))
    async with app.router.lifespan_context(app):
        nova = Nova(app=app, ctx=app.state.ctx)
        try:
            yield await _seed(nova, llm)
        finally:
            await _settle(nova)
            await nova.wipe()


async def _seed(nova: Nova, llm: ScriptedLLM) -> Sweep:
    owner = await nova.create_user("owner@example.com", role=Role.ADMIN)
    provider = await make_provider(nova, owner.id, llm.base_url)
    agent = await make_agent(nova, owner.id, provider)
    thread = await make_thread(nova, owner.id)
    run = await make_finished_run(nova, thread, agent)
    async with nova.ctx.db.transaction() as session:
        memory = await memories.save(session, owner.id, "The owner likes tea.")
        custom = CustomTool(dotted_path="json.dumps", created_by_id=owner.id)
        session.add(custom)
        issued = await tokens.create_token(session, owner.id, "sweep", "write")
    async with nova.ctx.db.transaction() as session:
        token_id = (await tokens.list_tokens(session, owner.id))[0].id
    ids = {"provider_id": provider.id, "agent_id": agent.id, "thread_id": thread.id, "token_id": token_id,
           "user_id": owner.id, "run_id": run.id, "memory_id": memory.id, "tool_id": custom.id}  # fmt: skip
    client = await nova.login("owner@example.com")
    await client.get("/threads")  # pages create the default agent once: not during the sweep
    anonymous = nova.client()
    csrf = {"owner": await csrf_for(client), "anonymous": await csrf_for(anonymous)}
    endpoints = [
        Endpoint(route.name, method, route.path)
        for route in nova.app.routes
        if getattr(route, "methods", None)
        for method in sorted(route.methods - {"HEAD"})  # type: ignore[attr-defined]
    ]
    return Sweep(nova, client, anonymous, csrf, ids, issued.secret, agent.slug, endpoints)


@st.composite
def requests(draw: st.DrawFn, sweep: Sweep, endpoint: Endpoint) -> dict[str, Any]:
    """Method, URL, headers and body for one call of `endpoint`, from random input."""
    destructive = any(word in endpoint.name for word in DESTRUCTIVE)
    path = endpoint.path.replace(
        "{group:str}",
        quote(draw(st.sampled_from(["calendar", "web_search"]) | short_values), safe="", errors="surrogatepass"),
    )
    for name, value in sweep.ids.items():
        path = path.replace(f"{{{name}:uuid}}", str(uuid.uuid4() if destructive else value))
    query = draw(st.dictionaries(st.sampled_from(QUERY_FIELDS), short_values, max_size=3))
    headers: dict[str, bytes] = draw(st.dictionaries(st.sampled_from(HEADERS), header_values, max_size=3))
    if draw(st.integers(0, 4)) == 0:
        headers |= draw(st.dictionaries(st.sampled_from(RARE_HEADERS), header_values, min_size=1, max_size=2))
    if endpoint.is_api:
        token = draw(st.sampled_from([sweep.token.encode()] * 4 + [b"", b"nova_" + b"x" * 40]) | header_values)
        headers["authorization"] = b"Bearer " + token
        if endpoint.path.startswith("/v1/"):
            headers["x-nova-thread-id"] = draw(st.sampled_from([str(sweep.ids["thread_id"]).encode()]) | header_values)
    body: bytes | None = None
    if endpoint.method != "GET" and endpoint.is_api:
        body = draw(_json_bodies(sweep))
        headers.setdefault("content-type", b"application/json")
    elif endpoint.method != "GET":
        fields = draw(st.dictionaries(st.sampled_from(FORM_FIELDS), values, max_size=6))
        if "dotted_path" in fields:
            fields["dotted_path"] = draw(DOTTED_PATHS)
        csrf = sweep.csrf["anonymous" if _is_anonymous(endpoint) else "owner"]
        charset = draw(st.sampled_from([None, None, "utf-8", "utf-7"]))  # UTF-7 can carry lone surrogates
        if charset is None:
            body = urlencode(fields | {"csrf_token": csrf}, encoding="utf-8", errors="surrogatepass").encode()
            headers.setdefault("content-type", b"application/x-www-form-urlencoded")
        else:
            encoded = {
                k.encode(charset, "surrogatepass"): v.encode(charset, "surrogatepass") for k, v in fields.items()
            }
            body = multipart(encoded | {b"csrf_token": csrf.encode()})
            headers.setdefault(
                "content-type", f"multipart/form-data; boundary=nova-boundary; charset={charset}".encode()
            )
        headers.pop("cookie", None)  # a form without its session and CSRF cookies only tests CSRF
    return {"method": endpoint.method, "url": path + ("?" + _query(query) if query else ""),
            "headers": headers, "content": body}  # fmt: skip


def _query(query: dict[str, str]) -> str:
    return urlencode(query, encoding="utf-8", errors="surrogatepass")


def _json_bodies(sweep: Sweep) -> st.SearchStrategy[bytes]:
    message = st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "system", "assistant", "developer"]) | texts},
        optional={"content": values | st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": values}))},
    )
    known = st.fixed_dictionaries(
        {},
        optional={
            "content": values, "agent": st.sampled_from([sweep.slug]) | values, "title": values, "answer": values,
            "approve": st.booleans() | json_values, "model": st.sampled_from([sweep.slug]) | values,
            "messages": st.lists(message, max_size=3) | json_values, "stream": st.booleans(),
        },
    )  # fmt: skip
    documents = st.one_of(known, st.dictionaries(st.sampled_from(JSON_FIELDS) | values, json_values, max_size=4))
    return st.one_of(
        documents.map(lambda doc: json.dumps(doc).encode()),  # ensure_ascii: lone surrogates as \ud800
        json_values.map(lambda doc: json.dumps(doc).encode()),
        st.binary(max_size=30),
        st.integers(33, 60_000).map(lambda depth: b'{"content": ' + b"[" * depth + b"]" * depth + b"}"),
    )


async def _settle(nova: Nova) -> None:
    """Wait until no run is being written, so only the request under test changes tables."""
    for _ in range(200):
        async with nova.ctx.db.transaction() as session:
            busy = await session.scalar(
                select(func.count()).select_from(Run).where(Run.status.in_([RunStatus.QUEUED, RunStatus.RUNNING]))
            )
        if not busy:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("runs did not finish")


async def _tables(nova: Nova) -> dict[str, list[tuple[Any, ...]]]:
    found = {}
    async with nova.ctx.db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE]
            rows = (await session.execute(select(*columns))).all()
            found[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    return found


def _is_anonymous(endpoint: Endpoint) -> bool:
    return endpoint.name in PUBLIC or endpoint.name in ANONYMOUS_ONLY


async def _call(sweep: Sweep, endpoint: Endpoint, request: dict[str, Any]) -> httpx.Response:
    client = sweep.anonymous if _is_anonymous(endpoint) else sweep.owner
    return await client.request(**request)


@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI never fails by chance
    database=None,  # nothing written into the working tree; failures print their example
    # Each example carries state to the next, so replaying to shrink or explain one is slow
    # and inexact; the failing request is in the assertion message.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
async def test_random_input_on_every_route_never_5xx_nor_half_writes(sweep: Sweep, data: st.DataObject) -> None:
    assert len(sweep.endpoints) > 40
    await _settle(sweep.nova)
    tables = await _tables(sweep.nova)
    for endpoint in sweep.endpoints:
        request = data.draw(requests(sweep, endpoint), label=endpoint.name)
        response = await _call(sweep, endpoint, request)
        assert response.status_code < 500, (endpoint, request, response.status_code, response.text[:500])
        if endpoint.method == "GET":
            continue  # reading pages writes nothing (the default agent was made before the sweep)
        await _settle(sweep.nova)
        after = await _tables(sweep.nova)
        if 400 <= response.status_code < 500:
            assert after == tables, (endpoint, request, response.status_code)
        tables = after
