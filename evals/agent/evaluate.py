"""The agent eval end to end: validate the scenarios, run them (fake or live), report.

``cadence eval agent`` calls :func:`run_eval`. Without a model and without ``--fake`` it only
validates the scenarios, says so, and succeeds when every scenario is well-formed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from rich.console import Console

from cadence.tools import get_tools
from evals.agent.runner import CHECKS, Mode, ScenarioResult, run_all
from evals.agent.scenarios import (
    DEFAULT_SCENARIOS,
    VALIDATION_CHECKS,
    Scenario,
    load_scenarios,
    scenario_problems,
)
from evals.report import (
    Card,
    html_page,
    html_table,
    matrix_chart,
    print_table,
    progress_bar,
    write_html,
    write_json,
)

__all__ = ["NO_MODEL_NOTE", "AgentEvalRun", "run_eval"]

NO_MODEL_NOTE = (
    "No chat model is configured (set CADENCE_MODEL or pass --model): the scenarios were "
    "validated, not run. Use --fake to replay them with a scripted model."
)


@dataclass
class AgentEvalRun:
    """A validation, and the scenario results when scenarios were run."""

    scenarios_file: str
    mode: Mode
    scenarios: list[Scenario]
    parse_errors: list[str]
    problems: dict[str, list[tuple[str, str]]]
    results: list[ScenarioResult] = field(default_factory=list)
    note: str = ""
    timing_s: dict[str, float] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        """Every line parsed and every scenario is well-formed."""
        return not self.parse_errors and not any(self.problems.values())

    @property
    def passed(self) -> bool:
        """Valid, and every scenario run (if any) passed."""
        return self.valid and all(r.passed for r in self.results)

    def report(self) -> dict[str, Any]:
        """The JSON report."""
        return {
            "scenarios_file": self.scenarios_file,
            "mode": self.mode,
            "note": self.note,
            "n_scenarios": len(self.scenarios),
            "valid": self.valid,
            "passed": self.passed,
            "parse_errors": self.parse_errors,
            "problems": {
                k: [{"check": c, "message": m} for c, m in v] for k, v in self.problems.items()
            },
            "results": [r.as_dict() for r in self.results],
            "summary": {
                check: {
                    "passed": sum(r.checks.get(check) is True for r in self.results),
                    "failed": sum(r.checks.get(check) is False for r in self.results),
                    "not_checked": sum(r.checks.get(check) is None for r in self.results),
                }
                for check in CHECKS
            },
            "timing_s": self.timing_s,
        }


def run_eval(
    scenarios_path: str | Path = DEFAULT_SCENARIOS,
    out_dir: str | Path | None = None,
    *,
    model: BaseChatModel | None = None,
    model_name: str | None = None,
    fake: bool = False,
    console: Console | None = None,
) -> AgentEvalRun:
    """Validate the scenarios; run them with ``model`` or, with ``fake``, a scripted model.

    Args:
        scenarios_path: The JSON-lines scenarios.
        out_dir: Where ``report.json`` and ``report.html`` go; ``None`` writes nothing.
        model: The chat model for a live run; ``None`` and not ``fake``: validation only.
        model_name: The model's name (reports, and the personalization tool's settings).
        fake: Replay each scenario's expected trajectory with a scripted model.
        console: Where tables and the progress bar go.

    Returns:
        The run; ``run.passed`` tells whether the eval succeeded.
    """
    console = console or Console()
    t0 = time.perf_counter()
    scenarios, parse_errors = load_scenarios(scenarios_path)
    tools = get_tools()
    problems = {s.id: scenario_problems(s, tools) for s in scenarios}
    ids = [s.id for s in scenarios]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        problems[dup] = [*problems[dup], ("seed", f"duplicate scenario id {dup!r}")]
    mode: Mode = "fake" if fake else "live" if model is not None else "validate"
    run = AgentEvalRun(str(scenarios_path), mode, scenarios, parse_errors, problems)
    t_valid = time.perf_counter()
    if mode == "validate":
        run.note = NO_MODEL_NOTE
    elif run.valid:
        with progress_bar(console) as bar:
            task = bar.add_task(f"agent scenarios ({mode})", total=len(scenarios))
            run.results = run_all(
                scenarios,
                model=None if fake else model,
                model_name=model_name,
                on_done=lambda _r: bar.advance(task),
            )
    else:
        run.note = "Scenarios are not well-formed; none was run."
    t_end = time.perf_counter()
    run.timing_s = {"validate": t_valid - t0, "run": t_end - t_valid, "total": t_end - t0}
    _print(run, console)
    if out_dir is not None:
        out = Path(out_dir)
        write_json(out / "report.json", run.report())
        write_html(out / "report.html", render_html(run))
        console.print(f"wrote {out / 'report.json'}, {out / 'report.html'}")
    return run


def _mark(value: bool | None) -> str:
    return "—" if value is None else "pass" if value else "FAIL"


def _validation_cells(run: AgentEvalRun) -> dict[tuple[str, str], bool | None]:
    return {
        (s.id, check): not any(c == check for c, _ in run.problems.get(s.id, []))
        for s in run.scenarios
        for check in VALIDATION_CHECKS
    }


def _print(run: AgentEvalRun, console: Console) -> None:
    cells = _validation_cells(run)
    rows = [
        (
            s.id,
            ", ".join(c.tool for c in s.trajectory) or "(none)",
            "ok" if all(cells[(s.id, c)] for c in VALIDATION_CHECKS) else "INVALID",
        )
        for s in run.scenarios
    ]
    print_table(
        f"Agent scenarios ({run.scenarios_file})",
        ["scenario", "expected tools", "well-formed"],
        rows,
        console=console,
    )
    for line in run.parse_errors:
        console.print(f"[red]parse error[/red] {line}")
    for sid, found in run.problems.items():
        for check, message in found:
            console.print(f"[red]{sid}[/red] {check}: {message}")
    if run.results:
        print_table(
            f"Agent eval ({run.mode})",
            ["scenario", *CHECKS, "seconds"],
            [
                (r.id, *(_mark(r.checks.get(c)) for c in CHECKS), f"{r.seconds:.2f}")
                for r in run.results
            ],
            console=console,
        )
        for r in run.results:
            if not r.passed:
                why = r.error or "; ".join(
                    f"{c}: {r.reasons.get(c, '')}" for c in CHECKS if r.checks.get(c) is False
                )
                console.print(f"[red]{r.id}[/red]: {why}")
    if run.note:
        console.print(run.note)
    verdict = "[green]PASS[/green]" if run.passed else "[red]FAIL[/red]"
    console.print(f"agent eval ({run.mode}): {verdict} ({run.timing_s['total']:.1f} s)")


def render_html(run: AgentEvalRun) -> str:
    """The report page: the check matrix, then per-scenario details."""
    if run.results:
        cells = {(r.id, c): r.checks.get(c) for r in run.results for c in CHECKS}
        for r in run.results:
            if r.error:
                cells.update({(r.id, c): False for c in CHECKS})
        chart = matrix_chart(
            [r.id for r in run.results], CHECKS, cells, title=f"Scenario checks ({run.mode} run)"
        )
        detail = html_table(
            ["scenario", "check", "verdict", "why"],
            [
                (r.id, c, _mark(r.checks.get(c)), r.reasons.get(c, ""))
                for r in run.results
                for c in (*CHECKS, *(("error",) if r.error else ()))
            ],
        )
        calls = html_table(
            ["scenario", "asked", "tool calls made"],
            [
                (r.id, ", ".join(r.asked), "; ".join(c["name"] for c in r.calls))
                for r in run.results
            ],
        )
        sections = [("Checks", chart), ("Details", detail), ("Trajectories", calls)]
        passed = sum(r.passed for r in run.results)
        cards = [
            Card(
                "scenarios passed",
                f"{passed}/{len(run.results)}",
                run.mode,
                "ok" if run.passed else "bad",
            ),
            *(
                Card(
                    c,
                    f"{sum(r.checks.get(c) is True for r in run.results)} pass",
                    f"{sum(r.checks.get(c) is False for r in run.results)} fail",
                )
                for c in CHECKS
            ),
        ]
    else:
        chart = matrix_chart(
            [s.id for s in run.scenarios],
            VALIDATION_CHECKS,
            _validation_cells(run),
            title="Scenario well-formedness",
        )
        sections = [("Validation", chart)]
        cards = [
            Card(
                "scenarios well-formed",
                f"{sum(not v for v in run.problems.values())}/{len(run.scenarios)}",
                run.note,
                "ok" if run.valid else "bad",
            )
        ]
    problems = [(sid, c, m) for sid, found in run.problems.items() for c, m in found]
    problems += [("(file)", "parse", e) for e in run.parse_errors]
    if problems:
        sections.append(("Problems", html_table(["scenario", "check", "message"], problems)))
    sections.append(
        (
            "Scenarios",
            html_table(
                ["scenario", "request", "expected tools", "answers"],
                [
                    (s.id, s.request, ", ".join(c.tool for c in s.trajectory), ", ".join(s.answers))
                    for s in run.scenarios
                ],
            ),
        )
    )
    return html_page(
        "Agent eval",
        subtitle=f"{len(run.scenarios)} scenarios from {run.scenarios_file}; mode {run.mode}; "
        f"{'passed' if run.passed else 'FAILED'}. {run.note}",
        cards=cards,
        sections=sections,
    )
