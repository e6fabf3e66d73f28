"""Build the agent graph for a run and stream its reply, its steps and any pause."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from langchain.agents import create_agent
from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.outputs import LLMResult
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command

from app.agents.errors import ProviderFailure, classify
from app.agents.history import fit_history
from app.agents.llm import build_chat_model
from app.agents.spec import AgentSpec, Paused, Turn, Usage
from app.agents.tools.context import Emit
from app.events.types import EventType


@dataclass(frozen=True)
class GraphSession:
    """Where the graph keeps its state between a pause and the resume."""

    checkpointer: BaseCheckpointSaver[Any]
    thread_key: str


async def stream_reply(
    spec: AgentSpec,
    turns: Sequence[Turn],
    *,
    tools: Sequence[BaseTool] = (),
    session: GraphSession | None = None,
    resume: Any = None,
    emit: Emit | None = None,
    continue_from_checkpoint: bool = False,
    interrupt_id: str | None = None,
    summary: str | None = None,
) -> AsyncIterator[str | Usage | Paused]:
    """Text deltas as the model writes them, its token usage, and a Paused if it waits.

    `summary` stands for the turns before `turns` (app/agents/summaries.py).

    Raises ProviderFailure for anything the provider did wrong.
    """
    model = build_chat_model(
        spec.provider, temperature=spec.temperature, stream_window=spec.stream_window_seconds,
        max_tokens=spec.max_tokens, stop=spec.stop,
    )  # fmt: skip
    graph = create_agent(model, tools=list(tools), checkpointer=session.checkpointer if session else None)
    config = RunnableConfig(recursion_limit=spec.recursion_limit)
    if session is not None:
        config["configurable"] = {"thread_id": session.thread_key}
    if emit is not None:
        steps = ModelSteps(emit, spec.provider.model, spec.provider.kind)
        config["callbacks"], config["metadata"] = [steps], {ModelSteps.KEY: steps.key}
    graph_input: Any
    if continue_from_checkpoint and session is not None:
        graph_input = None  # a retry: go on from the last step the checkpointer saved
    elif resume is not None:
        graph_input = Command(resume=resume)
        if interrupt_id:
            graph_input = Command(resume={interrupt_id: resume})
    else:
        graph_input = {"messages": fit_history(spec.instructions, turns, spec.provider.max_context_tokens, summary)}
    usage = Usage(0, 0)
    try:
        async for mode, payload in graph.astream(cast(Any, graph_input), config, stream_mode=["messages", "updates"]):
            if mode == "updates" and isinstance(payload, dict) and "__interrupt__" in payload:
                first = payload["__interrupt__"][0]
                yield Paused(dict(first.value), getattr(first, "id", None))
                return
            if mode != "messages":
                continue
            chunk = payload[0] if isinstance(payload, tuple) else payload
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
        from langgraph.errors import GraphRecursionError

        if isinstance(exc, GraphRecursionError):
            raise ProviderFailure(
                f"The agent took more than {spec.recursion_limit} steps and was stopped.",
                False, "recursion",
            ) from exc  # fmt: skip
        raise classify(exc, spec.provider.base_url, spec.provider.model) from exc
    if usage.prompt_tokens or usage.completion_tokens:
        yield usage


def _text_of(chunk: AIMessage) -> str:
    content = chunk.content
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)


async def saved_reply_text(session: GraphSession) -> str | None:
    """The reply's text as of the last step the checkpointer saved; None if nothing was saved.

    A run that continues from its checkpoint (its worker died, or a provider call failed)
    starts over from this text, and repeats no step that was saved.
    """
    config = RunnableConfig(configurable={"thread_id": session.thread_key})
    saved = await session.checkpointer.aget_tuple(config)
    if saved is None:
        return None
    messages = saved.checkpoint.get("channel_values", {}).get("messages", [])
    since_question: list[str] = []
    for message in messages:
        if isinstance(message, HumanMessage):
            since_question = []
        elif isinstance(message, AIMessage):
            since_question.append(_text_of(message))
    return "".join(since_question)


class ModelSteps(AsyncCallbackHandler):
    """Each model call as a trace step: duration and tokens."""

    # A sub-agent's graph inherits its caller's callbacks: each graph's metadata names its own
    # handler, which alone reports the call (else the caller's counts it too, as its own).
    KEY = "nova_model_steps"

    def __init__(self, emit: Emit, model: str = "", provider: str = "") -> None:
        self.emit = emit
        self.model = model  # the trace names the model of each call
        self.provider = provider  # and the kind of provider (metrics count tokens by both)
        self.key = uuid.uuid4().hex
        self.started: dict[uuid.UUID, float] = {}

    async def on_chat_model_start(self, serialized: dict[str, Any], messages: Any, *, run_id: uuid.UUID,
                                  metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:  # fmt: skip
        if (metadata or {}).get(self.KEY, self.key) == self.key:
            self.started[run_id] = time.monotonic()

    async def on_llm_end(self, response: LLMResult, *, run_id: uuid.UUID, **kwargs: Any) -> None:
        began = self.started.pop(run_id, None)
        if began is None:
            return  # another graph's call (a sub-agent's), reported by its own handler
        tokens = (response.llm_output or {}).get("token_usage") or {}
        usage = _usage_of(response) or tokens
        await self.emit(EventType.MODEL_FINISHED, {
            "duration_ms": int((time.monotonic() - began) * 1000), "model": self.model, "provider": self.provider,
            "prompt_tokens": usage.get("input_tokens", usage.get("prompt_tokens")),
            "completion_tokens": usage.get("output_tokens", usage.get("completion_tokens")),
        })  # fmt: skip


def _usage_of(response: LLMResult) -> dict[str, Any] | None:
    for generations in response.generations:
        for generation in generations:
            message = getattr(generation, "message", None)
            usage = getattr(message, "usage_metadata", None)
            if usage:
                return dict(usage)
    return None
