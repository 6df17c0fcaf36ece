"""Where threads are kept: the default checkpointer.

- PostgreSQL, when ``CADENCE_CHECKPOINT_URL`` names one, or else when the database is PostgreSQL:
  LangGraph's ``PostgresSaver`` in a schema of its own (``cadence_threads``), so its tables
  (``checkpoints``, ``checkpoint_writes``…, not ``crm_``-prefixed) stay out of the host's;
- otherwise a SQLite file beside an embedded SQLite database (``cadence.db`` →
  ``cadence.threads.db``), or the SQLite URL given, and memory for an in-memory database.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver
from sqlalchemy.engine import make_url

from cadence.config import Settings, get_settings

__all__ = [
    "THREADS_SCHEMA",
    "default_checkpointer",
    "postgres_checkpointer",
    "postgres_threads_url",
    "threads_path",
]

THREADS_SCHEMA = "cadence_threads"


def _threads_url(settings: Settings) -> str:
    return settings.checkpoint_url or settings.database_url


def postgres_threads_url(settings: Settings) -> str | None:
    """The libpq URL of the PostgreSQL that keeps threads, or ``None`` when SQLite does."""
    url = make_url(_threads_url(settings))
    if url.get_backend_name() != "postgresql":
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def threads_path(settings: Settings) -> Path | None:
    """The SQLite file for threads; ``None`` for an in-memory database or for PostgreSQL."""
    url = make_url(_threads_url(settings))
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    db = Path(url.database)
    if settings.checkpoint_url:  # named explicitly: that very file
        return db
    return db.with_name(f"{db.stem}.threads.db")


def postgres_checkpointer(conninfo: str) -> BaseCheckpointSaver[str]:
    """LangGraph's ``PostgresSaver`` on a small pool, its tables in ``cadence_threads``."""
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg import connect
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    with connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{THREADS_SCHEMA}"')
    pool = ConnectionPool(
        conninfo,
        min_size=1,
        max_size=4,
        open=True,
        kwargs={
            "autocommit": True,
            "row_factory": dict_row,
            "prepare_threshold": 0,
            "options": f"-c search_path={THREADS_SCHEMA}",
        },
    )
    saver = PostgresSaver(pool)  # type: ignore[arg-type]
    saver.setup()
    return saver


def default_checkpointer(settings: Settings | None = None) -> BaseCheckpointSaver[str]:
    """PostgreSQL when configured (see the module), else SQLite, else memory."""
    settings = settings or get_settings()
    conninfo = postgres_threads_url(settings)
    if conninfo is not None:
        return postgres_checkpointer(conninfo)
    path = threads_path(settings)
    if path is None:
        return InMemorySaver()
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteSaver(sqlite3.connect(str(path), check_same_thread=False))
