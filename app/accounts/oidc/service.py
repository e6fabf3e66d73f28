"""Single sign-on rules: sign-ins under way (each `state` good once), and which Nova account
a person at the provider is: found by (issuer, subject), linked by verified email only when
allowed, created only when allowed, refused when suspended; the admin group sets the role."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as accounts
from app.accounts.oidc import repository
from app.accounts.oidc.claims import Person
from app.accounts.service import EMAIL_PATTERN
from app.db import utcnow
from app.models import OidcIdentity, OidcLoginRequest, OidcSession, Role, User
from app.security.tokens import token_hash
from app.settings import Settings

LOGIN_REQUEST_MINUTES = 10
NEXT_URL_MAX = 2048  # the column's length
SUSPENDED = "This account is suspended."
NO_ACCOUNT = (
    "No Nova account belongs to this sign-in, and new accounts are not created automatically. Ask an administrator."
)
EMAIL_TAKEN = (
    "A Nova account already uses this email address, and it can only be linked to single sign-on when an "
    "administrator allows it and your provider has verified the address. Log in with your password instead."
)
NO_EMAIL = "Your provider did not share a valid email address, which a new Nova account needs."
log = logging.getLogger(__name__)


class SignInRefused(Exception):
    """The provider vouched for this person, but Nova will not let them in; the text is for them."""


@dataclass(frozen=True)
class PendingLogin:
    """What a sign-in sends to the provider and must see again when it comes back."""

    state: str
    nonce: str
    code_verifier: str
    next_url: str


@dataclass(frozen=True)
class SignInPolicy:
    auto_create: bool
    link_by_email: bool
    admin_group: str | None

    @classmethod
    def from_settings(cls, settings: Settings) -> SignInPolicy:
        return cls(settings.oidc_auto_create, settings.oidc_link_by_email, settings.oidc_admin_group)


async def begin_login(session: AsyncSession, next_url: str) -> PendingLogin:
    await repository.delete_expired_login_requests(session, utcnow())
    # 256 bits of state and of nonce; a 64-character verifier (RFC 7636 wants 43 to 128).
    pending = PendingLogin(secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48), next_url)
    session.add(
        OidcLoginRequest(
            id=token_hash(pending.state),
            nonce=pending.nonce,
            code_verifier=pending.code_verifier,
            next_url=next_url,
            expires_at=utcnow() + timedelta(minutes=LOGIN_REQUEST_MINUTES),
        )
    )
    return pending


async def take_login(session: AsyncSession, state: str) -> PendingLogin | None:
    """The sign-in `state` belongs to, which no later call will find again; None if unknown or expired."""
    request = await repository.take_login_request(session, token_hash(state))
    if request is None or request.expires_at <= utcnow():
        return None
    return PendingLogin(state, request.nonce, request.code_verifier, request.next_url)


async def account_for(session: AsyncSession, person: Person, policy: SignInPolicy) -> User:
    """The Nova account this person signs in to (SignInRefused if none may be used)."""
    found = await repository.get_identity(session, person.issuer, person.subject)
    identity, user = found if found else await _first_sign_in(session, person, policy)
    if not user.is_active:
        raise SignInRefused(SUSPENDED)
    identity.last_login_at = utcnow()
    if policy.admin_group:
        await _follow_admin_group(session, user, policy.admin_group in person.groups)
    return user


async def remember_id_token(session: AsyncSession, session_id: str, id_token: str) -> None:
    session.add(OidcSession(session_id=session_id, id_token=id_token))


async def id_token_of(session: AsyncSession, session_id: str) -> str | None:
    return await repository.get_session_id_token(session, session_id)


async def _first_sign_in(session: AsyncSession, person: Person, policy: SignInPolicy) -> tuple[OidcIdentity, User]:
    existing = await accounts.get_user_by_email(session, person.email) if person.email else None
    if existing is not None:
        if not (policy.link_by_email and person.email_verified):
            raise SignInRefused(EMAIL_TAKEN)
        log.info("single sign-on linked %s to the account %s by its verified email", person.subject, existing.id)
        return await _add_identity(session, person, existing), existing
    if not policy.auto_create:
        raise SignInRefused(NO_ACCOUNT)
    if not person.email or not EMAIL_PATTERN.match(person.email) or len(person.email) > 254:
        raise SignInRefused(NO_EMAIL)
    # No password: "" never verifies (app/security/passwords.py), so this account only signs in here.
    user = User(email=person.email, password_hash="", role=Role.USER, is_active=True)
    session.add(user)
    await session.flush()
    return await _add_identity(session, person, user), user


async def _add_identity(session: AsyncSession, person: Person, user: User) -> OidcIdentity:
    identity = OidcIdentity(user_id=user.id, issuer=person.issuer, subject=person.subject)
    session.add(identity)
    await session.flush()
    return identity


async def _follow_admin_group(session: AsyncSession, user: User, in_group: bool) -> None:
    if in_group:
        user.role = Role.ADMIN
    elif user.is_admin and await accounts.count_active_admins(session) > 1:
        user.role = Role.USER  # the group was taken away at the provider
