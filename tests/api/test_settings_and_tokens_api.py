"""/api/v1/tool-settings (secrets masked, one group saved at a time) and /api/v1/tokens (listed, revoked)."""

from __future__ import annotations

from app.tokens import service as tokens
from app.tool_settings import service as tools
from tests.api.support import bearer, problem, refused, statuses
from tests.fixtures.nova import Nova

SETTINGS = "/api/v1/tool-settings"
TOKENS = "/api/v1/tokens"
PASSWORD = "caldav-password-4321"
CALENDAR = {"url": "https://dav.example.com/cal/", "username": "ada", "password": PASSWORD}


async def test_tool_settings_are_saved_per_group_with_secrets_masked(nova: Nova) -> None:
    ada = await nova.create_user("ada@example.com")
    auth = await bearer(nova, ada.id)
    async with nova.client() as client:
        empty = await client.get(SETTINGS, headers=auth)
        saved = await client.put(f"{SETTINGS}/calendar", json=CALENDAR, headers=auth)
        renamed = await client.put(f"{SETTINGS}/calendar", json=CALENDAR | {"username": "ada2", "password": ""},
                                   headers=auth)  # fmt: skip
        search = await client.put(f"{SETTINGS}/web_search", json={"url": "https://searx.example.com"}, headers=auth)
        read = await client.get(SETTINGS, headers=auth)
        removed = await client.put(f"{SETTINGS}/calendar", json={}, headers=auth)
        after = await client.get(SETTINGS, headers=auth)
    calendar_empty = {"group": "calendar", "configured": False, "secret_fields": ["password"],
                      "values": {"url": "", "username": "", "password": ""}}  # fmt: skip
    assert empty.status_code == 200 and empty.json() == {
        "groups": [calendar_empty, {"group": "web_search", "configured": False, "secret_fields": [],
                                    "values": {"url": ""}}],
        "timezone": "UTC",
    }  # fmt: skip
    assert saved.status_code == 200 and saved.json()["values"] == CALENDAR | {"password": "…4321"}
    assert renamed.json()["values"]["username"] == "ada2" and renamed.json()["values"]["password"] == "…4321"
    assert search.json() == {"group": "web_search", "configured": True, "secret_fields": [],
                             "values": {"url": "https://searx.example.com"}}  # fmt: skip
    assert [g["configured"] for g in read.json()["groups"]] == [True, True]
    assert removed.json() == calendar_empty and after.json()["groups"][0] == calendar_empty
    assert all(PASSWORD not in r.text for r in (saved, renamed, read))


async def test_a_blank_secret_keeps_the_stored_one(nova: Nova) -> None:
    ada = await nova.create_user("ada@example.com")
    auth = await bearer(nova, ada.id)
    async with nova.client() as client:
        await client.put(f"{SETTINGS}/calendar", json=CALENDAR, headers=auth)
        await client.put(f"{SETTINGS}/calendar", json=CALENDAR | {"password": ""}, headers=auth)
    async with nova.ctx.db.transaction() as session:
        stored = await tools.load_settings(session, nova.ctx.secretbox, ada.id)
    assert stored["calendar"]["password"] == PASSWORD


async def test_tool_settings_refuse_bad_input_unknown_groups_and_read_tokens(nova: Nova) -> None:
    ada = await nova.create_user("ada@example.com")
    eve = await nova.create_user("eve@example.com")
    auth, reader, stranger = await bearer(nova, ada.id), await bearer(nova, ada.id, "read"), await bearer(nova, eve.id)
    async with nova.client() as client:
        await client.put(f"{SETTINGS}/calendar", json=CALENDAR, headers=auth)
        answers = [
            await client.put(f"{SETTINGS}/calendar", json=CALENDAR | {"url": "dav.example.com"}, headers=auth),
            # The stored password is kept; the user name is not.
            await client.put(f"{SETTINGS}/calendar", json={"url": CALENDAR["url"]}, headers=auth),
            await client.put(f"{SETTINGS}/web_search", json={"url": "https://s", "username": "x"}, headers=auth),
            await client.put(f"{SETTINGS}/calendar", json=CALENDAR | {"port": 8443}, headers=auth),
            await client.put(f"{SETTINGS}/calendar", json=CALENDAR | {"username": 1}, headers=auth),
        ]
        unknown = await client.put(f"{SETTINGS}/mail", json={"nonsense": True}, headers=auth)
        read_only = await statuses(client, reader, [("PUT", f"{SETTINGS}/calendar", CALENDAR)])
        theirs = (await client.get(SETTINGS, headers=stranger)).json()
        mine = (await client.get(SETTINGS, headers=reader)).json()
    assert [refused(r) for r in answers] == [
        ["calendar.url"], ["calendar.username"], ["username"], ["port"], ["username"],
    ]  # fmt: skip
    problem(unknown, 404)
    assert read_only == [403]
    assert [g["configured"] for g in theirs["groups"]] == [False, False]
    assert mine["groups"][0]["values"]["username"] == "ada"  # nothing refused was saved


async def test_tokens_are_listed_page_by_page_without_secrets_and_revoked(nova: Nova) -> None:
    ada = await nova.create_user("ada@example.com")
    eve = await nova.create_user("eve@example.com")
    async with nova.ctx.db.transaction() as session:
        issued = [await tokens.create_token(session, ada.id, name, scope, days)
                  for name, scope, days in [("laptop", "write", None), ("ci", "read", 30), ("phone", "write", 7)]]  # fmt: skip
    auth, reader = (f"Bearer {issued[0].secret}", f"Bearer {issued[1].secret}")
    auth_h, reader_h, stranger = {"authorization": auth}, {"authorization": reader}, await bearer(nova, eve.id)
    async with nova.client() as client:
        first = await client.get(f"{TOKENS}?limit=2", headers=auth_h)
        second = await client.get(f"{TOKENS}?limit=2&cursor={first.json()['next_cursor']}", headers=auth_h)
        phone = f"{TOKENS}/{issued[2].token.id}"
        hidden = await statuses(client, stranger, [("DELETE", phone, None)])
        theirs = (await client.get(TOKENS, headers=stranger)).json()["data"]
        read_only = await statuses(client, reader_h, [("DELETE", phone, None)])
        revoked = await client.delete(phone, headers=auth_h)
        again = await client.delete(phone, headers=auth_h)
        left = (await client.get(TOKENS, headers=reader_h)).json()["data"]
        self_revoked = await client.delete(f"{TOKENS}/{issued[0].token.id}", headers=auth_h)
        after = await client.get(TOKENS, headers=auth_h)
        bad = await client.get(f"{TOKENS}?limit=x", headers=reader_h)
    listed = first.json()["data"] + second.json()["data"]
    assert [t["name"] for t in listed] == ["phone", "ci", "laptop"] and first.json()["has_more"]
    assert not second.json()["has_more"]
    ci = listed[1]
    assert set(ci) == {"id", "name", "hint", "scope", "created_at", "last_used_at", "expires_at"}
    assert ci["scope"] == "read" and ci["hint"] == issued[1].secret[:9] and ci["expires_at"]
    assert listed[0]["last_used_at"] is None and listed[2]["last_used_at"] and listed[2]["expires_at"] is None
    assert all(i.secret not in r.text for i in issued for r in (first, second))
    assert hidden == [404] and [t["name"] for t in theirs] == [theirs[0]["name"]]
    assert read_only == [403]
    assert revoked.status_code == 204 and again.status_code == 404
    assert [t["name"] for t in left] == ["ci", "laptop"]
    assert self_revoked.status_code == 204 and problem(after, 401)
    assert refused(bad) == ["limit"]
