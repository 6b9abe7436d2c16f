"""The start-up check of every environment variable the app reads, generated from the settings.

The variables are the fields of `config.Settings` plus those of every installed stage's
`StageSettings`: name (alias), purpose (description), type, constraints and default come from
the field, the rest from its `env_notes` (json_schema_extra). One line per variable (set /
missing / optional / default, secrets never shown) plus a list of errors, each naming the
variable and what it is for. The check sees what `Settings` sees: the process environment
over the `.env` file, read by pydantic-settings' own sources (`settings_environment`).

`python -m shelfready_core.envcheck --markdown` prints the README's variable table;
`--write-readme README.md` replaces it between its marker comments.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, cast, get_args
from urllib.parse import urlsplit

from pydantic import SecretStr, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, DotEnvSettingsSource, EnvSettingsSource

from shelfready_core.config import CheckName, Requirement, Settings
from shelfready_core.dburl import DatabaseUrlError, parse_database_url
from shelfready_core.url_masking import mask_url

__all__ = [
    "EnvReport",
    "EnvVar",
    "check_environment",
    "env_vars",
    "markdown_table",
    "mask_url",
    "settings_environment",
]

logger = logging.getLogger(__name__)

State = Literal["set", "missing", "optional", "default"]
CORE_GROUP = "core"
README_START = "<!-- settings-table:start (generated: python -m shelfready_core.envcheck "
README_START += "--write-readme README.md) -->"
README_END = "<!-- settings-table:end -->"


def _log_level(value: str) -> str | None:
    if value.upper() in logging.getLevelNamesMapping():
        return None
    return f"unknown log level {value!r} (expected DEBUG, INFO, WARNING, ERROR or CRITICAL)"


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


# The extra checks a field's env_notes(check=...) may name.
EXTRA_CHECKS: dict[CheckName, Callable[[str], str | None]] = {
    "http_url": _http_url,
    "redis_url": _redis_url,
    "log_level": _log_level,
    "api_keys": _api_keys,
}

R2_VARIABLES = (
    "CLOUDFLARE_R2_ACCESS_KEY",
    "CLOUDFLARE_R2_SECRET_KEY",
    "CLOUDFLARE_R2_BUCKET",
    "CLOUDFLARE_R2_ENDPOINT",
)
R2_OPTIONAL = "CLOUDFLARE_R2_PUBLIC_URL"


@dataclass(frozen=True)
class EnvVar:
    """One environment variable the app reads, as its settings field describes it."""

    name: str
    purpose: str
    group: str  # "core" or the name of the stage whose settings class reads it
    default: object  # the field's default; None when it has none (or an empty one)
    adapter: TypeAdapter[Any] = field(compare=False, repr=False)
    secret: bool = False
    url: bool = False
    required: Requirement | None = None
    stand_in: str | None = None
    check: CheckName | None = None
    details: str | None = None


def _is_secret(annotation: object) -> bool:
    return annotation is SecretStr or SecretStr in get_args(annotation)


def _env_var(name: str, info: FieldInfo, group: str) -> EnvVar:
    if not info.description:
        raise TypeError(f"setting {name} has no description: give its Field(description=...)")
    notes = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    # The field's type plus its constraints (e.g. ge=1), checked as pydantic-settings would.
    constrained: Any = info.annotation
    if info.metadata:
        constrained = Annotated[(constrained, *info.metadata)]
    # A default_factory's value, not PydanticUndefined; an empty one is no default at all.
    default = info.get_default(call_default_factory=True) if not info.is_required() else None
    if default in ({}, [], ()):
        default = None
    check = cast("CheckName | None", notes.get("check"))
    if check is not None and check not in EXTRA_CHECKS:
        raise TypeError(f"setting {name} names an unknown check {check!r}")
    return EnvVar(
        name=name,
        purpose=info.description,
        group=group,
        default=default,
        adapter=TypeAdapter(constrained),
        secret=_is_secret(info.annotation),
        url=bool(notes.get("url")),
        required=cast("Requirement | None", notes.get("required")),
        stand_in=cast("str | None", notes.get("stand_in")),
        check=check,
        details=cast("str | None", notes.get("details")),
    )


def settings_classes() -> list[tuple[str, type[BaseSettings]]]:
    """Core settings, then the settings class of every installed stage, in pipeline order."""
    from shelfready_core.stages import PipelineError, pipeline

    classes: list[tuple[str, type[BaseSettings]]] = [(CORE_GROUP, Settings)]
    try:
        classes += [(stage.name, stage.settings) for stage in pipeline()]
    except PipelineError as exc:  # an image without stages (e.g. the API) checks core only
        logger.debug("no stage settings to check: %s", exc)
    return classes


@cache
def _vars_of(group: str, settings_class: type[BaseSettings]) -> tuple[EnvVar, ...]:
    return tuple(
        _env_var((info.alias or name).upper(), info, group)
        for name, info in settings_class.model_fields.items()
    )


def env_vars(classes: Sequence[tuple[str, type[BaseSettings]]] | None = None) -> list[EnvVar]:
    """Every variable the settings classes read, grouped; a name read twice is a bug."""
    found = [var for group, cls in classes or settings_classes() for var in _vars_of(group, cls)]
    names = [var.name for var in found]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise TypeError(f"more than one setting reads {', '.join(repeated)}")
    return found


def settings_environment(
    environ: Mapping[str, str] | None = None,
    classes: Iterable[type[BaseSettings]] | None = None,
) -> dict[str, str]:
    """The variables as the settings classes see them: each one's `.env` file under the
    process environment (`environ`, default: what pydantic-settings' env source reads),
    through pydantic-settings' own sources. Names are upper-cased (settings ignore case)."""
    visible: dict[str, str] = {}
    for cls in classes or [cls for _, cls in settings_classes()]:
        dotenv = DotEnvSettingsSource(cls).env_vars
        visible |= {name.upper(): value for name, value in dotenv.items() if value is not None}
    process = EnvSettingsSource(Settings).env_vars if environ is None else environ
    visible |= {name.upper(): value for name, value in process.items() if value is not None}
    return visible


@dataclass(frozen=True)
class EnvLine:
    name: str
    state: State
    purpose: str
    shown: str
    group: str = CORE_GROUP


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
        group = None
        for line in self.lines:
            if line.group != group:
                group = line.group
                out.append(f"  {_group_title(group)}:")
            out.append(f"    {line.name:<{width}}  {line.state:<8}  {line.shown}  ({line.purpose})")
        if self.ok:
            out.append("environment OK")
        else:
            out.append(f"{len(self.errors)} problem(s):")
            out += [f"  - {error}" for error in self.errors]
        return "\n".join(out)


def _group_title(group: str) -> str:
    return "core settings" if group == CORE_GROUP else f"{group} stage settings"


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
    try:
        var.adapter.validate_python(value)
    except ValidationError as exc:
        problem = exc.errors()[0]["msg"]
        problem = problem[0].lower() + problem[1:]
        return problem if var.secret else f"{problem}, got {value!r}"
    return EXTRA_CHECKS[var.check](value) if var.check else None


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


def _default_text(var: EnvVar) -> str | None:
    if var.default is None:
        return None
    if isinstance(var.default, bool):
        return str(var.default).lower()
    return str(var.default)


def check_environment(
    env: Mapping[str, str],
    *,
    production: bool,
    classes: Sequence[tuple[str, type[BaseSettings]]] | None = None,
) -> EnvReport:
    """Check every variable against `env` (see `settings_environment`); blank counts as unset."""
    variables = env_vars(classes)
    env = {name.upper(): value for name, value in env.items()}
    values = {var.name: env[var.name].strip() for var in variables if env.get(var.name, "").strip()}
    defaults = {var.name: text for var in variables if (text := _default_text(var)) is not None}
    effective = defaults | values
    report = EnvReport(production=production)

    r2_set = [name for name in (*R2_VARIABLES, R2_OPTIONAL) if name in values]
    r2_missing = [name for name in R2_VARIABLES if name not in values] if r2_set else []

    for var in variables:
        value = values.get(var.name)

        def line(state: State, shown: str, var: EnvVar = var) -> None:
            report.lines.append(EnvLine(var.name, state, var.purpose, shown, var.group))

        if value is not None:
            line("set", _shown(var, value))
            problem = _invalid(var, value)
            if problem:
                report.errors.append(f"{var.name} ({var.purpose}) is invalid: {problem}")
            continue
        why = _required(var, env, production)
        if why:
            line("missing", "not set")
            report.errors.append(f"{var.name} is missing: {var.purpose} ({why})")
        elif var.name in r2_missing:
            line("missing", "not set")
        elif var.stand_in:
            line("default", f"not set: {var.stand_in.format_map(effective)}")
        elif var.name in defaults:
            line("default", f"default {defaults[var.name]}")
        else:
            line("optional", "not set")

    purposes = {var.name: var.purpose for var in variables}
    if r2_missing:
        missing = "; ".join(f"{name}: {purposes[name]}" for name in r2_missing)
        report.errors.append(
            f"R2 is partly configured: {', '.join(r2_missing)} missing ({missing}). "
            "Set all CLOUDFLARE_R2_* variables, or none to store images in a local folder"
        )
    report.errors += _database_errors(values, purposes)
    logger.debug("environment check: %d variables, %d errors", len(variables), len(report.errors))
    return report


def _database_errors(values: Mapping[str, str], purposes: Mapping[str, str]) -> list[str]:
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
        return [f"{exc} — {name}: {purposes[name]}"]
    return []


# -- the README's table --

_REQUIRED_TEXT: dict[Requirement, str] = {
    "production": "in production (workers)",
    "production_online_ai": (
        "in production unless `SHELFREADY_AI=offline`; always with `SHELFREADY_AI=claude`"
    ),
}


def _cell(text: str) -> str:
    """Text safe in a table cell: pipes escaped, and <...> outside code spans is not HTML."""
    spans = text.replace("|", "\\|").replace("\n", " ").split("`")
    for i in range(0, len(spans), 2):
        spans[i] = spans[i].replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(spans)


def _readme_row(var: EnvVar, defaults: Mapping[str, str]) -> str:
    if var.required:
        required = _REQUIRED_TEXT[var.required]
    elif var.name in R2_VARIABLES:
        required = "all or none"
    else:
        required = "no"
    default = defaults.get(var.name)
    if default is not None:
        unset = f"`{default}`"
    elif var.stand_in:
        unset = var.stand_in.format_map(defaults)
    else:
        unset = "unset"
    purpose = var.purpose[0].upper() + var.purpose[1:]
    if var.secret:
        purpose += " (secret: never shown)"
    if var.details:
        purpose += f". {var.details}"
    cells = (f"`{var.name}`", required, unset, purpose)
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def markdown_table(classes: Sequence[tuple[str, type[BaseSettings]]] | None = None) -> str:
    """The README's variable table: one table per group (core, then each stage)."""
    variables = env_vars(classes)
    defaults = {var.name: text for var in variables if (text := _default_text(var)) is not None}
    out: list[str] = []
    for group in dict.fromkeys(var.group for var in variables):
        if out:
            out.append("")
        if group == CORE_GROUP:
            out.append("Core settings (every service):")
        else:
            out.append(f"`{group}` stage settings (read by its worker):")
        out += ["", "| variable | required | when unset | purpose |", "|---|---|---|---|"]
        out += [_readme_row(var, defaults) for var in variables if var.group == group]
    return "\n".join(out) + "\n"


def replace_readme_table(text: str, table: str) -> str:
    """`text` (the README) with the part between the marker comments replaced by `table`."""
    pattern = re.compile(re.escape(README_START) + r"\n.*?" + re.escape(README_END), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"the README has no {README_START!r} ... {README_END!r} markers")
    return pattern.sub(lambda _: f"{README_START}\n{table}{README_END}", text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--markdown", action="store_true", help="print the README's table")
    parser.add_argument("--write-readme", type=Path, help="replace the table in this README")
    args = parser.parse_args(argv)
    if args.write_readme:
        path: Path = args.write_readme
        path.write_text(replace_readme_table(path.read_text(), markdown_table()))
        return 0
    if args.markdown:
        sys.stdout.write(markdown_table())
        return 0
    report = check_environment(settings_environment(), production=False)
    sys.stdout.write(report.render() + "\n")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
