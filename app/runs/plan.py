"""What one attempt at a run needs: the agent with its tools, the user's tool settings, the history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.agents.spec import AgentSpec, Turn
from app.context import AppContext
from app.models import Agent, MessageRole, User
from app.runs import attachments, repository, summaries
from app.runs.service import Claim
from app.runs.tool_assembly import AgentNode, AgentUnavailable, UserTooling, load_agent, load_user_tooling


class RunAbandoned(Exception):
    """The run failed before generation started; the message says why."""


@dataclass(frozen=True)
class RunPlan:
    run_id: uuid.UUID
    attempt: int
    restarted: bool
    agent: AgentNode
    user: UserTooling
    turns: list[Turn]
    # Where the graph keeps its state, and the user's answer when resuming after a pause.
    graph_thread: str
    resume: Any = None
    interrupt_id: str | None = None
    text_before: str = ""
    request_id: str | None = None  # of the request that started the run
    # The messages `turns` came from, and the stored summary of the first ones, if any
    # (app/runs/summarizing.py sends it instead of them).
    thread_id: uuid.UUID | None = None
    turn_ids: tuple[uuid.UUID, ...] = ()
    summary: summaries.StoredSummary | None = None

    @property
    def spec(self) -> AgentSpec:
        return self.agent.spec


async def load_plan(session: AsyncSession, ctx: AppContext, claim: Claim) -> RunPlan:
    run = claim.run
    agent = await session.get(Agent, run.agent_id) if run.agent_id else None
    owner = await session.get(User, run.owner_id)
    if agent is None or owner is None:
        raise RunAbandoned("The agent of this run was deleted.")
    try:
        node = await load_agent(
            session, ctx, agent, depth=0, extra_instructions=run.extra_instructions, model=run.model
        )
    except AgentUnavailable as exc:
        raise RunAbandoned(str(exc)) from exc
    node = _with_options(node, run.options or {})
    user = replace(await load_user_tooling(session, ctx, run.owner_id, owner.timezone), thread_id=run.thread_id)
    history = await repository.conversation(session, run.thread_id)
    carried = await attachments.for_messages(session, ctx, [m.id for m in history if m.role is MessageRole.USER])
    shown = [m for m in history if m.run_id != run.id]
    turns = [Turn(m.role.value, m.content, carried.get(m.id, ())) for m in shown]
    turn_ids = tuple(m.id for m in shown)
    pending = claim.pending
    return RunPlan(
        run_id=run.id, attempt=claim.attempt, restarted=claim.restarted, agent=node, user=user, turns=turns,
        # One graph thread for the whole run: every attempt goes on from its last saved step.
        graph_thread=str(pending.get("graph_thread") or run.id),
        resume=pending.get("answer"), interrupt_id=pending.get("interrupt_id"),
        text_before=str(pending.get("text", "")), request_id=run.request_id,
        thread_id=run.thread_id, turn_ids=turn_ids,
        summary=await summaries.for_history(session, run.thread_id, turn_ids),
    )  # fmt: skip


def _with_options(node: AgentNode, options: dict[str, Any]) -> AgentNode:
    """The reply's own temperature, max_tokens and stop (an integration's), over the agent's."""
    if not options:
        return node
    spec = replace(
        node.spec,
        temperature=options.get("temperature", node.spec.temperature),
        max_tokens=options.get("max_tokens"),
        stop=tuple(options.get("stop") or ()),
    )
    return replace(node, spec=spec)
