"""The round trip's edges: `state` good once and only in the browser that sent it, the login
page in each login mode, the provider saying no or being down, and logging out of both."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from app.accounts.oidc.views import CANCELLED, EXPIRED, STATE_COOKIE, UNREACHABLE
from tests.fixtures.nova import PASSWORD, nova_settings, open_nova, submit
from tests.fixtures.oidc_provider import CLIENT_ID, Provider
from tests.fixtures.server import free_port
from tests.oidc.conftest import OpenNova
from tests.oidc.flow import browser, callback_url, error_on, sign_in, users


async def test_a_replayed_state_is_refused(sso_nova: OpenNova) -> None:
    async with sso_nova(OIDC_AUTO_CREATE="true") as nova, browser(nova) as client:
        back = await callback_url(client)
        state_cookie = client.cookies[STATE_COOKIE]
        first = await client.get(back)
        assert first.status_code == 303
        replayed = await client.get(back)  # the state cookie is gone with the first use
        assert (replayed.status_code, error_on(replayed)) == (400, EXPIRED)
        client.cookies.set(STATE_COOKIE, state_cookie)  # ...and the sign-in itself is gone too
        replayed = await client.get(back)
        assert (replayed.status_code, error_on(replayed)) == (400, EXPIRED)


async def test_a_callback_from_another_browser_is_refused(sso_nova: OpenNova) -> None:
    async with sso_nova(OIDC_AUTO_CREATE="true") as nova:
        async with browser(nova) as victim_of_login_csrf:
            back = await callback_url(victim_of_login_csrf)
        async with browser(nova) as other:
            page = await other.get(back)
            assert (page.status_code, error_on(page)) == (400, EXPIRED)
            assert await users(nova) == {}


async def test_the_provider_saying_no_is_told(sso_nova: OpenNova, provider: Provider) -> None:
    provider.refuse = True
    async with sso_nova(OIDC_AUTO_CREATE="true") as nova, browser(nova) as client:
        page = await sign_in(client)
        assert (page.status_code, error_on(page)) == (400, CANCELLED)


async def test_a_provider_that_is_down_is_told(database_url: str, tmp_path: Path) -> None:
    settings = nova_settings(database_url, tmp_path, OIDC_ISSUER=f"http://127.0.0.1:{free_port()}",
                             OIDC_CLIENT_ID=CLIENT_ID)  # fmt: skip
    async with open_nova(settings) as nova, browser(nova) as client:
        page = await sign_in(client)
        assert (page.status_code, error_on(page)) == (502, UNREACHABLE)


@pytest.mark.parametrize(("mode", "password", "single_sign_on"),
                         [("local", True, False), ("both", True, True), ("oidc", False, True)])  # fmt: skip
async def test_the_login_page_follows_the_login_mode(
    sso_nova: OpenNova, mode: str, password: bool, single_sign_on: bool
) -> None:
    async with sso_nova(NOVA_LOGIN_MODE=mode) as nova:
        await nova.create_user("ada@example.com")
        async with browser(nova) as client:
            page = await client.get("/login", params={"next": "/account"})
            assert ('name="password"' in page.text) is password
            assert ("Log in with Test IdP" in page.text) is single_sign_on
            assert ('href="http://testserver/login/oidc?next=%2Faccount"' in page.text) is single_sign_on
            assert ((await client.get("/login/oidc")).status_code == 404) is not single_sign_on
            assert ((await client.get("/register")).status_code == 404) is not password
            token = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text)  # the page may have no form
            assert token
            login = await client.post("/login", data={"email": "ada@example.com", "password": PASSWORD,
                                                      "csrf_token": token.group(1)})  # fmt: skip
            assert (login.status_code == 303) is password
        if not password:
            assert "Passwords are turned off here: log in with Test IdP." in login.text


async def test_logout_ends_the_provider_session_too(sso_nova: OpenNova, provider: Provider) -> None:
    async with sso_nova(OIDC_AUTO_CREATE="true") as nova, browser(nova) as client:
        await sign_in(client)
        logout = await submit(client, "/logout")
        # A page that goes on by itself: a redirect would break the form's CSP form-action 'self'.
        assert logout.status_code == 200
        delay, _, url = logout.headers["refresh"].partition("; url=")
        assert delay == "0" and f'href="{escape(url)}"' in logout.text
        assert "Log out of Test IdP" in logout.text and "ada@example.com" not in logout.text
        target = urlsplit(url)
        assert f"{target.scheme}://{target.netloc}{target.path}" == f"{provider.issuer}/logout"
        params = {name: values[0] for name, values in parse_qs(target.query).items()}
        assert params["post_logout_redirect_uri"] == "http://testserver/login"
        assert params["client_id"] == CLIENT_ID and params["id_token_hint"].count(".") == 2
        assert (await client.get("/threads")).status_code == 303  # Nova's session ended first
        back = await client.get(url, follow_redirects=True)
        assert back.url == "http://testserver/login"
        assert provider.logouts == [params]


async def test_logout_stays_in_nova_without_an_end_session_endpoint(sso_nova: OpenNova, provider: Provider) -> None:
    provider.end_session = False
    async with sso_nova(OIDC_AUTO_CREATE="true") as nova:
        await nova.create_user("bob@example.com")
        async with browser(nova) as client:
            await sign_in(client)
            logout = await submit(client, "/logout")
            assert logout.headers["location"] == "http://testserver/login"
    provider.end_session = True
    async with sso_nova() as nova:
        await nova.create_user("bob@example.com")
        async with await nova.login("bob@example.com") as client:  # a password session has no ID token
            logout = await submit(client, "/logout")
            assert logout.headers["location"] == "http://testserver/login"
        assert provider.logouts == []
