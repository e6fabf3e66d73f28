"""Who the provider vouches for, read from its claims, and whether the settings let them in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.settings import Settings

# Claims that only the (checked) ID token may set: userinfo must not change who this is.
ID_TOKEN_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "iat", "nbf", "nonce", "azp", "at_hash", "auth_time"})


@dataclass(frozen=True)
class Person:
    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    groups: frozenset[str]


@dataclass(frozen=True)
class AccessRule:
    """The settings that choose who may log in, and who is an administrator."""

    groups_claim: str
    required_group: str | None
    required_claim: tuple[str, str] | None
    admin_group: str | None

    @classmethod
    def from_settings(cls, settings: Settings) -> AccessRule:
        name, _, value = (settings.oidc_required_claim or "").partition("=")
        claim = (name, value) if name else None
        return cls(settings.oidc_groups_claim, settings.oidc_required_group, claim, settings.oidc_admin_group)

    def lets_in(self, claims: Mapping[str, Any]) -> bool:
        if self.required_group and self.required_group not in claim_values(claims, self.groups_claim):
            return False
        if self.required_claim:
            name, expected = self.required_claim
            return expected in claim_values(claims, name)
        return True

    def person(self, claims: Mapping[str, Any]) -> Person:
        email = claims.get("email")
        return Person(
            issuer=str(claims["iss"]),
            subject=str(claims["sub"]),
            email=email.strip().lower() if isinstance(email, str) and email.strip() else None,
            # Some providers send the string "true"; anything else is not a verified email.
            email_verified=claims.get("email_verified") in (True, "true"),
            groups=claim_values(claims, self.groups_claim),
        )


def merge_userinfo(id_claims: Mapping[str, Any], userinfo: Mapping[str, Any]) -> dict[str, Any]:
    """The ID token's claims with what the userinfo endpoint adds (some providers put email and
    groups there only). Refused with ValueError when it speaks of another subject (Core 5.3.2)."""
    if not userinfo:
        return dict(id_claims)
    if userinfo.get("sub") != id_claims.get("sub"):
        raise ValueError("the userinfo endpoint answered for another subject")
    extra = {name: value for name, value in userinfo.items() if name not in ID_TOKEN_CLAIMS}
    return {**id_claims, **extra}


def claim_values(claims: Mapping[str, Any], name: str) -> frozenset[str]:
    """A claim as a set of strings: a list of its items, or its one value ("true" for true).
    A dotted name reaches into objects (Keycloak's `realm_access.roles`)."""
    value: Any = claims.get(name)
    if value is None and "." in name:
        value = claims
        for part in name.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
    items = value if isinstance(value, list) else [value]
    return frozenset(_as_text(item) for item in items if isinstance(item, str | int | float | bool))


def _as_text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
