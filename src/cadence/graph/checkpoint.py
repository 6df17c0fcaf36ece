"""Where threads are kept: the default checkpointer.

A SQLite file beside an embedded SQLite database (``cadence.db`` → ``cadence.threads.db``), or
``./cadence.threads.db`` when the database is elsewhere, and memory for an in-memory database.
The file is LangGraph's, not Cadence's schema, so it stays out of the host's database.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver
from sqlalchemy.engine import make_url

from cadence.config import Settings, get_settings

__all__ = ["default_checkpointer", "threads_path"]

log = logging.getLogger(__name__)
THREADS_FILE = "cadence.threads.db"


def threads_path(settings: Settings) -> Path | None:
    """The SQLite file for threads, or ``None`` for an in-memory database."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            return None
        db = Path(url.database)
        return db.with_name(f"{db.stem}.threads.db")
    return Path(THREADS_FILE)


def default_checkpointer(settings: Settings | None = None) -> BaseCheckpointSaver[str]:
    """LangGraph's ``SqliteSaver`` on ``threads_path`` (``InMemorySaver`` for ``:memory:``)."""
    settings = settings or get_settings()
    path = threads_path(settings)
    if path is None:
        return InMemorySaver()
    if make_url(settings.database_url).get_backend_name() != "sqlite":
        log.warning(
            "agent threads are kept in %s; pass a checkpointer to build_agent() to keep them "
            "in a shared store (e.g. langgraph-checkpoint-postgres)",
            path.resolve(),
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteSaver(sqlite3.connect(str(path), check_same_thread=False))
