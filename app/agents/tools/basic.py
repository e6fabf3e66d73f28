"""Date and time, memory, and asking the user: tools that need no outside service."""

from __future__ import annotations

from datetime import datetime

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from app.agents.tools.context import ToolContext, ToolFailure


class NoArguments(BaseModel):
    pass


def datetime_now(ctx: ToolContext) -> BaseTool:
    async def run() -> str:
        now = datetime.now(ctx.timezone)
        offset = now.strftime("%z")
        return f"{now:%A %Y-%m-%d %H:%M:%S} in {ctx.timezone.key} (UTC{offset[:3]}:{offset[3:]})"

    return StructuredTool.from_function(
        coroutine=run, name="datetime_now", args_schema=NoArguments,
        description="The current date, time and weekday in the user's timezone.",
    )  # fmt: skip


class SaveArguments(BaseModel):
    content: str = Field(description="The fact to remember, as one self-contained sentence.")


class SearchArguments(BaseModel):
    query: str = Field(description="Words to look for in the saved memories.")


class DeleteArguments(BaseModel):
    memory_id: str = Field(description="The id of the memory to delete, as listed by memory_search.")


def memory_tools(ctx: ToolContext) -> list[BaseTool]:
    async def save(content: str) -> str:
        note = await ctx.memory.save(content)
        return f"Saved memory {note.id}: {note.content}"

    async def search(query: str) -> str:
        notes = await ctx.memory.search(query, 10)
        if not notes:
            return "No saved memory matches."
        return "\n".join(f"- [{n.id}] {n.content}" for n in notes)

    async def recent() -> str:
        notes = await ctx.memory.recent(20)
        return "\n".join(f"- [{n.id}] {n.content}" for n in notes) or "No memories saved yet."

    async def delete(memory_id: str) -> str:
        if not await ctx.memory.delete(memory_id):
            raise ToolFailure(f"No memory with id {memory_id}.")
        return f"Deleted memory {memory_id}."

    return [
        StructuredTool.from_function(
            coroutine=save, name="memory_save", args_schema=SaveArguments,
            description="Remember a fact about the user for future conversations.",
        ),
        StructuredTool.from_function(
            coroutine=search, name="memory_search", args_schema=SearchArguments,
            description="Search what was remembered about the user in earlier conversations.",
        ),
        StructuredTool.from_function(
            coroutine=recent, name="memory_list", args_schema=NoArguments,
            description="List the most recent memories saved for the user.",
        ),
        StructuredTool.from_function(
            coroutine=delete, name="memory_delete", args_schema=DeleteArguments,
            description="Delete a saved memory by its id.",
        ),
    ]  # fmt: skip


class AskArguments(BaseModel):
    question: str = Field(description="The question for the user.")
    choices: list[str] | None = Field(
        default=None, description="Optional answers to offer; the user may also write their own."
    )


def ask_user(ctx: ToolContext) -> BaseTool:
    async def ask(question: str, choices: list[str] | None = None) -> str:
        answer = await ctx.ask({"question": question, "choices": choices or []})
        return f"The user answered: {answer}"

    return StructuredTool.from_function(
        coroutine=ask, name="ask_user", args_schema=AskArguments,
        description="Ask the user a question and wait for the answer (use when you need a "
        "decision or a detail only the user knows).",
    )  # fmt: skip
