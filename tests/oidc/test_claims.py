"""Reading claims: groups in any shape, the required claim, and what userinfo may add."""

from __future__ import annotations

import pytest

from app.accounts.oidc.claims import AccessRule, claim_values, merge_userinfo
from app.settings import load_settings

ID_CLAIMS = {"iss": "https://idp.example", "sub": "ada", "aud": "nova", "email": "Ada@Example.com "}


def test_claim_values_read_lists_single_values_and_nested_objects() -> None:
    claims = {"groups": ["a", "b", 3], "role": "admin", "flag": True, "realm_access": {"roles": ["nova"]}}
    assert claim_values(claims, "groups") == {"a", "b", "3"}
    assert claim_values(claims, "role") == {"admin"}
    assert claim_values(claims, "flag") == {"true"}
    assert claim_values(claims, "realm_access.roles") == {"nova"}
    assert claim_values(claims, "missing") == frozenset()


def test_the_access_rule_follows_the_settings() -> None:
    settings = load_settings(_env_file=None, OIDC_ISSUER="https://idp.example", OIDC_CLIENT_ID="nova",
                             OIDC_REQUIRED_GROUP="nova", OIDC_REQUIRED_CLAIM=" tier = gold ")  # fmt: skip
    rule = AccessRule.from_settings(settings)
    assert rule.lets_in({"groups": ["nova"], "tier": "gold"})
    assert not rule.lets_in({"groups": ["nova"], "tier": "silver"})
    assert not rule.lets_in({"groups": ["family"], "tier": "gold"})
    person = rule.person({**ID_CLAIMS, "email_verified": "true", "groups": "nova"})
    assert (person.email, person.email_verified, person.groups) == ("ada@example.com", True, frozenset({"nova"}))
    assert not rule.person({**ID_CLAIMS, "email_verified": "yes"}).email_verified


def test_userinfo_adds_claims_but_never_changes_who_it_is() -> None:
    merged = merge_userinfo(ID_CLAIMS, {"sub": "ada", "iss": "https://evil.example", "groups": ["nova"]})
    assert merged["iss"] == "https://idp.example" and merged["groups"] == ["nova"]
    with pytest.raises(ValueError, match="another subject"):
        merge_userinfo(ID_CLAIMS, {"sub": "bob", "email": "bob@example.com"})
