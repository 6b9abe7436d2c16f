"""API keys with owners: named keys from the environment and keys kept in the database.

A key's name owns the workflows the key creates, and the key sees only those.
`SHELFREADY_API_KEYS` holds "name:key,name:key"; `shelfready api-key add NAME` stores a
generated key's SHA-256 digest in the database (the key itself is printed once and never
stored). `SHELFREADY_API_TOKEN` is the one-seller (operator) token: like the CLI, it sees
every workflow, and what it creates has no owner.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from pydantic import SecretStr
from sqlmodel import Session, select

from shelfready_core.config import Settings
from shelfready_core.db import session_scope
from shelfready_core.errors import ShelfReadyError
from shelfready_core.models import ApiKey

SINGLE_TOKEN_OWNER = "default"
KEY_PREFIX = "sr_"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class ApiKeyError(ShelfReadyError, ValueError):
    """A key setting or command that cannot be used; the message never quotes a key."""


@dataclass(frozen=True)
class KeyEntry:
    name: str
    key: SecretStr

    @property
    def owner(self) -> str | None:
        """The owner recorded on workflows; None (sees everything) for the single token."""
        return None if self.name == SINGLE_TOKEN_OWNER else self.name


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ApiKeyError(
            f"API key name {name[:70]!r} must be 1-64 letters, digits, '.', '_' or '-'"
        )
    if name == SINGLE_TOKEN_OWNER:
        raise ApiKeyError(f"{name!r} names SHELFREADY_API_TOKEN; give the key another name")
    return name


def parse_key_list(value: str) -> list[KeyEntry]:
    """`name:key,name:key` -> entries; an empty key, a bad name or a repeat is an error."""
    entries: list[KeyEntry] = []
    for position, item in enumerate(value.split(","), start=1):
        name, sep, key = item.strip().partition(":")
        if not sep or not key.strip():
            raise ApiKeyError(f"SHELFREADY_API_KEYS entry {position} must be name:key with a key")
        check_name(name.strip())
        entries.append(KeyEntry(name.strip(), SecretStr(key.strip())))
    names = [entry.name for entry in entries]
    if len(set(names)) != len(names):
        raise ApiKeyError("SHELFREADY_API_KEYS names a key twice")
    if len({entry.key.get_secret_value() for entry in entries}) != len(entries):
        raise ApiKeyError("SHELFREADY_API_KEYS holds the same key under two names")
    return entries


def configured_keys(settings: Settings) -> list[KeyEntry]:
    """The keys from the environment. Refuses a set-but-empty key (it would let anyone in)."""
    entries: list[KeyEntry] = []
    if settings.api_token is not None:
        if not settings.api_token.get_secret_value().strip():
            raise ApiKeyError("SHELFREADY_API_TOKEN is set but empty: set a token or unset it")
        entries.append(KeyEntry(SINGLE_TOKEN_OWNER, settings.api_token))
    if settings.api_keys is not None:
        value = settings.api_keys.get_secret_value()
        if not value.strip():
            raise ApiKeyError(
                "SHELFREADY_API_KEYS is set but empty: set name:key pairs or unset it"
            )
        entries += parse_key_list(value)
    return entries


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def owner_of(session: Session, key: str) -> str | None:
    """The name of the active database key `key`, or None."""
    row = session.exec(select(ApiKey).where(ApiKey.key_digest == digest(key))).first()
    return row.name if row else None


def database_has_keys(session: Session) -> bool:
    return session.exec(select(ApiKey.id)).first() is not None


def create_key(settings: Settings, name: str) -> str:
    """A new random key for `name`, stored as its digest; returns the key (shown once)."""
    check_name(name)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with session_scope(settings) as session:
        if session.exec(select(ApiKey).where(ApiKey.name == name)).first() is not None:
            raise ApiKeyError(f"an API key named {name!r} exists; revoke it or pick another name")
        session.add(ApiKey(name=name, key_digest=digest(key)))
    return key


def revoke_key(settings: Settings, name: str) -> None:
    with session_scope(settings) as session:
        row = session.exec(select(ApiKey).where(ApiKey.name == name)).first()
        if row is None:
            raise ApiKeyError(f"no API key named {name!r}")
        # The row goes at once (the key stops working); its workflows keep their owner name.
        session.delete(row)


def list_keys(settings: Settings) -> list[tuple[str, str]]:
    """(name, created) of every database key."""
    with session_scope(settings) as session:
        rows = session.exec(select(ApiKey).order_by(ApiKey.name)).all()
        return [(row.name, row.created_at.isoformat(timespec="seconds")) for row in rows]
