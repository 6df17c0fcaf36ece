from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cadence.cli import app
from cadence.store.db import Database, current_revision, head_revision


def test_demo_runs_a_week_end_to_end(tmp_path: Path) -> None:
    env = {"COLUMNS": "200", "CADENCE_REDIS_URL": "memory://"}
    result = CliRunner().invoke(app, ["demo", "--database", str(tmp_path / "demo.db")], env=env)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "in-process fakeredis" in out
    assert "sent to Ada Lovelace <ada@analytical.example.com>: “Thanks for joining, Ada”" in out
    assert "“Re: Thanks for joining, Ada”  ↳ threaded under <" in out
    assert "daily limit for ada@analytical.example.com" in out
    assert "katherine@orbit.example.com bounced (550)" in out
    assert "Grace replied" in out and "invalid_contact" in out
    assert out.count("sent to Grace Hopper") == 1  # her reply stopped the follow-ups


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
