"""The personalization eval: personalize every case, score it, check the thresholds, report.

``cadence eval personalization --dataset PATH`` runs :func:`run_eval`. Without a chat model the
deterministic personalizer is evaluated and the LLM judge is skipped; with one (``--model`` or
``CADENCE_MODEL``), the model path of ``suggest_personalization`` is evaluated and judged.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from rich.console import Console

from cadence.ai.models import load_chat_model
from cadence.ai.personalize import ContactRecord, Personalization, StepContent
from cadence.ai.personalize import suggest_personalization as _suggest
from cadence.config import Settings, get_settings
from evals.personalization.judge import SKIPPED_NO_MODEL, JudgeScorer
from evals.personalization.scorers import (
    THRESHOLDS,
    Case,
    Personalizer,
    Score,
    Scorer,
    ScorerSummary,
    default_scorers,
    summarize,
)
from evals.report import (
    Card,
    fmt_pct,
    histogram_chart,
    html_page,
    html_table,
    print_table,
    progress_bar,
    write_html,
    write_json,
)

__all__ = ["DEFAULT_DATASET", "PersonalizationRun", "load_cases", "run_eval"]

DEFAULT_DATASET = Path(__file__).with_name("dataset.jsonl")
_SHOWN_FAILURES = 25  # failing cases listed per scorer in the reports


def load_cases(path: str | Path) -> list[Case]:
    """The cases of a JSON-lines dataset (see ``build_dataset``), validated."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [Case.model_validate(json.loads(line)) for line in lines if line.strip()]


@dataclass
class PersonalizationRun:
    """Everything one run produced."""

    dataset: str
    personalizer: str
    cases: list[Case]
    outputs: list[Personalization]
    scores: dict[str, list[Score]]
    summaries: dict[str, ScorerSummary]
    timing_s: dict[str, float] = field(default_factory=dict)
    model_errors: int = 0

    @property
    def passed(self) -> bool:
        """Whether no scorer missed its threshold (skipped scorers do not fail a run)."""
        return all(s.status != "fail" for s in self.summaries.values())

    def report(self) -> dict[str, Any]:
        """The JSON report: summaries, thresholds, failures and every case's lines and scores."""
        per_case: dict[str, dict[str, float]] = defaultdict(dict)
        for name, scores in self.scores.items():
            for s in scores:
                per_case[s.case_id][name] = s.score
        return {
            "dataset": self.dataset,
            "personalizer": self.personalizer,
            "n_cases": len(self.cases),
            "passed": self.passed,
            "scorers": {name: s.as_dict() for name, s in self.summaries.items()},
            "failures": {
                name: [
                    {"case_id": s.case_id, "score": s.score, "reason": s.reason}
                    for s in scores
                    if not s.passed
                ][:_SHOWN_FAILURES]
                for name, scores in self.scores.items()
            },
            "by_tag": self.by_tag(),
            "sources": {
                src: sum(o.source == src for o in self.outputs)
                for src in ("model", "deterministic")
            },
            "model_errors": self.model_errors,
            "timing_s": self.timing_s,
            "cases": [
                {
                    "id": c.id,
                    "tags": list(c.tags),
                    "subject": o.subject,
                    "opener": o.opener,
                    "source": o.source,
                    "facts_used": o.facts_used,
                    "scores": per_case.get(c.id, {}),
                }
                for c, o in zip(self.cases, self.outputs, strict=True)
            ],
        }

    def by_tag(self) -> dict[str, dict[str, float]]:
        """Pass rate per tag (planted, non_latin, missing_company...) and scorer."""
        tags = {c.id: c.tags for c in self.cases}
        counts: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        for name, scores in self.scores.items():
            for s in scores:
                for tag in tags[s.case_id]:
                    counts[tag][name][0] += s.passed
                    counts[tag][name][1] += 1
        return {
            tag: {name: ok / n for name, (ok, n) in by.items()}
            for tag, by in sorted(counts.items())
        }


def _personalizer(model: BaseChatModel | None, errors: list[Exception]) -> Personalizer:
    def personalize(contact: ContactRecord, step: StepContent | None) -> Personalization:
        return _suggest(contact, step, model=model, on_model_error=errors.append)

    return personalize


def resolve_model(
    model: BaseChatModel | str | None, settings: Settings | None = None
) -> tuple[BaseChatModel | None, str]:
    """The chat model to use and its name: the given one, else ``Settings.model``, else none."""
    if isinstance(model, BaseChatModel):
        return model, type(model).__name__
    name = model or (settings or get_settings()).model
    chat = load_chat_model(name)
    return chat, (name or "")


def run_eval(
    dataset: str | Path = DEFAULT_DATASET,
    out_dir: str | Path | None = None,
    *,
    model: BaseChatModel | str | None = None,
    deterministic: bool = False,
    settings: Settings | None = None,
    console: Console | None = None,
) -> PersonalizationRun:
    """Personalize and score every case; print a table; write ``report.json`` and ``report.html``.

    Args:
        dataset: The JSON-lines cases.
        out_dir: Where the reports go; ``None`` writes nothing.
        model: A chat model or its name; ``None`` uses ``Settings.model`` (none: deterministic).
        deterministic: Evaluate the deterministic personalizer even when a model is configured
            (the judge still runs with the model).
        settings: Settings to read the model name from.
        console: Where tables and the progress bar go.

    Returns:
        The run; ``run.passed`` is False when a scorer missed its threshold.
    """
    console = console or Console()
    chat, name = resolve_model(model, settings)
    errors: list[Exception] = []
    personalize = _personalizer(None if deterministic else chat, errors)
    label = "deterministic" if chat is None or deterministic else f"model:{name}"
    t0 = time.perf_counter()
    cases = load_cases(dataset)
    scorers: list[Scorer] = default_scorers(personalize)
    if chat is not None:
        scorers.append(JudgeScorer(chat))
    outputs: list[Personalization] = []
    scores: dict[str, list[Score]] = {}
    with progress_bar(console) as bar:
        task = bar.add_task(f"personalize ({label})", total=len(cases))
        for case in cases:
            outputs.append(personalize(case.contact, case.step))
            bar.advance(task)
        t_run = time.perf_counter()
        task = bar.add_task("score", total=len(scorers))
        for scorer in scorers:
            bar.update(task, description=f"score: {scorer.name}")
            scores[scorer.name] = scorer.score(cases, outputs)
            bar.advance(task)
    summaries = {n: summarize(n, s, THRESHOLDS[n]) for n, s in scores.items()}
    if chat is None:
        summaries["llm_judge"] = ScorerSummary(
            "llm_judge", "skipped", threshold=THRESHOLDS["llm_judge"], reason=SKIPPED_NO_MODEL
        )
    t_end = time.perf_counter()
    run = PersonalizationRun(
        dataset=str(dataset),
        personalizer=label,
        cases=cases,
        outputs=outputs,
        scores=scores,
        summaries=summaries,
        timing_s={"personalize": t_run - t0, "score": t_end - t_run, "total": t_end - t0},
        model_errors=len(errors),
    )
    _print(run, console)
    if out_dir is not None:
        out = Path(out_dir)
        write_json(out / "report.json", run.report())
        write_html(out / "report.html", render_html(run))
        console.print(f"wrote {out / 'report.json'}, {out / 'report.html'}")
    return run


def _rows(run: PersonalizationRun) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for name, s in run.summaries.items():
        t = s.threshold
        bar = (
            ""
            if t is None
            else f"≥ {t.min_pass_rate:.0%}" + (f", mean ≥ {t.min_mean}" if t.min_mean else "")
        )
        mean = "" if s.mean is None else f"{s.mean:.3f}"
        rows.append((name, str(s.n), mean, fmt_pct(s.pass_rate), bar, s.status.upper()))
    return rows


_COLUMNS = ("scorer", "n", "mean score", "pass rate", "threshold", "status")


def _print(run: PersonalizationRun, console: Console) -> None:
    title = f"Personalization ({run.personalizer}, {len(run.cases)} cases)"
    print_table(title, _COLUMNS, _rows(run), console=console)
    for name, summary in run.summaries.items():
        if summary.status == "skipped":
            console.print(f"{name}: {summary.reason}")
    verdict = "[green]PASS[/green]" if run.passed else "[red]FAIL[/red]: thresholds missed"
    console.print(f"personalization eval: {verdict} ({run.timing_s['total']:.1f} s)")


def render_html(run: PersonalizationRun) -> str:
    """The report page: a card per scorer, score histograms, thresholds, failures, tags."""
    cards = [
        Card(
            name,
            "skipped" if s.status == "skipped" else fmt_pct(s.pass_rate),
            s.reason,
            "neutral" if s.status == "skipped" else "ok" if s.status == "pass" else "bad",
        )
        for name, s in run.summaries.items()
    ]
    series = {name: [s.score for s in scores] for name, scores in run.scores.items()}
    notes = {
        name: f"n={s.n}, mean {s.mean:.2f}, pass {fmt_pct(s.pass_rate)}"
        for name, s in run.summaries.items()
        if s.mean is not None
    }
    chart = histogram_chart(series, title="Score distribution per scorer", notes=notes)
    failures = [
        (name, s.case_id, f"{s.score:.2f}", s.reason)
        for name, scores in run.scores.items()
        for s in [x for x in scores if not x.passed][:_SHOWN_FAILURES]
    ]
    names = list(run.scores)
    tag_rows: Sequence[Sequence[str]] = [
        (tag, *(fmt_pct(by.get(n)) if n in by else "" for n in names))
        for tag, by in run.by_tag().items()
    ]
    examples = [
        (c.id, ", ".join(c.tags), o.subject, o.opener)
        for c, o in list(zip(run.cases, run.outputs, strict=True))[:: max(1, len(run.cases) // 20)]
    ]
    verdict = "passed" if run.passed else "FAILED (a threshold was missed)"
    return html_page(
        "Personalization eval",
        subtitle=f"{len(run.cases)} cases from {run.dataset}; personalizer: {run.personalizer}; "
        f"{verdict}; {run.timing_s.get('total', 0):.1f} s.",
        cards=cards,
        sections=[
            ("Scores", chart),
            ("Thresholds", html_table(_COLUMNS, _rows(run))),
            ("Failures", html_table(["scorer", "case", "score", "reason"], failures)),
            ("Pass rate by tag", html_table(["tag", *names], tag_rows)),
            ("Sample of outputs", html_table(["case", "tags", "subject", "opener"], examples)),
        ],
    )
