"""The start-up environment check: required variables, secrets hidden, cheap value checks."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from shelfready_core.config import Settings
from shelfready_core.envcheck import ENV_VARS, check_environment, mask_url, settings_env_names

SECRET = "fake-anthropic-key-VERY-DISTINCTIVE-7f3a9c"
DB_PASSWORD = "db-pw-DISTINCTIVE-41"
REDIS_PASSWORD = "redis-pw-DISTINCTIVE-99"
R2_SECRET = "r2-secret-DISTINCTIVE-12"

PRODUCTION = {
    "DATABASE_URL": f"postgresql://postgres.abcd:{DB_PASSWORD}@db.example.com:6543/postgres",
    "REDIS_URL": f"rediss://default:{REDIS_PASSWORD}@redis.example.com:6380/0",
    "ANTHROPIC_API_KEY": SECRET,
}
R2 = {
    "CLOUDFLARE_R2_ACCESS_KEY": "r2-access-DISTINCTIVE-34",
    "CLOUDFLARE_R2_SECRET_KEY": R2_SECRET,
    "CLOUDFLARE_R2_BUCKET": "shelfready-images",
    "CLOUDFLARE_R2_ENDPOINT": "https://acct.r2.cloudflarestorage.com",
}


def test_table_covers_every_setting_and_marks_secret_ones() -> None:
    names = [var.name for var in ENV_VARS]
    assert len(names) == len(set(names))
    assert settings_env_names() <= set(names)
    for field_name, info in Settings.model_fields.items():
        env_name = (info.alias or field_name).upper()
        is_secret = SecretStr in getattr(info.annotation, "__args__", ())
        assert next(v for v in ENV_VARS if v.name == env_name).secret == is_secret, env_name


def test_complete_production_environment_is_ok() -> None:
    report = check_environment(PRODUCTION | R2, production=True)
    assert report.ok, report.errors
    assert report.line("DATABASE_URL").state == "set"
    assert report.line("LOG_LEVEL").state == "default"
    assert report.line("LOG_LEVEL").shown == "default INFO"
    assert report.line("DIRECT_URL").state == "optional"


def test_missing_api_key_in_production_is_named_with_its_purpose() -> None:
    env = dict(PRODUCTION)
    del env["ANTHROPIC_API_KEY"]
    report = check_environment(env, production=True)

    assert not report.ok
    assert report.line("ANTHROPIC_API_KEY").state == "missing"
    [error] = report.errors
    assert "ANTHROPIC_API_KEY" in error
    assert "Claude API key" in error
    assert "ANTHROPIC_API_KEY is missing" in report.render()


def test_api_key_not_needed_in_production_when_ai_is_offline() -> None:
    env = dict(PRODUCTION, SHELFREADY_AI="offline")
    del env["ANTHROPIC_API_KEY"]
    report = check_environment(env, production=True)
    assert report.ok, report.errors
    assert report.line("ANTHROPIC_API_KEY").state == "default"


def test_claude_provider_needs_the_key_even_in_demo_mode() -> None:
    report = check_environment({"SHELFREADY_AI": "claude"}, production=False)
    assert any(e.startswith("ANTHROPIC_API_KEY is missing") for e in report.errors)


def test_production_requires_database_and_redis() -> None:
    report = check_environment({"ANTHROPIC_API_KEY": SECRET}, production=True)
    assert {line.name for line in report.lines if line.state == "missing"} == {
        "DATABASE_URL",
        "REDIS_URL",
    }
    assert any("DATABASE_URL" in e and "workflow state" in e for e in report.errors)
    assert any("REDIS_URL" in e and "job queues" in e for e in report.errors)


def test_secrets_never_appear_in_the_rendered_report() -> None:
    env = PRODUCTION | R2 | {"SHELFREADY_IMAGE_API_KEY": "img-key-DISTINCTIVE-56"}
    # A broken setting too, so the error section is rendered as well.
    env["RECOGNITION_CONCURRENCY"] = "zero"
    output = check_environment(env, production=True).render()

    for secret in (
        SECRET,
        DB_PASSWORD,
        REDIS_PASSWORD,
        R2_SECRET,
        "r2-access-DISTINCTIVE-34",
        "img-key-DISTINCTIVE-56",
    ):
        assert secret not in output
    assert f"set ({len(SECRET)} chars)" in output
    # URLs stay useful: user and host shown, password masked.
    assert "postgres.abcd:***@db.example.com:6543" in output
    assert "default:***@redis.example.com:6380" in output


def test_secrets_in_invalid_values_are_not_echoed() -> None:
    env = dict(PRODUCTION, REDIS_URL=f"http://u:{REDIS_PASSWORD}@h", DATABASE_URL=f"x{DB_PASSWORD}")
    report = check_environment(env, production=True)
    assert any(e.startswith("REDIS_URL") and "'http'" in e for e in report.errors)
    assert any(e.startswith("DATABASE_URL") for e in report.errors)
    output = report.render()
    assert REDIS_PASSWORD not in output
    assert DB_PASSWORD not in output


def test_partial_r2_configuration_names_the_missing_variables() -> None:
    env = PRODUCTION | R2
    del env["CLOUDFLARE_R2_BUCKET"]
    report = check_environment(env, production=True)

    [error] = report.errors
    assert error.startswith("R2 is partly configured: CLOUDFLARE_R2_BUCKET missing")
    assert "bucket holding the images" in error
    assert report.line("CLOUDFLARE_R2_BUCKET").state == "missing"
    assert R2_SECRET not in report.render()


def test_public_url_alone_counts_as_partial_r2() -> None:
    env = {"CLOUDFLARE_R2_PUBLIC_URL": "https://images.example.com"}
    report = check_environment(env, production=False)
    [error] = report.errors
    for name in ("ACCESS_KEY", "SECRET_KEY", "BUCKET", "ENDPOINT"):
        assert f"CLOUDFLARE_R2_{name}" in error


def test_demo_mode_with_empty_environment_uses_stand_ins() -> None:
    report = check_environment({}, production=False)

    assert report.ok, report.errors
    assert not any(line.state == "missing" for line in report.lines)
    shown = {line.name: line.shown for line in report.lines}
    assert "SQLite" in shown["DATABASE_URL"] and "data/shelfready.db" in shown["DATABASE_URL"]
    assert "in-process Redis" in shown["REDIS_URL"]
    assert "offline AI" in shown["ANTHROPIC_API_KEY"]
    assert "local folder data/storage" in shown["CLOUDFLARE_R2_BUCKET"]
    assert report.line("REDIS_URL").state == "default"
    assert report.render().endswith("environment OK")


def test_stand_in_follows_the_configured_paths() -> None:
    env = {"SHELFREADY_SQLITE_PATH": "/srv/db.sqlite", "SHELFREADY_STORAGE_DIR": "/srv/images"}
    report = check_environment(env, production=False)
    assert "/srv/db.sqlite" in report.line("DATABASE_URL").shown
    assert "/srv/images" in report.line("CLOUDFLARE_R2_ENDPOINT").shown


def test_blank_values_count_as_unset() -> None:
    env = dict(PRODUCTION, REDIS_URL="   ")
    report = check_environment(env, production=True)
    assert report.line("REDIS_URL").state == "missing"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RECOGNITION_CONCURRENCY", "0"),
        ("LISTING_CONCURRENCY", "three"),
        ("IMAGEGEN_CONCURRENCY", "-1"),
        ("SHELFREADY_AI_MAX_CONCURRENCY", "1.5"),
        ("SHELFREADY_AI", "gpt"),
        ("LOG_FORMAT", "xml"),
        ("LOG_LEVEL", "LOUD"),
        ("REDIS_URL", "memcached://h:11211"),
        ("DATABASE_URL", "mysql://u:pw@h/app"),
        ("PORT", "http"),
        ("ANTHROPIC_BASE_URL", "api.anthropic.com"),
    ],
)
def test_bad_values_are_errors_naming_the_variable(name: str, value: str) -> None:
    report = check_environment({name: value}, production=False)
    assert len(report.errors) == 1, report.errors
    assert report.errors[0].startswith(name)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RECOGNITION_CONCURRENCY", "8"),
        ("SHELFREADY_AI", "offline"),
        ("LOG_FORMAT", "json"),
        ("LOG_LEVEL", "debug"),
        ("REDIS_URL", "unix:///run/redis.sock?db=2"),
        ("DATABASE_URL", "sqlite:///data/x.db"),
        ("PORT", "8080"),
    ],
)
def test_good_values_pass(name: str, value: str) -> None:
    report = check_environment({name: value}, production=False)
    assert report.ok, report.errors
    assert report.line(name).state == "set"


def test_direct_url_problems_are_named() -> None:
    env = dict(PRODUCTION, DIRECT_URL="postgresql://u:pw@h")
    [error] = check_environment(env, production=True).errors
    assert error.startswith("DIRECT_URL has no database name")
    assert "migrations" in error


def test_mask_url_hides_password_in_userinfo_and_query() -> None:
    assert mask_url("redis://:s3cr3t@[::1]:6379/0") == "redis://:***@[::1]:6379/0"
    assert "s3cr3t" not in mask_url("redis://h:6379/0?password=s3cr3t&db=1")
    assert mask_url("redis://h:6379/0") == "redis://h:6379/0"
