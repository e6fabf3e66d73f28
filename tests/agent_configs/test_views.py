from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Agent
from tests.fixtures.factories import make_agent, make_provider
from tests.fixtures.llm_server import ScriptedLLM
from tests.fixtures.nova import Nova, field_error, submit


async def test_first_login_creates_the_default_nova_agent(nova: Nova, llm: ScriptedLLM) -> None:
    user = await nova.create_user("ada@example.com")
    await make_provider(nova, None, llm.base_url, name="System")
    async with await nova.login("ada@example.com") as client:
        page = await client.get("/agents")
    async with nova.ctx.db.transaction() as session:
        agents = (await session.scalars(select(Agent).where(Agent.owner_id == user.id))).all()
    assert [(a.name, a.slug, a.is_default, a.model) for a in agents] == [("Nova", "nova", True, "scripted-small")]
    assert "Nova" in page.text


async def test_no_default_agent_without_a_provider(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        page = await client.get("/agents")
        restore = await submit(client, "/agents/default")
    assert page.status_code == 200
    assert restore.status_code == 409


async def test_create_agent_and_edit_it(nova: Nova, llm: ScriptedLLM) -> None:
    user = await nova.create_user("ada@example.com")
    provider = await make_provider(nova, user.id, llm.base_url)
    async with await nova.login("ada@example.com") as client:
        form = {
            "name": "Research Buddy", "instructions": "Cite sources.", "provider_id": str(provider.id),
            "model": "scripted-large", "temperature": "0.2", "recursion_limit": "40", "is_default": "on",
        }  # fmt: skip
        created = await submit(client, "/agents", form)
        async with nova.ctx.db.transaction() as session:
            agent = await session.scalar(select(Agent).where(Agent.name == "Research Buddy"))
        assert agent is not None
        edited = await submit(client, f"/agents/{agent.id}", form | {"name": "Researcher", "temperature": "1.1"})
        async with nova.ctx.db.transaction() as session:
            refreshed = await session.get(Agent, agent.id)
    assert created.status_code == 303 and edited.status_code == 303
    assert agent.slug == "research-buddy" and agent.recursion_limit == 40 and agent.is_default
    assert refreshed is not None
    assert (refreshed.name, refreshed.slug, refreshed.temperature) == (
        "Researcher",
        "research-buddy",
        1.1,
    )


async def test_agent_form_errors_keep_input(nova: Nova, llm: ScriptedLLM) -> None:
    user = await nova.create_user("ada@example.com")
    provider = await make_provider(nova, user.id, llm.base_url)
    await make_agent(nova, user.id, provider, name="Taken")
    async with await nova.login("ada@example.com") as client:
        form = {"name": "Taken", "instructions": "Keep me", "provider_id": "not-a-uuid",
                "temperature": "9", "recursion_limit": "0"}  # fmt: skip
        response = await submit(client, "/agents", form)
    assert response.status_code == 400
    assert field_error(response.text, "name") == "You already have an agent with this name."
    assert field_error(response.text, "provider_id")
    assert field_error(response.text, "temperature")
    assert field_error(response.text, "recursion_limit")
    assert "Keep me" in response.text


async def test_agent_cannot_use_another_users_provider(nova: Nova, llm: ScriptedLLM) -> None:
    other = await nova.create_user("eve@example.com")
    theirs = await make_provider(nova, other.id, llm.base_url)
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        response = await submit(
            client,
            "/agents",
            {"name": "Sneaky", "provider_id": str(theirs.id), "temperature": "0.5"},
        )
    assert response.status_code == 400
    assert field_error(response.text, "provider_id")


@pytest.mark.both_databases
async def test_deleting_a_provider_leaves_agents_needing_one(nova: Nova, llm: ScriptedLLM) -> None:
    user = await nova.create_user("ada@example.com")
    provider = await make_provider(nova, user.id, llm.base_url)
    agent = await make_agent(nova, user.id, provider)
    async with await nova.login("ada@example.com") as client:
        await submit(client, f"/providers/{provider.id}/delete")
        page = await client.get("/agents")
    async with nova.ctx.db.transaction() as session:
        kept = await session.get(Agent, agent.id)
    assert kept is not None and kept.provider_id is None
    assert "needs a provider" in page.text
