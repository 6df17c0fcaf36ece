"""Settings, read from ``CADENCE_*`` environment variables (and a ``.env`` file if present)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """Every setting Cadence reads, with its default and its unit."""

    model_config = SettingsConfigDict(env_prefix="CADENCE_", env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite:///./cadence.db",
        description="SQLAlchemy URL. SQLite is the embedded default; PostgreSQL in production.",
    )
    redis_url: str = Field(
        "auto",
        description="Redis URL; 'memory://' is an in-process fakeredis; 'auto' tries "
        "redis://127.0.0.1:6379/0 and falls back to memory://.",
    )
    smtp_url: str = Field(
        "smtp://127.0.0.1:1025",
        description="Outgoing mail: smtp://, smtp+starttls:// or smtps://, user:pass@ if needed.",
    )
    model: str | None = Field(
        None,
        description="Chat model, init_chat_model style ('anthropic:claude-sonnet-5'). "
        "None: no model; tools still work and personalization is deterministic.",
    )
    checkpoint_url: str | None = Field(
        None,
        description="Where the agent's conversation threads are kept: a PostgreSQL URL (in its "
        "own schema, cadence_threads) or a SQLite URL. None: the database's PostgreSQL when it "
        "is one, else a SQLite file beside the database.",
    )
    secret_key: str = Field(
        "cadence-dev-secret-change-me",
        description="Signs unsubscribe, click and open links. Set it in production.",
    )
    daily_touch_limit: int = Field(
        2, ge=1, le=50, description="Touches per contact per local day, across all sequences."
    )
    completion_wait_hours: int = Field(
        72,
        ge=0,
        le=2160,
        description="Hours after a sequence's last step before an unanswered enrollment completes.",
    )
    public_base_url: str = Field(
        "http://127.0.0.1:8000", description="Base of the links Cadence puts in emails."
    )
    retry_intervals: list[int] = Field(
        [60, 120, 240, 480, 960],
        description="Seconds to wait before each retry of a step that failed transiently "
        "(exponential backoff); its length is the number of retries before a dead letter.",
    )
    promote_horizon_seconds: int = Field(
        300, ge=0, description="The promoter moves steps due within this many seconds into RQ."
    )
    promote_interval_seconds: float = Field(
        10, gt=0, description="Seconds between promoter runs in `cadence worker`."
    )
    batch_size: int = Field(100, ge=1, le=5000, description="Steps per RQ job at most.")
    unconfirmed_timeout_seconds: int = Field(
        900,
        ge=1,
        description="A touch reserved this long ago and never confirmed (the worker died "
        "mid-send) becomes a dead letter; it is never resent by itself.",
    )
    auto_migrate: bool = Field(
        True, description="Upgrade an embedded SQLite database to the newest schema on first use."
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
