"""Web search (SearXNG's JSON API) and web fetch, both through the egress guard."""

from __future__ import annotations

import asyncio
import json

import trafilatura
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from app.agents.tools.context import ToolContext, ToolFailure
from app.egress import EgressError, EgressRefused, fetch

MAX_PAGE_CHARS = 20_000
MAX_PAGE_BYTES = 3_000_000
USER_AGENT = "Nova/0.1 (self-hosted assistant; +https://github.com)"


class SearchArguments(BaseModel):
    query: str = Field(description="What to search the web for.")


class FetchArguments(BaseModel):
    url: str = Field(description="The http(s) address of the page to read.")


def web_search(ctx: ToolContext) -> BaseTool:
    async def search(query: str) -> str:
        base = (ctx.env.search_url or "").rstrip("/")
        params = {"q": query, "format": "json"}
        try:
            response = await fetch(ctx.egress, "GET", f"{base}/search", params=params,
                                   headers={"Accept": "application/json"}, max_bytes=2_000_000)  # fmt: skip
        except (EgressRefused, EgressError) as exc:
            raise ToolFailure(str(exc)) from exc
        if response.status != 200:
            raise ToolFailure(f"The search service answered HTTP {response.status}.")
        try:
            results = json.loads(response.body).get("results", [])
        except (ValueError, AttributeError) as exc:
            raise ToolFailure("The search service did not answer with JSON results.") from exc
        lines = [
            f"{n}. {r.get('title', '').strip()}\n   {r.get('url', '')}\n   {(r.get('content') or '').strip()[:300]}"
            for n, r in enumerate(results[: ctx.env.search_results], start=1)
        ]
        return "\n".join(lines) or f"No results for “{query}”."

    return StructuredTool.from_function(
        coroutine=search, name="web_search", args_schema=SearchArguments,
        description="Search the web. Returns titles, addresses and snippets; read a page with web_fetch.",
    )  # fmt: skip


def web_fetch(ctx: ToolContext) -> BaseTool:
    async def read(url: str) -> str:
        try:
            response = await fetch(ctx.egress, "GET", url, headers={"User-Agent": USER_AGENT},
                                   max_bytes=MAX_PAGE_BYTES)  # fmt: skip
        except (EgressRefused, EgressError) as exc:
            raise ToolFailure(str(exc)) from exc
        if response.status >= 400:
            raise ToolFailure(f"{url} answered HTTP {response.status}.")
        kind = response.headers.get("content-type", "")
        if "html" in kind or not kind:
            text = await asyncio.to_thread(trafilatura.extract, response.text(), url=response.url)
        else:
            text = response.text() if kind.startswith(("text/", "application/json")) else None
        if not text:
            raise ToolFailure(f"{url} has no readable text ({kind or 'unknown type'}).")
        if len(text) > MAX_PAGE_CHARS:
            text = text[:MAX_PAGE_CHARS] + "\n[… page truncated]"
        return f"{response.url}\n\n{text}"

    return StructuredTool.from_function(
        coroutine=read, name="web_fetch", args_schema=FetchArguments,
        description="Read a web page and return its main text.",
    )  # fmt: skip
