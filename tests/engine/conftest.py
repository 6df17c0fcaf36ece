"""Engine fixtures: a real Redis (a database number of our own, flushed around each test), a real
SMTP server (aiosmtpd on loopback), and the engine runtime wired to both."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from redis import Redis
from rq import SimpleWorker

from cadence.channels.email import SmtpSender
from cadence.engine import runtime
from cadence.engine.connection import connect_redis
from cadence.engine.jobs import queue_for
from cadence.engine.promoter import PromoteStats, promote
from cadence.service.context import Cadence
from tests.channels.conftest import ScriptedHandler, SmtpServer, start_server

REDIS_URL = os.environ.get("CADENCE_TEST_REDIS_URL")
# One Redis database per test process, away from db 0 that other tools use.
REDIS_DB = 1 + os.getpid() % 15


@pytest.fixture
def redis_url() -> str:
    return f"{REDIS_URL.rstrip('/')}/{REDIS_DB}" if REDIS_URL else "memory://"


@pytest.fixture
def redis(redis_url: str) -> Iterator[Redis]:
    client = connect_redis(redis_url)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = start_server(ScriptedHandler())
    yield server
    server.controller.stop()


@pytest.fixture
def engine(app: Cadence, redis: Redis, smtp: SmtpServer) -> Iterator[runtime.EngineRuntime]:
    rt = runtime.configure(
        runtime.EngineRuntime(
            app=app, redis=redis, email=SmtpSender(smtp.url(), timeout=5), retry_intervals=[0, 0, 0]
        )
    )
    yield rt
    runtime.reset()


def drain(rt: runtime.EngineRuntime) -> None:
    """Run every job now in the queue (and the retries they enqueue) in this process."""
    SimpleWorker([queue_for(rt.redis)], connection=rt.redis).work(
        burst=True, logging_level="WARNING"
    )


@pytest.fixture
def tick(engine: runtime.EngineRuntime) -> Callable[[], PromoteStats]:
    """One turn of the engine at the injected clock's time: promote what is due, run it."""

    def run(**kwargs: Any) -> PromoteStats:
        from datetime import timedelta

        stats = promote(engine, horizon=timedelta(0), **kwargs)
        drain(engine)
        return stats

    return run
