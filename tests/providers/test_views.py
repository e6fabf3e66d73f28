from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from app.models import Agent, Provider, Role
from tests.fixtures.factories import make_agent, make_provider
from tests.fixtures.llm_server import ScriptedLLM
from tests.fixtures.nova import TEST_PUBLIC_URL, Nova, field_error, submit

SECRET_KEY = "sk-live-0123456789abcdefWXYZ"


def provider_form(llm: ScriptedLLM, **overrides: str) -> dict[str, str]:
    form = {
        "name": "Homelab",
        "kind": "openai_compatible",
        "base_url": llm.base_url,
        "api_key": SECRET_KEY,
        "default_model": "scripted-small",
        "max_context_tokens": "4096",
    }
    return form | overrides


async def test_create_provider_encrypts_and_masks_the_key(
    nova: Nova, llm: ScriptedLLM, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        created = await submit(client, "/providers", provider_form(llm))
        listing = await client.get("/providers")
        async with nova.ctx.db.transaction() as session:
            provider = await session.scalar(select(Provider))
        assert provider is not None
        edit = await client.get(f"/providers/{provider.id}/edit")
    assert created.status_code == 303
    assert "sk-…WXYZ" in listing.text
    assert SECRET_KEY not in listing.text
    assert SECRET_KEY not in edit.text
    assert provider.api_key_encrypted and SECRET_KEY not in provider.api_key_encrypted
    assert nova.ctx.secretbox.decrypt(provider.api_key_encrypted) == SECRET_KEY
    assert SECRET_KEY not in caplog.text


async def agents_of(nova: Nova, owner_id: object) -> list[tuple[str, bool, str]]:
    async with nova.ctx.db.transaction() as session:
        rows = await session.scalars(select(Agent).where(Agent.owner_id == owner_id).order_by(Agent.name))
        return [(a.name, a.is_default, a.model) for a in rows]


async def test_first_provider_brings_the_default_nova_agent(nova: Nova, llm: ScriptedLLM) -> None:
    user = await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        before = await client.get("/threads")
        created = await submit(client, "/providers", provider_form(llm))
        # Straight after the form, before any page that would make the agent on its way.
        agents = await agents_of(nova, user.id)
        second = await submit(client, "/providers", provider_form(llm, name="Second", default_model="other"))
        after = await client.get("/threads")
    assert 'id="needs-provider"' in before.text
    assert f'<a href="{TEST_PUBLIC_URL}/providers">Add a provider</a>' in before.text
    assert "your default agent, Nova, is ready" in before.text
    assert created.status_code == 303
    assert created.headers["location"] == f"{TEST_PUBLIC_URL}/providers"  # the list, not the form
    assert second.status_code == 303
    assert agents == [("Nova", True, "scripted-small")]
    assert await agents_of(nova, user.id) == agents  # a later provider adds no second agent
    assert 'id="needs-provider"' not in after.text


async def test_an_htmx_provider_form_is_sent_to_the_list(nova: Nova, llm: ScriptedLLM) -> None:
    user = await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        created = await submit(client, "/providers", provider_form(llm), headers={"HX-Request": "true"})
    assert created.headers["HX-Redirect"] == f"{TEST_PUBLIC_URL}/providers"
    assert await agents_of(nova, user.id) == [("Nova", True, "scripted-small")]


async def test_an_admins_first_system_provider_brings_their_nova_agent(nova: Nova, llm: ScriptedLLM) -> None:
    admin = await nova.create_user("root@example.com", role=Role.ADMIN)
    async with await nova.login("root@example.com") as client:
        created = await submit(client, "/providers", provider_form(llm, system="on"))
    assert created.status_code == 303
    assert await agents_of(nova, admin.id) == [("Nova", True, "scripted-small")]


async def test_a_provider_does_not_replace_the_agents_a_user_made(nova: Nova, llm: ScriptedLLM) -> None:
    user = await nova.create_user("ada@example.com")
    helper = await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
    async with await nova.login("ada@example.com") as client:
        created = await submit(client, "/providers", provider_form(llm))
    assert created.status_code == 303
    assert await agents_of(nova, user.id) == [("Helper", True, helper.model)]


async def test_agents_without_a_provider_still_ask_for_one(nova: Nova, llm: ScriptedLLM) -> None:
    user = await nova.create_user("ada@example.com")
    provider = await make_provider(nova, user.id, llm.base_url)
    await make_agent(nova, user.id, provider)
    async with nova.ctx.db.transaction() as session:
        await session.delete(await session.get(Provider, provider.id))
    async with await nova.login("ada@example.com") as client:
        page = await client.get("/threads")
    assert 'id="needs-provider"' in page.text and "pick it for your agents" in page.text


async def test_bad_provider_form_keeps_input_and_names_fields(nova: Nova, llm: ScriptedLLM) -> None:
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        form = provider_form(llm, base_url="ftp://nowhere", max_context_tokens="lots", kind="openai", api_key="")
        response = await submit(client, "/providers", form)
    assert response.status_code == 400
    assert field_error(response.text, "base_url")
    assert field_error(response.text, "max_context_tokens")
    assert field_error(response.text, "api_key")
    assert 'value="Homelab"' in response.text


async def test_duplicate_provider_name_is_a_field_error(nova: Nova, llm: ScriptedLLM) -> None:
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        await submit(client, "/providers", provider_form(llm))
        again = await submit(client, "/providers", provider_form(llm))
    assert again.status_code == 400
    assert field_error(again.text, "name") == "A provider with this name already exists."


async def test_blank_key_on_edit_keeps_the_stored_key(nova: Nova, llm: ScriptedLLM) -> None:
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        await submit(client, "/providers", provider_form(llm))
        async with nova.ctx.db.transaction() as session:
            provider = await session.scalar(select(Provider))
        assert provider is not None
        response = await submit(client, f"/providers/{provider.id}", provider_form(llm, api_key="", name="Renamed"))
        async with nova.ctx.db.transaction() as session:
            updated = await session.get(Provider, provider.id)
    assert response.status_code == 303
    assert updated is not None and updated.name == "Renamed"
    assert nova.ctx.secretbox.decrypt(updated.api_key_encrypted or "") == SECRET_KEY


async def test_test_connection_lists_models(nova: Nova, llm: ScriptedLLM) -> None:
    llm.api_key = SECRET_KEY
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        await submit(client, "/providers", provider_form(llm))
        async with nova.ctx.db.transaction() as session:
            provider = await session.scalar(select(Provider))
        assert provider is not None
        ok = await submit(client, f"/providers/{provider.id}/test", headers={"HX-Request": "true"})
        llm.api_key = "another-key"
        rejected = await submit(client, f"/providers/{provider.id}/test", headers={"HX-Request": "true"})
    assert ok.status_code == 200
    assert "scripted-small" in ok.text and "scripted-large" in ok.text
    assert "<html" not in ok.text  # only the fragment
    assert "rejected the API key" in rejected.text
    assert "Connected: 2 models available." in ok.text


async def test_one_model_is_counted_in_the_singular(
    nova: Nova, llm: ScriptedLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(llm, "models", ["scripted-only"])  # the server is shared: put back after
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        await submit(client, "/providers", provider_form(llm))
        async with nova.ctx.db.transaction() as session:
            provider = await session.scalar(select(Provider))
        assert provider is not None
        ok = await submit(client, f"/providers/{provider.id}/test", headers={"HX-Request": "true"})
    assert "Connected: 1 model available." in ok.text


async def test_unreachable_provider_is_reported_clearly(nova: Nova, llm: ScriptedLLM) -> None:
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        await submit(client, "/providers", provider_form(llm, base_url="http://127.0.0.1:9/v1"))
        async with nova.ctx.db.transaction() as session:
            provider = await session.scalar(select(Provider))
        assert provider is not None
        response = await submit(client, f"/providers/{provider.id}/test")
    assert "unreachable at http://127.0.0.1:9/v1" in response.text


async def test_system_providers_are_visible_to_all_but_editable_by_admins(nova: Nova, llm: ScriptedLLM) -> None:
    await nova.create_user("root@example.com", role=Role.ADMIN)
    await nova.create_user("ada@example.com")
    async with await nova.login("root@example.com") as admin:
        created = await submit(admin, "/providers", provider_form(llm, name="Shared", system="on"))
        assert created.status_code == 303
    async with nova.ctx.db.transaction() as session:
        provider = await session.scalar(select(Provider))
    assert provider is not None and provider.owner_id is None
    async with await nova.login("ada@example.com") as user:
        listing = await user.get("/providers")
        edit = await user.get(f"/providers/{provider.id}/edit")
        delete = await submit(user, f"/providers/{provider.id}/delete")
        test = await submit(user, f"/providers/{provider.id}/test")
    assert "Shared" in listing.text
    assert edit.status_code == 404
    assert delete.status_code == 404
    assert test.status_code == 200


async def test_env_seeds_system_providers(nova: Nova) -> None:
    from app.providers.seed import seed_system_providers
    from tests.fixtures.nova import nova_settings

    settings = nova_settings(
        nova.ctx.settings.resolved_database_url,
        nova.ctx.settings.data_dir,
        OLLAMA_SERVER_URL="http://192.168.1.5:11434",
        OLLAMA_MODEL_NAME="qwen3:4b",
        OLLAMA_CONTEXT_LENGTH="16384",
        OPENAI_API_KEY="sk-test-abcdefghijklmnop",
    )
    async with nova.ctx.db.transaction() as session:
        assert await seed_system_providers(session, nova.ctx.secretbox, settings) == 2
        assert await seed_system_providers(session, nova.ctx.secretbox, settings) == 2
    async with nova.ctx.db.transaction() as session:
        providers = {p.name: p for p in await session.scalars(select(Provider))}
    assert set(providers) == {"Ollama", "OpenAI"}
    assert providers["Ollama"].max_context_tokens == 16384
    assert providers["Ollama"].default_model == "qwen3:4b"
    assert providers["OpenAI"].api_key_hint == "sk-…mnop"
    assert all(p.owner_id is None for p in providers.values())


async def test_the_models_listed_by_a_test_become_the_forms_choices(nova: Nova, llm: ScriptedLLM) -> None:
    user = await nova.create_user("ada@example.com")
    provider = await make_provider(nova, user.id, llm.base_url)
    async with await nova.login("ada@example.com") as client:
        before = await client.get("/agents/new")
        await submit(client, f"/providers/{provider.id}/test", headers={"HX-Request": "true"})
        llm.models = ["only-this-one"]
        await submit(client, f"/providers/{provider.id}/test", headers={"HX-Request": "true"})
        agent_form = await client.get("/agents/new")
        provider_form = await client.get(f"/providers/{provider.id}/edit")
    assert '<option value="only-this-one"' not in before.text
    for page, datalist in ((agent_form, "model-choices"), (provider_form, "provider-models")):
        assert f'list="{datalist}"' in page.text
        choices = page.text.split(f'<datalist id="{datalist}">', 1)[1].split("</datalist>", 1)[0]
        # The last test's listing replaces the earlier one.
        assert '<option value="only-this-one" label="Local">' in choices and "scripted-large" not in choices
