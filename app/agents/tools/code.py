"""python_exec: run Python in the sandbox (bubblewrap here, or Judge0)."""

from __future__ import annotations

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from app.agents.tools.context import ToolContext, ToolFailure


class CodeArguments(BaseModel):
    code: str = Field(description="A complete Python 3 program; print what you want to see.")


def python_exec(ctx: ToolContext) -> BaseTool:
    async def run(code: str) -> str:
        if ctx.env.sandbox is None:
            raise ToolFailure("Code execution is not available on this Nova server.")
        result = await ctx.env.sandbox.run_python(code)
        return result.summary()

    return StructuredTool.from_function(
        coroutine=run, name="python_exec", args_schema=CodeArguments,
        description="Run a Python program in an isolated sandbox (no network, no files kept, "
        "a few seconds of CPU) and return its output.",
    )  # fmt: skip
