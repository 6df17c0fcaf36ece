from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cadence.cli import app
from cadence.store.db import Database, current_revision, head_revision


def test_demo_prints_the_enrollments_and_their_states(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--database", str(tmp_path / "demo.db")], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    for word in ("pending", "replied", "unsubscribed", "grace@cobol.example.com"):
        assert word in result.output


def test_db_upgrade_brings_a_database_to_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = CliRunner().invoke(app, ["db", "upgrade", "--database-url", url])
    assert result.exit_code == 0, result.output
    db = Database(url)
    assert current_revision(db.engine) == head_revision()
    db.dispose()


def test_a_bad_database_url_is_a_clean_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["db", "upgrade", "--database-url", "nonsense://"])
    assert result.exit_code == 2 and "error:" in result.output
