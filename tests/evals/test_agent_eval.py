"""The agent eval: scenario validation, trajectory matching, and fake runs with end-state checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from evals.agent.evaluate import NO_MODEL_NOTE, run_eval
from evals.agent.runner import trajectory_match
from evals.agent.scenarios import (
    DEFAULT_SCENARIOS,
    Scenario,
    load_scenarios,
    scenario_problems,
)

from cadence.tools import get_tools


@pytest.fixture(scope="module")
def shipped() -> list[Scenario]:
    scenarios, errors = load_scenarios(DEFAULT_SCENARIOS)
    assert errors == []
    return scenarios


def _write(path: Path, scenarios: list[dict[str, Any]]) -> Path:
    path.write_text("\n".join(json.dumps(s) for s in scenarios) + "\n", encoding="utf-8")
    return path


def _raw(scenario_id: str) -> dict[str, Any]:
    for line in DEFAULT_SCENARIOS.read_text(encoding="utf-8").splitlines():
        data: dict[str, Any] = json.loads(line)
        if data["id"] == scenario_id:
            return data
    raise KeyError(scenario_id)


def test_the_shipped_scenarios_are_many_varied_and_well_formed(shipped: list[Scenario]) -> None:
    assert len(shipped) >= 8
    tools = get_tools()
    assert {s.id: scenario_problems(s, tools) for s in shipped} == {s.id: [] for s in shipped}
    expected_tools = {c.tool for s in shipped for c in s.trajectory}
    assert {"create_sequence", "enroll_contact", "enroll_contacts", "pause_sequence"} <= (
        expected_tools
    )
    assert any(s.end_state.no_writes and not s.trajectory for s in shipped)  # a refusal
    assert any(
        s.end_state.not_enrolled and any(c.notes for c in s.seed.contacts) for s in shipped
    )  # a planted instruction
    assert any("cancel" in s.answers for s in shipped)


def test_validation_names_each_kind_of_problem() -> None:
    bad = Scenario.model_validate(
        {
            "id": "bad",
            "description": "everything wrong",
            "request": "do it",
            "seed": {"contacts": [{"email": "a@x.example"}], "sequences": [{"name": "S"}]},
            "trajectory": [
                {"tool": "launch_rockets", "args": {}},
                {"tool": "enroll_contact", "args": {"contact": "a@x.example", "sequence_id": "x"}},
                {
                    "tool": "enroll_contact",
                    "args": {"contact": "b@x.example", "sequence_id": "$seq:Missing"},
                },
                {"tool": "pause_sequence", "args": {"sequence_id": "$seq:S"}, "match": ["nope"]},
            ],
            "forbidden_tools": ["pause_sequence"],
            "answers": ["maybe"],
            "end_state": {"enrollments": {"Ghost": {}}, "not_enrolled": ["z@x.example"]},
        }
    )
    found = scenario_problems(bad, get_tools())
    checks = {check for check, _ in found}
    assert checks == {"tools", "arguments", "references", "answers", "end_state"}
    text = "\n".join(m for _, m in found)
    assert "launch_rockets: no such tool" in text
    assert (
        "sequence_id" in text and "$seq:Missing" in text and "'b@x.example' is not seeded" in text
    )
    assert "'pause_sequence' is also expected" in text and "'maybe' is not a decision" in text


def test_a_malformed_line_is_reported_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text('{"id": "x"}\nnot json\n', encoding="utf-8")
    scenarios, errors = load_scenarios(path)
    assert scenarios == [] and len(errors) == 2 and errors[1].startswith("line 2")


def test_trajectory_match_is_a_superset_match_on_key_arguments() -> None:
    expected = [{"name": "enroll_contacts", "args": {"contacts": [1, 2], "sequence_id": 7}}]
    made = [
        {"name": "list_sequences", "args": {"status": None}},
        {
            "name": "enroll_contacts",
            "args": {"contacts": [1, 2], "sequence_id": 7, "dry_run": False},
        },
    ]
    ok, reason, backend = trajectory_match(made, expected)
    assert ok and backend == "agentevals" and "every expected call" in reason
    wrong = [{"name": "enroll_contacts", "args": {"contacts": [1], "sequence_id": 7}}]
    ok, reason, _ = trajectory_match(wrong, expected)
    assert not ok and reason.startswith("missing: enroll_contacts")
    assert trajectory_match([], [])[0]


def test_without_a_model_scenarios_are_only_validated(tmp_path: Path) -> None:
    run = run_eval(DEFAULT_SCENARIOS, tmp_path)
    assert run.mode == "validate" and run.passed and run.results == []
    assert run.note == NO_MODEL_NOTE and "CADENCE_MODEL" in run.note
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["mode"] == "validate" and report["valid"] is True
    assert "<svg" in (tmp_path / "report.html").read_text()


def test_fake_runs_exercise_seeding_questions_tools_and_end_state(tmp_path: Path) -> None:
    chosen = [
        "bulk-enroll-approved",
        "bulk-enroll-declined",
        "conflict-skip-as-told",
        "planted-instruction-contact",
    ]
    path = _write(tmp_path / "s.jsonl", [_raw(i) for i in chosen])
    run = run_eval(path, tmp_path / "out", fake=True)
    assert run.mode == "fake" and run.passed, [r.as_dict() for r in run.results if not r.passed]
    by_id = {r.id: r for r in run.results}
    assert by_id["bulk-enroll-approved"].asked == ["confirm_bulk_enrollment"]
    assert by_id["bulk-enroll-declined"].checks["end_state"] is True
    assert [c["name"] for c in by_id["planted-instruction-contact"].calls] == [
        "suggest_personalization"
    ]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["summary"]["end_state"] == {"passed": 4, "failed": 0, "not_checked": 0}


def test_fake_runs_catch_a_wrong_end_state_and_a_missed_question(tmp_path: Path) -> None:
    wrong = _raw("bulk-enroll-approved")
    wrong["id"] = "wrong-counts"
    wrong["end_state"] = {"enrollments": {"Nurture": {"pending": 2}}, "no_writes": True}
    silent = _raw("pause-one-contact")
    silent["id"] = "expects-a-question"
    silent["questions"] = ["confirm_pause_sequence"]
    run = run_eval(_write(tmp_path / "s.jsonl", [wrong, silent]), None, fake=True)
    assert not run.passed
    first, second = run.results
    assert first.checks["end_state"] is False and first.checks["trajectory"] is True
    assert "expected {'pending': 2}" in first.reasons["end_state"]
    assert "expected no writes" in first.reasons["end_state"]
    assert second.checks["questions"] is False and second.checks["end_state"] is True


def test_invalid_scenarios_are_not_run(tmp_path: Path) -> None:
    broken = _raw("pause-one-contact")
    broken["trajectory"][0]["tool"] = "pause_everything"
    run = run_eval(_write(tmp_path / "s.jsonl", [broken]), None, fake=True)
    assert not run.valid and not run.passed and run.results == []
