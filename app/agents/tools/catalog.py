"""Every tool Nova offers: stable model-facing names, labels, and what each needs.

The web process reads this catalog (Tools page, agent forms) but never builds a tool, so
each builder imports its tool's module (and langchain) only when a run first needs it.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.agents.tools.context import ToolContext, ToolEnvironment

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool

Builder = Callable[[ToolContext], "list[BaseTool]"]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    label: str
    description: str
    build: Builder
    # Settings group the user fills in on the Tools page, if any.
    group: str | None = None
    # Tools that change things ask for approval before every call.
    changes_things: bool = False

    def missing(self, env: ToolEnvironment) -> str | None:
        """Why this tool cannot work for this user yet ("needs setup"), or None."""
        if self.group == "web_search" and not env.search_url:
            return "Needs setup: a SearXNG address (Tools page)."
        if self.group == "calendar" and env.calendar is None:
            return "Needs setup: your CalDAV account (Tools page)."
        if self.name == "python_exec" and env.sandbox is None:
            return "Unavailable: this server has no sandbox (bubblewrap or Judge0)."
        return None


def _one(module: str, factory: str) -> Builder:
    """The tool that `factory` in app.agents.tools.<module> makes."""
    return lambda ctx: [_factory(module, factory)(ctx)]


def _pick(module: str, factory: str, name: str) -> Builder:
    """The tool called `name` among those `factory` in app.agents.tools.<module> makes."""
    return lambda ctx: [t for t in _factory(module, factory)(ctx) if t.name == name]


def _factory(module: str, factory: str) -> Callable[[ToolContext], Any]:
    return getattr(importlib.import_module(f"app.agents.tools.{module}"), factory)  # type: ignore[no-any-return]


BUILTIN: tuple[ToolSpec, ...] = (
    ToolSpec("datetime_now", "Date and time", "The current date and time in your timezone.",
             _one("basic", "datetime_now")),
    ToolSpec("web_search", "Web search", "Search the web through SearXNG.",
             _one("web", "web_search"), group="web_search"),
    ToolSpec("web_fetch", "Web fetch", "Read a web page's main text.", _one("web", "web_fetch")),
    ToolSpec("python_exec", "Code execution", "Run Python in an isolated sandbox.",
             _one("code", "python_exec")),
    ToolSpec("memory_save", "Memory: save", "Remember facts across threads.",
             _pick("basic", "memory_tools", "memory_save")),
    ToolSpec("memory_search", "Memory: search", "Search what was remembered.",
             _pick("basic", "memory_tools", "memory_search")),
    ToolSpec("memory_list", "Memory: list", "List recent memories.",
             _pick("basic", "memory_tools", "memory_list")),
    ToolSpec("memory_delete", "Memory: delete", "Delete a memory.",
             _pick("basic", "memory_tools", "memory_delete")),
    ToolSpec("calendar_list_calendars", "Calendar: calendars", "List your CalDAV calendars.",
             _pick("calendar", "calendar_tools", "calendar_list_calendars"), group="calendar"),
    ToolSpec("calendar_list_events", "Calendar: list events", "Events in a date range.",
             _pick("calendar", "calendar_tools", "calendar_list_events"), group="calendar"),
    ToolSpec("calendar_search_events", "Calendar: search", "Find events by text.",
             _pick("calendar", "calendar_tools", "calendar_search_events"), group="calendar"),
    ToolSpec("calendar_show_event", "Calendar: show event", "One event in full.",
             _pick("calendar", "calendar_tools", "calendar_show_event"), group="calendar"),
    ToolSpec("calendar_create_event", "Calendar: create", "Add an event (asks first).",
             _pick("calendar", "calendar_tools", "calendar_create_event"), group="calendar",
             changes_things=True),
    ToolSpec("calendar_update_event", "Calendar: update", "Change an event (asks first).",
             _pick("calendar", "calendar_tools", "calendar_update_event"), group="calendar",
             changes_things=True),
    ToolSpec("calendar_delete_event", "Calendar: delete", "Delete an event (asks first).",
             _pick("calendar", "calendar_tools", "calendar_delete_event"), group="calendar",
             changes_things=True),
    ToolSpec("ask_user", "Ask the user", "Ask you a question and wait for the answer.",
             _one("basic", "ask_user")),
    ToolSpec("file_list", "Files: list", "List the thread's files.", _pick("files", "file_tools", "file_list")),
    ToolSpec("file_read", "Files: read", "Read a thread file's text (PDF and DOCX too).",
             _pick("files", "file_tools", "file_read")),
    ToolSpec("file_write", "Files: write", "Save text as a new file in the thread.",
             _pick("files", "file_tools", "file_write")),
)  # fmt: skip

BY_NAME = {spec.name: spec for spec in BUILTIN}

# What a new "Nova" agent gets (each only if it can work for the user).
DEFAULT_AGENT_TOOLS = (
    "datetime_now", "web_search", "web_fetch", "memory_save", "memory_search", "memory_list",
    "python_exec", "calendar_list_events", "calendar_search_events", "calendar_create_event",
    "file_list", "file_read", "file_write",
)  # fmt: skip


class CustomToolError(Exception):
    """The dotted path does not name a usable tool."""


def load_custom_tool(dotted_path: str) -> BaseTool:
    """Import an admin-registered tool: a langchain tool, or a typed function."""
    from langchain_core.tools import BaseTool, StructuredTool

    module_name, _, attribute = dotted_path.rpartition(".")
    if not module_name:
        raise CustomToolError("Use a dotted path like mytools.weather.get_weather.")
    try:
        target = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, TypeError, ValueError) as exc:  # TypeError: ".x" is relative
        raise CustomToolError(f"Cannot import {dotted_path}: {exc}") from exc
    if isinstance(target, BaseTool):
        return target
    if callable(target) and target.__doc__:
        if inspect.iscoroutinefunction(target):
            return StructuredTool.from_function(coroutine=target)
        return StructuredTool.from_function(func=target)
    raise CustomToolError(f"{dotted_path} is neither a langchain tool nor a documented function.")


def custom_spec(dotted_path: str) -> ToolSpec:
    tool = load_custom_tool(dotted_path)
    return ToolSpec(tool.name, tool.name, tool.description or dotted_path, lambda _ctx: [tool])
