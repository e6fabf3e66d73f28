"""The Settings page: theme, defaults, password, sessions; each form keeps its input on errors."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.models import Agent, User, UserSession
from tests.fixtures.factories import make_agent, make_provider
from tests.fixtures.llm_server import ScriptedLLM
from tests.fixtures.nova import PASSWORD, Nova, field_error, submit


async def _user(nova: Nova, email: str) -> User:
    async with nova.ctx.db.transaction() as session:
        user = await session.scalar(select(User).where(User.email == email))
        assert user is not None
        return user


async def test_account_redirects_to_settings_and_the_nav_links_there(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        old = await client.get("/account")
        page = await client.get("/settings")
    assert (old.status_code, old.headers["location"]) == (301, "http://testserver/settings")
    assert page.status_code == 200
    assert '<a href="http://testserver/settings" aria-current="page">Settings</a>' in page.text
    for section in ("appearance", "defaults", "password", "sessions"):
        assert f'id="{section}"' in page.text


async def test_the_theme_is_set_on_html_from_the_first_byte(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        before = await client.get("/threads")
        saved = await submit(client, "/settings/appearance", {"theme": "dark"})
        after = await client.get("/threads")
        light = await submit(client, "/settings/appearance", {"theme": "light"})
        page = await client.get("/settings")
    assert '<html lang="en" data-theme="system">' in before.text
    assert 'href="http://testserver/static/dark.css" media="(prefers-color-scheme: dark)"' in before.text
    assert (saved.status_code, saved.headers["location"]) == (
        303,
        "http://testserver/settings?saved=appearance#appearance",
    )
    assert '<html lang="en" data-theme="dark">' in after.text
    assert 'href="http://testserver/static/dark.css" media="all"' in after.text
    assert '<meta name="color-scheme" content="dark">' in after.text
    assert light.status_code == 303
    assert 'href="http://testserver/static/dark.css" media="not all"' in page.text
    assert re.search(r'value="light" checked', page.text)
    assert (await _user(nova, "ada@example.com")).theme == "light"


async def test_an_unknown_theme_is_refused_and_nothing_changes(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        refused = await submit(client, "/settings/appearance", {"theme": "sepia"})
    assert refused.status_code == 400
    assert "Choose system, light or dark." in refused.text
    assert (await _user(nova, "ada@example.com")).theme == "system"


async def test_defaults_choose_the_agent_new_threads_start_with(nova: Nova, llm: ScriptedLLM) -> None:
    ada = await nova.create_user("ada@example.com")
    provider = await make_provider(nova, ada.id, llm.base_url)
    first = await make_agent(nova, ada.id, provider, "First")
    second = await make_agent(nova, ada.id, provider, "Second")
    async with await nova.login("ada@example.com") as client:
        saved = await submit(client, "/settings/defaults", {"agent_id": str(second.id), "timezone": "Europe/Paris"})
        thread = await submit(client, "/threads")
        page = await client.get(thread.headers["location"])
    assert saved.status_code == 303
    async with nova.ctx.db.transaction() as session:
        defaults = {a.name: a.is_default for a in await session.scalars(select(Agent))}
    assert defaults == {"First": False, "Second": True}
    assert re.search(rf'<option value="{second.id}" selected>Second</option>', page.text)
    assert f'<option value="{first.id}">First</option>' in page.text
    assert (await _user(nova, "ada@example.com")).timezone == "Europe/Paris"


async def test_a_bad_timezone_or_someone_elses_agent_re_renders_the_form(nova: Nova, llm: ScriptedLLM) -> None:
    ada = await nova.create_user("ada@example.com")
    bob = await nova.create_user("bob@example.com")
    await make_agent(nova, ada.id, await make_provider(nova, ada.id, llm.base_url), "Mine")
    theirs = await make_agent(nova, bob.id, await make_provider(nova, bob.id, llm.base_url), "Theirs")
    async with await nova.login("ada@example.com") as client:
        refused = await submit(client, "/settings/defaults", {"agent_id": str(theirs.id), "timezone": "Mars/Olympus"})
    assert refused.status_code == 400
    assert field_error(refused.text, "agent_id") == "Choose one of your agents."
    assert field_error(refused.text, "timezone") == "Choose a timezone like Europe/Paris."
    assert "Theirs" not in refused.text
    assert (await _user(nova, "ada@example.com")).timezone == "UTC"
    async with nova.ctx.db.transaction() as session:
        assert (await session.get(Agent, theirs.id)).is_default  # type: ignore[union-attr]


async def test_changing_the_password_signs_out_the_other_sessions(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    phone = await nova.login("ada@example.com", address="198.51.100.7")
    async with await nova.login("ada@example.com") as laptop:
        wrong = await submit(laptop, "/settings/password", {"current_password": "nope", "new_password": "a new passphrase",
                                                            "confirm_password": "a new passphrase"})  # fmt: skip
        changed = await submit(laptop, "/settings/password", {"current_password": PASSWORD,
                               "new_password": "a new passphrase", "confirm_password": "a new passphrase"})  # fmt: skip
        page = await laptop.get(changed.headers["location"])
    assert wrong.status_code == 400
    assert field_error(wrong.text, "current_password") == "This is not your current password."
    assert changed.headers["location"] == "http://testserver/settings?saved=password#password"
    assert "Password changed." in page.text
    async with phone:
        assert (await phone.get("/settings")).status_code == 303


@pytest.mark.both_databases
async def test_sessions_are_listed_and_ended_by_their_owner_only(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    await nova.create_user("bob@example.com")
    phone = await nova.login("ada@example.com", address="198.51.100.7")
    bob = await nova.login("bob@example.com")
    async with nova.ctx.db.transaction() as session:
        rows = (
            await session.scalars(select(UserSession).join(User).order_by(User.email, UserSession.created_at))
        ).all()
    phone_id, bob_id = rows[0].id, rows[1].id
    async with nova.client("192.0.2.44") as moved:  # the phone's cookie, from another network
        moved.cookies = phone.cookies
        assert (await moved.get("/settings")).status_code == 200
    async with await nova.login("ada@example.com") as laptop:
        page = await laptop.get("/settings")
        assert page.text.count('class="session-item') == 2
        assert page.text.count("This session") == 1
        assert "192.0.2.44" in page.text and "198.51.100.7" not in page.text  # the last address seen
        assert "Python" in page.text  # httpx's User-Agent, as a device
        strangers = await submit(laptop, f"/settings/sessions/{bob_id}/end")
        garbage = await submit(laptop, "/settings/sessions/not-a-session/end")
        no_csrf = await laptop.post(f"/settings/sessions/{phone_id}/end")
        assert (strangers.status_code, garbage.status_code, no_csrf.status_code) == (404, 404, 403)
        assert (await phone.get("/settings")).status_code == 200
        ended = await submit(laptop, f"/settings/sessions/{phone_id}/end")
        assert ended.headers["location"] == "http://testserver/settings?saved=sessions#sessions"
        assert (await phone.get("/settings")).status_code == 303
        again = await nova.login("ada@example.com", address="203.0.113.9")
        await submit(laptop, "/settings/sessions/others/end")
        assert (await laptop.get("/settings")).status_code == 200  # this one stays
        assert (await again.get("/settings")).status_code == 303
    assert (await bob.get("/settings")).status_code == 200
    for client in (phone, bob, again):
        await client.aclose()
