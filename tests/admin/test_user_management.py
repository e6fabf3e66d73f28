"""Admin user management in the browser's pages: roles, password reset links, deleting a user."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import httpx
from sqlalchemy import func, select, update

from app.accounts import service as accounts
from app.db import utcnow
from app.models import PasswordReset, Role, User
from tests.fixtures.nova import PASSWORD, Nova, field_error, submit

NEW_PASSWORD = "a brand new passphrase"
RESET_LINK = re.compile(r'id="reset-link" type="text" readonly value="([^"]+)"')


async def _reset_link(admin: httpx.AsyncClient, user: User) -> str:
    page = await submit(admin, f"/admin/users/{user.id}/password-reset")
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    match = RESET_LINK.search(page.text)
    assert match, page.text
    return unescape(match.group(1))


async def _set_password(client: httpx.AsyncClient, link: str, new: str, confirm: str | None = None) -> httpx.Response:
    """Post the form as a browser would (from a tab opened while the link still worked)."""
    return await submit(client, link, {"new_password": new, "confirm_password": confirm or new})


async def test_roles_change_and_the_last_admin_stays_one(nova: Nova) -> None:
    root = await nova.create_user("root@example.com", role=Role.ADMIN)
    bob = await nova.create_user("bob@example.com")
    async with await nova.login("root@example.com") as admin:
        promoted = await submit(admin, f"/admin/users/{bob.id}/role", {"role": "admin"})
        listing = await admin.get("/admin/users")
        demoted = await submit(admin, f"/admin/users/{bob.id}/role", {"role": "user"})
        self_demoted = await submit(admin, f"/admin/users/{root.id}/role", {"role": "user"})
    async with nova.ctx.db.transaction() as session:
        roles = {u.email: u.role for u in await session.scalars(select(User))}
    assert promoted.status_code == 303 and demoted.status_code == 303
    assert "Make user" in listing.text  # bob, now an admin, can be made a user again
    assert self_demoted.status_code == 400
    assert "The last active administrator cannot stop being one." in unescape(self_demoted.text)
    assert field_error(self_demoted.text, "role") is None  # above the table, not under the create form
    assert roles == {"root@example.com": Role.ADMIN, "bob@example.com": Role.USER}


async def test_a_reset_link_sets_a_password_once_and_signs_the_user_out(nova: Nova) -> None:
    await nova.create_user("root@example.com", role=Role.ADMIN)
    bob = await nova.create_user("bob@example.com")
    bob_browser = await nova.login("bob@example.com")
    async with nova.ctx.db.transaction() as session:  # as if Nova had generated bob's password
        await session.execute(update(User).where(User.id == bob.id).values(must_change_password=True))
    async with await nova.login("root@example.com") as admin:
        superseded = await _reset_link(admin, bob)
        link = await _reset_link(admin, bob)
    async with nova.client() as stranger:
        opened = await stranger.get(link)
        mismatch = await _set_password(stranger, link, NEW_PASSWORD, "something else entirely")
        weak = await _set_password(stranger, link, "short")
        done = await _set_password(stranger, link, NEW_PASSWORD)
        second = await _set_password(stranger, link, "yet another passphrase")
        reopened = await stranger.get(link)
        old = await stranger.get(superseded)
        unknown = await stranger.get(link[:-4] + "abcd")
    kicked_out = await bob_browser.get("/threads")
    await bob_browser.aclose()
    async with nova.ctx.db.transaction() as session:
        old_password = await accounts.authenticate(session, "bob@example.com", PASSWORD)
        new_password = await accounts.authenticate(session, "bob@example.com", NEW_PASSWORD)
    assert new_password is not None and not new_password.must_change_password  # bob chose this one
    assert opened.status_code == 200 and "bob@example.com" in opened.text
    assert opened.headers["referrer-policy"] == "same-origin"
    assert mismatch.status_code == 400 and field_error(mismatch.text, "confirm_password")
    assert weak.status_code == 400 and field_error(weak.text, "new_password")
    assert done.status_code == 200 and "Every session of this account was signed out" in done.text
    assert kicked_out.status_code == 303  # bob's open session ended
    assert old_password is None and new_password is not None
    assert second.status_code == 410 and "already used" in second.text
    assert reopened.status_code == 410 and 'name="new_password"' not in reopened.text
    assert old.status_code == 404  # a newer link replaced it
    assert unknown.status_code == 404 and "not valid" in unknown.text


async def test_an_expired_link_and_a_single_sign_on_account_are_refused(nova: Nova) -> None:
    await nova.create_user("root@example.com", role=Role.ADMIN)
    bob = await nova.create_user("bob@example.com")
    sso = await nova.create_user("sso@example.com")
    async with nova.ctx.db.transaction() as session:
        await session.execute(update(User).where(User.id == sso.id).values(password_hash=""))
    async with await nova.login("root@example.com") as admin:
        link = await _reset_link(admin, bob)
        refused = await submit(admin, f"/admin/users/{sso.id}/password-reset")
        listing = await admin.get("/admin/users")
    async with nova.ctx.db.transaction() as session:
        await session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(minutes=1)))
        links_for_sso = await session.scalar(select(func.count()).where(PasswordReset.user_id == sso.id))
    async with nova.client() as client:
        expired = await client.get(link)
        used_late = await _set_password(client, link, NEW_PASSWORD)
    assert refused.status_code == 400
    assert "sso@example.com signs in with single sign-on and has no password here to reset." in unescape(refused.text)
    assert links_for_sso == 0
    assert f'/admin/users/{sso.id}/password-reset"' not in listing.text  # no button for them
    assert expired.status_code == 410 and "has expired" in expired.text
    assert used_late.status_code == 410
