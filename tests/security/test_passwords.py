"""Passwords are argon2id at full strength in Nova (the suite itself hashes cheaply: conftest)."""

from __future__ import annotations

import argon2
from argon2 import PasswordHasher

from app.security import passwords


def test_nova_hashes_with_argon2id_at_full_strength(quick_password_hashing: tuple[PasswordHasher, str]) -> None:
    hasher, dummy = quick_password_hashing
    for hashed in (hasher.hash("correct horse battery"), dummy):
        params = argon2.extract_parameters(hashed)
        assert params.type is argon2.Type.ID
        assert params.time_cost >= 3 and params.memory_cost >= 64 * 1024, params
    # A miss costs what a hit costs: the dummy checked for unknown accounts is as strong.
    assert argon2.extract_parameters(dummy) == argon2.extract_parameters(hasher.hash("x"))


def test_a_full_strength_hash_verifies_and_nothing_else_does(
    quick_password_hashing: tuple[PasswordHasher, str],
) -> None:
    hashed = quick_password_hashing[0].hash("correct horse battery")
    assert passwords.verify_password(hashed, "correct horse battery")
    assert not passwords.verify_password(hashed, "correct horse battery ")
    assert not passwords.verify_password(None, "correct horse battery")
    assert not passwords.verify_password("not a hash", "correct horse battery")
