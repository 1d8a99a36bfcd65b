"""Settings from `FLOWDECK_*` environment variables and a `.env` file, checked at start."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import orjson
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from flowdeck.auth.passwords import DEFAULT_MIN_LENGTH, password_problem
from flowdeck.errors import FlowdeckError

ENV_PREFIX = "FLOWDECK_"


class SettingsError(FlowdeckError):
    """A setting is unknown or invalid; the server refuses to start."""

    code = "invalid_settings"


class Settings(BaseSettings):
    """Everything a deployment configures. Field `x` is read from `FLOWDECK_X`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="forbid", validate_default=True
    )

    host: str = "127.0.0.1"
    port: int = Field(7860, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64, description="API processes (uvicorn workers)")
    data_dir: Path = Path(".flowdeck")
    database_url: str = ""
    db_close_timeout: float = Field(5.0, gt=0, description="seconds to close connections")
    superuser: str = "admin"
    superuser_password: str = ""
    auto_login: bool = False
    secret_key: str = ""
    # Seals secrets at rest (provider API keys, MCP env and headers); unset: the secret key.
    secrets_key: str = ""
    access_token_expire_minutes: int = Field(60, ge=1)
    refresh_token_expire_minutes: int = Field(7 * 24 * 60, ge=1)
    max_concurrent_runs: int = Field(64, ge=1, le=10_000)
    run_timeout: float = Field(0, ge=0, description="seconds; 0 means no limit")
    step_timeout: float = Field(0, ge=0, description="seconds; 0 means no limit")
    mcp_call_timeout: float = Field(
        300.0, ge=0, description="seconds an MCP tool call's run may take; 0 means no limit"
    )
    on_restart: Literal["fail", "retry"] = "fail"
    max_run_attempts: int = Field(3, ge=1, le=100)
    broker_url: str = ""
    redis_url: str = ""
    redis_prefix: str = "flowdeck"
    event_retention_seconds: int = Field(3600, ge=10)
    lease_seconds: float = Field(15.0, gt=0)
    requeue_after: float = Field(120.0, gt=0, description="seconds a queued run may go unclaimed")
    broker_visibility_timeout: float = Field(600.0, gt=0)
    worker_shutdown: Literal["soft", "hard"] = "soft"
    monitor_retention: int = Field(10_000, ge=10, description="records kept per flow and kind")
    run_retention: int = Field(100_000, ge=100, description="finished runs kept in total")
    allow_custom_code: bool = False
    max_body_bytes: int = Field(32 * 1024 * 1024, ge=1024)
    executions_prefix: str = "/x"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Read by the command line itself (flowdeck.cli), before settings load; a field so that
    # it is checked and listed like every other name.
    debug: bool = Field(False, description="an internal error of a command shows its traceback")
    public_flows: bool = True
    storage: Literal["local", "s3"] = "local"
    storage_shared: bool = Field(False, description="data_dir is on a volume every process shares")
    s3_bucket: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    s3_prefix: str = ""
    password_min_length: int = Field(DEFAULT_MIN_LENGTH, ge=1, le=200)
    # argon2's defaults (RFC 9106's second choice); new hashes take the current cost, and a
    # login rehashes a password stored at another one.
    password_hash_time_cost: int = Field(3, ge=1, le=50, description="argon2 passes")
    password_hash_memory_kib: int = Field(64 * 1024, ge=8, le=4 * 1024 * 1024)
    password_hash_parallelism: int = Field(4, ge=1, le=8, description="argon2 lanes")
    login_max_attempts: int = Field(5, ge=1, description="failed logins per username and window")
    login_max_attempts_per_address: int = Field(
        50, ge=1, description="failed logins per client address and window"
    )
    login_window_seconds: int = Field(300, ge=1)
    auth_cache_seconds: float = Field(
        5.0, ge=0, description="how long a process trusts a cached user or API key"
    )
    # None: allowed in a single-user auto-login install, refused otherwise.
    allow_private_networks: bool | None = None
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_run_output_bytes: int = Field(4 * 1024 * 1024, ge=1024)
    max_monitor_record_bytes: int = Field(256 * 1024, ge=1024)
    mcp_test_timeout: float = Field(
        10.0, gt=0, le=300, description="seconds an MCP server's connection test may take"
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        # `a,b` or a JSON list; `*` allows every origin.
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return orjson.loads(text)
            return [o.strip() for o in text.split(",") if o.strip()]
        return value

    @field_validator("executions_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if value and (not value.startswith("/") or value.endswith("/")):
            raise ValueError("must start with '/' and not end with '/' (or be empty)")
        return value

    @field_validator("s3_prefix")
    @classmethod
    def _s3_prefix(cls, value: str) -> str:
        if value.startswith("/"):
            raise ValueError("must not start with '/'")
        return value if not value or value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite or postgresql URL")
        return value

    @model_validator(mode="after")
    def _deployment_shape(self) -> Settings:
        if self.broker_url and not self.redis_url:
            raise ValueError("FLOWDECK_BROKER_URL needs FLOWDECK_REDIS_URL (the event bus)")
        if self.broker_url and not self.database_url.startswith("postgresql"):
            raise ValueError("FLOWDECK_BROKER_URL needs a PostgreSQL FLOWDECK_DATABASE_URL")
        if self.workers > 1 and not self.broker_url:
            raise ValueError(
                "FLOWDECK_WORKERS > 1 needs the distributed mode "
                "(FLOWDECK_BROKER_URL, FLOWDECK_REDIS_URL, PostgreSQL)"
            )
        if self.storage == "s3" and not self.s3_bucket:
            raise ValueError("FLOWDECK_STORAGE=s3 needs FLOWDECK_S3_BUCKET")
        if self.broker_url and self.storage == "local" and not self.storage_shared:
            # Each API process would keep its own uploads: behind a balancer, downloads miss.
            raise ValueError(
                "the distributed mode (FLOWDECK_BROKER_URL) needs file storage every API "
                "process shares: FLOWDECK_STORAGE=s3 with FLOWDECK_S3_BUCKET, or "
                "FLOWDECK_STORAGE_SHARED=true when FLOWDECK_DATA_DIR is a shared volume"
            )
        if self.password_hash_memory_kib < 8 * self.password_hash_parallelism:
            raise ValueError(
                "FLOWDECK_PASSWORD_HASH_MEMORY_KIB must be at least 8 KiB per lane "
                "(FLOWDECK_PASSWORD_HASH_PARALLELISM)"
            )
        problem = self.superuser_password and password_problem(
            self.superuser_password, self.superuser, self.password_min_length
        )
        if problem:
            raise ValueError(f"FLOWDECK_SUPERUSER_PASSWORD {problem}")
        return self

    @cached_property
    def db_url(self) -> str:
        """The async SQLAlchemy URL (aiosqlite or asyncpg driver)."""
        url = self.database_url or f"sqlite:///{(self.data_dir / 'flowdeck.db').resolve()}"
        if url.startswith("sqlite://") and "+aiosqlite" not in url:
            url = url.replace("sqlite://", "sqlite+aiosqlite://", 1)
        if url.startswith("postgresql://"):
            url = url.replace("postgresql://", "postgresql+asyncpg://", 1)
        return url

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    @property
    def private_networks_allowed(self) -> bool:
        """Whether components may reach loopback and private networks."""
        if self.allow_private_networks is None:
            return self.auto_login
        return self.allow_private_networks

    @property
    def distributed(self) -> bool:
        return bool(self.broker_url)

    def sealing_secret(self) -> str:
        """What sealed secrets are derived from: FLOWDECK_SECRETS_KEY, else the signing key.

        Every process that reads a sealed value (API processes and workers) must see the same
        one: distributed deployments set FLOWDECK_SECRETS_KEY or FLOWDECK_SECRET_KEY everywhere.
        """
        return self.secrets_key or self.signing_key()

    def signing_key(self) -> str:
        """The JWT key: the setting, or one generated once and kept in the data dir."""
        if self.secret_key:
            return self.secret_key
        from flowdeck.datadir import kept_secret

        return kept_secret(self.data_dir / "secret_key", lambda: secrets.token_urlsafe(48))[0]

    @property
    def password_file(self) -> Path:
        """Where the first superuser's generated password is kept (no password, no auto-login)."""
        return self.data_dir / "superuser_password"


def load_settings(**overrides: object) -> Settings:
    """Read and check settings; unknown `FLOWDECK_*` names and bad values raise SettingsError."""
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    unknown = sorted(k for k in os.environ if k.startswith(ENV_PREFIX) and k not in known)
    if unknown:
        raise SettingsError(f"unknown setting(s): {', '.join(unknown)}")
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{ENV_PREFIX}{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            if err["loc"]
            else err["msg"].removeprefix("Value error, ")
            for err in exc.errors()
        )
        raise SettingsError(f"invalid setting(s): {problems}") from exc
