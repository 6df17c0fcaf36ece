"""The send-time eval: score a dataset, print the figures, write JSON, recommendations and HTML.

``cadence eval send-time --dataset PATH`` runs :func:`run_eval`; the scoring itself is
:func:`evals.send_time.score.run`. The HTML page charts lift over the Tuesday-10:00 baseline and
oracle share per segment (role family, history size, model level) with 95% bootstrap whiskers.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console

from evals.report import (
    Card,
    Interval,
    fmt_ci,
    fmt_pct,
    html_page,
    html_table,
    interval_chart,
    print_table,
    progress_bar,
    write_html,
)
from evals.send_time import score

__all__ = ["HEADLINE", "SEGMENT_GROUPS", "render_html", "run_eval", "segment_rows"]

HEADLINE: tuple[tuple[str, str], ...] = (
    ("lift_over_baseline", "Lift over Tue 10:00"),
    ("oracle_share", "Oracle share"),
    ("lift_over_baseline_cold", "Lift, cold contacts"),
    ("oracle_share_cold", "Oracle share, cold"),
)
SEGMENT_GROUPS: tuple[tuple[str, str], ...] = (
    ("role", "By role family"),
    ("history", "By history size (emails)"),
    ("level", "By model level"),
)


def _ci(result: Mapping[str, Any], group: str, name: str, metric: str) -> list[float] | None:
    ci = result.get("segment_ci", {}).get(group, {}).get(name, {}).get(metric)
    return list(ci) if ci else None


def segment_rows(result: Mapping[str, Any], metric: str) -> list[Interval]:
    """Chart rows for ``metric``: overall and cold first, then every segment, with intervals."""
    rows: list[Interval] = []
    for key, label in (("", "all contacts"), ("_cold", "cold (no history)")):
        ci = result["ci"].get(metric + key) or [None, None]
        n = result["n_contacts"] if not key else result["n_cold"]
        rows.append(Interval(label, _num(result[metric + key]), ci[0], ci[1], f"n={n}", "Overall"))
    for group, title in SEGMENT_GROUPS:
        for name, fig in result["segments"].get(group, {}).items():
            ci = _ci(result, group, name, metric) or [None, None]
            rows.append(Interval(name, _num(fig[metric]), ci[0], ci[1], f"n={fig['n']}", title))
    return rows


def _num(value: Any) -> float:
    return float(value) if value is not None else float("nan")


def render_html(result: Mapping[str, Any]) -> str:
    """The report page: headline cards, the two per-segment charts, a segment table, timings."""
    cards = []
    for key, label in HEADLINE:
        value = _num(result[key])
        signed = key.startswith("lift")
        good = value > 0 if signed else value >= 0.8
        cards.append(
            Card(
                label,
                fmt_pct(value, signed=signed),
                f"95% CI {fmt_ci(result['ci'].get(key), signed=signed)}",
                "ok" if good else "bad",
            )
        )
    lift_svg = interval_chart(
        segment_rows(result, "lift_over_baseline"),
        title="Lift over always-Tuesday-10:00, with 95% bootstrap intervals",
        fmt=lambda v: fmt_pct(v, signed=True),
        reference=0.0,
    )
    share_svg = interval_chart(
        segment_rows(result, "oracle_share"),
        title="Share of the oracle's replies (1 = best slot for everyone)",
        reference=0.0,
    )
    table_rows = []
    for group, _title in SEGMENT_GROUPS:
        for name, fig in result["segments"].get(group, {}).items():
            table_rows.append(
                (
                    group,
                    name,
                    fig["n"],
                    fmt_pct(fig["lift_over_baseline"], signed=True),
                    fmt_ci(_ci(result, group, name, "lift_over_baseline"), signed=True),
                    fmt_pct(fig["oracle_share"]),
                    fmt_ci(_ci(result, group, name, "oracle_share")),
                )
            )
    timing = result.get("timing_s", {})
    return html_page(
        "Send-time eval",
        subtitle=f"{result['n_contacts']} contacts ({result['n_cold']} cold) from "
        f"{result['dataset']}; seed {result['model']['seed']}, {result['bootstrap']} bootstrap "
        f"resamples; {result['distinct_slots_recommended']} distinct slots recommended.",
        cards=cards,
        sections=[
            ("Lift per segment", lift_svg),
            ("Oracle share per segment", share_svg),
            (
                "Segments",
                html_table(
                    ["group", "segment", "n", "lift", "95% CI", "oracle share", "95% CI"],
                    table_rows,
                ),
            ),
            (
                "Timing",
                html_table(["stage", "seconds"], [(k, f"{v:.2f}") for k, v in timing.items()]),
            ),
            (
                "Definitions",
                html_table(
                    ["term", "meaning"],
                    [(k, v) for k, v in result.get("definitions", {}).items()],
                ),
            ),
        ],
    )


def print_summary(result: Mapping[str, Any], console: Console) -> None:
    """The headline figures with their intervals, then the per-segment figures."""
    rows = [
        (
            label,
            fmt_pct(_num(result[key]), signed=key.startswith("lift")),
            fmt_ci(result["ci"].get(key), signed=key.startswith("lift")),
        )
        for key, label in HEADLINE
    ]
    rows.append(("contacts (cold)", f"{result['n_contacts']} ({result['n_cold']})", ""))
    rows.append(("runtime", f"{result['timing_s']['total']:.1f} s", ""))
    print_table("Send time", ["metric", "value", "95% CI"], rows, console=console)
    seg_rows = [
        (
            f"{group}: {name}",
            fig["n"],
            fmt_pct(fig["lift_over_baseline"], signed=True),
            fmt_ci(_ci(result, group, name, "lift_over_baseline"), signed=True),
            fmt_pct(fig["oracle_share"]),
        )
        for group, _ in SEGMENT_GROUPS
        for name, fig in result["segments"].get(group, {}).items()
    ]
    print_table(
        "Send time by segment",
        ["segment", "n", "lift", "95% CI", "oracle share"],
        seg_rows,
        console=console,
    )


def run_eval(
    dataset: str | Path,
    out_dir: str | Path,
    *,
    seed: int = 0,
    bootstrap: int = 1000,
    console: Console | None = None,
) -> tuple[dict[str, Any], dict[str, Path]]:
    """Score ``dataset``, print the figures and write the three report files.

    Args:
        dataset: A JSON-lines population (see :mod:`evals.send_time.generate`).
        out_dir: Where ``report.json``, ``recommendations.jsonl`` and ``report.html`` go.
        seed: Seeds the model's exploration and the bootstrap.
        bootstrap: Bootstrap resamples per interval.
        console: Where tables and the progress bar go (default: stdout).

    Returns:
        ``(result, paths)``: what :func:`score.run` returned (with per-segment intervals) and
        the written files by kind (``report``, ``recommendations``, ``html``).
    """
    console = console or Console()
    with progress_bar(console) as bar:
        task = bar.add_task("send time: load", total=None)

        def on_progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=f"send time: {stage}", completed=done, total=total)

        result = score.run(
            dataset, seed=seed, bootstrap=bootstrap, progress=on_progress, segment_ci=True
        )
    paths = score.write_outputs(result, out_dir)
    paths["html"] = write_html(Path(out_dir) / "report.html", render_html(result))
    print_summary(result, console)
    console.print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return result, paths
