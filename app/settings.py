"""The one reader of the environment.

Every setting Nova understands is a field here, named by its environment variable.
`.env.example` documents each one; a test keeps the two in step.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from pydantic import AliasChoices, Field, SecretStr, ValidationError, ValidationInfo, field_validator
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

    # Single sign-on with an OpenID Connect provider (app/accounts/oidc/).
    oidc_client_id: str | None = Field(None, validation_alias="OIDC_CLIENT_ID")
    oidc_issuer: str | None = Field(None, validation_alias="OIDC_ISSUER")
    # None: a public client (PKCE alone proves the code is ours).
    oidc_client_secret: SecretStr | None = Field(None, validation_alias="OIDC_CLIENT_SECRET")
    oidc_scopes: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["openid", "email", "profile"], validation_alias="OIDC_SCOPES"
    )
    # The name on the login page's button: "Log in with Authentik".
    oidc_provider_name: str = Field("single sign-on", min_length=1, validation_alias="OIDC_PROVIDER_NAME")
    # Unset: "both" when OIDC_ISSUER is set, else "local"; see `login_mode`.
    configured_login_mode: Literal["local", "both", "oidc"] | None = Field(None, validation_alias="NOVA_LOGIN_MODE")
    oidc_auto_create: bool = Field(False, validation_alias="OIDC_AUTO_CREATE")
    oidc_link_by_email: bool = Field(False, validation_alias="OIDC_LINK_BY_EMAIL")
    oidc_groups_claim: str = Field("groups", min_length=1, validation_alias="OIDC_GROUPS_CLAIM")
    oidc_required_group: str | None = Field(None, validation_alias="OIDC_REQUIRED_GROUP")
    # `claim=value`: the claim must be that value (or a list holding it).
    oidc_required_claim: str | None = Field(None, validation_alias="OIDC_REQUIRED_CLAIM")
    oidc_admin_group: str | None = Field(None, validation_alias="OIDC_ADMIN_GROUP")
    log_level: str = Field("info", validation_alias="NOVA_LOG_LEVEL")
    # Scaled: where every process on the host writes its metrics (default NOVA_DATA_DIR/metrics).
    metrics_dir: Path | None = Field(None, validation_alias="NOVA_METRICS_DIR")
    # "json": one JSON object per line (time, level, logger, message, request/run/user ids).
    log_format: Literal["text", "json"] = Field("text", validation_alias="NOVA_LOG_FORMAT")

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
    # API requests signed by a token, per window: per token, and per user across all their
    # tokens. Generous: they stop a runaway client, not an integration polling a run.
    api_requests_per_window: int = Field(600, ge=1, validation_alias="NOVA_API_REQUESTS_PER_WINDOW")
    api_user_requests_per_window: int = Field(1200, ge=1, validation_alias="NOVA_API_USER_REQUESTS_PER_WINDOW")
    api_window_seconds: int = Field(60, ge=1, le=86_400, validation_alias="NOVA_API_WINDOW_SECONDS")
    provider_retries: int = Field(3, ge=0, validation_alias="NOVA_PROVIDER_RETRIES")
    provider_retry_base_seconds: float = Field(1.0, ge=0, validation_alias="NOVA_PROVIDER_RETRY_BASE_SECONDS")
    # A provider whose runs failed this many times in a row (unreachable, 5xx, rate-limited, after
    # their retries) is not called for the next period: its runs fail at once, then one run
    # probes it. 0: never.
    provider_breaker_failures: int = Field(5, ge=0, validation_alias="NOVA_PROVIDER_BREAKER_FAILURES")
    provider_breaker_open_seconds: float = Field(60, gt=0, validation_alias="NOVA_PROVIDER_BREAKER_OPEN_SECONDS")
    # A thread longer than the model's window: its oldest turns are summarized by the same model
    # (app/runs/summarizing.py), within this long; 0 turns summaries off (they are dropped).
    summary_timeout_seconds: float = Field(60, ge=0, validation_alias="NOVA_SUMMARY_TIMEOUT_SECONDS")
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
    # Connecting to a user's MCP server, listing its tools or one call: stopped after this long.
    mcp_timeout_seconds: float = Field(30, gt=0, validation_alias="NOVA_MCP_TIMEOUT_SECONDS")
    pause_hours: float = Field(24, gt=0, validation_alias="NOVA_PAUSE_HOURS")
    subagent_max_depth: int = Field(3, ge=1, le=10, validation_alias="NOVA_SUBAGENT_MAX_DEPTH")

    # Files: uploads, their storage (local disk under NOVA_DATA_DIR, or S3 when S3_BUCKET is set).
    upload_max_bytes: int = Field(10 * 1024 * 1024, ge=1024, validation_alias="NOVA_UPLOAD_MAX_BYTES")
    user_quota_bytes: int = Field(1024 * 1024 * 1024, ge=1024, validation_alias="NOVA_USER_QUOTA_BYTES")
    # 0: files are kept until deleted; else a sweeper deletes files older than this many days.
    file_expiry_days: int = Field(0, ge=0, validation_alias="NOVA_FILE_EXPIRY_DAYS")
    # Characters of one message's attached text (extracted from PDF and DOCX too) sent to the model.
    file_context_chars: int = Field(40_000, ge=1000, validation_alias="NOVA_FILE_CONTEXT_CHARS")
    # Largest thread import (a Nova JSON export or ChatGPT's conversations.json) one upload may be.
    import_max_bytes: int = Field(50 * 1024 * 1024, ge=1024, validation_alias="NOVA_IMPORT_MAX_BYTES")
    s3_endpoint_url: str | None = Field(None, validation_alias="S3_ENDPOINT_URL")
    s3_bucket: str | None = Field(None, validation_alias="S3_BUCKET")
    s3_access_key: SecretStr | None = Field(None, validation_alias="S3_ACCESS_KEY")
    s3_secret_key: SecretStr | None = Field(None, validation_alias="S3_SECRET_KEY")
    s3_region: str = Field("us-east-1", min_length=1, validation_alias="S3_REGION")
    # Bucket in the path (MinIO, SeaweedFS) rather than in the host name (AWS's default).
    s3_path_style: bool = Field(True, validation_alias="S3_PATH_STYLE")

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

    @field_validator("s3_endpoint_url", "s3_bucket")
    @classmethod
    def _blank_s3_is_unset(cls, value: str | None) -> str | None:
        return (value or "").strip() or None

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

    @field_validator("oidc_client_id", "oidc_required_group", "oidc_admin_group")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return (value or "").strip() or None

    @field_validator("oidc_issuer")
    @classmethod
    def _check_oidc_issuer(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Kept as typed: discovery must name exactly this issuer (trailing slash included).
        value = (value or "").strip()
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("use the provider's issuer URL, like https://auth.example.org/application/o/nova/")
        if not info.data.get("oidc_client_id"):
            raise ValueError("needs OIDC_CLIENT_ID too")
        return value

    @field_validator("oidc_scopes", mode="before")
    @classmethod
    def _split_scopes(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.replace(",", " ").split()
        if isinstance(value, list) and "openid" not in value:
            raise ValueError("must include openid")
        return value

    @field_validator("configured_login_mode", mode="before")
    @classmethod
    def _check_login_mode(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str):
            value = value.strip().lower() or None
        if value in ("both", "oidc") and not info.data.get("oidc_issuer"):
            raise ValueError(f"{value} needs OIDC_ISSUER and OIDC_CLIENT_ID")
        return value

    @field_validator("oidc_required_claim")
    @classmethod
    def _check_required_claim(cls, value: str | None) -> str | None:
        if not value:
            return None
        name, sep, expected = value.partition("=")
        if not sep or not name.strip() or not expected.strip():
            raise ValueError("use claim=value, like nova_access=true")
        return f"{name.strip()}={expected.strip()}"

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
    def login_mode(self) -> str:
        """How people log in: "local" (passwords), "both", or "oidc" (single sign-on only)."""
        if self.configured_login_mode:
            return self.configured_login_mode
        return "both" if self.oidc_issuer else "local"

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
