"""What a tool may use during one run: the user's settings, credentials and stores."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from app.calendar.models import CalendarCredentials
from app.egress import EgressPolicy
from app.events.types import EventType
from app.sandbox import Sandbox

Emit = Callable[[EventType, dict[str, Any]], Awaitable[Any]]
Approve = Callable[[dict[str, Any]], Awaitable[bool]]
Ask = Callable[[dict[str, Any]], Awaitable[str]]


# The idempotency key (run and tool call) of the side-effecting call in progress, for tools
# that can hand it to the other side, e.g. as a calendar event's UID: the worker may die
# after the effect and before the ledger records it, and a repeat must then change nothing.
EFFECT_KEY: ContextVar[str | None] = ContextVar("nova_effect_key", default=None)


class ToolFailure(Exception):
    """An expected failure, told to the model as the tool's result."""


@dataclass(frozen=True)
class MemoryNote:
    id: str
    content: str


class MemoryStore(Protocol):
    """One user's memories; implemented over the database by the run executor."""

    async def save(self, content: str) -> MemoryNote: ...
    async def search(self, query: str, limit: int) -> list[MemoryNote]: ...
    async def recent(self, limit: int) -> list[MemoryNote]: ...
    async def delete(self, memory_id: str) -> bool: ...


@dataclass(frozen=True)
class FileNote:
    id: str
    name: str
    content_type: str
    size: int
    origin: str = "upload"


class FileStore(Protocol):
    """The files of the run's thread; implemented over the database and storage by the run executor."""

    async def list(self) -> list[FileNote]: ...
    async def read(self, file_id: str, offset: int, limit: int) -> tuple[FileNote, str, int]: ...
    async def write(self, name: str, content: str) -> FileNote: ...


@dataclass(frozen=True)
class ToolEnvironment:
    """What decides whether a tool can work for this user ("needs setup" otherwise)."""

    search_url: str | None
    sandbox: Sandbox | None
    calendar: CalendarCredentials | None
    search_results: int = 5


class EffectLedger(Protocol):
    """Side-effecting tool calls already made in this run, keyed by the model's tool call id."""

    async def done(self, call_id: str) -> str | None: ...
    async def record(self, call_id: str, tool: str, output: str) -> None: ...


@dataclass
class ToolContext:
    user_id: uuid.UUID
    run_id: uuid.UUID
    timezone: ZoneInfo
    env: ToolEnvironment
    egress: EgressPolicy
    memory: MemoryStore
    emit: Emit
    approve: Approve
    ask: Ask
    timeout_seconds: float = 60.0
    mcp_timeout_seconds: float = 30.0
    # Values that must never appear in events or traces (passwords, keys).
    secrets: tuple[str, ...] = field(default_factory=tuple)
    effects: EffectLedger | None = None
    files: FileStore | None = None  # the thread's files (file_list, file_read, file_write)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "•••")
        return text
