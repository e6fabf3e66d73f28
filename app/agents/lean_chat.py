"""A langchain chat model for OpenAI-compatible servers that reads the stream raw.

The agent loop stays LangGraph's; only the per-token path is Nova's: the response's SSE
lines are parsed with orjson and every network read becomes one chunk (text and tool-call
pieces merged), instead of an SDK object, a pydantic validation and a langchain chunk per
token. Subclassing `BaseChatModel` is langchain's documented way to add a model.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import httpx
import orjson
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.chat_models import BaseChatModel, agenerate_from_stream, generate_from_stream
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, convert_to_openai_messages
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, SecretStr

from app.agents.chat_stream import ChatStreamParser, StreamDelta
from app.egress import EgressPolicy
from app.egress.transport import GuardedTransport, shared_async_transport

# Request options a caller may bind (langchain passes its own bookkeeping kwargs too).
REQUEST_OPTIONS = ("tools", "tool_choice", "parallel_tool_calls", "response_format", "max_tokens", "seed")


class LeanChatOpenAI(BaseChatModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_name: str
    base_url: str
    api_key: SecretStr | None = None
    temperature: float | None = None
    timeout: float = 120.0
    # A user's own provider is reached only through the egress guard; None: a system provider.
    egress: EgressPolicy | None = None
    # After a chunk, reads are merged for this long before the next (the first goes at once).
    read_window_seconds: float = 0.0
    max_tokens: int | None = None
    stop: list[str] | None = None

    @property
    def _llm_type(self) -> str:
        return "nova-openai-compatible"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "base_url": self.base_url}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Any],
        *,
        tool_choice: str | dict[str, Any] | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        formatted = [convert_to_openai_tool(tool, strict=strict) for tool in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = _tool_choice(tool_choice)
        return self.bind(tools=formatted, **kwargs)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        transport = shared_async_transport(self.egress, self.base_url)
        async with (
            httpx.AsyncClient(
                transport=transport, trust_env=self.egress is None, timeout=self._timeout(), follow_redirects=True
            ) as client,
            client.stream(
                "POST", self._url(), content=self._body(messages, stop, kwargs), headers=self._headers()
            ) as response,
        ):
            if not response.is_success:
                await response.aread()
                response.raise_for_status()
            parser = ChatStreamParser()
            async for data in _batched(response.aiter_bytes(), self.read_window_seconds):
                if chunk := _chunk(parser.feed(data)):
                    yield chunk
                if parser.done:
                    return
            if chunk := _chunk(parser.close()):
                yield chunk
            parser.check_complete()

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        # Runs are async; this serves langchain's sync API the same way.
        transport = GuardedTransport(self.egress) if self.egress is not None else None
        with (
            httpx.Client(
                transport=transport, trust_env=self.egress is None, timeout=self._timeout(), follow_redirects=True
            ) as client,
            client.stream(
                "POST", self._url(), content=self._body(messages, stop, kwargs), headers=self._headers()
            ) as response,
        ):
            if not response.is_success:
                response.read()
                response.raise_for_status()
            parser = ChatStreamParser()
            for data in response.iter_bytes():
                if chunk := _chunk(parser.feed(data)):
                    yield chunk
                if parser.done:
                    return
            if chunk := _chunk(parser.close()):
                yield chunk
            parser.check_complete()

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return await agenerate_from_stream(self._astream(messages, stop, run_manager, **kwargs))

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))

    def _url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"

    def _timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0))

    def _headers(self) -> dict[str, str]:
        # Local servers (llama.cpp, vLLM...) often need no key; none is sent then.
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.api_key is not None and self.api_key.get_secret_value():
            headers["Authorization"] = f"Bearer {self.api_key.get_secret_value()}"
        return headers

    def _body(self, messages: list[BaseMessage], stop: list[str] | None, options: dict[str, Any]) -> bytes:
        body: dict[str, Any] = {
            "model": self.model_name,
            "messages": convert_to_openai_messages(messages),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        if stop or self.stop:
            body["stop"] = stop or self.stop
        body.update({key: options[key] for key in REQUEST_OPTIONS if options.get(key) is not None})
        return orjson.dumps(body)


_END = object()


async def _batched(reads: AsyncIterator[bytes], window: float = 0.0) -> AsyncIterator[bytes]:
    """The body as it arrives, each time with everything that came while the caller was busy.

    A task reads the socket into a queue, so while langchain and LangGraph handle one chunk
    (their per-chunk cost is far above the parse) the next reads pile up and become one
    chunk. A read after a quiet spell goes out at once; one that follows a chunk by less
    than `window` waits out the window with whatever else comes (a paced model's tokens).
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue()
    last_yield = -window

    async def pump() -> None:
        try:
            async for data in reads:
                queue.put_nowait(data)
            queue.put_nowait(_END)
        except Exception as exc:  # handed to the reader, which raises it
            queue.put_nowait(exc)

    reader = asyncio.create_task(pump())
    try:
        while True:
            batch = [await queue.get()]
            if (rest := last_yield + window - loop.time()) > 0 and isinstance(batch[0], bytes):
                await asyncio.sleep(rest)
            while not queue.empty():
                batch.append(queue.get_nowait())
            data = b"".join(item for item in batch if isinstance(item, bytes))
            if data:
                yield data
                last_yield = loop.time()
            for item in batch:
                if item is _END:
                    return
                if isinstance(item, Exception):
                    raise item
    finally:
        reader.cancel()
        await asyncio.wait([reader])


def _chunk(delta: StreamDelta) -> ChatGenerationChunk | None:
    if not delta:
        return None
    metadata: dict[str, Any] = {}
    if delta.finish_reason:
        # Only on the last chunk: langchain concatenates string metadata across chunks.
        metadata = {"finish_reason": delta.finish_reason, "model_name": delta.model or ""}
    usage = delta.usage or {}
    message = AIMessageChunk(
        content="".join(delta.text),
        tool_call_chunks=[
            tool_call_chunk(name=call.name or None, args=call.args, id=call.id, index=call.index)
            for call in delta.tool_calls.values()
        ],
        usage_metadata={
            "input_tokens": usage.get("prompt_tokens", 0),
            "output_tokens": usage.get("completion_tokens", 0),
            "total_tokens": usage.get("total_tokens", 0),
        }
        if usage
        else None,
        # No id: langchain gives each call its own (a provider may reuse its response ids,
        # and LangGraph's message list replaces messages that share an id).
        response_metadata=metadata,
        chunk_position="last" if delta.finish_reason else None,
    )
    return ChatGenerationChunk(message=message, generation_info=metadata or None)


def _tool_choice(choice: str | dict[str, Any]) -> str | dict[str, Any]:
    """langchain's names ("any", a tool's name) in the API's terms."""
    if isinstance(choice, dict) or choice in ("auto", "none", "required"):
        return choice
    if choice == "any":
        return "required"
    return {"type": "function", "function": {"name": choice}}
