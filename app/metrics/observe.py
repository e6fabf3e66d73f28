"""What the run pipeline tells the metrics: once per run start and end, once per provider failure,
and when a provider's circuit breaker opens or closes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from app.metrics import catalog


def run_started(created_at: datetime, started_at: datetime | None) -> None:
    if started_at is not None:
        catalog.job_wait.observe(_seconds(created_at, started_at))


def run_ended(
    status: str,
    agent_id: object,
    started_at: datetime | None,
    finished_at: datetime | None,
    first_token_at: datetime | None,
    steps: list[dict[str, Any]],
) -> None:
    catalog.runs_finished.labels(status, str(agent_id) if agent_id else "none").inc()
    if started_at is not None and finished_at is not None:
        catalog.run_duration.labels(status).observe(_seconds(started_at, finished_at))
    if started_at is not None and first_token_at is not None:
        catalog.first_token.observe(_seconds(started_at, first_token_at))
    for step in _every_step(steps):
        if step.get("kind") == "model":
            provider, model = str(step.get("provider") or "unknown"), str(step.get("model") or "unknown")
            catalog.tokens.labels("in", provider, model).inc(step.get("prompt_tokens") or 0)
            catalog.tokens.labels("out", provider, model).inc(step.get("completion_tokens") or 0)
        elif step.get("kind") == "tool":
            catalog.tool_calls.labels(str(step.get("tool")), str(step.get("status"))).inc()


def provider_failed(kind: str) -> None:
    catalog.provider_errors.labels(kind).inc()


def provider_circuit(provider_id: str, is_open: bool) -> None:
    catalog.provider_circuit_open.labels(provider_id).set(1 if is_open else 0)


def stream_opened() -> None:
    catalog.sse_open.inc()


def stream_closed() -> None:
    catalog.sse_open.dec()


def _every_step(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """A sub-agent's model and tool calls are nested under the call that asked it."""
    for step in steps:
        yield step
        yield from _every_step(step.get("children") or [])


def _seconds(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 0.0)
