"""Redis connections: a real server, or ``memory://`` for an in-process fakeredis."""

from __future__ import annotations

import secrets
import threading
from typing import Any

from redis import Redis
from redis.exceptions import RedisError, WatchError

from cadence.errors import ConfigurationError

__all__ = ["DEFAULT_LOCAL_REDIS", "RedisLock", "connect_redis", "is_memory"]

DEFAULT_LOCAL_REDIS = "redis://127.0.0.1:6379/0"
_fake_server: Any = None
_fake_lock = threading.Lock()


def is_memory(redis: Redis) -> bool:
    return type(redis).__module__.startswith("fakeredis")


def connect_redis(url: str) -> Redis:
    """A client for ``url``: ``redis://…``, ``memory://`` (one fakeredis per process), or ``auto``
    (the local Redis when it answers, else memory).

    Raises:
        ConfigurationError: the URL is not usable.
    """
    global _fake_server
    if url == "auto":
        try:
            client = Redis.from_url(DEFAULT_LOCAL_REDIS, socket_connect_timeout=0.5)
            client.ping()
            return client
        except RedisError:
            url = "memory://"
    if url.startswith("memory://"):
        import fakeredis

        with _fake_lock:
            if _fake_server is None:
                _fake_server = fakeredis.FakeServer()
            return fakeredis.FakeRedis(server=_fake_server)
    try:
        return Redis.from_url(url)
    except ValueError as exc:
        raise ConfigurationError(f"Redis URL {url!r} is not valid: {exc}") from exc


class RedisLock:
    """A lock held by one process at a time across machines: SET NX with an expiry, released
    only by its owner (no Lua, so it works on fakeredis too)."""

    def __init__(self, redis: Redis, name: str, *, ttl_seconds: float) -> None:
        self.redis, self.name, self.ttl_ms = redis, name, int(ttl_seconds * 1000)
        self.token = secrets.token_hex(8).encode()

    def acquire(self) -> bool:
        return bool(self.redis.set(self.name, self.token, nx=True, px=self.ttl_ms))

    def release(self) -> None:
        with self.redis.pipeline() as pipe:
            try:
                pipe.watch(self.name)  # type: ignore[no-untyped-call]
                held: Any = pipe.get(self.name)  # a watched pipeline answers at once
                if held == self.token:
                    pipe.multi()
                    pipe.delete(self.name)
                    pipe.execute()
            except WatchError:
                pass  # it expired and someone else holds it now

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
