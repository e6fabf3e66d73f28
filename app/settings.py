"""The one reader of the environment.

Every setting Nova understands is a field here, named by its environment variable.
`.env.example` documents each one; a test keeps the two in step.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATA_DIR = Path("data")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=False, frozen=True)

    database_url: str = Field("", validation_alias="DATABASE_URL")
    redis_url: str | None = Field(None, validation_alias="REDIS_URL")
    data_dir: Path = Field(DEFAULT_DATA_DIR, validation_alias="NOVA_DATA_DIR")
    secret_key: SecretStr | None = Field(None, validation_alias="NOVA_SECRET_KEY")
    encryption_key: SecretStr | None = Field(None, validation_alias="NOVA_ENCRYPTION_KEY")
    admin_email: str = Field("admin@nova.local", validation_alias="NOVA_ADMIN_EMAIL")
    admin_password: SecretStr | None = Field(None, validation_alias="NOVA_ADMIN_PASSWORD")
    host: str = Field("127.0.0.1", validation_alias="NOVA_HOST")
    port: int = Field(8000, ge=1, le=65535, validation_alias="NOVA_PORT")
    # Unset: http://NOVA_HOST:NOVA_PORT (127.0.0.1 for a wildcard host); see `public_url`.
    configured_public_url: str | None = Field(None, validation_alias="NOVA_PUBLIC_URL")
    # Unset or empty: the public URL's host plus loopback names; see `trusted_hosts`.
    allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list, validation_alias="ALLOWED_HOSTS")
    registration_invite_code: SecretStr | None = Field(None, validation_alias="REGISTRATION_INVITE_CODE")
    max_body_bytes: int = Field(1_048_576, ge=1024, validation_alias="NOVA_MAX_BODY_BYTES")
    session_days: int = Field(30, ge=1, validation_alias="NOVA_SESSION_DAYS")
    secure_cookies: bool = Field(False, validation_alias="NOVA_SECURE_COOKIES")
    # Failed logins: one address on one account, one address on any account, and every
    # address on one account (far higher, and then a backoff rather than a lock).
    login_attempts_per_account_ip: int = Field(10, ge=1, validation_alias="NOVA_LOGIN_ATTEMPTS_PER_ACCOUNT_IP")
    login_attempts_per_ip: int = Field(30, ge=1, validation_alias="NOVA_LOGIN_ATTEMPTS_PER_IP")
    login_attempts_per_account: int = Field(100, ge=1, validation_alias="NOVA_LOGIN_ATTEMPTS_PER_ACCOUNT")
    login_backoff_max_seconds: int = Field(60, ge=1, validation_alias="NOVA_LOGIN_BACKOFF_MAX_SECONDS")
    login_window_seconds: int = Field(900, ge=1, validation_alias="NOVA_LOGIN_WINDOW_SECONDS")
    log_level: str = Field("info", validation_alias="NOVA_LOG_LEVEL")

    # Runs: timeouts, retries and the event stream.
    run_timeout_seconds: int = Field(600, ge=5, validation_alias="NOVA_RUN_TIMEOUT_SECONDS")
    run_max_attempts: int = Field(3, ge=1, validation_alias="NOVA_RUN_MAX_ATTEMPTS")
    run_concurrency: int = Field(16, ge=1, validation_alias="NOVA_RUN_CONCURRENCY")
    # Runs one user may have executing at once; the rest wait their turn, so a flood from
    # one user (or one token) never takes every worker slot.
    max_active_runs_per_user: int = Field(4, ge=1, validation_alias="NOVA_MAX_ACTIVE_RUNS_PER_USER")
    # Runs one user may start per window (what costs money), wherever they start them from.
    run_starts_per_window: int = Field(30, ge=1, validation_alias="NOVA_RUN_STARTS_PER_WINDOW")
    run_start_window_seconds: int = Field(60, ge=1, le=86_400, validation_alias="NOVA_RUN_START_WINDOW_SECONDS")
    provider_retries: int = Field(3, ge=0, validation_alias="NOVA_PROVIDER_RETRIES")
    provider_retry_base_seconds: float = Field(1.0, ge=0, validation_alias="NOVA_PROVIDER_RETRY_BASE_SECONDS")
    # After a reply's first token (sent at once), deltas are merged over this window: a fast
    # model makes tens of events instead of thousands, below what an eye can see.
    stream_coalesce_ms: float = Field(20, ge=0, le=1000, validation_alias="NOVA_STREAM_COALESCE_MS")
    event_log_ttl_seconds: int = Field(3600, ge=1, validation_alias="NOVA_EVENT_LOG_TTL_SECONDS")
    sse_heartbeat_seconds: float = Field(15, gt=0, validation_alias="NOVA_SSE_HEARTBEAT_SECONDS")
    sse_max_lifetime_seconds: float = Field(300, gt=0, validation_alias="NOVA_SSE_MAX_LIFETIME_SECONDS")
    sse_send_timeout_seconds: float = Field(10, gt=0, validation_alias="NOVA_SSE_SEND_TIMEOUT_SECONDS")
    # How often an open stream re-checks the session or token it was opened with (revocation).
    sse_reauth_seconds: float = Field(2, gt=0, validation_alias="NOVA_SSE_REAUTH_SECONDS")

    # Tools.
    searxng_url: str | None = Field(None, validation_alias=AliasChoices("SEARXNG_SERVER_URL", "SEARNGX_SERVER_URL"))
    search_results: int = Field(
        5, ge=1, le=50, validation_alias=AliasChoices("SEARXNG_NUM_RESULTS", "SEARNGX_NUM_RESULTS")
    )
    judge0_url: str | None = Field(None, validation_alias="JUDGE0_SERVER_URL")
    egress_allowlist: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="NOVA_EGRESS_ALLOWLIST"
    )
    tool_timeout_seconds: float = Field(60, gt=0, validation_alias="NOVA_TOOL_TIMEOUT_SECONDS")
    pause_hours: float = Field(24, gt=0, validation_alias="NOVA_PAUSE_HOURS")
    subagent_max_depth: int = Field(3, ge=1, le=10, validation_alias="NOVA_SUBAGENT_MAX_DEPTH")

    # System LLM providers seeded from the environment (names kept from the seed project).
    ollama_server_url: str | None = Field(None, validation_alias="OLLAMA_SERVER_URL")
    ollama_model_name: str | None = Field(None, validation_alias="OLLAMA_MODEL_NAME")
    ollama_context_length: int | None = Field(None, ge=1, validation_alias="OLLAMA_CONTEXT_LENGTH")
    llama_cpp_server_url: str | None = Field(None, validation_alias="LLAMA_CPP_SERVER_URL")
    llama_cpp_model: str | None = Field(None, validation_alias="LLAMA_CPP_MODEL")
    llama_cpp_ctx_size: int | None = Field(None, ge=1, validation_alias="LLAMA_CPP_CTX_SIZE")
    openai_api_key: SecretStr | None = Field(None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, validation_alias="OPENAI_BASE_URL")
    openai_model: str | None = Field(None, validation_alias="OPENAI_MODEL")
    mistral_api_key: SecretStr | None = Field(None, validation_alias="MISTRAL_API_KEY")
    mistral_model: str | None = Field(None, validation_alias="MISTRAL_MODEL")

    @field_validator("allowed_hosts", "egress_allowlist", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [host.strip() for host in value.split(",") if host.strip()]
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db")
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("use redis://host:port/db")
        return value or None

    @field_validator("configured_public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            parts = urlsplit(value.strip())
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError:
            raise ValueError("use scheme://host[:port], like https://nova.example.org") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("use scheme://host[:port], like https://nova.example.org")
        if parts.path.strip("/") or parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("give only scheme://host[:port]; Nova is served at the root of its host")
        return f"{parts.scheme}://{parts.netloc.lower()}"

    @field_validator("encryption_key")
    @classmethod
    def _check_fernet_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value():
            try:
                Fernet(value.get_secret_value().encode())
            except ValueError as exc:
                raise ValueError("must be a Fernet key (32 url-safe base64-encoded bytes)") from exc
        return value

    @field_validator("admin_email")
    @classmethod
    def _check_email(cls, value: str) -> str:
        if "@" not in value or value.startswith("@") or value.endswith("@"):
            raise ValueError("must be an email address")
        return value.strip().lower()

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'nova.db').resolve()}"

    @property
    def public_url(self) -> str:
        """Where people reach Nova: every absolute URL Nova writes starts with this."""
        if self.configured_public_url:
            return self.configured_public_url
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @property
    def trusted_hosts(self) -> list[str]:
        """Host header values to serve: ALLOWED_HOSTS, else the public host and loopback."""
        if self.allowed_hosts:
            return self.allowed_hosts
        public_host = urlsplit(self.public_url).hostname or "127.0.0.1"
        return list(dict.fromkeys([public_host, *LOOPBACK_HOSTS]))

    @property
    def embedded(self) -> bool:
        """True when jobs and events live in this process (no Redis configured)."""
        return self.redis_url is None


def load_settings(**overrides: object) -> Settings:
    """Read the environment once, turning a validation error into one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(part) for part in first["loc"]) or "settings"
        raise SettingsError(f"setting {name} is invalid: {first['msg']}") from None
