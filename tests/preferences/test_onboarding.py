"""An admin's first-run checklist on the home page, and the generated password changed at first login."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.accounts import service as accounts
from app.models import MessageRole, Role, User
from app.providers import service as providers
from app.tokens import service as tokens
from tests.fixtures.factories import add_message, make_provider, make_thread
from tests.fixtures.llm_server import ScriptedLLM
from tests.fixtures.nova import PASSWORD, Nova, submit


def steps_done(html: str) -> list[str]:
    return re.findall(r'class="onboarding-step is-done" id="onboarding-(\w+)"', html)


async def test_each_step_ticks_itself_from_what_exists(nova: Nova, llm: ScriptedLLM) -> None:
    admin = await nova.create_user("root@example.com", role=Role.ADMIN)
    async with await nova.login("root@example.com") as client:
        empty = (await client.get("/threads")).text
        provider = await make_provider(nova, admin.id, llm.base_url)
        added = (await client.get("/threads")).text  # this visit makes the default agent, Nova
        async with nova.ctx.db.transaction() as session:
            await providers.remember_models(session, admin.id, provider.id, ["scripted-small"])
        tested = (await client.get("/threads")).text
        await add_message(nova, await make_thread(nova, admin.id), MessageRole.USER, "Hello?")
        done = (await client.get("/threads")).text
    assert 'id="onboarding"' in empty and steps_done(empty) == []
    assert 'href="http://testserver/providers">Providers</a>' in empty
    assert "0 of 4 done" in empty
    assert 'id="needs-provider"' not in empty  # the checklist says it already
    assert steps_done(added) == ["provider", "agent"]
    assert steps_done(tested) == ["provider", "tested", "agent"]
    next_step = tested[tested.index('id="onboarding-message"') :]
    assert next_step.index('<form method="post" action="http://testserver/threads">') < next_step.index("</li>")
    assert 'id="onboarding"' not in done  # every step done: the list goes


async def test_only_admins_see_it_and_hiding_it_keeps_it_hidden(nova: Nova) -> None:
    await nova.create_user("root@example.com", role=Role.ADMIN)
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as user:
        assert 'id="onboarding"' not in (await user.get("/threads")).text
    async with await nova.login("root@example.com") as admin:
        assert 'id="onboarding"' in (await admin.get("/threads")).text
        hidden = await submit(admin, "/settings/onboarding/dismiss")
        assert hidden.headers["location"] == "http://testserver/threads"
        assert 'id="onboarding"' not in (await admin.get("/threads")).text


async def test_a_generated_admin_password_must_be_changed_first(nova: Nova) -> None:
    async with nova.ctx.db.transaction() as session:
        made = await accounts.ensure_admin(session, "root@example.com", None)
    assert made is not None and made.generated_password
    async with nova.ctx.db.transaction() as session:
        root = await session.scalar(select(User).where(User.email == "root@example.com"))
        assert root is not None
        token = (await tokens.create_token(session, root.id, "script", "read")).secret
    client = await nova.login("root@example.com", password=made.generated_password)
    async with client:
        for path in ("/threads", "/providers", "/admin/users", "/tokens"):
            held = await client.get(path)
            assert (held.status_code, held.headers["location"]) == (303, "http://testserver/settings#password"), path
        boosted = await client.get("/threads", headers={"HX-Request": "true"})
        assert boosted.headers["HX-Redirect"] == "http://testserver/settings#password"
        page = await client.get("/settings")
        assert 'id="password-required"' in page.text and 'id="sessions"' not in page.text
        async with nova.client() as api:  # API tokens are not held back
            me = await api.get("/api/v1/me", headers={"authorization": f"Bearer {token}"})
        assert me.status_code == 200
        changed = await submit(client, "/settings/password", {"current_password": made.generated_password,
                               "new_password": PASSWORD, "confirm_password": PASSWORD})  # fmt: skip
        assert changed.headers["location"] == "http://testserver/"
        assert (await client.get("/threads")).status_code == 200
    async with nova.ctx.db.transaction() as session:
        user = await session.scalar(select(User).where(User.email == "root@example.com"))
        assert user is not None and not user.must_change_password


async def test_logout_works_while_the_password_change_waits(nova: Nova) -> None:
    async with nova.ctx.db.transaction() as session:
        made = await accounts.ensure_admin(session, "root@example.com", None)
    assert made is not None and made.generated_password
    async with await nova.login("root@example.com", password=made.generated_password) as client:
        out = await submit(client, "/logout")
        assert out.headers["location"] == "http://testserver/login"
        assert "/login" in (await client.get("/settings")).headers["location"]


async def test_an_admin_password_from_the_environment_is_not_held_back(nova: Nova) -> None:
    async with nova.ctx.db.transaction() as session:
        made = await accounts.ensure_admin(session, "root@example.com", PASSWORD)
    assert made is not None and made.generated_password is None
    async with await nova.login("root@example.com") as client:
        assert (await client.get("/threads")).status_code == 200
