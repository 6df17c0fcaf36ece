"""The database: engine, sessions, transactions, and schema upgrades through Alembic."""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlmodel import Session

from cadence.errors import ConfigurationError

__all__ = ["Database", "migrations_dir", "upgrade"]


def migrations_dir() -> Path:
    return Path(__file__).with_name("migrations")


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (Alembic), on the engine's own connection."""
    from alembic import command

    cfg = _alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config("sqlite://")).get_current_head()


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, open transactions, so that BEGIN IMMEDIATE below holds.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        if make_url(url).database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the lock up front: no "database is locked" on a read→write upgrade, and
        # a transaction's checks and writes are serialised as on PostgreSQL with row locks.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Database:
    """An engine and the sessions over it. One per process, shared by threads."""

    def __init__(self, url: str, *, auto_migrate: bool = False, echo: bool = False) -> None:
        self.url = url
        try:
            parsed = make_url(url)
        except Exception as exc:
            raise ConfigurationError(f"database URL {url!r} is not valid: {exc}") from exc
        self.dialect = parsed.get_backend_name()
        if parsed.drivername == "postgresql":  # psycopg 3, not the psycopg2 default
            url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        try:
            if self.dialect == "sqlite":
                self.engine = _sqlite_engine(url, echo=echo)
            else:
                self.engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise ConfigurationError(f"database URL {url!r} cannot be used: {exc}") from exc
        # RQ forks a work horse per job: a child must not reuse its parent's pooled connections.
        engine_ref = weakref.ref(self.engine)

        def _drop_inherited_pool() -> None:
            engine = engine_ref()
            if engine is not None:
                engine.dispose(close=False)

        os.register_at_fork(after_in_child=_drop_inherited_pool)
        if (
            auto_migrate
            and self.dialect == "sqlite"
            and current_revision(self.engine) != (head_revision())
        ):
            upgrade(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for reads; nothing it does is committed."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
