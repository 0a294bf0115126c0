"""Process settings, read once from the environment (see design.md, "Environment")."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

SIGNING_PROCESSES_ENV = "OSTIARY_SIGNING_PROCESSES"
READ_TIMEOUT_ENV = "OSTIARY_READ_TIMEOUT"
DEFAULT_READ_TIMEOUT = 10


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    base_url: str
    master_key: str | None = None
    redis_url: str | None = None
    log_level: str = "info"
    rate_limits: str = "on"
    max_body_bytes: int = 1024 * 1024
    signing_processes: int = 0
    """Child processes that sign tokens; 0 signs on threads of this process (see
    ``ostiary.jose.sign_processes``). ``ostiary serve`` picks one per CPU unless told."""
    read_timeout: int = 10
    """Seconds a client may take to send a request's headers, and to resume a stalled body
    (``OSTIARY_READ_TIMEOUT``; read by the HTTP protocol, see ``ostiary.serving.uvicorn_protocol``)."""
    extra: dict[str, str] = field(default_factory=dict)
    db_connect_timeout: float = 3.0
    db_statement_timeout: float = 5.0
    db_pool_timeout: float = 5.0
    """Seconds: ``OSTIARY_DB_CONNECT_TIMEOUT``, ``OSTIARY_DB_STATEMENT_TIMEOUT``,
    ``OSTIARY_DB_POOL_TIMEOUT`` (see ``ostiary.store.db.Timeouts``)."""
    session_max_lifetime_minutes: int = 720
    """Absolute cap on a sign-in session, however often it is refreshed; 0: no cap."""

    @property
    def rate_limits_enabled(self) -> bool:
        return self.rate_limits.lower() not in {"off", "0", "false", "no"}


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{data_dir / 'ostiary.db'}"


def load_settings(**overrides: str | None) -> Settings:
    """Settings from ``OSTIARY_*`` variables; non-None keyword overrides win (CLI flags)."""
    env = os.environ
    data_dir = Path(overrides.get("data_dir") or env.get("OSTIARY_DATA_DIR", ".ostiary"))
    database_url = overrides.get("database_url") or env.get("OSTIARY_DATABASE_URL") or sqlite_url(data_dir)
    base_url = (overrides.get("base_url") or env.get("OSTIARY_BASE_URL", "http://localhost:8080")).rstrip("/")
    return Settings(
        data_dir=data_dir,
        database_url=normalize_database_url(database_url),
        base_url=base_url,
        master_key=env.get("OSTIARY_MASTER_KEY"),
        redis_url=overrides.get("redis_url") or env.get("OSTIARY_REDIS_URL") or None,
        log_level=env.get("OSTIARY_LOG_LEVEL", "info").lower(),
        rate_limits=overrides.get("rate_limits") or env.get("OSTIARY_RATE_LIMITS", "on"),
        max_body_bytes=_whole_number(env, "OSTIARY_MAX_BODY_BYTES", 1024 * 1024),
        signing_processes=_whole_number(env, SIGNING_PROCESSES_ENV, 0),
        read_timeout=_whole_number(env, READ_TIMEOUT_ENV, DEFAULT_READ_TIMEOUT),
        db_connect_timeout=_seconds(env, "OSTIARY_DB_CONNECT_TIMEOUT", 3.0),
        db_statement_timeout=_seconds(env, "OSTIARY_DB_STATEMENT_TIMEOUT", 5.0),
        db_pool_timeout=_seconds(env, "OSTIARY_DB_POOL_TIMEOUT", 5.0),
        session_max_lifetime_minutes=_whole_number(env, "OSTIARY_SESSION_MAX_LIFETIME_MINUTES", 720),
    )


class SettingsError(ValueError):
    """An ``OSTIARY_*`` variable that cannot be used; the message names it."""


def _whole_number(env: Mapping[str, str], name: str, default: int) -> int:
    """``env[name]`` as an integer ≥ 0, ``default`` when unset or empty."""
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isascii() or not text.isdigit():
        raise SettingsError(f"{name} must be a whole number (0 or more), not {text!r}")
    return int(text)


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """``env[name]`` as a number of seconds > 0 (``2``, ``0.5``), ``default`` when unset or empty."""
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text) if text.isascii() else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise SettingsError(f"{name} must be a number of seconds greater than 0, not {text!r}")
    return value


def normalize_database_url(url: str) -> str:
    """Accept plain ``postgresql://`` and ``sqlite://`` URLs and pick the async drivers."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    return url
