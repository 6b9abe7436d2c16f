"""The start-up environment check: required variables, secrets hidden, cheap value checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from shelfready_core.config import Settings
from shelfready_core.envcheck import (
    check_environment,
    env_vars,
    markdown_table,
    mask_url,
    replace_readme_table,
    settings_environment,
)
from shelfready_core.stages import PipelineError, pipeline

ROOT = Path(__file__).resolve().parents[2]
SHELFREADY = Path(sys.executable).with_name("shelfready")

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


def test_every_field_of_core_and_every_stage_is_checked_and_secrets_are_the_secretstr_ones() -> (
    None
):
    checked = {var.name: var for var in env_vars()}
    classes = [("core", Settings)] + [(stage.name, stage.settings) for stage in pipeline()]
    for group, settings_class in classes:
        for field_name, info in settings_class.model_fields.items():
            var = checked[(info.alias or field_name).upper()]
            assert var.group == group
            assert var.purpose == info.description
            assert var.secret == (SecretStr in getattr(info.annotation, "__args__", ())), var.name
    assert len(checked) == sum(len(cls.model_fields) for _, cls in classes)
    # Stage settings are checked under their stage, never as core settings.
    assert checked["SHELFREADY_LISTING_CALL_BUDGET"].group == "listing"
    assert checked["IMAGEGEN_CONCURRENCY"].group == "imagegen"


def test_a_field_without_description_or_with_an_unknown_check_is_refused() -> None:
    class Undescribed(BaseSettings):
        thing: int = 1

    class UnknownCheck(BaseSettings):
        thing: str = Field("x", description="a thing", json_schema_extra={"check": "nope"})

    for bad in (Undescribed, UnknownCheck):
        with pytest.raises(TypeError, match="THING"):
            env_vars([("core", bad)])


def test_readme_table_is_generated_from_the_settings() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme == replace_readme_table(readme, markdown_table()), (
        "README's variable table is stale: run "
        "`python -m shelfready_core.envcheck --write-readme README.md`"
    )
    # Every variable once, under its stage.
    for var in env_vars():
        assert readme.count(f"| `{var.name}` |") == 1, var.name
    assert "`listing` stage settings" in readme


def test_stale_readme_table_is_caught() -> None:
    readme = (ROOT / "README.md").read_text()
    stale = readme.replace("| `SHELFREADY_LISTING_MODEL` |", "| `SHELFREADY_OLD_MODEL` |")
    assert replace_readme_table(stale, markdown_table()) == readme != stale


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
        ("SHELFREADY_LISTING_CALL_BUDGET", "1.5"),
        ("SHELFREADY_IMAGE_API_URL", "images.example.com"),
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


DOTENV = (
    "DATABASE_URL=postgresql://postgres@127.0.0.1:5432/shelfready_dotenv\n"
    "REDIS_URL=redis://127.0.0.1:6379/15\n"
    "SHELFREADY_AI=offline\n"
    "# a comment, and a stage setting\n"
    "LISTING_CONCURRENCY=2\n"
)


def test_the_check_sees_the_dotenv_file_as_settings_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(DOTENV)
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "REDIS_URL", "SHELFREADY_AI", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOG_LEVEL", "debug")

    visible = settings_environment({"LOG_LEVEL": "debug", "SHELFREADY_AI": "auto"})
    # The process environment wins over the file, as in pydantic-settings.
    assert visible["SHELFREADY_AI"] == "auto" and visible["LOG_LEVEL"] == "debug"
    assert settings_environment()["SHELFREADY_AI"] == "offline"  # the env source's view

    report = check_environment(settings_environment(), production=True)
    assert report.ok, report.errors
    assert {line.name for line in report.lines if line.state == "missing"} == set()
    assert report.line("REDIS_URL").shown == "redis://127.0.0.1:6379/15"
    assert report.line("LISTING_CONCURRENCY").shown == "2"
    settings = Settings()
    assert settings.redis_url is not None and settings.uses_offline_ai


def _shelfready(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Only what a process needs to start: the variables come from cwd's .env file.
    env = {"PATH": os.environ["PATH"], "HOME": str(cwd)}
    return subprocess.run(
        [str(SHELFREADY), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_shelfready_check_reads_the_dotenv_file_and_prints_plain_text(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(DOTENV)
    result = _shelfready(tmp_path, "check", "--no-connect")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "environment check (production mode)" in output
    assert "missing" not in output and "environment OK" in output
    assert "LISTING_CONCURRENCY" in output and "listing stage settings" in output
    # Brackets are text, not rich markup; no pydantic internals leak into the report.
    assert '{"model": [input, output]}' in output
    assert "PydanticUndefined" not in output


def test_the_worker_start_up_check_reads_the_dotenv_file(tmp_path: Path) -> None:
    # No database behind the URL: the environment check passes, the database check fails.
    (tmp_path / ".env").write_text(DOTENV.replace("127.0.0.1:5432", "127.0.0.1:9"))
    result = _shelfready(tmp_path, "worker", "listing", "--burst")
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "environment OK" in output, output
    assert "is missing" not in output
    assert '{"model": [input, output]}' in output


def test_an_image_without_stages_checks_the_core_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_stages() -> None:
        raise PipelineError("no stage is installed")

    monkeypatch.setattr("shelfready_core.stages.pipeline", no_stages)
    report = check_environment({"LISTING_CONCURRENCY": "many"}, production=False)
    assert report.ok, report.errors  # not read by this image, so not checked
    assert {line.group for line in report.lines} == {"core"}
    assert "LISTING_CONCURRENCY" not in {line.name for line in report.lines}
