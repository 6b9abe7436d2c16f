"""DATABASE_URL diagnostics: parse, classify (SQLite / direct / transaction pooler) and mask.

Every URL this module hands out is a `sqlalchemy.engine.URL` object, ready for `create_engine`.
Its repr hides the password; call `url.render_as_string(hide_password=False)` only where a
plain string is truly needed (e.g. Alembic's config), and never log the result.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache

from psycopg import pq
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

logger = logging.getLogger(__name__)

POSTGRES_SCHEMES = ("postgres", "postgresql", "postgresql+psycopg")
SQLITE_SCHEME = "sqlite"
SQLALCHEMY_DRIVER = "postgresql+psycopg"
DEFAULT_PORT = 5432
# PgBouncer / Supavisor in transaction mode listen here; session mode and Postgres on 5432.
TRANSACTION_POOLER_PORT = 6543
# Query parameters whose values are credentials, hidden in `masked` like the password.
_SECRET_QUERY_KEYS = frozenset({"password", "sslpassword", "oauth_client_secret"})
_EXPECTED = "expected postgresql://user:password@host:5432/dbname or sqlite:///path/to/file.db"


class DatabaseUrlError(ValueError):
    """A database URL that cannot be used. The message never contains the password."""


@lru_cache(maxsize=1)
def libpq_parameters() -> frozenset[str]:
    """Connection keywords the installed libpq understands (it rejects any other)."""
    return frozenset(option.keyword.decode() for option in pq.Conninfo.get_defaults())


def _truthy(value: str | tuple[str, ...] | None) -> bool:
    values = value if isinstance(value, tuple) else (value,)
    return any(v is not None and v.strip().lower() in {"1", "true", "yes", "on"} for v in values)


@dataclass(frozen=True)
class DatabaseUrl:
    """A validated database URL plus what the app needs to connect to it correctly."""

    url: URL = field(repr=False)
    direct_url: URL | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"DatabaseUrl({self.masked!r})"

    @property
    def scheme(self) -> str:
        """The scheme as written, e.g. "postgres", "postgresql+psycopg" or "sqlite"."""
        return self.url.drivername

    @property
    def is_sqlite(self) -> bool:
        return self.url.drivername == SQLITE_SCHEME

    @property
    def host(self) -> str | None:
        """Host name or IP (IPv6 without brackets); a `?host=` socket directory if only that."""
        if self.url.host:
            return self.url.host
        query_host = self.url.query.get("host")
        return query_host if isinstance(query_host, str) else None

    @property
    def port(self) -> int | None:
        if self.is_sqlite:
            return None
        return self.url.port or DEFAULT_PORT

    @property
    def database(self) -> str | None:
        """The database name, or the SQLite file path (None for in-memory SQLite)."""
        return self.url.database

    @property
    def username(self) -> str | None:
        """Kept as written: Supabase pooler users look like `postgres.projectref`."""
        return self.url.username

    @property
    def pooler_reasons(self) -> tuple[str, ...]:
        """Why this URL is taken for a transaction-mode pooler (empty when it is not)."""
        if self.is_sqlite:
            return ()
        reasons = []
        # Covers Supabase's *.pooler.supabase.com:6543 (Supavisor, transaction mode).
        if self.port == TRANSACTION_POOLER_PORT:
            reasons.append(f"port {TRANSACTION_POOLER_PORT}")
        if _truthy(self.url.query.get("pgbouncer")):
            reasons.append("pgbouncer=true")
        return tuple(reasons)

    @property
    def is_pooled(self) -> bool:
        """True behind a transaction-mode pooler, where prepared statements break."""
        return bool(self.pooler_reasons)

    @property
    def masked(self) -> str:
        """The URL as written with the password (and credential query values) as `***`."""
        query = {
            key: "***" if key in _SECRET_QUERY_KEYS else value
            for key, value in self.url.query.items()
        }
        return self.url.set(query=query).render_as_string(hide_password=True)

    @property
    def sqlalchemy_url(self) -> URL:
        """The URL for `create_engine`: psycopg 3 driver, only parameters libpq accepts."""
        if self.is_sqlite:
            return self.url
        return _for_libpq(self.url)

    @property
    def migration_url(self) -> URL:
        """Where migrations connect: DIRECT_URL, else port 5432 when pooled, else as-is.

        DDL and advisory locks need a session; a transaction pooler cannot give one.
        """
        if self.direct_url is not None:
            return _for_libpq(self.direct_url)
        if self.is_pooled:
            return self.sqlalchemy_url.set(port=DEFAULT_PORT)
        return self.sqlalchemy_url

    @property
    def connect_args(self) -> dict[str, object]:
        """`create_engine(connect_args=...)` for `sqlalchemy_url` (not for `migration_url`)."""
        if self.is_sqlite:
            # Workers hand the engine's connections between threads.
            return {"check_same_thread": False}
        if self.is_pooled:
            # A transaction pooler may run the next statement on another server session,
            # where psycopg's auto-prepared statement does not exist.
            return {"prepare_threshold": None}
        return {}


def _for_libpq(url: URL) -> URL:
    unknown = [key for key in url.query if key not in libpq_parameters()]
    return url.set(drivername=SQLALCHEMY_DRIVER).difference_update_query(unknown)


def _parse(text: str, variable: str) -> URL:
    """Parse and validate one URL; `variable` names it in error messages."""
    if not text or not text.strip():
        raise DatabaseUrlError(f"{variable} is empty ({_EXPECTED})")
    try:
        url = make_url(text.strip())
    except ArgumentError:
        raise DatabaseUrlError(f"{variable} is not a URL ({_EXPECTED})") from None
    except ValueError:
        # make_url's own message may quote part of a mis-split password; do not chain it.
        raise DatabaseUrlError(
            f"{variable} has a port that is not a number "
            "(characters like '/', ':' or '@' in the password must be percent-encoded)"
        ) from None

    scheme = url.drivername
    if scheme == SQLITE_SCHEME:
        return url
    if scheme not in POSTGRES_SCHEMES:
        allowed = ", ".join(f"{s}://" for s in (*POSTGRES_SCHEMES, SQLITE_SCHEME))
        raise DatabaseUrlError(
            f"{variable} has unknown scheme {scheme!r} (expected one of {allowed})"
        )
    if url.host and "@" in url.host:
        raise DatabaseUrlError(
            f"{variable} has an '@' in its host part: percent-encode '@' in the password as %40"
        )
    if not url.host and not url.query.get("host"):
        raise DatabaseUrlError(f"{variable} has no host ({_EXPECTED})")
    if not url.database:
        raise DatabaseUrlError(f"{variable} has no database name ({_EXPECTED})")
    return url


def parse_database_url(url: str, direct_url: str | None = None) -> DatabaseUrl:
    """Validate DATABASE_URL (and the optional DIRECT_URL for migrations).

    Raises DatabaseUrlError naming the variable and the problem, never the password.
    """
    parsed = _parse(url, "DATABASE_URL")
    direct = None
    if direct_url is not None and direct_url.strip():
        direct = _parse(direct_url, "DIRECT_URL")
        if direct.drivername == SQLITE_SCHEME or parsed.drivername == SQLITE_SCHEME:
            raise DatabaseUrlError("DIRECT_URL only applies to PostgreSQL; use it with both set")
    db = DatabaseUrl(parsed, direct)
    logger.debug("parsed database URL %s (pooled=%s)", db.masked, db.is_pooled)
    return db


def describe(db: DatabaseUrl) -> list[str]:
    """The start-up diagnostic lines, in order; the password never appears."""
    lines = ["DATABASE_URL format check passed", f"protocol: {db.scheme}"]
    if db.is_sqlite:
        lines.append(f"SQLite file: {db.database or ':memory:'}")
        return lines
    lines += [
        f"host: {db.host}",
        f"port: {db.port}",
        f"database: {db.database}",
        f"user: {db.username or '(libpq default)'}",
    ]
    if db.direct_url is not None:
        lines.append("explicit DIRECT_URL used for migrations")
    elif db.is_pooled:
        reasons = " / ".join(db.pooler_reasons)
        lines.append(
            f"transaction-mode pooler detected ({reasons}) "
            f"-> migrations use a direct connection on port {DEFAULT_PORT}"
        )
    if db.is_pooled:
        lines.append("prepared statements disabled (prepare_threshold=None) for the pooler")
    return lines
