"""Settings read from the environment (and an optional `.env`), typed and validated once.

Every field is the one description of its variable: its `description` is the purpose the
start-up check prints and the README's table shows, and `env_notes(...)` (json_schema_extra)
says what the check needs beyond type and default. `shelfready_core.envcheck` generates the
check and the table from these fields and from each installed stage's `StageSettings`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, JsonValue, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shelfready_core import defaults

Requirement = Literal["production", "production_online_ai"]
# Names of the extra checks envcheck knows (`envcheck.EXTRA_CHECKS`).
CheckName = Literal["http_url", "redis_url", "log_level", "api_keys"]


def env_notes(
    *,
    required: Requirement | None = None,
    url: bool = False,
    stand_in: str | None = None,
    check: CheckName | None = None,
    details: str | None = None,
) -> dict[str, JsonValue]:
    """What the start-up check needs to know about a variable beyond its type and default.

    required: "production" (workers and `check --production`) or "production_online_ai"
    (production unless SHELFREADY_AI=offline, and always with SHELFREADY_AI=claude).
    url: shown masked (password as ***) rather than hidden: host and user help debugging.
    stand_in: what the app uses when unset; {NAME} is replaced by that variable's value.
    check: a cheap extra check of a set value. details: more text for the README only.
    Secrets need no note: a SecretStr field is never shown.
    """
    notes: dict[str, JsonValue] = {}
    if required:
        notes["required"] = required
    if url:
        notes["url"] = True
    if stand_in:
        notes["stand_in"] = stand_in
    if check:
        notes["check"] = check
    if details:
        notes["details"] = details
    return notes


_LOCAL_FOLDER = "local folder {SHELFREADY_STORAGE_DIR}"


class Settings(BaseSettings):
    """Every setting core reads. Unset infrastructure means the embedded demo stand-in.

    A stage's own settings (its model, concurrency...) live on its `StageSettings` class."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    # Infrastructure. None selects the embedded stand-in (SQLite / in-process Redis).
    database_url: SecretStr | None = Field(
        None,
        alias="DATABASE_URL",
        description="PostgreSQL database holding workflow state",
        json_schema_extra=env_notes(
            required="production",
            url=True,
            stand_in="embedded SQLite at {SHELFREADY_SQLITE_PATH}",
            details="`postgres://` or `postgresql://`. A transaction-mode pooler (port 6543 or "
            "`?pgbouncer=true`, e.g. Supabase) is detected: prepared statements are disabled "
            "and migrations use the direct connection on port 5432.",
        ),
    )
    direct_url: SecretStr | None = Field(
        None,
        alias="DIRECT_URL",
        description="PostgreSQL connection bypassing the pooler, for migrations",
        json_schema_extra=env_notes(url=True, details="Overrides the derived one."),
    )
    sqlite_path: Path = Field(
        Path("data/shelfready.db"),
        alias="SHELFREADY_SQLITE_PATH",
        description="SQLite file used when DATABASE_URL is unset",
    )
    redis_url: SecretStr | None = Field(
        None,
        alias="REDIS_URL",
        description="Redis holding the RQ job queues",
        json_schema_extra=env_notes(
            required="production",
            url=True,
            stand_in="in-process Redis (fakeredis)",
            check="redis_url",
            details="`redis://` or `rediss://`; Upstash hosts get TLS even as `redis://`. "
            "The in-process stand-in is for the demo only.",
        ),
    )

    # Claude. The SDK reads ANTHROPIC_BASE_URL itself; we read it to report it.
    anthropic_api_key: SecretStr | None = Field(
        None,
        alias="ANTHROPIC_API_KEY",
        description="Claude API key for product recognition and listing copy",
        json_schema_extra=env_notes(
            required="production_online_ai", stand_in="offline AI stand-in"
        ),
    )
    anthropic_base_url: str | None = Field(
        None,
        alias="ANTHROPIC_BASE_URL",
        description="alternative Claude API endpoint, e.g. a proxy or gateway",
        json_schema_extra=env_notes(url=True, check="http_url"),
    )
    ai_provider: Literal["auto", "claude", "offline"] = Field(
        "auto",
        alias="SHELFREADY_AI",
        description="AI provider: auto = Claude when a key is set, claude or offline",
    )
    # Model id -> [input, output] USD per million tokens, e.g. {"claude-x": [3, 15]}.
    model_prices: dict[str, tuple[float, float]] = Field(
        default_factory=dict,
        alias="SHELFREADY_MODEL_PRICES",
        description='price overrides, JSON {"model": [input, output]} in USD per million tokens',
        json_schema_extra=env_notes(stand_in="built-in table of the current Claude models"),
    )

    # Storage: R2 when all of these are set, else a local folder.
    cloudflare_r2_access_key: SecretStr | None = Field(
        None,
        alias="CLOUDFLARE_R2_ACCESS_KEY",
        description="Cloudflare R2 access key id for image storage",
        json_schema_extra=env_notes(stand_in=_LOCAL_FOLDER),
    )
    cloudflare_r2_secret_key: SecretStr | None = Field(
        None,
        alias="CLOUDFLARE_R2_SECRET_KEY",
        description="Cloudflare R2 secret access key for image storage",
        json_schema_extra=env_notes(stand_in=_LOCAL_FOLDER),
    )
    cloudflare_r2_bucket: str | None = Field(
        None,
        alias="CLOUDFLARE_R2_BUCKET",
        description="Cloudflare R2 bucket holding the images",
        json_schema_extra=env_notes(stand_in=_LOCAL_FOLDER),
    )
    cloudflare_r2_endpoint: str | None = Field(
        None,
        alias="CLOUDFLARE_R2_ENDPOINT",
        description="Cloudflare R2 S3 API endpoint, https://<account>.r2.cloudflarestorage.com",
        json_schema_extra=env_notes(url=True, stand_in=_LOCAL_FOLDER, check="http_url"),
    )
    cloudflare_r2_public_url: str | None = Field(
        None,
        alias="CLOUDFLARE_R2_PUBLIC_URL",
        description="public base URL of the R2 bucket for image links",
        json_schema_extra=env_notes(url=True, stand_in="presigned URLs", check="http_url"),
    )
    storage_dir: Path = Field(
        Path("data/storage"),
        alias="SHELFREADY_STORAGE_DIR",
        description="local image folder used when R2 is not configured",
    )

    # Workers.
    job_monitoring_interval: int = Field(
        30,
        alias="SHELFREADY_JOB_MONITORING_INTERVAL",
        ge=1,
        description="seconds between heartbeats of a busy worker (abandoned-job detection)",
    )
    heartbeat_grace: int = Field(
        60,
        alias="SHELFREADY_HEARTBEAT_GRACE",
        ge=1,
        description="seconds after a missed heartbeat before a job counts as abandoned and is "
        "requeued",
        json_schema_extra=env_notes(details="RQ's own margin is 60 s."),
    )
    drain_seconds: int | None = Field(
        None,
        alias="SHELFREADY_DRAIN_SECONDS",
        ge=1,
        description="seconds a stopping worker may finish its job before requeueing it",
        json_schema_extra=env_notes(
            stand_in="the job's own time limit",
            details="Keep it below Railway's drainingSeconds so the job is requeued before the "
            "container is killed.",
        ),
    )
    outage_budget: int = Field(
        defaults.OUTAGE_BUDGET_SECONDS,
        alias="SHELFREADY_OUTAGE_BUDGET",
        ge=1,
        description="seconds a workflow waits for an unreachable database, Redis or storage, "
        "or a rejected key, before it fails",
    )
    stuck_after: int = Field(
        defaults.STUCK_AFTER_SECONDS,
        alias="SHELFREADY_STUCK_AFTER",
        ge=3,
        description="seconds without change after which a workflow with no live job is resumed",
        json_schema_extra=env_notes(
            details="A job lost with Redis moves again within a minute; a running stage renews "
            "its lease every third of this, so it is never enqueued twice."
        ),
    )
    reconcile_interval: int = Field(
        defaults.RECONCILE_INTERVAL_SECONDS,
        alias="SHELFREADY_RECONCILE_INTERVAL",
        ge=1,
        description="seconds between the workers' sweeps for stuck workflows",
    )
    breaker_open_seconds: int = Field(
        defaults.BREAKER_OPEN_SECONDS,
        alias="SHELFREADY_BREAKER_OPEN_SECONDS",
        ge=1,
        description="seconds a tripped circuit breaker refuses API calls before one trial call",
    )
    retention_days: int | None = Field(
        None,
        alias="SHELFREADY_RETENTION_DAYS",
        ge=1,
        description="workers delete finished workflows (rows and files) older than this many "
        "days, once a day",
        json_schema_extra=env_notes(stand_in="keep everything"),
    )
    # Read by prometheus_client and the health server from the process environment.
    prometheus_multiproc_dir: Path | None = Field(
        None,
        alias="PROMETHEUS_MULTIPROC_DIR",
        description="folder for the metrics files of a pool's processes, emptied at start",
        json_schema_extra=env_notes(stand_in="a fresh temporary folder"),
    )
    port: int | None = Field(
        None,
        alias="PORT",
        ge=1,
        le=65535,
        description="HTTP port: a worker pool's health and metrics endpoint, the API's listener",
        json_schema_extra=env_notes(details="Set by Railway."),
    )

    # HTTP API: when set, every /api route requires `Authorization: Bearer <token>`.
    api_token: SecretStr | None = Field(
        None,
        alias="SHELFREADY_API_TOKEN",
        description="bearer token of the HTTP API for one seller (sees every workflow, as the "
        "CLI does)",
    )
    api_keys: SecretStr | None = Field(
        None,
        alias="SHELFREADY_API_KEYS",
        description="named API keys name:key,name:key; each key sees only its own workflows",
        json_schema_extra=env_notes(check="api_keys"),
    )
    rate_limit_per_minute: int = Field(
        defaults.RATE_LIMIT_PER_MINUTE,
        alias="SHELFREADY_RATE_LIMIT_PER_MINUTE",
        ge=0,
        description="workflow submissions per API key per minute (0: no limit)",
    )
    max_intake_queue: int = Field(
        defaults.MAX_INTAKE_QUEUE,
        alias="SHELFREADY_MAX_INTAKE_QUEUE",
        ge=0,
        description="jobs waiting on the first stage's queue beyond which the API answers 429 "
        "(0: no cap)",
    )
    api_host: str = Field(
        "0.0.0.0", alias="SHELFREADY_API_HOST", description="interface the HTTP API listens on"
    )
    api_docs: bool = Field(
        True,
        alias="SHELFREADY_API_DOCS",
        description="serve the OpenAPI docs at /docs, /redoc and /openapi.json (true or false)",
    )
    # Photo downloads: hosts / networks a seller's private CDN lives on (skip the address and
    # port checks), extra ports allowed for public hosts, and the deadline of one download.
    fetch_allow: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        alias="SHELFREADY_FETCH_ALLOW",
        description="host names or networks (comma-separated) photo URLs may reach though "
        "private, e.g. a seller's own CDN",
        json_schema_extra=env_notes(details="They may use any port."),
    )
    fetch_ports: Annotated[list[int], NoDecode] = Field(
        default_factory=list,
        alias="SHELFREADY_FETCH_PORTS",
        description="extra ports photo URLs on public hosts may use (comma-separated)",
        json_schema_extra=env_notes(stand_in="80 and 443 only"),
    )
    fetch_timeout_seconds: float = Field(
        defaults.FETCH_TIMEOUT_SECONDS,
        alias="SHELFREADY_FETCH_TIMEOUT",
        gt=0,
        description="seconds one photo download may take, redirects included",
    )
    log_level: str = Field(
        "INFO",
        alias="LOG_LEVEL",
        description="logging threshold: DEBUG, INFO, WARNING, ERROR or CRITICAL",
        json_schema_extra=env_notes(check="log_level"),
    )
    log_format: Literal["text", "json"] = Field(
        "text",
        alias="LOG_FORMAT",
        description="log output: text for people, json for log collectors",
    )

    @field_validator("fetch_allow", "fetch_ports", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @property
    def uses_offline_ai(self) -> bool:
        if self.ai_provider == "offline":
            return True
        return self.ai_provider == "auto" and self.anthropic_api_key is None

    @property
    def uses_r2(self) -> bool:
        return all(
            (
                self.cloudflare_r2_access_key,
                self.cloudflare_r2_secret_key,
                self.cloudflare_r2_bucket,
                self.cloudflare_r2_endpoint,
            )
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def port_from_env(environ: Mapping[str, str] = os.environ) -> int | None:
    """$PORT as a number, or None when unset; a bad value is an error naming the variable."""
    value = environ.get("PORT", "").strip()
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise ValueError(f"PORT must be a port number between 1 and 65535, got {value!r}")
    return int(value)
