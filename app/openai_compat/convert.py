"""OpenAI request and response shapes, to and from Nova's runs and events."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from app.errors import ValidationFailed
from app.events import RunEvent


@dataclass(frozen=True)
class ChatRequest:
    model: str
    stream: bool
    include_usage: bool
    system: str | None
    history: list[tuple[str, str]]  # earlier (role, content) turns
    prompt: str  # the last user message, which the run answers
    # temperature, max_tokens, stop and user, when sent: kept on the run, used for its reply.
    options: dict[str, Any]


def parse_chat_request(body: dict[str, Any]) -> ChatRequest:
    model, messages = body.get("model"), body.get("messages")
    if not isinstance(model, str) or not model:
        raise ValidationFailed({"model": "Name an agent slug as the model (see GET /v1/models)."})
    if not isinstance(messages, list) or not messages:
        raise ValidationFailed({"messages": "Send at least one message."})
    system: list[str] = []
    turns: list[tuple[str, str]] = []
    for message in messages:
        role, content = _role_and_text(message)
        if role in ("system", "developer"):
            system.append(content)
        elif role in ("user", "assistant"):
            turns.append((role, content))
    if not turns or turns[-1][0] != "user":
        raise ValidationFailed({"messages": "The last message must come from the user."})
    options = body.get("stream_options") or {}
    return ChatRequest(
        model=model,
        stream=bool(body.get("stream")),
        include_usage=bool(isinstance(options, dict) and options.get("include_usage")),
        system="\n\n".join(system) or None,
        history=turns[:-1],
        prompt=turns[-1][1],
        options=generation_options(body),
    )


MAX_STOP_SEQUENCES = 4


def generation_options(body: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's sampling fields, checked: each refusal names its field (OpenAI's `param`)."""
    options: dict[str, Any] = {}
    temperature = body.get("temperature")
    if temperature is not None:
        if isinstance(temperature, bool) or not isinstance(temperature, int | float) or not 0 <= temperature <= 2:
            raise ValidationFailed({"temperature": "temperature must be a number from 0 to 2."})
        options["temperature"] = float(temperature)
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1_000_000:
            raise ValidationFailed({"max_tokens": "max_tokens must be a whole number from 1 to 1,000,000."})
        options["max_tokens"] = limit
    stop = body.get("stop")
    if stop is not None:
        stops = [stop] if isinstance(stop, str) else stop
        if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops):
            raise ValidationFailed({"stop": "stop must be a string or a list of strings."})
        if len(stops) > MAX_STOP_SEQUENCES:
            raise ValidationFailed({"stop": f"Send at most {MAX_STOP_SEQUENCES} stop sequences."})
        if stops:
            options["stop"] = stops
    user = body.get("user")
    if user is not None:
        if not isinstance(user, str) or len(user) > 256:
            raise ValidationFailed({"user": "user must be a string of at most 256 characters."})
        options["user"] = user
    return options


def _role_and_text(message: Any) -> tuple[str, str]:
    if not isinstance(message, dict) or not isinstance(message.get("role"), str):
        raise ValidationFailed({"messages": "Each message needs a role and content."})
    content = message.get("content")
    if isinstance(content, list):  # content parts: keep the text ones
        texts = [part.get("text") for part in content if isinstance(part, dict) and part.get("type") == "text"]
        if not all(isinstance(text, str) for text in texts):
            raise ValidationFailed({"messages": "A text part's `text` must be a string."})
        content = "".join(str(text) for text in texts)
    if not isinstance(content, str):
        raise ValidationFailed({"messages": "Message content must be text."})
    return message["role"], content


def completion_id(run_id: str) -> str:
    return "chatcmpl-" + run_id.replace("-", "")


def chunk(run_id: str, model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": completion_id(run_id),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def usage_of(event: RunEvent) -> dict[str, int] | None:
    usage = event.data.get("usage")
    if not isinstance(usage, dict):
        return None
    prompt, completion = (
        int(usage.get("prompt_tokens") or 0),
        int(usage.get("completion_tokens") or 0),
    )
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def completion(run_id: str, model: str, event: RunEvent) -> dict[str, Any]:
    body = text_completion(run_id, model, str(event.data.get("content", "")))
    if usage := usage_of(event):
        body["usage"] = usage
    return body


def text_completion(run_id: str, model: str, content: str) -> dict[str, Any]:
    return {
        "id": completion_id(run_id),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
    }
