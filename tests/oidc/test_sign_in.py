"""Which Nova account a single sign-on opens: found by (issuer, subject), created or linked
only when the settings allow, refused when suspended or outside the required group."""

from __future__ import annotations

from app.accounts import service as accounts
from app.accounts.oidc import service
from app.accounts.oidc.views import NOT_ALLOWED
from app.models import Role
from tests.fixtures.nova import submit
from tests.fixtures.oidc_provider import Person, Provider
from tests.oidc.conftest import OpenNova
from tests.oidc.flow import browser, error_on, identities, sign_in, users


async def test_first_sign_in_creates_the_account_then_finds_it(sso_nova: OpenNova, provider: Provider) -> None:
    async with sso_nova(OIDC_AUTO_CREATE="true") as nova:
        async with browser(nova) as client:
            page = await sign_in(client, next_url="/settings")
            assert (page.status_code, page.url.path) == (200, "/settings")
            assert "ada@example.com" in page.text
            assert "Nova holds no password" in page.text and 'name="current_password"' not in page.text
            await submit(client, "/logout")
            again = await sign_in(client)
            assert (again.status_code, again.url.path) == (200, "/threads")
        found = await users(nova)
        assert list(found) == ["ada@example.com"]
        assert found["ada@example.com"].role is Role.USER and found["ada@example.com"].is_active
        assert await identities(nova) == [(provider.issuer, "subject-ada", "ada@example.com")]
        # No password: this account signs in only through the provider.
        assert found["ada@example.com"].password_hash == ""
        async with nova.client() as other:
            refused = await submit(other, "/login", {"email": "ada@example.com", "password": ""})
            assert refused.status_code == 400


async def test_without_auto_creation_a_newcomer_is_refused(sso_nova: OpenNova) -> None:
    async with sso_nova() as nova, browser(nova) as client:
        page = await sign_in(client)
        assert (page.status_code, page.url.path) == (400, "/login/oidc/callback")
        assert error_on(page) == service.NO_ACCOUNT
        assert 'href="http://testserver/login/oidc"' in page.text  # the way to try again
        assert await users(nova) == {}


async def test_the_identity_is_issuer_and_subject_never_the_email(sso_nova: OpenNova, provider: Provider) -> None:
    async with sso_nova(OIDC_AUTO_CREATE="true") as nova:
        async with browser(nova) as client:
            assert (await sign_in(client)).status_code == 200
        provider.person = Person(sub="someone-else", email="ada@example.com")  # the same email, another person
        async with browser(nova) as stranger:
            assert error_on(await sign_in(stranger)) == service.EMAIL_TAKEN
        provider.person = Person(email="ada@new-domain.example")  # Ada's email changed at the provider
        async with browser(nova) as client:
            assert (await sign_in(client)).status_code == 200
        assert list(await users(nova)) == ["ada@example.com"]
        assert await identities(nova) == [(provider.issuer, "subject-ada", "ada@example.com")]


async def test_a_local_account_links_only_by_verified_email_when_allowed(
    sso_nova: OpenNova, provider: Provider
) -> None:
    async with sso_nova(OIDC_AUTO_CREATE="true") as nova:
        await nova.create_user("ada@example.com")
        async with browser(nova) as client:
            assert error_on(await sign_in(client)) == service.EMAIL_TAKEN  # linking is not allowed
    async with sso_nova(OIDC_LINK_BY_EMAIL="true") as nova:
        local = await nova.create_user("ada@example.com")
        provider.person = Person(email_verified=False)
        async with browser(nova) as client:
            assert error_on(await sign_in(client)) == service.EMAIL_TAKEN
        provider.person = Person(email="Ada@Example.com", email_verified=True)
        async with browser(nova) as client:
            assert (await sign_in(client)).status_code == 200
        assert [user.id for user in (await users(nova)).values()] == [local.id]
        assert await identities(nova) == [(provider.issuer, "subject-ada", "ada@example.com")]


async def test_a_suspended_account_is_refused(sso_nova: OpenNova) -> None:
    async with sso_nova(OIDC_AUTO_CREATE="true") as nova, browser(nova) as client:
        assert (await sign_in(client)).status_code == 200
        async with nova.ctx.db.transaction() as session:
            await accounts.suspend_by_email(session, "ada@example.com")
        page = await sign_in(client)
        assert error_on(page) == service.SUSPENDED
        assert (await client.get("/threads")).status_code == 303  # the old session ended with the suspension


async def test_only_the_required_group_gets_in(sso_nova: OpenNova, provider: Provider) -> None:
    async with sso_nova(OIDC_AUTO_CREATE="true", OIDC_REQUIRED_GROUP="nova-users") as nova:
        provider.person = Person(groups=["family"])
        async with browser(nova) as client:
            assert error_on(await sign_in(client)) == NOT_ALLOWED
        assert await users(nova) == {}
        provider.person = Person(groups=["family", "nova-users"])
        async with browser(nova) as client:
            assert (await sign_in(client)).status_code == 200


async def test_a_required_claim_gets_in_only_its_holders(sso_nova: OpenNova, provider: Provider) -> None:
    async with sso_nova(OIDC_AUTO_CREATE="true", OIDC_REQUIRED_CLAIM="nova_access=true") as nova:
        provider.person = Person(extra={"nova_access": False})
        async with browser(nova) as client:
            assert error_on(await sign_in(client)) == NOT_ALLOWED
        provider.person = Person(extra={"nova_access": True})
        async with browser(nova) as client:
            assert (await sign_in(client)).status_code == 200


async def test_the_admin_group_makes_admins_and_leaving_it_unmakes_them(sso_nova: OpenNova, provider: Provider) -> None:
    async with sso_nova(OIDC_AUTO_CREATE="true", OIDC_ADMIN_GROUP="nova-admins") as nova:
        provider.person = Person(groups=["nova-users", "nova-admins"])
        async with browser(nova) as client:
            await sign_in(client)
            assert (await client.get("/admin/users")).status_code == 200
        assert (await users(nova))["ada@example.com"].role is Role.ADMIN

        provider.person = Person(groups=["nova-users"])
        async with browser(nova) as client:
            await sign_in(client)
        assert (await users(nova))["ada@example.com"].role is Role.ADMIN  # the last administrator stays one
        await nova.create_user("root@example.com", role=Role.ADMIN)
        async with browser(nova) as client:
            await sign_in(client)
            assert (await client.get("/admin/users")).status_code == 403
        assert (await users(nova))["ada@example.com"].role is Role.USER
