"""Agents calling agents: cycles refused when saving, steps nested, answers returned."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Agent
from tests.fixtures.factories import make_agent, make_provider
from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply, last_tool_result
from tests.fixtures.nova import Nova, field_error, submit
from tests.fixtures.sse import Received, read_events


def agent_form(provider_id: str, name: str, **extra: str | list[str]) -> dict[str, str | list[str]]:
    return {
        "name": name,
        "provider_id": provider_id,
        "temperature": "0.5",
        "recursion_limit": "25",
        **extra,
    }


async def test_cycles_are_refused_when_saving(nova: Nova, llm: ScriptedLLM) -> None:
    user = await nova.create_user("ada@example.com")
    provider = await make_provider(nova, user.id, llm.base_url)
    a = await make_agent(nova, user.id, provider, name="Alpha")
    b = await make_agent(nova, user.id, provider, name="Beta")
    async with await nova.login("ada@example.com") as client:
        for agent, name in ((a, "Alpha"), (b, "Beta")):
            form = agent_form(str(provider.id), name, usable_as_tool="on", tool_description=f"{name} helps")
            assert (await submit(client, f"/agents/{agent.id}", form)).status_code == 303
        linked = await submit(
            client,
            f"/agents/{a.id}",
            agent_form(
                str(provider.id),
                "Alpha",
                usable_as_tool="on",
                tool_description="Alpha helps",
                subagents=[str(b.id)],
            ),
        )
        cycle = await submit(
            client,
            f"/agents/{b.id}",
            agent_form(
                str(provider.id),
                "Beta",
                usable_as_tool="on",
                tool_description="Beta helps",
                subagents=[str(a.id)],
            ),
        )
        itself = await submit(
            client,
            f"/agents/{a.id}",
            agent_form(
                str(provider.id),
                "Alpha",
                usable_as_tool="on",
                tool_description="Alpha helps",
                subagents=[str(a.id)],
            ),
        )
        no_description = await submit(
            client, f"/agents/{a.id}", agent_form(str(provider.id), "Alpha", usable_as_tool="on")
        )
    assert linked.status_code == 303
    assert cycle.status_code == 400 and "circle" in cycle.text
    assert itself.status_code == 400
    assert no_description.status_code == 400 and field_error(no_description.text, "tool_description")


async def test_a_sub_agent_answers_with_its_own_tools_nested(live: LiveNova, llm: ScriptedLLM) -> None:
    from app.agent_configs import service as agents
    from app.tool_settings import repository as rows

    async with live.db.transaction() as session:
        parent = await session.scalar(select(Agent).where(Agent.owner_id == live.user_id))
        assert parent is not None
        child = await agents.create_agent(session, live.user_id, agents.AgentInput(
            "Clock", "Tell the time.", str(parent.provider_id), "", "0", "10", False,
            usable_as_tool=True, tool_description="Knows the exact time"))  # fmt: skip
        await rows.replace_agent_tools(session, child.id, {"datetime_now": False})
        await rows.replace_subagents(session, parent.id, [child.id])
    llm.queue(
        ScriptedReply(tool_calls=[("ask_agent_clock", {"request": "What time is it?"})]),  # parent
        ScriptedReply(tool_calls=[("datetime_now", {})]),  # child uses its own tool
        ScriptedReply(text_from=lambda body: "Child: " + last_tool_result(body)),  # child answers
        ScriptedReply(text_from=lambda body: "Parent: " + last_tool_result(body)),  # parent answers
    )  # fmt: skip
    posted = await live.post(await live.new_thread(), "Ask the clock")
    received = Received()
    async with live.api() as client:
        await read_events(client, posted["run_id"], received)
    run = await live.wait_terminal(posted["run_id"])
    started = [d for _i, kind, d in received.events if kind == "tool.started"]
    outer = next(d for d in started if d["tool"] == "ask_agent_clock")
    inner = next(d for d in started if d["tool"] == "datetime_now")
    assert inner["parent"] == outer["call_id"]
    assert run["message"]["content"].startswith("Parent: Child: ")
    assert "UTC" in run["message"]["content"]
