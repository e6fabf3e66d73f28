"""Driving the single sign-on round trip the way a browser does, with httpx."""

from __future__ import annotations

import re
import ssl
from html import unescape

import httpx
from sqlalchemy import select

from app.models import OidcIdentity, User
from tests.fixtures.nova import TEST_PUBLIC_URL, Nova

# Made once: a client loading the CA bundle costs more than a whole sign-in (nothing here uses TLS).
TLS = ssl.create_default_context()


def browser(nova: Nova) -> httpx.AsyncClient:
    """Nova in process at its public URL, the provider over the network; cookies kept per site."""
    nova_transport = httpx.ASGITransport(app=nova.app, client=("127.0.0.1", 40000))
    return httpx.AsyncClient(base_url=TEST_PUBLIC_URL, mounts={TEST_PUBLIC_URL: nova_transport}, verify=TLS,
                             timeout=10)  # fmt: skip


async def sign_in(client: httpx.AsyncClient, next_url: str | None = None) -> httpx.Response:
    """Click "Log in with …" and follow every redirect: Nova, the provider, Nova again."""
    params = {"next": next_url} if next_url else None
    return await client.get("/login/oidc", params=params, follow_redirects=True)


async def callback_url(client: httpx.AsyncClient) -> str:
    """Go to the provider and stop where it sends the browser back to Nova."""
    to_provider = await client.get("/login/oidc")
    back = await client.get(to_provider.headers["location"])
    assert back.status_code == 302, back.text
    return back.headers["location"]


def error_on(page: httpx.Response) -> str:
    """The message the login page shows."""
    match = re.search(r'<div class="error form-error" role="alert">([^<]*)</div>', page.text)
    assert match, f"no error on the page ({page.status_code}): {page.text[:500]}"
    return unescape(match.group(1))


async def users(nova: Nova) -> dict[str, User]:
    async with nova.ctx.db.transaction() as session:
        return {user.email: user for user in await session.scalars(select(User))}


async def identities(nova: Nova) -> list[tuple[str, str, str]]:
    """(issuer, subject, email of the account) of every identity."""
    async with nova.ctx.db.transaction() as session:
        rows = await session.execute(select(OidcIdentity.issuer, OidcIdentity.subject, User.email).join(User))
        return sorted(tuple(row) for row in rows)  # type: ignore[misc]
