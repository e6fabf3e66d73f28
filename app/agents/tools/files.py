"""The thread's files: list them, read their text (PDF and DOCX extracted), write new ones."""

from __future__ import annotations

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from app.agents.tools.context import FileStore, ToolContext, ToolFailure

READ_LIMIT = 20_000


class NoArguments(BaseModel):
    pass


class ReadArguments(BaseModel):
    file_id: str = Field(description="The file's id, as file_list shows it.")
    offset: int = Field(0, ge=0, description="The character to start from (to read on after a cut).")


class WriteArguments(BaseModel):
    name: str = Field(description="The file name, with an extension: report.md, data.csv, script.py, notes.txt.")
    content: str = Field(description="The whole text of the file.")


def _store(ctx: ToolContext) -> FileStore:
    if ctx.files is None:
        raise ToolFailure("Files are only available in a thread.")
    return ctx.files


def file_tools(ctx: ToolContext) -> list[BaseTool]:
    async def listing() -> str:
        found = await _store(ctx).list()
        if not found:
            return "This thread has no files."
        return "\n".join(f"- [{f.id}] {f.name} ({f.content_type}, {f.size} bytes, {f.origin})" for f in found)

    async def read(file_id: str, offset: int = 0) -> str:
        file, text, total = await _store(ctx).read(file_id, offset, READ_LIMIT)
        end = offset + len(text)
        more = f"\n[Characters {offset} to {end} of {total}. Read on with offset {end}.]" if end < total else ""
        return f"{file.name} ({file.content_type}):\n{text}{more}"

    async def write(name: str, content: str) -> str:
        file = await _store(ctx).write(name, content)
        return f"Saved {file.name} ({file.content_type}, {file.size} bytes) as file {file.id} in this thread."

    return [
        StructuredTool.from_function(
            coroutine=listing, name="file_list", args_schema=NoArguments,
            description="List the files of this thread (uploaded by the user or written by agents), with their ids.",
        ),
        StructuredTool.from_function(
            coroutine=read, name="file_read", args_schema=ReadArguments,
            description="Read a file of this thread as text (PDF and Word documents are extracted), "
            f"{READ_LIMIT} characters at a time.",
        ),
        StructuredTool.from_function(
            coroutine=write, name="file_write", args_schema=WriteArguments,
            description="Save text as a new file in this thread (the user can download it from the Files panel).",
        ),
    ]  # fmt: skip
