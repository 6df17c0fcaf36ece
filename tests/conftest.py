"""Fixtures: a moved-by-hand clock, and a Cadence app on SQLite and (when configured) PostgreSQL.

Store and service tests take ``app`` and run once per backend. PostgreSQL runs when
``CADENCE_TEST_POSTGRES_URL`` names a server database (e.g. postgresql://postgres@127.0.0.1/test);
the tests create a fresh database of their own there and drop it at the end.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cadence.clock import ManualClock
from cadence.config import Settings
from cadence.service.context import Cadence
from cadence.store.db import Database, upgrade

# No model calls in tests, by construction.
for _var in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "CADENCE_MODEL"):
    os.environ.pop(_var, None)

PG_URL = os.environ.get("CADENCE_TEST_POSTGRES_URL")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "cadence.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db.engine)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("CADENCE_TEST_POSTGRES_URL is not set")
    server = make_url(PG_URL).set(drivername="postgresql+psycopg")
    name = f"cadence_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    upgrade(db.engine)
    db.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _truncate_all(db: Database) -> None:
    from sqlmodel import SQLModel

    import cadence.store.models  # noqa: F401

    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        path = tmp_path / "cadence.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        db = Database(f"sqlite:///{path}")
    else:
        db = Database(request.getfixturevalue("pg_database"))
        _truncate_all(db)
    yield db
    db.dispose()


@pytest.fixture
def app(database: Database, clock: ManualClock) -> Cadence:
    settings = Settings(database_url=database.url, redis_url="memory://", auto_migrate=False)
    return Cadence(db=database, clock=clock, settings=settings)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
