"""Every tool call as visible steps: events, a time limit, errors told to the model.

A failing or slow tool never fails the run: the model reads what went wrong as the
tool's result and decides what to do next. Outputs are capped before the model sees them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from typing import Annotated, Any

from langchain_core.tools import BaseTool, InjectedToolCallId, StructuredTool
from pydantic import BaseModel, create_model

from app.agents.tools.context import EFFECT_KEY, ToolContext, ToolFailure
from app.events.types import EventType

log = logging.getLogger(__name__)

MAX_OUTPUT_CHARS = 12_000
PREVIEW_CHARS = 400
DECLINED = "The user declined this action. Do not retry it unless they ask."


def summarize(tool: str, args: dict[str, Any]) -> str:
    """A readable line for the step ("Searching the web for …")."""
    first = next((str(v) for v in args.values() if isinstance(v, str) and v), "")
    short = first if len(first) <= 80 else first[:77] + "…"
    phrases = {
        "web_search": f"Searching the web for “{short}”",
        "web_fetch": f"Reading {short}",
        "python_exec": "Running Python code",
        "datetime_now": "Checking the date and time",
        "memory_save": f"Remembering “{short}”",
        "memory_search": f"Searching memories for “{short}”",
        "memory_list": "Listing memories",
        "memory_delete": "Deleting a memory",
        "ask_user": f"Asking you: {short}",
    }
    if tool in phrases:
        return phrases[tool]
    if tool.startswith("calendar_"):
        return "Calendar: " + tool.removeprefix("calendar_").replace("_", " ")
    if tool.startswith(("mcp__", "sysmcp__")):  # an MCP server's tool: [sys]mcp__<server>__<tool>
        server, _, name = tool.split("__", 1)[1].partition("__")
        return f"Using {name or tool} ({server})"
    if tool.startswith("ask_agent_"):
        return f"Asking the agent {tool.removeprefix('ask_agent_')}: “{short}”"
    return f"Using {tool}"


def step_id(tool: str, args: dict[str, Any]) -> str:
    """Stable across a resume after a pause, so the same step is updated, not repeated."""
    return hashlib.sha256(f"{tool}{sorted(args.items())}".encode()).hexdigest()[:12]


def preview(value: Any, limit: int = PREVIEW_CHARS) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


def instrument(
    tool: BaseTool, ctx: ToolContext, *, ask_first: bool = False, parent: str | None = None, once: bool = False
) -> BaseTool:
    """The same tool, reporting its steps and asking for approval first when required.

    A tool that acts `once` (it changes something outside the run) is keyed by the model's
    tool call id and its arguments: the same call made again — a run resumed after its
    worker died replays its last step — returns the recorded output instead of acting twice.
    """
    inner = _as_coroutine(tool)
    ledger = ctx.effects if once else None

    async def call(**kwargs: Any) -> str:
        tool_call_id = kwargs.pop(TOOL_CALL_ID, None)
        call_id = step_id(tool.name, kwargs)
        # Providers may reuse ids ("call_0" on every turn): the arguments make the key unique.
        effect = f"{tool_call_id}:{call_id}" if ledger is not None and tool_call_id else None
        if effect and ledger and (recorded := await ledger.done(effect)) is not None:
            return recorded
        step = {"call_id": call_id, "tool": tool.name, "parent": parent,
                "summary": ctx.redact(summarize(tool.name, kwargs)),
                "args": ctx.redact(preview(kwargs))}  # fmt: skip
        if ask_first and not await ctx.approve(step):
            await ctx.emit(EventType.TOOL_FINISHED, {**step, "status": "declined", "duration_ms": 0,
                                             "preview": DECLINED})  # fmt: skip
            return DECLINED
        await ctx.emit(EventType.TOOL_STARTED, step)
        started = time.monotonic()
        key = EFFECT_KEY.set(f"{ctx.run_id}:{effect}" if effect else None)
        try:
            status, output = await _run(inner, kwargs, ctx, tool.name)
        finally:
            EFFECT_KEY.reset(key)
        text = output if len(output) <= MAX_OUTPUT_CHARS else output[:MAX_OUTPUT_CHARS] + "\n[… output truncated]"
        if effect and ledger:
            await ledger.record(effect, tool.name, text)  # before the step shows as done
        duration = int((time.monotonic() - started) * 1000)
        await ctx.emit(EventType.TOOL_FINISHED, {**step, "status": status, "duration_ms": duration,
                                         "preview": ctx.redact(preview(text))})  # fmt: skip
        return text

    schema = _with_call_id(tool.args_schema) if ledger is not None else tool.args_schema
    return StructuredTool.from_function(
        coroutine=call, name=tool.name, description=tool.description, args_schema=schema
    )


TOOL_CALL_ID = "tool_call_id"


def _with_call_id(schema: Any) -> Any:
    """The tool's arguments plus the call id LangChain injects (the model never sees it)."""
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
        return schema  # a JSON-schema tool (an admin's): keyed by nothing, acts as called
    fields: Any = {TOOL_CALL_ID: (Annotated[str, InjectedToolCallId], ...)}
    return create_model(schema.__name__, __base__=schema, **fields)


def _as_coroutine(tool: BaseTool) -> Any:
    """The tool's async body; a plain function (an admin's tool) runs in a thread."""
    if isinstance(tool, StructuredTool) and tool.coroutine is not None:
        return tool.coroutine

    async def in_thread(**kwargs: Any) -> Any:
        return await asyncio.to_thread(tool.invoke, kwargs)

    return in_thread


async def _run(inner: Any, kwargs: dict[str, Any], ctx: ToolContext, name: str) -> tuple[str, str]:
    try:
        async with asyncio.timeout(ctx.timeout_seconds):
            return "ok", str(await inner(**kwargs))
    except TimeoutError:
        return "error", f"Error: {name} did not finish within {ctx.timeout_seconds:.0f} s."
    except ToolFailure as exc:
        return "error", f"Error: {exc}"
    except Exception as exc:
        if _is_graph_interrupt(exc):
            raise
        log.warning("tool %s failed: %s", name, type(exc).__name__)
        return (
            "error",
            f"Error: {name} failed ({type(exc).__name__}: {ctx.redact(str(exc))[:200]}).",
        )


def _is_graph_interrupt(exc: BaseException) -> bool:
    # LangGraph pauses a run by raising GraphInterrupt from inside the tool: let it through.
    from langgraph.errors import GraphInterrupt

    return isinstance(exc, GraphInterrupt)
