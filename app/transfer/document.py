"""Nova's thread export, version 1: the contract of the JSON file, read back by the importer.

Every message of every branch is listed, each with its id and its parent's, so the tree of
edits and regenerations can be rebuilt; `current_message_id` ends the branch shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FORMAT: Literal["nova.thread"] = "nova.thread"
VERSION: Literal[1] = 1


class ExportedStep(BaseModel):
    """A tool call of a reply (what the thread page shows under it), with a sub-agent's own calls."""

    name: str
    summary: str | None = None
    input: str | None = Field(None, description="The arguments, as shown (secrets redacted, long values cut).")
    output: str | None = Field(None, description="The start of the result, as shown.")
    status: str | None = Field(None, description="ok, error, declined...")
    duration_ms: int | None = None
    steps: list[ExportedStep] = Field(default_factory=list)


class ExportedMessage(BaseModel):
    id: str = Field(max_length=200)
    parent_id: str | None = Field(None, max_length=200, description="The message before it on its branch.")
    role: Literal["user", "assistant"]
    content: str
    created_at: datetime
    agent: str | None = Field(None, description="The agent that wrote the reply, by name.")
    model: str | None = None
    finish_reason: Literal["stop", "cancelled", "error", "interrupted"] | None = None
    tool_steps: list[ExportedStep] = Field(default_factory=list)


class ExportedThread(BaseModel):
    title: str
    created_at: datetime
    updated_at: datetime | None = None
    current_message_id: str | None = Field(None, description="The last message of the branch shown.")


class ThreadDocument(BaseModel):
    """One thread: `{"format": "nova.thread", "version": 1, "thread": ..., "messages": [...]}`."""

    # Members a later version adds are ignored by this one, which reads what it knows.
    model_config = ConfigDict(extra="ignore")

    format: Literal["nova.thread"] = FORMAT
    version: Literal[1] = VERSION
    exported_at: datetime | None = None
    thread: ExportedThread
    messages: list[ExportedMessage] = Field(description="Every branch's messages, oldest first.")


@dataclass
class ImportedMessage:
    """One message to insert; `key` and `parent_key` are the file's own ids."""

    key: str
    parent_key: str | None
    role: str
    content: str
    created_at: datetime
    finish_reason: str | None = None


@dataclass
class Conversation:
    """One thread to insert, from whichever format: its messages parents first."""

    title: str
    created_at: datetime
    messages: list[ImportedMessage] = field(default_factory=list)
    current_key: str | None = None
