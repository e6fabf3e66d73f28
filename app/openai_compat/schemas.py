"""The /v1 shapes for the API document: what OpenAI's clients send and get back.

Requests are parsed by convert.parse_chat_request, which accepts what OpenAI's API accepts
(unknown members included, as clients send many); these models describe that contract.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TextPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] = Field(description="Text, or a list of text parts.")


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, description="An agent's slug (see GET /v1/models).")
    messages: list[ChatMessage] = Field(min_length=1, description="The last one must come from the user.")
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    stop: str | list[str] | None = None
    user: str | None = None


class CompletionMessage(BaseModel):
    role: Literal["assistant"]
    content: str


class Choice(BaseModel):
    index: int
    finish_reason: str | None
    message: CompletionMessage


class CompletionUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class NovaStatus(BaseModel):
    status: str
    run_id: str
    thread_url: str


class ChatCompletion(BaseModel):
    """Streamed (`stream: true`), the same content arrives as `chat.completion.chunk` events."""

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[Choice]
    usage: CompletionUsage | None = None
    nova: NovaStatus | None = Field(None, description="Present when the run waits for the user in Nova.")


class ModelCard(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str
    name: str


class ModelList(BaseModel):
    object: Literal["list"]
    data: list[ModelCard]
