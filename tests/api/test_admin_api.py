"""/api/v1/admin: users, invites and system providers, for an administrator's admin-scope token only."""

from __future__ import annotations

import uuid

from app.models import Role, User
from tests.api.support import bearer, problem, refused, statuses
from tests.fixtures.factories import make_provider
from tests.fixtures.llm_server import ScriptedLLM
from tests.fixtures.nova import PASSWORD, Nova

USERS, INVITES, PROVIDERS = "/api/v1/admin/users", "/api/v1/admin/invites", "/api/v1/admin/providers"
SECRET = "sk-system-secret-key-9999"


async def test_users_are_listed_created_suspended_reactivated_and_promoted(nova: Nova) -> None:
    root = await nova.create_user("root@example.com", role=Role.ADMIN)
    ada = await nova.create_user("ada@example.com")
    admin, ada_token = await bearer(nova, root.id, "admin"), await bearer(nova, ada.id)
    async with nova.client() as client:
        created = await client.post(USERS, json={"email": " Bob@Example.com", "password": PASSWORD}, headers=admin)
        first = await client.get(f"{USERS}?limit=2", headers=admin)
        second = await client.get(f"{USERS}?limit=2&cursor={first.json()['next_cursor']}", headers=admin)
        url = f"{USERS}/{ada.id}"
        suspended = await client.patch(url, json={"is_active": False}, headers=admin)
        locked_out = await client.get("/api/v1/me", headers=ada_token)
        reactivated = await client.patch(url, json={"is_active": True, "role": "admin"}, headers=admin)
        back = await client.get("/api/v1/me", headers=ada_token)
        read = await client.get(url, headers=admin)
        demoted = await client.patch(url, json={"role": "user"}, headers=admin)
    assert created.status_code == 201, created.text
    assert {k: created.json()[k] for k in ("email", "role", "is_active")} == {
        "email": "bob@example.com", "role": "user", "is_active": True}  # fmt: skip
    assert "password" not in created.text and PASSWORD not in created.text
    emails = [u["email"] for u in first.json()["data"] + second.json()["data"]]
    assert emails == ["bob@example.com", "ada@example.com", "root@example.com"]
    assert first.json()["has_more"] and not second.json()["has_more"]
    assert suspended.status_code == 200 and suspended.json()["is_active"] is False
    problem(locked_out, 401)
    assert reactivated.json()["is_active"] is True and reactivated.json()["role"] == "admin"
    assert back.status_code == 200 and read.json()["role"] == "admin"
    assert demoted.json()["role"] == "user"


async def test_the_last_admin_stays_one_and_bad_input_is_a_422(nova: Nova) -> None:
    root = await nova.create_user("root@example.com", role=Role.ADMIN)
    await nova.create_user("ada@example.com")
    admin = await bearer(nova, root.id, "admin")
    me = f"{USERS}/{root.id}"
    async with nova.client() as client:
        answers = [
            await client.patch(me, json={"is_active": False}, headers=admin),
            await client.patch(me, json={"role": "user"}, headers=admin),
            await client.patch(me, json={"role": "owner"}, headers=admin),
            await client.patch(me, json={"is_active": "maybe"}, headers=admin),
            await client.post(USERS, json={"email": "ada@example.com", "password": PASSWORD}, headers=admin),
            await client.post(USERS, json={"email": "carol@example.com", "password": "short"}, headers=admin),
            await client.post(USERS, json={"email": "not an email", "password": PASSWORD}, headers=admin),
            await client.post(USERS, json={"email": "dan@example.com"}, headers=admin),
            await client.post(INVITES, json={"days": 0}, headers=admin),
            await client.get(f"{USERS}?cursor=x", headers=admin),
        ]
        unknown = [await client.patch(f"{USERS}/{uuid.uuid4()}", json={"role": "nope"}, headers=admin),
                   await client.get(f"{USERS}/{uuid.uuid4()}", headers=admin)]  # fmt: skip
        still = (await client.get(me, headers=admin)).json()
    assert [refused(r) for r in answers] == [
        ["user"], ["role"], ["role"], ["is_active"], ["email"], ["password"], ["email"], ["password"], ["days"],
        ["cursor"],
    ]  # fmt: skip
    assert [problem(r, 404)["status"] for r in unknown] == [404, 404]  # the id is looked up before the body
    assert (still["role"], still["is_active"]) == ("admin", True)


async def test_invites_show_their_code_once_and_can_be_withdrawn(nova: Nova) -> None:
    root = await nova.create_user("root@example.com", role=Role.ADMIN)
    admin = await bearer(nova, root.id, "admin")
    async with nova.client() as client:
        created = [await client.post(INVITES, json={"days": days}, headers=admin) for days in (1, 30)]
        defaulted = await client.post(INVITES, headers=admin)
        first = await client.get(f"{INVITES}?limit=2", headers=admin)
        second = await client.get(f"{INVITES}?limit=2&cursor={first.json()['next_cursor']}", headers=admin)
        url = f"{INVITES}/{created[0].json()['id']}"
        withdrawn = await client.delete(url, headers=admin)
        again = await client.delete(url, headers=admin)
        left = (await client.get(INVITES, headers=admin)).json()["data"]
        registered = await client.get(created[1].json()["register_url"])
    assert [r.status_code for r in (*created, defaulted)] == [201, 201, 201]
    invite = created[1].json()
    assert invite["usable"] and invite["created_by_id"] == str(root.id) and invite["used_at"] is None
    assert invite["register_url"].endswith(f"/register?code={invite['code']}")
    assert created[1].headers["cache-control"] == "no-store"
    listed = first.json()["data"] + second.json()["data"]
    assert [i["id"] for i in listed] == [r.json()["id"] for r in (defaulted, *reversed(created))]
    assert first.json()["has_more"] and not second.json()["has_more"]
    assert all(r.json()["code"] not in first.text + second.text for r in (*created, defaulted))
    assert withdrawn.status_code == 204 and again.status_code == 404
    assert [i["id"] for i in left] == [defaulted.json()["id"], invite["id"]]
    assert registered.status_code == 200 and invite["code"] in registered.text


async def test_system_providers_are_managed_here_and_keys_never_shown(nova: Nova, llm: ScriptedLLM) -> None:
    root = await nova.create_user("root@example.com", role=Role.ADMIN)
    ada = await nova.create_user("ada@example.com")
    theirs = await make_provider(nova, ada.id, llm.base_url, name="Ada's")
    admin, ada_token = await bearer(nova, root.id, "admin"), await bearer(nova, ada.id)
    body = {"name": "Shared", "kind": "openai", "api_key": SECRET, "default_model": "gpt-4o-mini"}
    async with nova.client() as client:
        created = await client.post(PROVIDERS, json=body, headers=admin)
        second = await client.post(PROVIDERS, json=body | {"name": "Local", "kind": "ollama", "api_key": ""},
                                   headers=admin)  # fmt: skip
        first_page = await client.get(f"{PROVIDERS}?limit=1", headers=admin)
        last_page = await client.get(f"{PROVIDERS}?limit=1&cursor={first_page.json()['next_cursor']}", headers=admin)
        url = f"{PROVIDERS}/{created.json()['id']}"
        changed = await client.patch(url, json={"default_model": "gpt-4o"}, headers=admin)
        seen_by_ada = await client.get(f"/api/v1/providers/{created.json()['id']}", headers=ada_token)
        not_system = await statuses(client, admin, [("PATCH", f"{PROVIDERS}/{theirs.id}", {"name": "Mine"}),
                                                    ("DELETE", f"{PROVIDERS}/{theirs.id}", None)])  # fmt: skip
        invalid = await client.post(PROVIDERS, json=body | {"name": "Keyless", "api_key": ""}, headers=admin)
        deleted = await client.delete(url, headers=admin)
        gone = await client.get(f"/api/v1/providers/{created.json()['id']}", headers=ada_token)
        responses = [created, second, first_page, last_page, changed, seen_by_ada]
    made = created.json()
    assert created.status_code == 201 and made["system"] and made["has_api_key"] and made["api_key_hint"] == "sk-…9999"
    assert made["base_url"] == "https://api.openai.com/v1"
    assert [p["id"] for p in first_page.json()["data"] + last_page.json()["data"]] == [second.json()["id"], made["id"]]
    assert not last_page.json()["has_more"]
    assert changed.json()["default_model"] == "gpt-4o" and changed.json()["has_api_key"]
    assert seen_by_ada.json()["system"] is True
    assert not_system == [404, 404] and refused(invalid) == ["api_key"]
    assert deleted.status_code == 204 and gone.status_code == 404
    assert not any(SECRET in r.text or "secret-key" in r.text for r in responses)


async def test_admin_routes_need_an_administrator_with_an_admin_token(nova: Nova, llm: ScriptedLLM) -> None:
    root = await nova.create_user("root@example.com", role=Role.ADMIN)
    ada = await nova.create_user("ada@example.com")
    system = await make_provider(nova, None, llm.base_url, name="Shared")
    calls = [
        ("GET", USERS, None), ("POST", USERS, {"email": "x@example.com", "password": PASSWORD}),
        ("GET", f"{USERS}/{ada.id}", None), ("PATCH", f"{USERS}/{ada.id}", {"is_active": False}),
        ("GET", INVITES, None), ("POST", INVITES, {"days": 3}), ("DELETE", f"{INVITES}/{uuid.uuid4()}", None),
        ("GET", PROVIDERS, None), ("POST", PROVIDERS, {"name": "N", "kind": "ollama", "default_model": "m"}),
        ("PATCH", f"{PROVIDERS}/{system.id}", {"name": "Hijacked"}), ("DELETE", f"{PROVIDERS}/{system.id}", None),
    ]  # fmt: skip
    async with nova.client() as client:
        refusals = {
            scope_of: await statuses(client, await bearer(nova, user_id, scope), calls)
            for scope_of, user_id, scope in [("admin read", root.id, "read"), ("admin write", root.id, "write"),
                                             ("user write", ada.id, "write")]
        }  # fmt: skip
        anonymous = await statuses(client, {}, calls)
        answer = await client.get(USERS, headers=await bearer(nova, root.id, "write"))
    assert refusals == {name: [403] * len(calls) for name in refusals}
    assert anonymous == [401] * len(calls)
    assert "admin scope" in problem(answer, 403)["detail"]
    async with nova.client() as client:
        provider = (await client.get(f"/api/v1/providers/{system.id}", headers=await bearer(nova, ada.id))).json()
    assert provider["name"] == "Shared"  # nothing was changed


async def test_a_password_reset_link_is_made_once_and_sso_accounts_are_refused(nova: Nova) -> None:
    root = await nova.create_user("root@example.com", role=Role.ADMIN)
    ada = await nova.create_user("ada@example.com")
    sso = await nova.create_user("sso@example.com")
    async with nova.ctx.db.transaction() as session:
        (await session.get(User, sso.id)).password_hash = ""  # type: ignore[union-attr]
    admin = await bearer(nova, root.id, "admin")
    async with nova.client() as client:
        made = await client.post(f"{USERS}/{ada.id}/password-reset", headers=admin)
        opened = await client.get(made.json()["url"])
        refused_sso = await client.post(f"{USERS}/{sso.id}/password-reset", headers=admin)
        unknown = await client.post(f"{USERS}/{uuid.uuid4()}/password-reset", headers=admin)
        as_ada = await client.post(f"{USERS}/{ada.id}/password-reset", headers=await bearer(nova, ada.id))
    assert made.status_code == 201, made.text
    link = made.json()
    assert link["user_id"] == str(ada.id) and "/password-reset/" in link["url"]
    assert made.headers["cache-control"] == "no-store"
    assert opened.status_code == 200 and "ada@example.com" in opened.text
    assert refused(refused_sso) == ["user"]
    assert "single sign-on" in refused_sso.json()["errors"]["user"]
    problem(unknown, 404)
    problem(as_ada, 403)


async def test_deleting_a_user_takes_their_tokens_and_spares_yourself(nova: Nova, llm: ScriptedLLM) -> None:
    root = await nova.create_user("root@example.com", role=Role.ADMIN)
    ada = await nova.create_user("ada@example.com")
    await make_provider(nova, ada.id, llm.base_url, name="Ada's")
    admin, ada_token = await bearer(nova, root.id, "admin"), await bearer(nova, ada.id)
    async with nova.client() as client:
        myself = await client.delete(f"{USERS}/{root.id}", headers=admin)
        by_ada = await client.delete(f"{USERS}/{root.id}", headers=ada_token)
        deleted = await client.delete(f"{USERS}/{ada.id}", headers=admin)
        again = await client.delete(f"{USERS}/{ada.id}", headers=admin)
        ada_after = await client.get("/api/v1/me", headers=ada_token)
        left = [u["email"] for u in (await client.get(USERS, headers=admin)).json()["data"]]
    assert refused(myself) == ["user"]
    assert "your own account" in myself.json()["errors"]["user"]
    problem(by_ada, 403)
    assert deleted.status_code == 204
    problem(again, 404)
    problem(ada_after, 401)
    assert left == ["root@example.com"]
