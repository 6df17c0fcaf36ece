"""End to end: generate a small send-time population, score the model on it, write the outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evals.send_time import generate, score

N_CONTACTS = 300


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("send_time") / "population.jsonl"
    params = generate.GeneratorParams(seed=1, contacts=N_CONTACTS, freshness_half_life=3.0)
    assert generate.write_dataset(path, params) == N_CONTACTS
    return path


@pytest.fixture(scope="module")
def result(dataset: Path) -> dict[str, object]:
    return score.run(dataset, seed=0, bootstrap=200)


def test_generated_rows_follow_the_dataset_format(dataset: Path) -> None:
    rows = [json.loads(line) for line in dataset.read_text().splitlines()]
    assert len(rows) == N_CONTACTS
    kinds = {row["meta"]["kind"] for row in rows}
    assert {"cold", "proxy", "normal"} <= kinds
    for row in rows:
        assert set(row["contact"]) == {"id", "timezone", "title", "company", "domain"}
        truth = row["truth"]["reply_prob_by_local_hour_of_week"]
        assert len(truth) == 168 and all(0.0 <= p <= 1.0 for p in truth)
        assert all(e["type"] in {"sent", "delivered", "opened", "clicked", "replied"}
                   for e in row["history"])  # fmt: skip
        assert all(e["at"].endswith("Z") for e in row["history"])
        if "window" in row:
            assert set(row["window"]) == {"days", "start_hour", "end_hour"}
    cold = [row for row in rows if row["meta"]["kind"] == "cold"]
    assert cold and all(row["history"] == [] for row in cold)
    zones = {row["contact"]["timezone"] for row in rows}
    assert len(zones) >= 10


def test_generator_is_deterministic_and_parameterised() -> None:
    a = list(generate.generate(generate.GeneratorParams(seed=3, contacts=20)))
    b = list(generate.generate(generate.GeneratorParams(seed=3, contacts=20)))
    c = list(generate.generate(generate.GeneratorParams(seed=3, contacts=20, noise=0.6)))
    assert a == b
    assert a != c
    cold = list(generate.generate(generate.GeneratorParams(seed=3, contacts=20, cold_share=1.0)))
    assert all(row["history"] == [] for row in cold)


def test_generator_cli_writes_a_file(tmp_path: Path) -> None:
    out = tmp_path / "cli.jsonl"
    argv = ["--seed", "2", "--contacts", "15", "--out", str(out), "--history-mean", "3"]
    assert generate.main([*argv, "--cold-share", "0.2", "--proxy-share", "0.5"]) == 0
    assert len(out.read_text().splitlines()) == 15


def test_scores_are_sane_and_beat_the_baseline(result: dict[str, object]) -> None:
    assert result["n_contacts"] == N_CONTACTS
    n_cold = result["n_cold"]
    assert isinstance(n_cold, int) and 0 < n_cold < N_CONTACTS
    for key in ("oracle_share", "oracle_share_cold"):
        value = result[key]
        assert isinstance(value, float) and 0.0 < value <= 1.0
    lift = result["lift_over_baseline"]
    assert isinstance(lift, float) and lift > 0.0
    assert isinstance(result["lift_over_baseline_cold"], float)
    ci = result["ci"]
    assert isinstance(ci, dict)
    for metric in (
        "lift_over_baseline",
        "oracle_share",
        "lift_over_baseline_cold",
        "oracle_share_cold",
    ):
        lo, hi = ci[metric]
        assert lo <= result[metric] <= hi
    segments = result["segments"]
    assert isinstance(segments, dict)
    assert {"role", "history"} <= set(segments)
    assert segments["history"]["0"]["n"] == n_cold
    assert sum(s["n"] for s in segments["role"].values()) == N_CONTACTS


def test_outputs_are_written(result: dict[str, object], tmp_path: Path) -> None:
    paths = score.write_outputs(result, tmp_path / "out")
    report = json.loads(paths["report"].read_text())
    for key in (
        "lift_over_baseline",
        "oracle_share",
        "lift_over_baseline_cold",
        "oracle_share_cold",
        "n_contacts",
        "n_cold",
        "ci",
        "segments",
    ):
        assert key in report
    assert "recommendations" not in report
    lines = [json.loads(line) for line in paths["recommendations"].read_text().splitlines()]
    assert len(lines) == N_CONTACTS
    for rec in lines:
        assert {"id", "day", "hour"} <= set(rec)
        assert 0 <= rec["day"] <= 6 and 0 <= rec["hour"] <= 23
