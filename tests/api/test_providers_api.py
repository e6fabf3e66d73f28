"""/api/v1/providers: yours to manage, the system ones to use; the API key is never shown."""

from __future__ import annotations

import httpx

from app.models import Role
from tests.api.support import bearer, problem, refused, statuses
from tests.fixtures.factories import make_provider
from tests.fixtures.llm_server import ScriptedLLM
from tests.fixtures.nova import Nova

URL = "/api/v1/providers"
SECRET = "sk-proj-very-secret-key-0001"
NEW_SECRET = "sk-proj-very-secret-key-0002"


def new_provider(base_url: str, **changes: object) -> dict[str, object]:
    return {"name": "Mine", "kind": "openai_compatible", "base_url": base_url, "api_key": SECRET,
            "default_model": "scripted-small", "max_context_tokens": 4096} | changes  # fmt: skip


def no_key_in(responses: list[httpx.Response]) -> bool:
    return not any(secret in r.text for r in responses for secret in (SECRET, NEW_SECRET, "very-secret"))


async def test_a_provider_is_created_listed_changed_and_deleted(nova: Nova, llm: ScriptedLLM) -> None:
    ada = await nova.create_user("ada@example.com")
    system = await make_provider(nova, None, llm.base_url, name="Shared")
    auth = await bearer(nova, ada.id)
    async with nova.client() as client:
        created = await client.post(URL, json=new_provider(llm.base_url), headers=auth)
        url = f"{URL}/{created.json()['id']}"
        read = await client.get(url, headers=auth)
        first = await client.get(f"{URL}?limit=1", headers=auth)
        second = await client.get(f"{URL}?limit=1&cursor={first.json()['next_cursor']}", headers=auth)
        shared = await client.get(f"{URL}/{system.id}", headers=auth)
        renamed = await client.patch(url, json={"name": "Renamed", "max_context_tokens": 8192}, headers=auth)
        rekeyed = await client.patch(url, json={"api_key": NEW_SECRET}, headers=auth)
        agents = await client.get("/api/v1/agents", headers=auth)
        deleted = await client.delete(url, headers=auth)
        gone = await client.get(url, headers=auth)
        seen = [created, read, first, second, shared, renamed, rekeyed]
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["name"], body["system"], body["has_api_key"]) == ("Mine", False, True)
    assert body["api_key_hint"] == "sk-…0001"
    assert "api_key" not in body and read.json() == body
    assert [p["id"] for p in first.json()["data"] + second.json()["data"]] == [body["id"], str(system.id)]
    assert first.json()["has_more"] and not second.json()["has_more"]
    assert [p["system"] for p in second.json()["data"]] == [True] and shared.json()["system"] is True
    assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed"
    assert renamed.json()["max_context_tokens"] == 8192 and renamed.json()["api_key_hint"] == "sk-…0001"
    assert rekeyed.json()["api_key_hint"] == "sk-…0002" and rekeyed.json()["name"] == "Renamed"
    assert [a["name"] for a in agents.json()["data"]] == ["Nova"]  # the first provider brings the default agent
    assert deleted.status_code == 204 and gone.status_code == 404
    assert no_key_in(seen)


async def test_others_providers_are_not_found_and_system_ones_cannot_be_changed_here(
    nova: Nova, llm: ScriptedLLM
) -> None:
    ada = await nova.create_user("ada@example.com")
    admin = await nova.create_user("root@example.com", role=Role.ADMIN)
    eve = await nova.create_user("eve@example.com")
    mine = await make_provider(nova, ada.id, llm.base_url)
    system = await make_provider(nova, None, llm.base_url, name="Shared")
    auth, stranger = await bearer(nova, ada.id), await bearer(nova, eve.id)
    url, system_url = f"{URL}/{mine.id}", f"{URL}/{system.id}"
    change = {"name": "Taken"}
    async with nova.client() as client:
        hidden = await statuses(client, stranger, [("GET", url, None), ("PATCH", url, change), ("DELETE", url, None)])
        listed = (await client.get(URL, headers=stranger)).json()["data"]
        system_calls = [("PATCH", system_url, change), ("DELETE", system_url, None)]
        as_user = await statuses(client, auth, system_calls)
        as_admin = await statuses(client, await bearer(nova, admin.id, "admin"), system_calls)
        reader = await bearer(nova, ada.id, "read")
        read_only = await statuses(client, reader, [("POST", URL, new_provider(llm.base_url)),
                                                    ("PATCH", url, change), ("DELETE", url, None)])  # fmt: skip
        still = await client.get(url, headers=reader)
    assert hidden == [404, 404, 404]
    assert [p["id"] for p in listed] == [str(system.id)]
    assert as_user == [404, 404] and as_admin == [404, 404]  # system providers: the admin routes
    assert read_only == [403, 403, 403]
    assert still.json()["name"] == "Local"


async def test_bad_providers_are_a_422_naming_each_field(nova: Nova, llm: ScriptedLLM) -> None:
    ada = await nova.create_user("ada@example.com")
    auth = await bearer(nova, ada.id)
    async with nova.client() as client:
        created = await client.post(URL, json=new_provider(llm.base_url), headers=auth)
        url = f"{URL}/{created.json()['id']}"
        answers = [
            await client.post(URL, json=new_provider(llm.base_url, kind="nope"), headers=auth),
            await client.post(URL, json=new_provider(llm.base_url, name="Mine"), headers=auth),
            await client.post(URL, json=new_provider("ftp://example.com", name="Other"), headers=auth),
            await client.post(URL, json=new_provider("", name="Open", kind="openai", api_key=""), headers=auth),
            await client.post(URL, json=new_provider(llm.base_url, max_context_tokens=10), headers=auth),
            await client.post(URL, json={"name": "Half"}, headers=auth),
            await client.post(URL, json=new_provider(llm.base_url, name="X", secret="no"), headers=auth),
            await client.patch(url, json={"base_url": "nowhere"}, headers=auth),
            await client.patch(url, json={"default_model": ""}, headers=auth),
            await client.get(f"{URL}?limit=500", headers=auth),
        ]
        kept = await client.get(url, headers=auth)
    assert [refused(r) for r in answers] == [
        ["kind"], ["name"], ["base_url"], ["api_key"], ["max_context_tokens"], ["default_model", "kind"], ["secret"],
        ["base_url"], ["default_model"], ["limit"],
    ]  # fmt: skip
    assert problem(answers[1], 422)["errors"]["name"] == "A provider with this name already exists."
    assert kept.json() == created.json()
    assert no_key_in([created, *answers, kept])
