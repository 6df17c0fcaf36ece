"""What job functions run with: the service app, Redis, the email channel and the retry policy.

A worker configures it once at start; a job that finds none builds it from the settings, so a
plain ``rq worker crm:sequences`` with ``CADENCE_*`` set works too.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from redis import Redis

from cadence.channels.base import Channel
from cadence.channels.email import SmtpSender
from cadence.config import Settings, get_settings
from cadence.engine.connection import connect_redis
from cadence.service.context import Cadence

__all__ = ["EngineRuntime", "configure", "current", "from_settings", "reset"]


@dataclass
class EngineRuntime:
    app: Cadence
    redis: Redis
    email: Channel
    retry_intervals: list[int] = field(default_factory=lambda: [60, 120, 240, 480, 960])


_lock = threading.Lock()
_runtime: EngineRuntime | None = None


def from_settings(settings: Settings | None = None, app: Cadence | None = None) -> EngineRuntime:
    settings = settings or get_settings()
    app = app or Cadence.from_settings(settings)
    return EngineRuntime(
        app=app,
        redis=connect_redis(settings.redis_url),
        email=SmtpSender(settings.smtp_url, timeout=30.0),
        retry_intervals=list(settings.retry_intervals),
    )


def configure(runtime: EngineRuntime) -> EngineRuntime:
    global _runtime
    with _lock:
        _runtime = runtime
    return runtime


def current() -> EngineRuntime:
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = from_settings()
        return _runtime


def reset() -> None:
    global _runtime
    with _lock:
        _runtime = None
