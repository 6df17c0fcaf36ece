from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import cadence.store.models  # noqa: F401
from cadence.store.db import Database, current_revision, head_revision


def test_migrations_build_exactly_the_models(database: Database) -> None:
    with database.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, SQLModel.metadata)
    assert diff == []
    assert current_revision(database.engine) == head_revision()


def test_every_table_is_prefixed_and_scoped_by_workspace(database: Database) -> None:
    insp = inspect(database.engine)
    tables = [t for t in insp.get_table_names() if t != "alembic_version"]
    assert tables and all(t.startswith("crm_") for t in tables)
    for table in tables:
        if table != "crm_workspaces":
            assert "workspace_id" in {c["name"] for c in insp.get_columns(table)}, table


def test_hot_queries_have_their_indexes(database: Database) -> None:
    insp = inspect(database.engine)
    indexes = {tuple(i["column_names"]) for i in insp.get_indexes("crm_sequence_enrollments")}
    uniques = {
        tuple(u["column_names"]) for u in insp.get_unique_constraints("crm_sequence_enrollments")
    }
    assert ("status", "next_send_at") in indexes
    assert ("contact_id", "status") in indexes
    assert ("sequence_id", "status") in indexes
    assert ("contact_id", "sequence_id") in uniques
    touches = {tuple(u["column_names"]) for u in insp.get_unique_constraints("crm_touches")}
    assert ("enrollment_id", "step_id", "cycle") in touches
    assert ("contact_id", "touched_at") in {
        tuple(i["column_names"]) for i in insp.get_indexes("crm_touches")
    }


def test_embedded_sqlite_upgrades_itself_on_first_use(tmp_path: object) -> None:
    db = Database(f"sqlite:///{tmp_path}/fresh.db", auto_migrate=True)  # type: ignore[str-bytes-safe]
    assert current_revision(db.engine) == head_revision()
    db.dispose()
