"""The trace ("Details"): each model call with its model, tokens and speed; a sub-agent's
steps nested under its call, which shows the agent's display name."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from app.agent_configs import service as agents
from app.events import EventType, RunEvent
from app.models import Run, RunStatus
from app.runs import trace
from app.runs.subagent_steps import naming, under_call
from app.tool_settings import repository as tool_rows
from tests.fixtures.factories import make_agent, make_finished_run, make_provider, make_thread
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply, last_tool_result
from tests.fixtures.nova import Nova, submit
from tests.fixtures.runs import finished_run

ASK = {"call_id": "c1", "tool": "ask_agent_clock", "parent": None, "agent": "Clock", "summary": "Asking Clock: “Time?”"}
CLOCK = {"call_id": "c2", "tool": "datetime_now", "parent": "c1", "summary": "Checking the date and time"}


def model_call(ms: int, prompt: int | None, completion: int | None, parent: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"duration_ms": ms, "model": "scripted-small", "prompt_tokens": prompt,
                            "completion_tokens": completion}  # fmt: skip
    return {**data, "parent": parent} if parent else data


def sub_agent_events() -> list[RunEvent]:
    steps = [
        (EventType.MODEL_FINISHED, model_call(300, 10, 5)),
        (EventType.TOOL_STARTED, ASK),
        (EventType.TOOL_STARTED, CLOCK),
        (EventType.TOOL_FINISHED, {**CLOCK, "status": "ok", "duration_ms": 3, "preview": "12:00"}),
        (EventType.MODEL_FINISHED, model_call(2000, 40, 50, parent="c1")),
        (EventType.TOOL_FINISHED, {**ASK, "status": "ok", "duration_ms": 2100, "preview": "Noon"}),
        (EventType.MODEL_FINISHED, model_call(500, None, None)),
    ]
    return [RunEvent(n, kind, data) for n, (kind, data) in enumerate(steps, 1)]


def test_a_sub_agents_model_calls_nest_under_its_call() -> None:
    steps = trace.from_events(sub_agent_events())
    assert [step["kind"] for step in steps] == ["model", "tool", "model"]
    ask = steps[1]
    assert ask["agent"] == "Clock" and ask["status"] == "ok"
    assert [(child["kind"], child.get("tool")) for child in ask["children"]] == [
        ("tool", "datetime_now"),
        ("model", None),
    ]
    assert ask["children"][1]["model"] == "scripted-small" and ask["children"][1]["completion_tokens"] == 50


async def test_the_call_is_named_and_its_model_calls_say_whose_they_are() -> None:
    sent: list[tuple[EventType, dict[str, Any]]] = []

    async def emit(kind: EventType, data: dict[str, Any]) -> None:
        sent.append((kind, data))

    named = naming(emit, "ask_agent_clock_2", "Big Clock")
    await named(EventType.TOOL_STARTED, {"call_id": "c1", "summary": "Asking the agent clock_2: “Time?”"})
    nested = under_call(emit, "c1")
    await nested(EventType.MODEL_FINISHED, {"duration_ms": 1})
    await nested(EventType.MODEL_FINISHED, {"duration_ms": 2, "parent": "deeper"})
    await nested(EventType.TOOL_STARTED, {"call_id": "c9", "parent": "c1"})
    assert sent == [
        (EventType.TOOL_STARTED, {"call_id": "c1", "summary": "Asking Big Clock: “Time?”", "agent": "Big Clock"}),
        (EventType.MODEL_FINISHED, {"duration_ms": 1, "parent": "c1"}),
        (EventType.MODEL_FINISHED, {"duration_ms": 2, "parent": "deeper"}),  # a grandchild's stays its own
        (EventType.TOOL_STARTED, {"call_id": "c9", "parent": "c1"}),
    ]


async def test_details_show_models_tokens_speed_and_the_sub_agent(nova: Nova, llm: ScriptedLLM) -> None:
    user = await nova.create_user("ada@example.com")
    agent = await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
    thread = await make_thread(nova, user.id)
    run = await make_finished_run(nova, thread, agent)
    async with nova.ctx.db.transaction() as session:
        stored = await session.get(Run, run.id)
        assert stored is not None
        stored.trace = trace.from_events(sub_agent_events())
    async with await nova.login("ada@example.com") as client:
        shown = (await client.get(f"/threads/{thread.id}/runs/{run.id}/trace", headers={"HX-Request": "true"})).text
    lines = [" ".join(m.split()) for m in re.findall(r'<span class="trace-model">(.*?)</span>', shown, re.DOTALL)]
    assert lines == [
        "Model call · <code>scripted-small</code> · 300 ms · 10 → 5 tokens · 16.7 tokens/s",
        "Model call · <code>scripted-small</code> · 2000 ms · 40 → 50 tokens · 25.0 tokens/s",
        "Model call · <code>scripted-small</code> · 500 ms · — tokens · — tokens/s",
    ]
    assert '<strong class="trace-agent">Clock</strong>' in shown
    # The sub-agent's tool and model calls sit inside its call's own list.
    nested = shown.split('<strong class="trace-agent">Clock</strong>', 1)[1].split("</details>\n</li>")[0]
    assert "Checking the date and time" in nested and "2000 ms" in nested and "300 ms" not in nested


async def test_a_sub_agent_run_keeps_a_trace_nested_under_the_named_call(nova: Nova, llm: ScriptedLLM) -> None:
    user = await nova.create_user("ada@example.com")
    provider = await make_provider(nova, user.id, llm.base_url)
    parent = await make_agent(nova, user.id, provider)
    async with nova.ctx.db.transaction() as session:
        child = await agents.create_agent(session, user.id, agents.AgentInput(
            "Big Clock", "Tell the time.", str(provider.id), "scripted-large", "0", "10", False,
            usable_as_tool=True, tool_description="Knows the exact time"))  # fmt: skip
        await tool_rows.replace_agent_tools(session, child.id, {"datetime_now": False})
        await tool_rows.replace_subagents(session, parent.id, [child.id])
    thread = await make_thread(nova, user.id)
    llm.queue(
        ScriptedReply(tool_calls=[("ask_agent_big_clock", {"request": "What time is it?"})]),  # parent
        ScriptedReply(tool_calls=[("datetime_now", {})]),  # the sub-agent uses its own tool
        ScriptedReply(text_from=lambda body: "Child: " + last_tool_result(body)),  # and answers
        ScriptedReply(text_from=lambda body: "Parent: " + last_tool_result(body)),
    )  # fmt: skip
    async with await nova.login("ada@example.com") as client:
        await submit(client, f"/threads/{thread.id}/messages", {"content": "Ask the clock"})
    async with nova.ctx.db.transaction() as session:
        run_id = await session.scalar(select(Run.id).where(Run.thread_id == thread.id))
    assert run_id is not None
    run = await finished_run(nova, run_id)
    assert run.status is RunStatus.COMPLETED and run.trace
    roots = run.trace
    assert [step["kind"] for step in roots] == ["model", "tool", "model"]  # none of the sub-agent's calls twice
    assert {step["model"] for step in roots if step["kind"] == "model"} == {"scripted-small"}
    ask = roots[1]
    assert ask["agent"] == "Big Clock" and ask["summary"] == "Asking Big Clock: “What time is it?”"
    children = [(step["kind"], step.get("tool") or step.get("model")) for step in ask["children"]]
    # The sub-agent's model (its own) asked for the tool, then answered.
    assert children == [("model", "scripted-large"), ("tool", "datetime_now"), ("model", "scripted-large")]
