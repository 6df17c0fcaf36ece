"""``cadence eval`` / ``python -m evals``: the three commands, their files and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from evals.cli import app
from evals.send_time import generate
from typer.testing import CliRunner

ENV = {"COLUMNS": "160", "CADENCE_MODEL": ""}
N_CONTACTS = 300


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("send_time") / "population.jsonl"
    generate.write_dataset(path, generate.GeneratorParams(seed=4, contacts=N_CONTACTS))
    return path


def test_send_time_writes_the_report_recommendations_and_html(
    population: Path, tmp_path: Path
) -> None:
    out = tmp_path / "st"
    args = ["send-time", "--dataset", str(population), "--out", str(out), "--bootstrap", "100"]
    result = CliRunner().invoke(app, args, env=ENV)
    assert result.exit_code == 0, result.output
    assert "Lift over Tue 10:00" in result.output and "95% CI" in result.output
    assert "Lift, cold contacts" in result.output
    report = json.loads((out / "report.json").read_text())
    for key in (
        "lift_over_baseline",
        "oracle_share",
        "lift_over_baseline_cold",
        "oracle_share_cold",
        "n_contacts",
        "n_cold",
        "ci",
        "segments",
        "timing_s",
        "segment_ci",
    ):
        assert key in report, key
    assert report["n_contacts"] == N_CONTACTS and "recommendations" not in report
    for group in ("role", "history", "level"):
        for name, ci in report["segment_ci"][group].items():
            assert set(ci) == {"lift_over_baseline", "oracle_share"}, name
    recs = [json.loads(line) for line in (out / "recommendations.jsonl").read_text().splitlines()]
    assert len(recs) == N_CONTACTS and {"id", "day", "hour", "slot", "level"} <= set(recs[0])
    html = (out / "report.html").read_text()
    assert html.count("<svg") == 2 and "Lift per segment" in html and "By role family" in html


def _cases(path: Path, first_names: list[str]) -> Path:
    rows = [
        {
            "id": f"c{i}",
            "contact": {"first_name": n, "last_name": f"L{i}"},
            "step": {"subject": "Hi {{first_name|there}}", "body": "Hello"},
        }
        for i, n in enumerate(first_names)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return path


def test_personalization_exits_non_zero_when_a_threshold_fails(tmp_path: Path) -> None:
    good = _cases(tmp_path / "good.jsonl", ["Ana", "Ben", "Chloe"])
    result = CliRunner().invoke(
        app, ["personalization", "--dataset", str(good), "--out", str(tmp_path / "good")], env=ENV
    )
    assert result.exit_code == 0, result.output
    assert "skipped: no model configured" in result.output
    # Two different people called Ana get the same opener: "distinct" misses its threshold.
    bad = _cases(tmp_path / "bad.jsonl", ["Ana", "Ana", "Ben"])
    result = CliRunner().invoke(
        app, ["personalization", "--dataset", str(bad), "--out", str(tmp_path / "bad")], env=ENV
    )
    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "bad" / "report.json").read_text())
    assert report["passed"] is False and report["scorers"]["distinct"]["status"] == "fail"
    assert "<svg" in (tmp_path / "bad" / "report.html").read_text()


def test_agent_without_a_model_validates_and_exits_zero(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["agent", "--out", str(tmp_path)], env=ENV)
    assert result.exit_code == 0, result.output
    assert "No chat model is configured" in result.output and "validated, not run" in result.output
    assert json.loads((tmp_path / "report.json").read_text())["valid"] is True


def test_an_unbuildable_model_is_a_clean_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["agent", "--model", "nosuchprovider:model-x", "--out", str(tmp_path)], env=ENV
    )
    assert result.exit_code == 2 and "error:" in result.output


def test_python_dash_m_evals_lists_the_three_commands() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "evals", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "", "COLUMNS": "120"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for command in ("send-time", "personalization", "agent"):
        assert command in done.stdout


def test_cadence_eval_reaches_the_same_commands(tmp_path: Path) -> None:
    from cadence.cli import app as cadence_app

    result = CliRunner().invoke(cadence_app, ["eval", "agent", "--out", str(tmp_path)], env=ENV)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report.html").exists()
