"""The start-up check of every environment variable the app reads.

One line per variable (set / missing / optional / default, secrets never shown) plus a list of
errors, each naming the variable and what it is for. Types, choices and defaults come from
`config.Settings`, so this check and the real settings cannot disagree.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import TypeAdapter, ValidationError

from shelfready_core.config import Settings
from shelfready_core.dburl import DatabaseUrlError, parse_database_url
from shelfready_core.url_masking import mask_url

__all__ = ["ENV_VARS", "EnvReport", "check_environment", "mask_url"]

logger = logging.getLogger(__name__)

Requirement = Literal["never", "production", "production_online_ai"]
State = Literal["set", "missing", "optional", "default"]


def _log_level(value: str) -> str | None:
    if value.upper() in logging.getLevelNamesMapping():
        return None
    return f"unknown log level {value!r} (expected DEBUG, INFO, WARNING, ERROR or CRITICAL)"


def _port(value: str) -> str | None:
    if value.isdigit() and 1 <= int(value) <= 65535:
        return None
    return f"must be a port number between 1 and 65535, got {value!r}"


def _http_url(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme in {"http", "https"} and parts.hostname:
        return None
    return "must be an http(s):// URL with a host"


def _redis_url(value: str) -> str | None:
    # Only the scheme is echoed: the rest may hold the Redis password.
    scheme = urlsplit(value).scheme
    if scheme in {"redis", "rediss", "unix"}:
        return None
    return f"has scheme {scheme!r}; expected redis://, rediss:// or unix://"


def _api_keys(value: str) -> str | None:
    # Never quotes the value: it holds the keys.
    from shelfready_core.api_keys import ApiKeyError, parse_key_list

    try:
        parse_key_list(value)
    except ApiKeyError as exc:
        return str(exc)
    return None


@dataclass(frozen=True)
class EnvVar:
    """One environment variable the app reads."""

    name: str
    purpose: str
    secret: bool = False
    required: Requirement = "never"
    # Shown masked (password as ***) instead of hidden, because host and user help debugging.
    url: bool = False
    # What the app uses when unset, beyond the Settings default; {NAME} reads another variable.
    stand_in: str | None = None
    # A cheap extra check of a set value: returns the problem, or None when fine.
    check: Callable[[str], str | None] | None = field(default=None, compare=False)


R2_VARIABLES = (
    "CLOUDFLARE_R2_ACCESS_KEY",
    "CLOUDFLARE_R2_SECRET_KEY",
    "CLOUDFLARE_R2_BUCKET",
    "CLOUDFLARE_R2_ENDPOINT",
)
R2_OPTIONAL = "CLOUDFLARE_R2_PUBLIC_URL"
_LOCAL_FOLDER = "local folder {SHELFREADY_STORAGE_DIR}"

ENV_VARS: tuple[EnvVar, ...] = (
    EnvVar(
        "DATABASE_URL",
        "PostgreSQL database holding workflow state",
        secret=True,
        url=True,
        required="production",
        stand_in="embedded SQLite at {SHELFREADY_SQLITE_PATH}",
    ),
    EnvVar(
        "DIRECT_URL",
        "PostgreSQL connection bypassing the pooler, for migrations",
        secret=True,
        url=True,
    ),
    EnvVar("SHELFREADY_SQLITE_PATH", "SQLite file used when DATABASE_URL is unset"),
    EnvVar(
        "REDIS_URL",
        "Redis holding the RQ job queues",
        secret=True,
        url=True,
        required="production",
        stand_in="in-process Redis (fakeredis)",
        check=_redis_url,
    ),
    EnvVar(
        "ANTHROPIC_API_KEY",
        "Claude API key for product recognition and listing copy",
        secret=True,
        required="production_online_ai",
        stand_in="offline AI stand-in",
    ),
    EnvVar(
        "ANTHROPIC_BASE_URL",
        "alternative Claude API endpoint, e.g. a proxy or gateway",
        url=True,
        check=_http_url,
    ),
    EnvVar("SHELFREADY_AI", "AI provider: auto = Claude when a key is set, claude or offline"),
    EnvVar("SHELFREADY_RECOGNITION_MODEL", "Claude model that recognises the product photo"),
    EnvVar("SHELFREADY_LISTING_MODEL", "Claude model that writes the listing copy"),
    EnvVar("SHELFREADY_AI_MAX_CONCURRENCY", "most Claude calls in flight per process"),
    EnvVar(
        "SHELFREADY_LISTING_CALL_BUDGET",
        "most Claude calls one listing stage makes, across all its attempts",
    ),
    EnvVar(
        "CLOUDFLARE_R2_ACCESS_KEY",
        "Cloudflare R2 access key id for image storage",
        secret=True,
        stand_in=_LOCAL_FOLDER,
    ),
    EnvVar(
        "CLOUDFLARE_R2_SECRET_KEY",
        "Cloudflare R2 secret access key for image storage",
        secret=True,
        stand_in=_LOCAL_FOLDER,
    ),
    EnvVar(
        "CLOUDFLARE_R2_BUCKET", "Cloudflare R2 bucket holding the images", stand_in=_LOCAL_FOLDER
    ),
    EnvVar(
        "CLOUDFLARE_R2_ENDPOINT",
        "Cloudflare R2 S3 API endpoint, https://<account>.r2.cloudflarestorage.com",
        url=True,
        stand_in=_LOCAL_FOLDER,
        check=_http_url,
    ),
    EnvVar(
        R2_OPTIONAL,
        "public base URL of the R2 bucket for image links",
        url=True,
        check=_http_url,
    ),
    EnvVar("SHELFREADY_STORAGE_DIR", "local image folder used when R2 is not configured"),
    EnvVar(
        "SHELFREADY_IMAGE_API_URL",
        "OpenAI-compatible image API for the secondary images",
        url=True,
        check=_http_url,
    ),
    EnvVar("SHELFREADY_IMAGE_API_KEY", "key for the image API", secret=True),
    EnvVar("SHELFREADY_IMAGE_API_MODEL", "model name sent to the image API"),
    EnvVar(
        "SHELFREADY_SEGMENTATION_MODEL",
        "path of a larger salient-object ONNX model file (default: bundled U^2-Net-p)",
    ),
    EnvVar(
        "SHELFREADY_MODEL_PRICES",
        'price overrides, JSON {"model": [input, output]} in USD per million tokens',
    ),
    EnvVar("RECOGNITION_CONCURRENCY", "parallel jobs of the recognition worker"),
    EnvVar("LISTING_CONCURRENCY", "parallel jobs of the listing worker"),
    EnvVar("IMAGEGEN_CONCURRENCY", "parallel jobs of the image generation worker"),
    EnvVar(
        "SHELFREADY_JOB_MONITORING_INTERVAL",
        "seconds between heartbeats of a busy worker (abandoned-job detection)",
    ),
    EnvVar(
        "SHELFREADY_HEARTBEAT_GRACE",
        "seconds after a missed heartbeat before a job counts as abandoned and is requeued",
    ),
    EnvVar(
        "SHELFREADY_DRAIN_SECONDS",
        "seconds a stopping worker may finish its job before requeueing it (default: job limit)",
    ),
    EnvVar(
        "SHELFREADY_OUTAGE_BUDGET",
        "seconds a workflow waits for an unreachable database, Redis or storage, or a "
        "rejected key, before it fails (default 1800)",
    ),
    EnvVar(
        "SHELFREADY_STUCK_AFTER",
        "seconds without change after which a workflow with no live job is resumed (default 30)",
    ),
    EnvVar(
        "SHELFREADY_RECONCILE_INTERVAL",
        "seconds between the workers' sweeps for stuck workflows (default 10)",
    ),
    EnvVar(
        "SHELFREADY_BREAKER_OPEN_SECONDS",
        "seconds a tripped circuit breaker refuses API calls before one trial call (default 60)",
    ),
    EnvVar(
        "SHELFREADY_RETENTION_DAYS",
        "workers delete finished workflows older than this many days, daily (unset: keep all)",
    ),
    EnvVar(
        "PROMETHEUS_MULTIPROC_DIR",
        "folder for the metrics of a pool's processes (unset: a fresh temporary folder)",
    ),
    EnvVar(
        "SHELFREADY_API_TOKEN",
        "bearer token of the HTTP API for one seller (sees every workflow, as the CLI does)",
        secret=True,
    ),
    EnvVar(
        "SHELFREADY_API_KEYS",
        "named API keys name:key,name:key; each key sees only its own workflows",
        secret=True,
        check=_api_keys,
    ),
    EnvVar(
        "SHELFREADY_RATE_LIMIT_PER_MINUTE",
        "workflow submissions per API key per minute (0: no limit)",
    ),
    EnvVar(
        "SHELFREADY_MAX_RECOGNITION_QUEUE",
        "recognition jobs waiting before the API answers 429 (0: no cap)",
    ),
    EnvVar("SHELFREADY_API_HOST", "interface the HTTP API listens on"),
    EnvVar("SHELFREADY_API_DOCS", "serve the OpenAPI docs at /docs (true or false)"),
    EnvVar(
        "SHELFREADY_FETCH_ALLOW",
        "host names or networks (comma-separated) photo URLs may reach though private",
    ),
    EnvVar("SHELFREADY_FETCH_PORTS", "extra ports photo URLs may use (comma-separated)"),
    EnvVar("SHELFREADY_FETCH_TIMEOUT", "seconds one photo download may take, redirects included"),
    EnvVar(
        "LOG_LEVEL", "logging threshold: DEBUG, INFO, WARNING, ERROR or CRITICAL", check=_log_level
    ),
    EnvVar("LOG_FORMAT", "log output: text for people, json for log collectors"),
    EnvVar("PORT", "HTTP port of the health endpoint, set by Railway", check=_port),
)


@lru_cache(maxsize=1)
def _settings_fields() -> dict[str, tuple[object, TypeAdapter[object]]]:
    """Env name -> (default, validator) for every Settings field."""
    fields = {}
    for name, info in Settings.model_fields.items():
        # The field's type plus its constraints (e.g. ge=1), checked as pydantic-settings would.
        constrained: Any = info.annotation
        if info.metadata:
            constrained = Annotated[(constrained, *info.metadata)]
        # A default_factory's value, not PydanticUndefined; an empty one is no default at all.
        default = info.get_default(call_default_factory=True)
        if default in ({}, [], ()):
            default = None
        fields[(info.alias or name).upper()] = (default, TypeAdapter(constrained))
    return fields


def settings_env_names() -> frozenset[str]:
    """The variable names `Settings` reads (for keeping ENV_VARS complete)."""
    return frozenset(_settings_fields())


@dataclass(frozen=True)
class EnvLine:
    name: str
    state: State
    purpose: str
    shown: str


@dataclass
class EnvReport:
    production: bool
    lines: list[EnvLine] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def line(self, name: str) -> EnvLine:
        return next(line for line in self.lines if line.name == name)

    def render(self) -> str:
        width = max(len(line.name) for line in self.lines)
        mode = "production" if self.production else "demo"
        out = [f"environment check ({mode} mode)"]
        out += [
            f"  {line.name:<{width}}  {line.state:<8}  {line.shown}  ({line.purpose})"
            for line in self.lines
        ]
        if self.ok:
            out.append("environment OK")
        else:
            out.append(f"{len(self.errors)} problem(s):")
            out += [f"  - {error}" for error in self.errors]
        return "\n".join(out)


def _shown(var: EnvVar, value: str) -> str:
    if var.name == "DATABASE_URL":
        try:
            return parse_database_url(value).masked
        except DatabaseUrlError:
            return f"set ({len(value)} chars, not a valid URL)"
    if var.secret and not var.url:
        return f"set ({len(value)} chars)"
    if "://" in value:  # any URL, even one not expected here, is shown masked
        return mask_url(value)
    return value


def _invalid(var: EnvVar, value: str) -> str | None:
    """The problem with a set value, or None. Never quotes a secret."""
    default_and_adapter = _settings_fields().get(var.name)
    if default_and_adapter is not None:
        try:
            default_and_adapter[1].validate_python(value)
        except ValidationError as exc:
            problem = exc.errors()[0]["msg"]
            problem = problem[0].lower() + problem[1:]
            return problem if var.secret else f"{problem}, got {value!r}"
    return var.check(value) if var.check else None


def _required(var: EnvVar, env: Mapping[str, str], production: bool) -> str | None:
    """Why the variable is required here, or None."""
    ai = env.get("SHELFREADY_AI", "auto").strip().lower()
    if var.required == "production" and production:
        return "required in production"
    if var.required == "production_online_ai":
        if ai == "claude":
            return "required when SHELFREADY_AI=claude"
        if production and ai != "offline":
            return "required in production unless SHELFREADY_AI=offline"
    return None


def check_environment(env: Mapping[str, str], *, production: bool) -> EnvReport:
    """Check every variable in ENV_VARS against `env`; blank values count as unset."""
    values = {var.name: env[var.name].strip() for var in ENV_VARS if env.get(var.name, "").strip()}
    effective = {
        name: str(default)
        for name, (default, _) in _settings_fields().items()
        if default is not None
    } | values
    report = EnvReport(production=production)

    r2_set = [name for name in (*R2_VARIABLES, R2_OPTIONAL) if name in values]
    r2_missing = [name for name in R2_VARIABLES if name not in values] if r2_set else []

    for var in ENV_VARS:
        value = values.get(var.name)
        if value is not None:
            report.lines.append(EnvLine(var.name, "set", var.purpose, _shown(var, value)))
            problem = _invalid(var, value)
            if problem:
                report.errors.append(f"{var.name} ({var.purpose}) is invalid: {problem}")
            continue
        why = _required(var, env, production)
        if why:
            report.lines.append(EnvLine(var.name, "missing", var.purpose, "not set"))
            report.errors.append(f"{var.name} is missing: {var.purpose} ({why})")
        elif var.name in r2_missing:
            report.lines.append(EnvLine(var.name, "missing", var.purpose, "not set"))
        elif var.stand_in:
            shown = f"not set: {var.stand_in.format_map(effective)}"
            report.lines.append(EnvLine(var.name, "default", var.purpose, shown))
        elif var.name in effective:
            shown = f"default {effective[var.name]}"
            report.lines.append(EnvLine(var.name, "default", var.purpose, shown))
        else:
            report.lines.append(EnvLine(var.name, "optional", var.purpose, "not set"))

    if r2_missing:
        purposes = "; ".join(f"{name}: {_purpose(name)}" for name in r2_missing)
        report.errors.append(
            f"R2 is partly configured: {', '.join(r2_missing)} missing ({purposes}). "
            "Set all CLOUDFLARE_R2_* variables, or none to store images in a local folder"
        )
    report.errors += _database_errors(values)
    logger.debug("environment check: %d variables, %d errors", len(ENV_VARS), len(report.errors))
    return report


def _purpose(name: str) -> str:
    return next(var.purpose for var in ENV_VARS if var.name == name)


def _database_errors(values: Mapping[str, str]) -> list[str]:
    database_url, direct_url = values.get("DATABASE_URL"), values.get("DIRECT_URL")
    if database_url is None:
        if direct_url is not None:
            return ["DIRECT_URL is set but DATABASE_URL is not: set both or neither"]
        return []
    try:
        parse_database_url(database_url, direct_url)
    except DatabaseUrlError as exc:
        # The message starts with the variable name (DATABASE_URL or DIRECT_URL).
        name = str(exc).split(" ", 1)[0]
        return [f"{exc} — {name}: {_purpose(name)}"]
    return []
