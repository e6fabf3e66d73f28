"""Build the agent graph for a run and stream its reply."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from langchain.agents import create_agent
from langchain_core.messages import AIMessageChunk
from langchain_core.runnables import RunnableConfig

from app.agents.errors import ProviderFailure, classify
from app.agents.history import Turn, fit_history
from app.agents.llm import ProviderConfig, build_chat_model


@dataclass(frozen=True)
class AgentSpec:
    provider: ProviderConfig
    instructions: str
    temperature: float
    recursion_limit: int


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int


async def stream_reply(spec: AgentSpec, turns: Sequence[Turn]) -> AsyncIterator[str | Usage]:
    """Text deltas as the model writes them, then its token usage if reported.

    Raises ProviderFailure for anything the provider did wrong.
    """
    messages = fit_history(spec.instructions, turns, spec.provider.max_context_tokens)
    graph = create_agent(build_chat_model(spec.provider, temperature=spec.temperature), tools=[])
    usage = Usage(0, 0)
    try:
        async for chunk, _meta in graph.astream(
            cast(Any, {"messages": messages}),
            stream_mode="messages",
            config=RunnableConfig(recursion_limit=spec.recursion_limit),
        ):
            if not isinstance(chunk, AIMessageChunk):
                continue
            if text := _text_of(chunk):
                yield text
            if chunk.usage_metadata:
                usage = Usage(
                    usage.prompt_tokens + chunk.usage_metadata.get("input_tokens", 0),
                    usage.completion_tokens + chunk.usage_metadata.get("output_tokens", 0),
                )
    except ProviderFailure:
        raise
    except Exception as exc:
        raise classify(exc, spec.provider.base_url, spec.provider.model) from exc
    if usage.prompt_tokens or usage.completion_tokens:
        yield usage


def _text_of(chunk: AIMessageChunk) -> str:
    content = chunk.content
    if isinstance(content, str):
        return content
    return "".join(
        part.get("text", "") if isinstance(part, dict) else str(part) for part in content
    )
