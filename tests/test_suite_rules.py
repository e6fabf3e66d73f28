"""The suite's own rules: under CI a missing PostgreSQL or Redis fails the run, never skips."""

from __future__ import annotations

import pytest

from tests.fixtures import postgres, redis


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_no_redis_server_fails_under_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(redis.shutil, "which", lambda _name: None)
    with pytest.raises(outcome, match="redis-server"):
        redis.RedisServer()


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_no_postgresql_fails_under_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(postgres, "SERVER_URL", "postgresql://postgres@127.0.0.1:1/none")
    monkeypatch.setattr(postgres, "_pg_bin", lambda _name: None)  # and no cluster can be made
    with pytest.raises(outcome, match="PostgreSQL"), postgres.postgres_server():
        pass
