from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import utcnow
from app.models import InviteCode, Role, User
from tests.fixtures.nova import PASSWORD, Nova, field_error, submit


async def test_admin_creates_suspends_and_reactivates_users(nova: Nova) -> None:
    await nova.create_user("root@example.com", role=Role.ADMIN)
    async with await nova.login("root@example.com") as admin:
        created = await submit(
            admin,
            "/admin/users",
            {"email": "bob@example.com", "password": PASSWORD, "role": "user"},
        )
        async with nova.ctx.db.transaction() as session:
            bob = await session.scalar(select(User).where(User.email == "bob@example.com"))
        assert bob is not None
        bob_client = await nova.login("bob@example.com")
        suspended = await submit(admin, f"/admin/users/{bob.id}/suspend")
        kicked_out = await bob_client.get("/threads")
        reactivated = await submit(admin, f"/admin/users/{bob.id}/reactivate")
        listing = await admin.get("/admin/users")
        await bob_client.aclose()
    assert created.status_code == 303
    assert suspended.status_code == 303 and kicked_out.status_code == 303
    assert reactivated.status_code == 303
    assert "bob@example.com" in listing.text


async def test_admin_form_errors_and_last_admin_protection(nova: Nova) -> None:
    root = await nova.create_user("root@example.com", role=Role.ADMIN)
    async with await nova.login("root@example.com") as admin:
        bad = await submit(admin, "/admin/users", {"email": "root@example.com", "password": "short"})
        self_suspend = await submit(admin, f"/admin/users/{root.id}/suspend")
    assert bad.status_code == 400
    assert field_error(bad.text, "email") == "An account with this email already exists."
    assert field_error(bad.text, "password")
    assert self_suspend.status_code == 400
    assert "last active administrator" in self_suspend.text


async def test_non_admins_get_403_on_admin_pages(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        users = await client.get("/admin/users")
        invite = await submit(client, "/admin/invites", {"days": "3"})
    assert users.status_code == 403 and invite.status_code == 403


async def test_invite_code_registers_exactly_one_account(nova: Nova) -> None:
    await nova.create_user("root@example.com", role=Role.ADMIN)
    async with await nova.login("root@example.com") as admin:
        page = await submit(admin, "/admin/invites", {"days": "3"})
    code = re.search(r"code=([A-Za-z0-9_-]+)", page.text)
    assert code, page.text
    async with nova.client() as client:
        form = {"email": "new@example.com", "password": PASSWORD, "invite_code": code.group(1)}
        registered = await submit(client, "/register", form)
        threads = await client.get("/threads")
    async with nova.client() as client:
        reused = await submit(client, "/register", form | {"email": "other@example.com"})
    assert registered.status_code == 303 and threads.status_code == 200
    assert reused.status_code == 400
    assert field_error(reused.text, "invite_code")
    assert 'value="other@example.com"' in reused.text


@pytest.mark.both_databases
async def test_expired_or_unknown_invites_are_refused(nova: Nova) -> None:
    root = await nova.create_user("root@example.com", role=Role.ADMIN)
    async with nova.ctx.db.transaction() as session:
        session.add(InviteCode(code="expired-code", created_by_id=root.id, expires_at=utcnow() - timedelta(days=1)))
    async with nova.client() as client:
        for code in ("expired-code", "made-up"):
            response = await submit(
                client,
                "/register",
                {"email": "x@example.com", "password": PASSWORD, "invite_code": code},
            )
            assert response.status_code == 400
            assert field_error(response.text, "invite_code")


async def test_password_change_ends_other_sessions(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    other_device = await nova.login("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        changed = await submit(
            client, "/settings/password",
            {"current_password": PASSWORD, "new_password": "a whole new secret", "confirm_password": "a whole new secret"},
        )  # fmt: skip
        still_in = await client.get("/threads")
    kicked = await other_device.get("/threads")
    await other_device.aclose()
    assert changed.status_code == 303 and still_in.status_code == 200
    assert kicked.status_code == 303
