"""A run whose process dies goes on from its last saved step: every side effect happens once.

The "crash" stops the process's job runner mid-run (the run stays `running`, as after a
SIGKILL), then the job is run again, as arq does for a job whose worker died.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.agent_configs import service as agents
from app.agent_configs import toolset
from app.events import EventType
from app.models import CustomTool, Run, RunStatus
from app.runs import control
from app.threads import service as threads
from tests.fixtures.factories import make_provider
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import Nova
from tests.fixtures.runs import finished_run

EFFECTS = 3


def three_effects_then_answer(crash_after: int) -> Callable[[dict[str, Any]], ScriptedReply]:
    """The model asks for effect-1, -2, -3 in turn (by how many results it has seen), then answers.

    After `crash_after` effects it thinks for a while: the "crash" lands between two steps,
    where the ledger has every effect done so far (an effect cut off between its action and
    its ledger row would be repeated; that window is the tool's to close, e.g. with an
    idempotency key as the calendar tools do).
    """

    def respond(body: dict[str, Any]) -> ScriptedReply:
        done = sum(1 for message in body.get("messages", []) if message.get("role") == "tool")
        delay = 0.5 if done == crash_after else 0.0
        if done < EFFECTS:
            return ScriptedReply(
                tool_calls=[("record_effect", {"label": f"effect-{done + 1}"})], first_token_delay=delay
            )
        return ScriptedReply(text="All three are done.", first_token_delay=delay)

    return respond


async def _start(nova: Nova, base_url: str) -> Run:
    user = await nova.create_user("ada@example.com")
    provider = await make_provider(nova, user.id, base_url)
    data = agents.AgentInput("Helper", "Be brief.", str(provider.id), "", "0.3", "25", True)
    async with nova.ctx.db.transaction() as session:
        session.add(CustomTool(dotted_path="tests.fixtures.custom_tools.record_effect"))
        agent = await agents.create_agent(session, user.id, data)
        await session.flush()
        await toolset.set_tools(session, agent, {"record_effect": False})
        thread = await threads.create_thread(session, user.id)
        posted = await threads.post_message(session, nova.ctx.settings, user.id, thread.id, "Do it.", agent.slug)
    await control.start(nova.ctx, posted.run)
    return posted.run


async def _wait_for_steps(nova: Nova, run_id: uuid.UUID, finished_tools: int) -> None:
    deadline = time.monotonic() + 20
    while True:
        events = await nova.ctx.events.read_after(str(run_id), 0)
        if sum(1 for e in events if e.type == EventType.TOOL_FINISHED) >= finished_tools:
            return
        assert time.monotonic() < deadline, [e.type for e in events]
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("crash_after", [1, 2, 3])
async def test_each_effect_happens_once_when_the_run_dies_after_a_step(
    nova: Nova, llm: ScriptedLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crash_after: int
) -> None:
    effects = tmp_path / "effects.txt"
    monkeypatch.setenv("NOVA_TEST_EFFECTS_FILE", str(effects))
    llm.respond = three_effects_then_answer(crash_after)
    run = await _start(nova, llm.base_url)
    await _wait_for_steps(nova, run.id, crash_after)
    await nova.ctx.jobs.close()  # the process dies: the run is left `running`
    async with nova.ctx.db.transaction() as session:
        assert (await session.get(Run, run.id)).status is RunStatus.RUNNING  # type: ignore[union-attr]
    await nova.ctx.jobs.enqueue_run(run.id)  # a worker takes the job again
    finished = await finished_run(nova, run.id, within=30)
    assert finished.status is RunStatus.COMPLETED, finished.error
    assert finished.attempts == 2
    assert effects.read_text().splitlines() == ["effect-1", "effect-2", "effect-3"]
    events = await nova.ctx.events.read_after(str(run.id), 0)
    assert EventType.RUN_RESTARTED in [e.type for e in events]
